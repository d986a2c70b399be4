package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/dist2"
)

// The layers of ref-vq at batch 64.
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name         string
		h, cin, cout int
		g            Geometry
		transposed   bool
	}{
		{"enc0", 28, 1, 64, Geometry{4, 2, 1}, false},
		{"enc1", 14, 64, 128, Geometry{4, 2, 1}, false},
		{"res3x3", 7, 128, 64, Geometry{3, 1, 1}, false},
		{"res1x1", 7, 64, 128, Geometry{1, 1, 0}, false},
		{"up0", 7, 128, 64, Geometry{4, 2, 1}, true},
		{"up1", 14, 64, 1, Geometry{4, 2, 1}, true},
	}
	for _, c := range cases {
		x := randTensor(r, 64, c.h, c.h, c.cin)
		var k Kernel
		var w *tensor.Dense
		if c.transposed {
			k = &ConvTranspose2D{Geometry: c.g, InputGrad: true}
			w = randTensor(r, c.cin, c.g.K*c.g.K*c.cout)
		} else {
			k = &Conv2D{Geometry: c.g, InputGrad: true}
			w = randTensor(r, c.g.K*c.g.K*c.cin, c.cout)
		}
		in := []*tensor.Dense{x, w, randTensor(r, c.cout)}
		s, _ := k.OutShape([]tensor.Shape{x.Shape(), w.Shape(), in[2].Shape()})
		out := make([]float32, s.TotalSize())
		dOut := make([]float32, len(out))
		dx := make([]float32, x.Shape().TotalSize())
		dw := make([]float32, w.Shape().TotalSize())
		pix := s[1] * s[2]
		if c.transposed {
			pix = c.h * c.h
		}
		flops := 2 * float64(64*pix*c.g.K*c.g.K*c.cin*c.cout)
		b.Run(fmt.Sprintf("%s/forward", c.name), func(b *testing.B) {
			for b.Loop() {
				k.Forward(out, in)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("%s/backward-x", c.name), func(b *testing.B) {
			startBackward(k, in, out, dOut)
			for b.Loop() {
				k.Backward(0, dx, in, out, dOut)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("%s/backward-w", c.name), func(b *testing.B) {
			for b.Loop() {
				startBackward(k, in, out, dOut) // a new output gradient each time
				k.Backward(1, dw, in, out, dOut)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// The fused DIST2 loss op against the CE op on ref-gen's logits (64 x 49
// positions, 512 codes): the whole cost of DIST2Loss in a training step.
func BenchmarkTokenLoss(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, v = 64 * 49, 512
	logits := randTensor(r, n, v)
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(r.IntN(v))
	}
	emb := make([]float32, v*16)
	for i := range emb {
		emb[i] = float32(r.NormFloat64())
	}
	d, _ := dist2.NewVectors(emb, 16, dist2.SquaredL2)
	tab, _ := dist2.NewTable(d, 1, 0)
	out, grad := make([]float32, 1), make([]float32, n*v)
	for _, l := range []*dist2.Loss{{Kind: dist2.CE}, {Kind: dist2.Dist2, Alpha: 0.1, Table: tab}} {
		k := &TokenLoss{Loss: l, Targets: targets}
		b.Run(l.Kind.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.Forward(out, []*tensor.Dense{logits})
				k.Backward(0, grad, nil, out, []float32{1})
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "positions/s")
		})
	}
}

// Causal attention of ref-gen at batch 64: 49 positions, 8 heads of 32.
func BenchmarkAttention(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const batch, l, d = 64, 49, 256
	a := &CausalAttention{Batch: batch, Len: l, Heads: 8}
	qkv := []*tensor.Dense{randTensor(r, batch*l, 3*d)}
	out, dOut, dst := make([]float32, batch*l*d), randTensor(r, batch*l, d).Float32s(), make([]float32, batch*l*3*d)
	// QK^T and PV, forward; four products of the same size backward.
	flops := float64(batch*8) * 2 * float64(l*l*d/8) * 2
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			a.Forward(out, qkv)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("backward", func(b *testing.B) {
		a.Forward(out, qkv)
		for b.Loop() {
			a.Backward(0, dst, qkv, out, dOut)
		}
		b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
