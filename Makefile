# The two commands a newcomer needs are `make run` and `make test`; the rest are for the team.
.PHONY: run test build lint bench bench-detect clean

run:
	./scripts/run.sh

test:
	./scripts/test.sh

build:
	go build -o bin/marketplace ./cmd/marketplace

lint:
	go vet ./...
	go tool staticcheck ./...

# Long benchmarks: each prints its figure beside a baseline measured in the same run.
bench:
	./scripts/bench.sh

# The image-matching quality benchmark on a corpus of real photographs (about 5 minutes the
# first time: ../shared/bench/images.sh downloads and builds it under bench-out/corpus).
bench-detect:
	./scripts/bench-detect.sh

clean:
	rm -rf bin artifacts bench-out
