package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/dist2"
)

func TestTokenLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 1))
	emb := make([]float32, 8*2)
	for i := range emb {
		emb[i] = float32(r.NormFloat64())
	}
	d, _ := dist2.NewVectors(emb, 2, dist2.SquaredL2)
	tab, _ := dist2.NewTable(d, 1, 0)
	for _, l := range []*dist2.Loss{{Kind: dist2.CE}, {Kind: dist2.Dist2, Alpha: 0.1, Table: tab}, {Kind: dist2.Smooth, Smoothing: 0.1}} {
		k := &TokenLoss{Loss: l, Targets: []int32{3, -1, 7, 0, 5}}
		checkKernel(t, k, []*tensor.Dense{randTensor(r, 5, 8)}, 1e-2)
	}
	// Split across CPUs or not, the loss is the mean over counted positions.
	many := make([]int32, 700)
	for i := range many {
		many[i] = int32(r.IntN(8))
		if i%7 == 0 {
			many[i] = -1
		}
	}
	x := randTensor(r, 700, 8)
	k := &TokenLoss{Loss: &dist2.Loss{Kind: dist2.Dist2, Alpha: 0.1, Table: tab}, Targets: many}
	out := make([]float32, 1)
	k.Forward(out, []*tensor.Dense{x})
	want := k.Loss.GradTo(nil, x.Float32s(), many)
	if math.Abs(float64(out[0])-want.Loss) > 1e-5 || k.Stats.Positions != want.Positions {
		t.Errorf("parallel loss %v over %d, serial %v over %d", out[0], k.Stats.Positions, want.Loss, want.Positions)
	}
}
