package nn

import (
	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
)

// MLP is a transformer block's feed-forward layer, GELU(x W1 + b1) W2 + b2:
// inputs x [N, D], W1 [D, H], b1 [H], W2 [H, D], b2 [D]; output [N, D].
// It is one kernel rather than two MatMuls around a GELU so that the
// activation, and in the backward pass its gradient, run on each block of
// the hidden layer as its product finishes it, in cache
// (gemm.LinearGELU, gemm.GELUInputGrad), instead of in passes of their own
// over megabytes of it.
type MLP struct {
	// The hidden layer of the last forward, before (u) and after (h) the
	// GELU, and dLoss/du of this backward pass (StartBackward).
	u, h, du []float32

	g1, g2 paramGrads // W1's and b1's, W2's and b2's
}

var (
	_ Kernel          = (*MLP)(nil)
	_ BackwardStarter = (*MLP)(nil)
)

func (m *MLP) Name() string { return "mlp" }

func (m *MLP) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 5 || in[0].Dims() != 2 || in[1].Dims() != 2 || in[2].Dims() != 1 || in[3].Dims() != 2 || in[4].Dims() != 1 ||
		in[1][0] != in[0][1] || in[2][0] != in[1][1] || in[3][0] != in[1][1] || in[3][1] != in[0][1] || in[4][0] != in[0][1] {
		return nil, shapeError(m, "inputs %v: want x [N D], W1 [D H], b1 [H], W2 [H D], b2 [D]", in)
	}
	return in[0].Clone(), nil
}

// dims returns N, D and H.
func (m *MLP) dims(in []*tensor.Dense) (n, d, h int) {
	s := in[1].Shape()
	return in[0].Shape()[0], s[0], s[1]
}

func (m *MLP) Forward(out []float32, in []*tensor.Dense) {
	n, d, h := m.dims(in)
	m.u, m.h = grow(m.u, n*h), grow(m.h, n*h)
	gemm.LinearGELU(m.u, m.h, in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), n, d, h)
	gemm.SgemmBias(n, d, h, m.h, h, in[3].Float32s(), d, in[4].Float32s(), false, out, d)
}

// StartBackward computes dLoss/du, which x's, W1's and b1's gradients
// share, and marks the bias gradients as not yet summed.
func (m *MLP) StartBackward(in []*tensor.Dense, _, dOut []float32) {
	n, d, h := m.dims(in)
	m.du = grow(m.du, n*h)
	gemm.GELUInputGrad(m.du, dOut, in[3].Float32s(), m.u, n, h, d)
	m.g1.start()
	m.g2.start()
}

func (m *MLP) Backward(i int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	n, d, h := m.dims(in)
	switch i {
	case 0:
		gemm.Sgemm(false, true, n, d, h, 1, m.du, h, in[1].Float32s(), h, 0, dst, d)
	case 1:
		m.g1.weight(dst, in[0].Float32s(), m.du, n, d, h)
	case 2:
		m.g1.bias(dst, m.du, n, h)
	case 3:
		m.g2.weight(dst, m.h, dOut, n, h, d)
	case 4:
		m.g2.bias(dst, dOut, n, d)
	}
}

func (m *MLP) Differentiable(int) []bool { return []bool{true, true, true, true, true} }
