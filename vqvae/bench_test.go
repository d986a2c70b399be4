package vqvae

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkEncode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m, err := New(DefaultConfig(), r)
	if err != nil {
		b.Fatal(err)
	}
	const n = 256
	pix := make([]float32, n*28*28)
	for i := range pix {
		pix[i] = float32(2*r.Float64() - 1)
	}
	tokens := make([]int32, n*49)
	for b.Loop() {
		if err := m.EncodeTo(tokens, pix, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkTrainStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m, err := New(DefaultConfig(), r)
	if err != nil {
		b.Fatal(err)
	}
	const n = 256
	pix := make([]float32, n*28*28)
	for i := range pix {
		pix[i] = float32(2*r.Float64() - 1)
	}
	tc := DefaultTrainConfig()
	tc.KMeans = false
	tr, err := NewTrainer(m, Images{Pix: pix, N: n, C: 1, H: 28, W: 28}, tc)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.TrainStep(); err != nil {
			b.Fatal(err)
		}
	}
}
