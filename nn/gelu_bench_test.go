package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

func BenchmarkGELU(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := randTensor(r, 3136, 1024)
	out := make([]float32, 3136*1024)
	g := &GELU{}
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			g.Forward(out, []*tensor.Dense{x})
		}
		b.ReportMetric(float64(len(out)*b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			g.Backward(0, out, []*tensor.Dense{x}, nil, x.Float32s())
		}
		b.ReportMetric(float64(len(out)*b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
}
