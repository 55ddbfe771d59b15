package auth

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// PruneArgs is the hourly job that forgets ended sessions and old login failures.
type PruneArgs struct{}

// Kind names the job in River's table.
func (PruneArgs) Kind() string { return "auth.prune" }

// PruneWorker runs PruneArgs.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	Service *Service
}

// Work deletes what has expired.
func (w *PruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	return w.Service.PruneExpired(ctx)
}

// RegisterJobs adds the accounts' workers and their hourly schedule.
func RegisterJobs(workers *river.Workers, svc *Service) []*river.PeriodicJob {
	river.AddWorker(workers, &PruneWorker{Service: svc})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
