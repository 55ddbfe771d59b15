package imagematch

import (
	"bytes"
	"image/jpeg"
	"marketplace/detection/imagematch/imagetest"
	"testing"
	"time"

	"github.com/corona10/goimagehash"
)

// BenchmarkHashThroughput measures images per second from JPEG bytes to fingerprints,
// against plain goimagehash (image/jpeg decode + PerceptionHash) on the same images in
// the same run. Run it on one core, as the figures are per core:
//
//	go test -run '^$' -bench HashThroughput -cpu 1 ./detection/imagematch/
//	DETECT_CORPUS=/work/bench-corpus/A go test -run '^$' -bench HashThroughput -cpu 1 ./detection/imagematch/
//
// "fingerprint" is the whole Fingerprint (up to 36 pHashes, 2 dHashes, thumbnails),
// while the plain path computes one pHash; "one-phash" is the fast path computing just
// that one pHash too, the like-for-like comparison of decoding and preparation.
func BenchmarkHashThroughput(b *testing.B) {
	sets := []struct {
		name   string
		images [][]byte
	}{{"generated-1000x1000", nil}}
	for seed := range uint64(6) {
		sets[0].images = append(sets[0].images, imagetest.EncodeJPEG(b, imagetest.SynthPhoto(seed, 1000, 1000), 90))
	}
	if c := corpusFiles(b, 120); c != nil {
		sets = append(sets, struct {
			name   string
			images [][]byte
		}{"corpus", c})
	}
	fast := newTestHasher(b)
	cfg := DefaultHashConfig()
	cfg.Plain = true
	plainFP, err := NewHasher(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			var tFast, tPlain, tPlainFP, tOne time.Duration
			images := 0
			for b.Loop() {
				for _, data := range set.images {
					t0 := time.Now()
					img, err := jpeg.Decode(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := goimagehash.PerceptionHash(img); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if _, err := fast.Fingerprint(data); err != nil {
						b.Fatal(err)
					}
					t2 := time.Now()
					if _, err := plainFP.Fingerprint(data); err != nil {
						b.Fatal(err)
					}
					t3 := time.Now()
					onePHash(b, data)
					tOne += time.Since(t3)
					tPlain += t1.Sub(t0)
					tFast += t2.Sub(t1)
					tPlainFP += t3.Sub(t2)
					images++
				}
			}
			b.ReportMetric(float64(images)/tFast.Seconds(), "fingerprint-img/s")
			b.ReportMetric(float64(images)/tPlainFP.Seconds(), "fingerprint-plain-img/s")
			b.ReportMetric(float64(images)/tPlain.Seconds(), "goimagehash-img/s")
			b.ReportMetric(float64(images)/tOne.Seconds(), "one-phash-img/s")
			b.ReportMetric(tPlain.Seconds()/tFast.Seconds(), "speedup-x")
			b.ReportMetric(tPlain.Seconds()/tOne.Seconds(), "one-phash-speedup-x")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// onePHash is the fast path cut down to what plain goimagehash computes: decode,
// normalise, one 64-bit pHash.
func onePHash(b *testing.B, data []byte) uint64 {
	g, err := load(data, DefaultHashConfig())
	if err != nil {
		b.Fatal(err)
	}
	r, _ := g.trim()
	var f [64 * 64]float32
	var p [64 * 64]uint8
	g.resample(r, 64, 64, f[:])
	quantise(f[:], p[:])
	c := pHashCoefficients(&p)
	return pHashBits(&c)
}

// BenchmarkFingerprintStages splits the fast path's cost: decoding and hashing.
func BenchmarkFingerprintStages(b *testing.B) {
	data := imagetest.EncodeJPEG(b, imagetest.SynthPhoto(1, 1000, 1000), 90)
	cfg := DefaultHashConfig()
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := load(data, cfg); err != nil {
				b.Fatal(err)
			}
		}
	})
	g, err := load(data, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash", func(b *testing.B) {
		for b.Loop() {
			if _, err := fingerprintGray(g, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
