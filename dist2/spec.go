package dist2

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
)

// AutoTargetTopK asks Spec.Build for dense rows up to 2,048 tokens and the
// 64 nearest entries of each row beyond.
const AutoTargetTopK = -1

// Spec describes a training loss in one value: what a run stores and a
// resumed run restores.
type Spec struct {
	Kind       string  `json:"kind"`                  // ce, smooth or dist2
	Alpha      float64 `json:"alpha,omitempty"`       // dist2: weight of the KL term
	Tau        float64 `json:"tau,omitempty"`         // dist2: temperature of p_d; 0 calibrates it to Perplexity
	Perplexity float64 `json:"perplexity,omitempty"`  // dist2: mean effective neighbours of p_d rows, for Tau 0
	Distance   string  `json:"distance,omitempty"`    // dist2: l2, mse or cosine
	TargetTopK int     `json:"target_topk,omitempty"` // dist2: entries kept per row (0 dense, AutoTargetTopK)
	Smoothing  float64 `json:"smoothing,omitempty"`   // smooth: uniform mass
}

// DefaultSpec is DIST2 as the paper runs it: alpha 0.1, squared L2 between
// codes, tau calibrated to DefaultPerplexity effective neighbours.
func DefaultSpec() Spec {
	return Spec{Kind: "dist2", Alpha: DefaultAlpha, Perplexity: DefaultPerplexity, Distance: "l2", TargetTopK: AutoTargetTopK}
}

// ParseTau reads a temperature: "auto" (returned as 0) or a number > 0.
func ParseTau(s string) (float64, error) {
	if s == "auto" {
		return 0, nil
	}
	tau, err := strconv.ParseFloat(s, 64)
	if err != nil || !(tau > 0) || math.IsInf(tau, 1) {
		return 0, fmt.Errorf("dist2: tau %q: want a number > 0 or auto", s)
	}
	return tau, nil
}

// Built records what Build made of a Spec: the tau used, the perplexity its
// rows have and the mass a top-k truncation dropped.
type Built struct {
	Kind       string  `json:"kind"`
	Alpha      float64 `json:"alpha,omitempty"`
	Tau        float64 `json:"tau,omitempty"`        // the tau used (calibrated when TauAuto)
	TauAuto    bool    `json:"tau_auto,omitempty"`   // tau was chosen for Perplexity
	Perplexity float64 `json:"perplexity,omitempty"` // mean perplexity of the p_d rows
	Distance   string  `json:"distance,omitempty"`
	TopK       int     `json:"topk,omitempty"`
	Dropped    float64 `json:"dropped_mass,omitempty"` // mean target mass the top-k truncation dropped
	Smoothing  float64 `json:"smoothing,omitempty"`
}

// String describes the targets of a dist2 loss in one line (its kind
// alone for the others).
func (b Built) String() string {
	if b.Kind != Dist2.String() {
		return b.Kind
	}
	how := "given"
	if b.TauAuto {
		how = "auto"
	}
	return fmt.Sprintf("dist2 targets: distance %s, tau %.6g (%s), mean perplexity %.2f, top-k %d, dropped mass %.4f",
		b.Distance, b.Tau, how, b.Perplexity, b.TopK, b.Dropped)
}

// Build makes the loss of s for a vocabulary of vocab tokens. For dist2,
// distance returns the distance of the kind s names (a codebook's, say); it
// is not called for the other losses.
func (s Spec) Build(vocab int, distance func(VectorKind) (Distance, error)) (*Loss, Built, error) {
	kind, err := ParseKind(s.Kind)
	if err != nil {
		return nil, Built{}, err
	}
	b := Built{Kind: kind.String()}
	l := &Loss{Kind: kind}
	switch kind {
	case Smooth:
		l.Smoothing, b.Smoothing = s.Smoothing, s.Smoothing
	case Dist2:
		tab, tb, err := s.Table(distance)
		if err != nil {
			return nil, b, err
		}
		tb.Kind, tb.Alpha = b.Kind, s.Alpha
		b = tb
		l.Alpha, l.Table = s.Alpha, tab
	}
	if err := l.Validate(vocab); err != nil {
		return nil, b, err
	}
	return l, b, nil
}

// topK resolves TargetTopK for a vocabulary of k tokens: AutoTargetTopK
// is dense up to 2,048 tokens and 64 beyond; 0 is dense.
func (s Spec) topK(k int) int {
	if s.TargetTopK != AutoTargetTopK {
		return s.TargetTopK
	}
	if k > 2048 {
		return 64
	}
	return 0
}

// EntriesPerRow returns the entries a row of the table of s keeps for a
// vocabulary of k tokens: k when dense.
func (s Spec) EntriesPerRow(k int) int {
	if topk := s.topK(k); topk > 0 && topk < k {
		return topk
	}
	return k
}

// Bytes returns the most memory Table takes for a vocabulary of k tokens:
// the rows that calibrating tau reads (when Tau is 0), or the table and
// its workers' rows, whichever is larger. It lets a caller refuse a table
// that would not fit before building it.
func (s Spec) Bytes(k int) int64 {
	topk := s.EntriesPerRow(k)
	mul := func(n ...int) float64 { // in float64: k*k overflows no product here
		p := 1.0
		for _, v := range n {
			p *= float64(v)
		}
		return p
	}
	perEntry := 8 // P and Idx
	if topk == k {
		perEntry = 4 // P: a dense table has no Idx
	}
	table := mul(k, topk, perEntry) + mul(k, 8) // the entries, NegEnt and Dropped
	workers := min(runtime.GOMAXPROCS(0), k)
	table += mul(workers, k, 12) + mul(workers, topk, 4) // a distance row, its float64 softmax and an order each
	need := table
	if s.Tau == 0 {
		need = max(need, mul(min(k, maxCalibrationRows), k, 4))
	}
	if need >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(need)
}

// Table builds the target rows p_d of s (whatever its Kind) from the
// distance of the kind s names: tau as given or calibrated to Perplexity,
// dense or truncated to TargetTopK entries a row.
func (s Spec) Table(distance func(VectorKind) (Distance, error)) (*Table, Built, error) {
	b := Built{Kind: "dist2"}
	vk, err := ParseVectorKind(s.Distance)
	if err != nil {
		return nil, b, err
	}
	if s.Tau < 0 || math.IsNaN(s.Tau) || math.IsInf(s.Tau, 0) {
		return nil, b, fmt.Errorf("dist2: tau %v: want a number > 0, or 0 for auto", s.Tau)
	}
	if s.TargetTopK < AutoTargetTopK {
		return nil, b, fmt.Errorf("dist2: target top-k %d: want 0 (dense), a count, or -1 (auto)", s.TargetTopK)
	}
	d, err := distance(vk)
	if err != nil {
		return nil, b, err
	}
	b.Distance, b.Tau = s.Distance, s.Tau
	if s.Tau == 0 {
		tau, got, err := Calibrate(d, s.Perplexity)
		if err != nil {
			return nil, b, err
		}
		b.Tau, b.TauAuto, b.Perplexity = tau, true, got
	}
	topk := s.topK(d.Size())
	tab, err := NewTable(d, b.Tau, topk)
	if err != nil {
		return nil, b, err
	}
	b.TopK = topk
	b.Dropped, _ = tab.DroppedMass()
	if !b.TauAuto {
		b.Perplexity = tab.MeanPerplexity()
	}
	return tab, b, nil
}
