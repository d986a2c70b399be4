package generator

import (
	"math/rand/v2"
	"testing"
)

var sinkTokens []int32

// Sampling 64 grids of ref-gen with the KV cache, as BENCH.md times it.
func BenchmarkSample(b *testing.B) {
	m, _ := New(DefaultConfig(), rand.New(rand.NewPCG(1, 1)))
	classes := make([]int32, 64)
	for i := range classes {
		classes[i] = int32(i % 10)
	}
	cfg := DefaultSampleConfig()
	for b.Loop() {
		sinkTokens, _ = m.Sample(classes, cfg)
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "img/s")
}
