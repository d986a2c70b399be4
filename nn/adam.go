package nn

import (
	"fmt"
	"math"

	"github.com/vqtool/vqtool/internal/gemm"
)

// Adam is the Adam optimiser (Kingma and Ba), with decoupled weight decay
// (AdamW, Loshchilov and Hutter) when WeightDecay > 0:
//
//	m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//	w -= lr * (m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) + wd * w)
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	// NoDecay reports parameters that weight decay must skip (biases, norms,
	// embeddings of positions); nil decays all.
	NoDecay func(p *Param) bool

	Step int                  // updates done
	M, V map[string][]float32 // moments by parameter name
}

// NewAdam returns Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8.
func NewAdam(weightDecay float64) *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay,
		M: map[string][]float32{}, V: map[string][]float32{}}
}

// Update applies one step at learning rate lr to params with their gradients.
func (a *Adam) Update(params []*Param, grads [][]float32, lr float64) {
	a.UpdateScaled(params, grads, lr, 1)
}

// UpdateScaled is Update with every gradient multiplied by scale first (a
// clipping factor), in the same pass over the weights.
func (a *Adam) UpdateScaled(params []*Param, grads [][]float32, lr float64, scale float32) {
	a.Step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	c := gemm.AdamConsts{GradScale: scale,
		B1: float32(a.Beta1), OneMinusB1: 1 - float32(a.Beta1),
		B2: float32(a.Beta2), OneMinusB2: 1 - float32(a.Beta2),
		Step: float32(lr / bc1), RBC2: float32(1 / math.Sqrt(bc2)), Eps: float32(a.Eps)}
	for i, p := range params {
		w := p.Data()
		m, ok := a.M[p.Name]
		if !ok {
			m = make([]float32, len(w))
			a.M[p.Name] = m
			a.V[p.Name] = make([]float32, len(w))
		}
		c.Decay = 1
		if a.WeightDecay > 0 && (a.NoDecay == nil || !a.NoDecay(p)) {
			c.Decay = float32(1 - lr*a.WeightDecay)
		}
		gemm.AdamStep(w, grads[i], m, a.V[p.Name], &c)
	}
}

// GradNorm returns the l2 norm of all the gradients together; it is NaN or
// +Inf when any of them holds a NaN or an infinity (CheckFinite then names
// it).
func GradNorm(grads [][]float32) float64 {
	var s float64
	for _, g := range grads {
		s += gemm.SumSquares(g)
	}
	return math.Sqrt(s)
}

// CheckFinite returns an error naming the first parameter gradient that holds
// a NaN or an infinity.
func CheckFinite(params []*Param, grads [][]float32) error {
	for i, g := range grads {
		if s := gemm.SumSquares(g); !math.IsNaN(s) && !math.IsInf(s, 0) {
			continue
		}
		for j, v := range g {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("nn: gradient of %s[%d] is %v", params[i].Name, j, v)
			}
		}
	}
	return nil
}

// Schedule is a learning rate with linear warm-up then cosine decay to
// MinRatio * Peak at step Total.
type Schedule struct {
	Peak     float64
	Warmup   int
	Total    int
	MinRatio float64
}

// At returns the learning rate for step (0-based).
func (s Schedule) At(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if s.Total <= s.Warmup {
		return s.Peak
	}
	t := math.Min(1, float64(step-s.Warmup)/float64(s.Total-s.Warmup))
	return s.Peak * (s.MinRatio + (1-s.MinRatio)*0.5*(1+math.Cos(math.Pi*t)))
}
