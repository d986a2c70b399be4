package generator

import (
	"fmt"
	"math"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// Eval reports how well a model predicts held-out grids, and how far its
// mistakes land in codebook distance.
type Eval struct {
	NLL              float64 `json:"nll_bits"`          // -log2 p(x), bits per token
	Accuracy         float64 `json:"accuracy"`          // argmax = x
	ExpectedDistance float64 `json:"expected_distance"` // E_{v ~ p}[d(v, x)]
	ArgmaxDistance   float64 `json:"argmax_distance"`   // d(argmax p, x)
	Tokens           int     `json:"tokens"`
}

// Metrics names e's numbers as a checkpoint's metrics hold them.
func (e Eval) Metrics() map[string]float64 {
	return map[string]float64{"held_out_nll_bits": e.NLL, "held_out_accuracy": e.Accuracy,
		"held_out_expected_distance": e.ExpectedDistance, "held_out_argmax_distance": e.ArgmaxDistance}
}

// EvalBatch is the batch size of evaluation passes.
const EvalBatch = 128

// Evaluate measures the model on data with teacher forcing and true labels.
// d gives the codebook distance for the metric-aware errors (nil skips them);
// a *dist2.Dense is used as it is, any other is made dense for the call
// (4 K^2 bytes), so a caller that evaluates often passes a Dense.
func (m *Model) Evaluate(data Tokens, d dist2.Distance) (Eval, error) {
	c := m.Config
	if err := checkTokens(data, c); err != nil {
		return Eval{}, err
	}
	var dist *dist2.Dense
	if d != nil {
		if d.CodebookSize() != c.CodebookSize {
			return Eval{}, fmt.Errorf("generator: distance over %d tokens for a codebook of %d codes", d.CodebookSize(), c.CodebookSize)
		}
		dist = dist2.NewDense(d) // the caller's own when it passed a *dist2.Dense
	}
	batch := min(EvalBatch, data.N)
	gr, err := m.inferenceFor(batch)
	if err != nil {
		return Eval{}, err
	}
	var e Eval
	var nll, acc, ed, ad float64
	for lo := 0; lo < data.N; lo += batch {
		k := min(batch, data.N-lo)
		for i := range batch {
			src := lo + min(i, k-1)
			copy(gr.embed.Tokens[i*c.Len:], data.Codes[src*c.Len:(src+1)*c.Len])
			gr.embed.Classes[i] = int32(c.Classes)
			if data.Labels != nil && c.Classes > 0 {
				gr.embed.Classes[i] = data.Labels[src]
			}
		}
		if err := gr.prog.Run(); err != nil {
			return Eval{}, fmt.Errorf("generator: evaluate: %w", err)
		}
		logits := gr.logitsOf()
		n := k * c.Len
		type sums struct{ nll, acc, ed, ad float64 }
		parts := make([]sums, n) // sums per range: ForRanges keeps the ranges, and so the bits, those of the split
		par.ForRanges(n, 64, func(plo, phi int) {
			scratch := make([]float32, c.CodebookSize)
			var ed [1]float32
			var s sums
			for pos := plo; pos < phi; pos++ {
				x := int(data.Codes[lo*c.Len+pos])
				z := logits[pos*c.CodebookSize : (pos+1)*c.CodebookSize]
				best := argmax(scratch, z)
				zb, zx := z[best], z[x]
				// The softmax kernel's p is 1/sum at the max, where
				// exp(z - max) is exactly 1: log-sum-exp without
				// the underflow of log p[x]. The logits are not
				// read again: p takes their place.
				p := z
				gemm.SoftmaxPrefix(p, len(p), 1)
				s.nll += (float64(zb) - math.Log(float64(p[best])) - float64(zx)) / math.Ln2
				if best == x {
					s.acc++
				}
				if dist != nil {
					row := dist.Row(x)
					gemm.DotRows(ed[:], p, row, len(row), 1, 1)
					s.ed += float64(ed[0])
					s.ad += float64(row[best])
				}
			}
			parts[plo] = s
		})
		for _, s := range parts {
			nll, acc, ed, ad = nll+s.nll, acc+s.acc, ed+s.ed, ad+s.ad
		}
		e.Tokens += n
	}
	if e.Tokens > 0 {
		t := float64(e.Tokens)
		e.NLL, e.Accuracy, e.ExpectedDistance, e.ArgmaxDistance = nll/t, acc/t, ed/t, ad/t
	}
	return e, nil
}

// inferenceFor returns the cached forward-only graph for a batch size.
func (m *Model) inferenceFor(batch int) (*graph, error) {
	if m.graphs == nil {
		m.graphs = map[int]*graph{}
	}
	if g, ok := m.graphs[batch]; ok {
		return g, nil
	}
	g, err := m.inference(batch)
	if err != nil {
		return nil, err
	}
	m.graphs[batch] = g
	return g, nil
}
