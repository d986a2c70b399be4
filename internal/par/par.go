// Package par splits loops across the CPUs.
package par

import (
	"runtime"
	"sync"
)

// For calls f on contiguous ranges covering [0, n), in parallel, one range per
// CPU when each range gets at least grain items; f must be safe to run
// concurrently on disjoint ranges.
//
// The ranges depend on the machine's CPU count, not on GOMAXPROCS: with fewer
// Ps the same ranges run in turn, so a computation gives the same bits
// whether it has the machine to itself or shares it as one of several jobs
// (vqtool experiment --jobs).
func For(n, grain int, f func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	ranges := min(runtime.NumCPU(), n/grain)
	if ranges <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	workers := min(runtime.GOMAXPROCS(0), ranges)
	run := func(w int) {
		for r := w; r < ranges; r += workers {
			f(r*n/ranges, (r+1)*n/ranges)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { run(w) })
	}
	run(0)
	wg.Wait()
}
