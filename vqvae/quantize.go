package vqvae

import (
	"fmt"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/nn"
)

// quantizer replaces each D-vector of z by its nearest code. Its gradient is
// straight-through: dLoss/dz = dLoss/dz_q.
//
// Inputs: z [B, h, w, D], codes [K, D] (the codebook's storage).
type quantizer struct {
	cb  *codebook.Codebook
	idx []int32   // the code chosen for each vector at the last forward
	z   []float32 // the encoder output of the last forward
}

var _ nn.Kernel = (*quantizer)(nil)

func (q *quantizer) Name() string { return "quantize" }

func (q *quantizer) OutShape(in []nn.Shape) (nn.Shape, error) {
	if len(in) != 2 || in[1].Dims() != 2 || in[0][in[0].Dims()-1] != in[1][1] {
		return nil, fmt.Errorf("vqvae: %s: inputs %v: want z [.. D] and codes [K D]", q.Name(), in)
	}
	return in[0].Clone(), nil
}

func (q *quantizer) Forward(out []float32, in []*nn.Dense) {
	z := in[0].Float32s()
	if &in[1].Float32s()[0] != &q.cb.E[0] {
		panic("vqvae: quantizer: the codes input is not the codebook's storage")
	}
	d := q.cb.D
	n := len(z) / d
	if cap(q.idx) < n {
		q.idx = make([]int32, n)
	}
	q.idx = q.idx[:n]
	q.z = z
	q.cb.NearestTo(q.idx, nil, z)
	for i, k := range q.idx {
		copy(out[i*d:(i+1)*d], q.cb.Code(int(k)))
	}
}

func (q *quantizer) Backward(_ int, dst []float32, _ []*nn.Dense, _, dOut []float32) {
	copy(dst, dOut)
}

func (q *quantizer) Differentiable(int) []bool { return []bool{true, false} }

// vqLoss is the codebook and commitment loss of the codes a quantizer chose,
// as means over the elements of z:
//
//	codebook * mean (sg(z) - e)^2 + beta * mean (z - sg(e))^2
//
// Its forward value is (codebook + beta) * mean (z - e)^2; its gradient is
// 2 beta (z - e)/n for z and 2 codebook (e - z)/n, summed per code, for codes.
type vqLoss struct {
	q        *quantizer
	beta     float32
	codebook float32 // 1 trains codes by gradient, 0 for an EMA codebook
}

var _ nn.Kernel = (*vqLoss)(nil)

func (l *vqLoss) Name() string { return "vqloss" }

func (l *vqLoss) OutShape(in []nn.Shape) (nn.Shape, error) {
	if len(in) != 2 || in[1].Dims() != 2 {
		return nil, fmt.Errorf("vqvae: %s: inputs %v: want z [.. D] and codes [K D]", l.Name(), in)
	}
	return nn.ScalarShape(), nil
}

func (l *vqLoss) Forward(out []float32, in []*nn.Dense) {
	z := in[0].Float32s()
	d := l.q.cb.D
	var s float64
	for i, k := range l.q.idx {
		e := l.q.cb.Code(int(k))
		for t, v := range z[i*d : (i+1)*d] {
			diff := float64(v - e[t])
			s += diff * diff
		}
	}
	out[0] = float32(float64(l.codebook+l.beta) * s / float64(len(z)))
}

func (l *vqLoss) Backward(i int, dst []float32, in []*nn.Dense, _, dOut []float32) {
	z := in[0].Float32s()
	d := l.q.cb.D
	scale := 2 * dOut[0] / float32(len(z))
	if i == 0 {
		c := l.beta * scale
		for j, k := range l.q.idx {
			e := l.q.cb.Code(int(k))
			for t := range d {
				dst[j*d+t] = c * (z[j*d+t] - e[t])
			}
		}
		return
	}
	clear(dst)
	c := l.codebook * scale
	for j, k := range l.q.idx {
		e := l.q.cb.Code(int(k))
		g := dst[int(k)*d : (int(k)+1)*d]
		for t := range d {
			g[t] += c * (e[t] - z[j*d+t])
		}
	}
}

func (l *vqLoss) Differentiable(int) []bool { return []bool{true, l.codebook != 0} }

// l1 is mean |x - target|, a scalar; the target gets no gradient.
type l1 struct{}

var _ nn.Kernel = l1{}

func (l1) Name() string { return "l1" }

func (l1) OutShape(in []nn.Shape) (nn.Shape, error) { return nn.MSE{}.OutShape(in) }

func (l1) Forward(out []float32, in []*nn.Dense) {
	x, t := in[0].Float32s(), in[1].Float32s()
	var s float64
	for i, v := range x {
		d := float64(v - t[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	out[0] = float32(s / float64(len(x)))
}

func (l1) Backward(_ int, dst []float32, in []*nn.Dense, _, dOut []float32) {
	x, t := in[0].Float32s(), in[1].Float32s()
	c := dOut[0] / float32(len(x))
	for i, v := range x {
		switch {
		case v > t[i]:
			dst[i] = c
		case v < t[i]:
			dst[i] = -c
		default:
			dst[i] = 0
		}
	}
}

func (l1) Differentiable(int) []bool { return []bool{true, false} }
