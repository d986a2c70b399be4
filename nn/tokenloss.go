package nn

import (
	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/par"
)

// TokenLoss is a dist2.Loss (DIST2, CE or label smoothing) over logits
// [N, V] for targets set by the caller before each run: the mean over the
// positions whose target is >= 0. The forward pass computes the gradient too,
// in one fused pass over the logits, scaled for the batch mean; the
// backward pass only scales it by the graph's gradient (a copy at 1).
type TokenLoss struct {
	Loss    *dist2.Loss
	Targets []int32 // N targets; negative ones are ignored
	Stats   dist2.Stats

	grad []float32
}

var _ Kernel = (*TokenLoss)(nil)

func (t *TokenLoss) Name() string { return "loss/" + t.Loss.Kind.String() }

func (t *TokenLoss) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 || in[0].Dims() != 2 {
		return nil, shapeError(t, "inputs %v: want logits [N V]", in)
	}
	if err := t.Loss.Validate(in[0][1]); err != nil {
		return nil, err
	}
	return tensor.ScalarShape(), nil
}

func (t *TokenLoss) Forward(out []float32, in []*tensor.Dense) {
	logits := in[0].Float32s()
	n := len(t.Targets)
	v := len(logits) / n
	t.grad = grow(t.grad, len(logits))
	// Rows are independent: split them, then combine the per-chunk means.
	// The means, and so the bits, depend on the chunks: ForRanges keeps
	// them those of the split.
	var counted int
	for _, x := range t.Targets {
		if x >= 0 {
			counted++
		}
	}
	parts := make([]dist2.Stats, n)
	par.ForRanges(n, 256, func(lo, hi int) {
		parts[lo] = t.Loss.GradToPart(t.grad[lo*v:hi*v], logits[lo*v:hi*v], t.Targets[lo:hi], counted)
	})
	var loss, nll float64
	for _, s := range parts {
		loss += s.Loss * float64(s.Positions)
		nll += s.NLL * float64(s.Positions)
	}
	if counted > 0 {
		loss /= float64(counted)
		nll /= float64(counted)
	}
	t.Stats = dist2.Stats{Loss: loss, NLL: nll, Positions: counted}
	out[0] = float32(loss)
}

func (t *TokenLoss) Backward(_ int, dst []float32, _ []*tensor.Dense, _, dOut []float32) {
	c := dOut[0]
	par.For(len(t.grad), grain, func(lo, hi int) {
		if c == 1 { // the loss is the graph's output: a copy
			copy(dst[lo:hi], t.grad[lo:hi])
			return
		}
		for i, g := range t.grad[lo:hi] {
			dst[lo+i] = c * g
		}
	})
}

func (t *TokenLoss) Differentiable(int) []bool { return []bool{true} }
