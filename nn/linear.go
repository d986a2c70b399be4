package nn

import (
	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// MatMul is x W + b over the last axis: inputs x [N, In], W [In, Out],
// b [Out]; output [N, Out].
type MatMul struct {
	InputGrad bool

	// The bias gradient of this backward pass, summed by the weight
	// gradient's product as it packs dOut, and whether it has been (or,
	// asked for first, was summed straight into its own gradient).
	db     []float32
	dbDone bool
}

var (
	_ Kernel          = (*MatMul)(nil)
	_ BackwardStarter = (*MatMul)(nil)
)

func (m *MatMul) Name() string { return "linear" }

func (m *MatMul) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 2 || in[1].Dims() != 2 || in[2].Dims() != 1 ||
		in[0][1] != in[1][0] || in[1][1] != in[2][0] {
		return nil, shapeError(m, "inputs %v: want x [N In], W [In Out], b [Out]", in)
	}
	return tensor.Shape{in[0][0], in[1][1]}, nil
}

func (m *MatMul) Forward(out []float32, in []*tensor.Dense) {
	s := in[1].Shape()
	n, k, o := in[0].Shape()[0], s[0], s[1]
	x, w, b := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	// One range of rows per CPU (or of columns, for the few rows of
	// sampling), as the gradients' products, so that each CPU packs W once.
	gemm.SgemmBias(n, o, k, x, k, w, o, b, false, out, o)
}

// StartBackward marks the bias gradient as not yet summed.
func (m *MatMul) StartBackward([]*tensor.Dense, []float32, []float32) { m.dbDone = false }

// Backward computes the weight and bias gradients together
// (gemm.WeightGrad): the weight gradient's packing passes over dOut
// anyway, and a separate column sum would pass over it again.
func (m *MatMul) Backward(i int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	s := in[1].Shape()
	n, k, o := in[0].Shape()[0], s[0], s[1]
	switch i {
	case 0:
		gemm.Sgemm(false, true, n, k, o, 1, dOut, o, in[1].Float32s(), o, 0, dst, k)
	case 1:
		if m.dbDone { // the bias gradient came first
			gemm.Sgemm(true, false, k, o, n, 1, in[0].Float32s(), k, dOut, o, 0, dst, o)
			return
		}
		m.db = grow(m.db, o)
		gemm.WeightGrad(dst, m.db, in[0].Float32s(), dOut, n, k, o)
		m.dbDone = true
	case 2:
		if m.dbDone {
			copy(dst, m.db)
			return
		}
		gemm.ColSums(dst, dOut, n, o)
		m.dbDone = true
	}
}

func (m *MatMul) Differentiable(int) []bool { return []bool{m.InputGrad, true, true} }

// LayerNorm normalises each row of x [N, D] to zero mean and unit variance,
// then scales and shifts: y = (x - mean)/sqrt(var + 1e-5) * gamma + beta.
type LayerNorm struct {
	xhat []float32 // normalised rows of the last forward
	rstd []float32 // 1/sqrt(var + eps) per row

	// The sums of dOut * xhat (gamma's gradient) and of dOut (beta's) over
	// each block of lnBlock rows, [blocks][2][D], of this backward pass, and
	// whether they are done: the input gradient's pass sums them while its
	// rows are in cache, unless a parameter's gradient is asked for first.
	part     []float32
	partDone bool
}

var (
	_ Kernel          = (*LayerNorm)(nil)
	_ BackwardStarter = (*LayerNorm)(nil)
)

const (
	lnEps   = 1e-5
	lnBlock = 64 // rows per block of the backward pass and of its partial sums
)

func (l *LayerNorm) Name() string { return "layernorm" }

func (l *LayerNorm) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 2 || in[1].Dims() != 1 || in[2].Dims() != 1 ||
		in[1][0] != in[0][1] || in[2][0] != in[0][1] {
		return nil, shapeError(l, "inputs %v: want x [N D], gamma [D], beta [D]", in)
	}
	return in[0].Clone(), nil
}

func (l *LayerNorm) Forward(out []float32, in []*tensor.Dense) {
	x, g, b := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := len(g)
	n := len(x) / d
	l.xhat = grow(l.xhat, len(x))
	l.rstd = grow(l.rstd, n)
	par.For(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			l.rstd[r] = gemm.LayerNormRow(out[r*d:(r+1)*d], l.xhat[r*d:(r+1)*d], x[r*d:(r+1)*d], g, b, lnEps)
		}
	})
}

// StartBackward marks the parameters' partial sums as not yet done.
func (l *LayerNorm) StartBackward([]*tensor.Dense, []float32, []float32) { l.partDone = false }

// Backward sums the parameters' gradients by blocks of rows, then the
// blocks in order: the same bits whichever gradient is asked for first.
func (l *LayerNorm) Backward(i int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	g := in[1].Float32s()
	d := len(g)
	n := len(dOut) / d
	blocks := (n + lnBlock - 1) / lnBlock
	sums := !l.partDone
	if sums {
		l.part = grow(l.part, blocks*2*d)
	}
	switch i {
	case 0:
		par.For(blocks, 1, func(lo, hi int) {
			for blk := lo; blk < hi; blk++ {
				r0, r1 := blk*lnBlock, min(n, (blk+1)*lnBlock)
				for r := r0; r < r1; r++ {
					gemm.LayerNormGradRow(dst[r*d:(r+1)*d], dOut[r*d:(r+1)*d], l.xhat[r*d:(r+1)*d], g, l.rstd[r])
				}
				if sums {
					l.blockSums(blk, dOut, n, d)
				}
			}
		})
		l.partDone = true
	case 1, 2:
		if sums {
			par.For(blocks, 1, func(lo, hi int) {
				for blk := lo; blk < hi; blk++ {
					l.blockSums(blk, dOut, n, d)
				}
			})
			l.partDone = true
		}
		// The blocks' sums in order: a column sum over rows 2d apart.
		gemm.SerialColSums(dst[:d], l.part[(i-1)*d:], blocks, 2*d)
	}
}

// blockSums writes block blk's sums of dOut * xhat and of dOut.
func (l *LayerNorm) blockSums(blk int, dOut []float32, n, d int) {
	r0, r1 := blk*lnBlock, min(n, (blk+1)*lnBlock)
	p := l.part[2*blk*d:]
	gemm.SerialColDots(p[:d], dOut[r0*d:], l.xhat[r0*d:], r1-r0, d)
	gemm.SerialColSums(p[d:2*d], dOut[r0*d:], r1-r0, d)
}

func (l *LayerNorm) Differentiable(int) []bool { return []bool{true, true, true} }

// GELU is x * Phi(x) in the tanh approximation of Hendrycks and Gimpel:
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). The backward pass
// computes the tanh again: cheaper than keeping it.
type GELU struct{}

var _ Kernel = (*GELU)(nil)

func (*GELU) Name() string { return "gelu" }

func (g *GELU) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, shapeError(g, "%d inputs: want 1", len(in))
	}
	return in[0].Clone(), nil
}

func (*GELU) Forward(out []float32, in []*tensor.Dense) { gemm.GELU(out, in[0].Float32s()) }

func (*GELU) Backward(_ int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	gemm.GELUGrad(dst, dOut, in[0].Float32s())
}

func (*GELU) Differentiable(int) []bool { return []bool{true} }
