package dist2

import (
	"fmt"
	"math"
	"runtime"
)

// AutoTargetTopK asks Spec.Build for dense rows up to 2,048 tokens and the
// 64 nearest entries of each row beyond.
const AutoTargetTopK = -1

// Spec describes a training loss in one value: what a run stores and a
// resumed run restores.
type Spec struct {
	Kind       string  `json:"kind"`                  // ce, smooth or dist2
	Alpha      float64 `json:"alpha,omitempty"`       // dist2: weight of the KL term
	Tau        float64 `json:"tau,omitempty"`         // dist2: temperature of p_d; AutoTau (0) calibrates it to Perplexity
	Perplexity float64 `json:"perplexity,omitempty"`  // dist2: mean effective neighbours of p_d rows, for AutoTau (0: see ResolveTau)
	Distance   string  `json:"distance,omitempty"`    // dist2: l2, mse or cosine
	TargetTopK int     `json:"target_topk,omitempty"` // dist2: entries kept per row (0 dense, AutoTargetTopK)
	Smoothing  float64 `json:"smoothing,omitempty"`   // smooth: uniform mass
}

// DefaultSpec is DIST2 as the paper runs it: alpha 0.1, squared L2 between
// codes, tau calibrated to DefaultPerplexity effective neighbours (K/2 for a
// codebook of fewer than 16 codes).
func DefaultSpec() Spec {
	return Spec{Kind: "dist2", Alpha: DefaultAlpha, Tau: AutoTau, Distance: "l2", TargetTopK: AutoTargetTopK}
}

// Validate reports the first setting of s that cannot work whatever the
// vocabulary, as a *SettingError. Build calls it, and Table checks the
// settings of the rows alike; the perplexity is checked against the
// vocabulary when the tau is resolved (ResolveTau).
func (s Spec) Validate() error {
	kind, err := ParseKind(s.Kind)
	if err != nil {
		return err
	}
	switch kind {
	case Smooth:
		return checkSmoothing(s.Smoothing)
	case Dist2:
		if err := checkAlpha(s.Alpha); err != nil {
			return err
		}
		return s.validateTargets()
	}
	return nil
}

// validateTargets checks the settings of the target rows p_d.
func (s Spec) validateTargets() error {
	if _, err := ParseVectorKind(s.Distance); err != nil {
		return err
	}
	if err := checkTau(s.Tau, true); err != nil {
		return err
	}
	if err := checkPerplexity(s.Perplexity); err != nil {
		return err
	}
	if s.TargetTopK < AutoTargetTopK {
		return badSetting("target_topk", s.TargetTopK, "0 (dense), a count, or -1 (auto)")
	}
	return nil
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

// Build makes the loss of s for a model of logits outputs per position. For
// dist2, distance returns the distance of the kind s names (a codebook's,
// say); it is not called for the other losses.
func (s Spec) Build(logits int, distance func(VectorKind) (Distance, error)) (*Loss, Built, error) {
	if err := s.Validate(); err != nil {
		return nil, Built{}, err
	}
	kind, _ := ParseKind(s.Kind)
	b := Built{Kind: kind.String()}
	l := &Loss{Kind: kind}
	switch kind {
	case Smooth:
		l.Smoothing, b.Smoothing = s.Smoothing, s.Smoothing
	case Dist2:
		tab, tb, err := s.table(distance)
		if err != nil {
			return nil, b, err
		}
		tb.Kind, tb.Alpha = b.Kind, s.Alpha
		b = tb
		l.Alpha, l.Table = s.Alpha, tab
	}
	if err := l.Validate(logits); err != nil {
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
// distance of the kind s names: tau as given or calibrated to Perplexity
// (ResolveTau), dense or truncated to TargetTopK entries a row.
func (s Spec) Table(distance func(VectorKind) (Distance, error)) (*Table, Built, error) {
	if err := s.validateTargets(); err != nil {
		return nil, Built{Kind: "dist2"}, err
	}
	return s.table(distance)
}

// table is Table for a validated s.
func (s Spec) table(distance func(VectorKind) (Distance, error)) (*Table, Built, error) {
	b := Built{Kind: "dist2"}
	vk, _ := ParseVectorKind(s.Distance)
	d, err := distance(vk)
	if err != nil {
		return nil, b, err
	}
	t, err := ResolveTau(d, s.Tau, s.Perplexity)
	if err != nil {
		return nil, b, err
	}
	b.Distance, b.Tau, b.TauAuto, b.Perplexity = s.Distance, t.Tau, t.Auto, t.Reached
	topk := s.topK(d.CodebookSize())
	tab, err := NewTable(d, t.Tau, topk)
	if err != nil {
		return nil, b, err
	}
	b.TopK = topk
	b.Dropped, _ = tab.DroppedMass()
	if !t.Auto {
		b.Perplexity = tab.MeanPerplexity()
	}
	return tab, b, nil
}
