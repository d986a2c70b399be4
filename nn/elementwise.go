package nn

import (
	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

const grain = 16 << 10 // elements per goroutine, below which a loop runs on one

// ReLU is max(x, 0).
type ReLU struct{}

var _ Kernel = ReLU{}

func (ReLU) Name() string { return "relu" }

func (r ReLU) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, shapeError(r, "%d inputs: want 1", len(in))
	}
	return in[0].Clone(), nil
}

func (ReLU) Forward(out []float32, in []*tensor.Dense) {
	x := in[0].Float32s()
	par.For(len(x), grain, func(lo, hi int) { gemm.ReLU(out[lo:hi], x[lo:hi]) })
}

func (ReLU) Backward(_ int, dst []float32, _ []*tensor.Dense, out, dOut []float32) {
	par.For(len(out), grain, func(lo, hi int) { gemm.MaskPositive(dst[lo:hi], dOut[lo:hi], out[lo:hi]) })
}

func (ReLU) Differentiable(int) []bool { return []bool{true} }

// Add is a + b for tensors of one shape.
type Add struct{}

var (
	_ Kernel      = Add{}
	_ passThrough = Add{}
)

func (Add) Name() string { return "add" }

func (a Add) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 || !in[0].Eq(in[1]) {
		return nil, shapeError(a, "inputs %v: want two of one shape", in)
	}
	return in[0].Clone(), nil
}

func (Add) Forward(out []float32, in []*tensor.Dense) {
	a, b := in[0].Float32s(), in[1].Float32s()
	par.For(len(a), grain, func(lo, hi int) { gemm.Add(out[lo:hi], a[lo:hi], b[lo:hi]) })
}

// Backward copies dOut on every CPU, for callers outside a graph (a graph
// hands dOut on itself: PassesGradient).
func (Add) Backward(_ int, dst []float32, _ []*tensor.Dense, _, dOut []float32) {
	par.For(len(dst), grain, func(lo, hi int) { copy(dst[lo:hi], dOut[lo:hi]) })
}

func (Add) Differentiable(n int) []bool { return []bool{true, true} }

// PassesGradient implements passThrough: a graph hands each term dOut
// itself, with no copy.
func (Add) PassesGradient(int) bool { return true }

// MSE is the mean over all elements of (x - target)^2, a scalar. The target
// gets no gradient.
type MSE struct{}

var _ Kernel = MSE{}

func (MSE) Name() string { return "mse" }

func (m MSE) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 || !in[0].Eq(in[1]) {
		return nil, shapeError(m, "inputs %v: want x and target of one shape", in)
	}
	return tensor.ScalarShape(), nil
}

func (MSE) Forward(out []float32, in []*tensor.Dense) {
	x, t := in[0].Float32s(), in[1].Float32s()
	var s float64
	for i, v := range x {
		d := float64(v - t[i])
		s += d * d
	}
	out[0] = float32(s / float64(len(x)))
}

func (MSE) Backward(_ int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	x, t := in[0].Float32s(), in[1].Float32s()
	c := 2 * dOut[0] / float32(len(x))
	par.For(len(x), grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = c * (x[i] - t[i])
		}
	})
}

func (MSE) Differentiable(int) []bool { return []bool{true, false} }

// Reshape copies its input into a new shape with as many elements (a
// flatten, say); its gradient copies back.
type Reshape struct {
	Shape []int
}

var _ Kernel = Reshape{}

func (Reshape) Name() string { return "reshape" }

func (r Reshape) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	n := 1
	for _, d := range r.Shape {
		n *= d
	}
	if len(in) != 1 || in[0].TotalSize() != n {
		return nil, shapeError(r, "inputs %v: want one tensor of %d elements", in, n)
	}
	return tensor.Shape(r.Shape).Clone(), nil
}

func (Reshape) Forward(out []float32, in []*tensor.Dense) { copy(out, in[0].Float32s()) }

func (Reshape) Backward(_ int, dst []float32, _ []*tensor.Dense, _, dOut []float32) { copy(dst, dOut) }

func (Reshape) Differentiable(int) []bool { return []bool{true} }
