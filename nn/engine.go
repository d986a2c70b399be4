package nn

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// addEngine is gorgonia's standard engine with Add on the vector kernels,
// split across the CPUs; the machine of every program runs on it
// (gorgonia.WithEngine), and so every value it computes. Where a gradient
// reaches a node along two paths (a residual stream, used by a layer norm
// and by the add after it), gorgonia sums the two with the engine of the
// first, and StandardEngine's Add is a scalar loop on gorgonia's one
// goroutine, the other CPUs idle. Every case but a sum of two whole float32 tensors into a third or
// into the first falls through to StandardEngine.
type addEngine struct{ gorgonia.StandardEngine }

func (e addEngine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	x, xok := wholeFloat32(a)
	y, yok := wholeFloat32(b)
	o := tensor.ParseFuncOpts(opts...)
	var ret tensor.Tensor
	var dst []float32
	switch {
	case !xok || !yok || len(x) != len(y) || !a.Shape().Eq(b.Shape()) || o.Incr() != nil || o.As() != (tensor.Dtype{}):
	case o.Reuse() != nil:
		if d, ok := wholeFloat32(o.Reuse()); ok && len(d) == len(x) {
			ret, dst = o.Reuse(), d
		}
	case !o.Safe():
		ret, dst = a, x
	}
	if dst == nil {
		return e.StandardEngine.Add(a, b, opts...)
	}
	par.For(len(dst), grain, func(lo, hi int) { gemm.Add(dst[lo:hi], x[lo:hi], y[lo:hi]) })
	return ret, nil
}

// wholeFloat32 returns t's floats when t is a float32 Dense that is not a
// view, its elements contiguous and in order.
func wholeFloat32(t tensor.Tensor) ([]float32, bool) {
	d, ok := t.(*tensor.Dense)
	if !ok || d.Dtype() != tensor.Float32 || d.IsView() || d.RequiresIterator() {
		return nil, false
	}
	return d.Float32s(), true
}
