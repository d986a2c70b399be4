package generator

import (
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/dist2"
)

var sinkTokens []int32

// Sampling 64 grids of ref-gen with the KV cache, as the reference benchmark (docs/performance.md) times it.
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

// One training step at batch 64 on random grids, with cross-entropy, for
// ref-gen and for the study's generator (width 128, 4 blocks, MLP 512).
func BenchmarkTrainStep(b *testing.B) {
	study := DefaultConfig()
	study.Dim, study.Layers, study.Heads, study.MLP = 128, 4, 4, 512
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"ref-gen", DefaultConfig()}, {"study", study}} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(2, 2))
			const n = 256
			data := Tokens{Codes: make([]int32, n*c.cfg.Len), Labels: make([]int32, n), N: n, Len: c.cfg.Len}
			for i := range data.Codes {
				data.Codes[i] = int32(r.IntN(c.cfg.CodebookSize))
			}
			for i := range data.Labels {
				data.Labels[i] = int32(r.IntN(c.cfg.Classes))
			}
			m, err := New(c.cfg, rand.New(rand.NewPCG(3, 3)))
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(m, data, &dist2.Loss{Kind: dist2.CE}, DefaultTrainConfig())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.TrainStep(); err != nil { // warm-up: buffers and packed weights
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.TrainStep(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
