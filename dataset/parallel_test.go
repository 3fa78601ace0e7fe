package dataset

import (
	"sync/atomic"
	"testing"
)

// Every job runs once, and a job's panic reaches the caller, where the
// store recovers a load's panic, instead of taking the process down from
// a worker goroutine.
func TestInParallel(t *testing.T) {
	var ran [1000]atomic.Int32
	jobs := make([]func(), len(ran))
	for i := range jobs {
		jobs[i] = func() { ran[i].Add(1) }
	}
	inParallel(jobs)
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Fatalf("job %d ran %d times, want once", i, n)
		}
	}

	jobs[500] = func() { panic("a parser bug") }
	defer func() {
		if p := recover(); p != "a parser bug" {
			t.Errorf("inParallel's panic = %v, want the job's", p)
		}
	}()
	inParallel(jobs)
	t.Error("inParallel returned after a job panicked")
}
