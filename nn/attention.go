package nn

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// CausalAttention is multi-head scaled dot-product attention in which
// position i attends to positions 0..i. Input qkv [B*L, 3D] holds the
// queries, keys and values side by side (head h at columns h*Dh of each);
// output [B*L, D]:
//
//	P = softmax(Q_h K_h^T / sqrt(Dh) + causal mask);  O_h = P V_h
type CausalAttention struct {
	Batch, Len, Heads int

	p []float32 // attention weights of the last forward, [B, H, L, L]
}

var _ Kernel = (*CausalAttention)(nil)

func (a *CausalAttention) Name() string { return fmt.Sprintf("attention/h%d", a.Heads) }

func (a *CausalAttention) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 || in[0].Dims() != 2 || in[0][0] != a.Batch*a.Len || in[0][1]%(3*a.Heads) != 0 {
		return nil, fmt.Errorf("inputs %v: want qkv [%d %d*heads*Dh]", in, a.Batch*a.Len, 3)
	}
	return tensor.Shape{in[0][0], in[0][1] / 3}, nil
}

func (a *CausalAttention) Forward(out []float32, in []*tensor.Dense) {
	qkv := in[0].Float32s()
	l, h := a.Len, a.Heads
	d := in[0].Shape()[1] / 3
	dh := d / h
	scale := float32(1 / math.Sqrt(float64(dh)))
	a.p = grow(a.p, a.Batch*h*l*l)
	par.For(a.Batch*h, 4, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, hd := bh/h, bh%h
			base := b * l * 3 * d
			q, k, v := qkv[base+hd*dh:], qkv[base+d+hd*dh:], qkv[base+2*d+hd*dh:]
			p := a.p[bh*l*l : (bh+1)*l*l]
			gemm.Serial(false, true, l, l, dh, scale, q, 3*d, k, 3*d, 0, p, l)
			for i := range l {
				row := p[i*l : (i+1)*l]
				softmaxPrefix(row, i+1)
			}
			gemm.Serial(false, false, l, dh, l, 1, p, l, v, 3*d, 0, out[b*l*d+hd*dh:], d)
		}
	})
}

// softmaxPrefix replaces row[:n] by its softmax and zeroes the rest.
func softmaxPrefix(row []float32, n int) {
	m := row[0]
	for _, v := range row[1:n] {
		m = max(m, v)
	}
	var s float32
	for j := range n {
		e := exp32(row[j] - m)
		row[j] = e
		s += e
	}
	inv := 1 / s
	for j := range n {
		row[j] *= inv
	}
	clear(row[n:])
}

func (a *CausalAttention) Backward(_ int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	qkv := in[0].Float32s()
	l, h := a.Len, a.Heads
	d := in[0].Shape()[1] / 3
	dh := d / h
	scale := float32(1 / math.Sqrt(float64(dh)))
	par.For(a.Batch*h, 4, func(lo, hi int) {
		ds := make([]float32, l*l) // dP, then dS, of one head
		for bh := lo; bh < hi; bh++ {
			b, hd := bh/h, bh%h
			base := b * l * 3 * d
			q, k, v := qkv[base+hd*dh:], qkv[base+d+hd*dh:], qkv[base+2*d+hd*dh:]
			dq, dk, dv := dst[base+hd*dh:], dst[base+d+hd*dh:], dst[base+2*d+hd*dh:]
			do := dOut[b*l*d+hd*dh:]
			p := a.p[bh*l*l : (bh+1)*l*l]
			// dV = P^T dO; dP = dO V^T
			gemm.Serial(true, false, l, dh, l, 1, p, l, do, d, 0, dv, 3*d)
			gemm.Serial(false, true, l, l, dh, 1, do, d, v, 3*d, 0, ds, l)
			// dS = P * (dP - rowsum(dP * P)) * scale
			for i := range l {
				pr, dr := p[i*l:(i+1)*l], ds[i*l:(i+1)*l]
				var s float32
				for j := 0; j <= i; j++ {
					s += pr[j] * dr[j]
				}
				for j := range l {
					dr[j] = pr[j] * (dr[j] - s) * scale
				}
			}
			// dQ = dS K; dK = dS^T Q
			gemm.Serial(false, false, l, dh, l, 1, ds, l, k, 3*d, 0, dq, 3*d)
			gemm.Serial(true, false, l, dh, l, 1, ds, l, q, 3*d, 0, dk, 3*d)
		}
	})
}

func (a *CausalAttention) Differentiable(int) []bool { return []bool{true} }

// AttendTo computes the attention output of one query per row over cached
// keys and values, for every head, as CausalAttention does at position t:
// q [D] for the new position, keys and values [t+1, D] rows 0..t of a cache
// whose rows are stride floats apart; out [D]. scores is scratch of t+1.
func AttendTo(out, q, keys, values []float32, t, stride, heads int, scores []float32) {
	d := len(q)
	dh := d / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	n := t + 1
	for h := range heads {
		// scores = K_h q_h * scale; out_h = V_h^T softmax(scores)
		gemm.DotRows(scores[:n], q[h*dh:(h+1)*dh], keys[h*dh:], stride, n, scale)
		softmaxPrefix(scores[:n], n)
		gemm.AxpyRows(out[h*dh:(h+1)*dh], scores[:n], values[h*dh:], stride)
	}
}
