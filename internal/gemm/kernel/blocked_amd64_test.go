//go:build amd64 && !purego

package kernel

import (
	"slices"
	"testing"
)

// BenchmarkFMAPeak reports one core's FMA rate on the avx2 path with
// nothing but FMAs in flight (fmaPeakAVX2): the peak that BenchmarkBlocked's
// GFLOP/s are a fraction of, measured rather than taken from a clock the
// virtual machine may not report.
func BenchmarkFMAPeak(b *testing.B) {
	if !slices.Contains(Paths(), AVX2) {
		b.Skip("no AVX2 here")
	}
	const rounds = 1 << 20
	for b.Loop() {
		fmaPeakAVX2(rounds)
	}
	b.ReportMetric(192*rounds*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
