package dist2

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// A Target is the DIST2 target row p_d(. | x) of one token, as `vqtool
// kernel` shows it to choose tau.
type Target struct {
	Token          int       `json:"token"`
	Tau            float64   `json:"tau"`
	TauAuto        bool      `json:"tau_auto"` // Tau was calibrated to a mean perplexity
	P              []float32 `json:"target"`
	Entropy        float64   `json:"entropy"`         // nats
	Perplexity     float64   `json:"perplexity"`      // exp(Entropy): effective neighbours of this row
	MeanPerplexity float64   `json:"mean_perplexity"` // over the rows at Tau (1,024 evenly spaced rows when K > 1,024)
}

// TargetRow builds the target row of token x under d at the temperature
// ResolveTau makes of tau and perplexity.
func TargetRow(d Distance, x int, tau, perplexity float64) (Target, error) {
	t := Target{Token: x, Tau: tau}
	if x < 0 || x >= d.CodebookSize() {
		return t, fmt.Errorf("dist2: token %d: want one in [0, %d)", x, d.CodebookSize())
	}
	temp, err := ResolveTau(d, tau, perplexity)
	if err != nil {
		return t, err
	}
	t.Tau, t.TauAuto = temp.Tau, temp.Auto
	// Row x alone: O(K) memory, so that a 16,384-code codebook is cheap.
	dist := make([]float32, d.CodebookSize())
	d.RowTo(dist, x)
	if err := checkRow(dist, x); err != nil {
		return t, err
	}
	minD := float64(dist[0])
	for _, v := range dist {
		minD = math.Min(minD, float64(v))
	}
	p := make([]float64, len(dist))
	var z float64
	for v, dv := range dist {
		p[v] = math.Exp(-(float64(dv) - minD) / t.Tau)
		z += p[v]
	}
	t.P = make([]float32, len(p))
	for v := range p {
		p[v] /= z
		t.P[v] = float32(p[v])
		if p[v] > 0 {
			t.Entropy -= p[v] * math.Log(p[v])
		}
	}
	t.Perplexity = math.Exp(t.Entropy)
	if t.MeanPerplexity, err = FullPerplexity(d, t.Tau); err != nil {
		return t, err
	}
	return t, nil
}

// Top returns the k most probable tokens of the row, most probable first
// (every token when k <= 0 or k exceeds the row).
func (t Target) Top(k int) []int {
	order := make([]int, len(t.P))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return t.P[order[a]] > t.P[order[b]] })
	if k <= 0 || k > len(order) {
		k = len(order)
	}
	return order[:k]
}

// ParseScalarKind reads squared (also l2, the squared distance between
// vectors of one value, and the empty string) or absolute.
func ParseScalarKind(s string) (ScalarKind, error) {
	switch s {
	case "squared", "l2", "":
		return Squared, nil
	case "absolute":
		return Absolute, nil
	}
	return 0, badSetting("distance", s, "l2 (squared) or absolute, between scalars")
}

// parseScalar reads p, one number of the scalars s, as a float of bits.
func parseScalar(s, p string, bits int) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(p), bits)
	switch {
	case errors.Is(err, strconv.ErrRange):
		limit := map[int]float64{32: math.MaxFloat32, 64: math.MaxFloat64}[bits]
		return 0, fmt.Errorf("scalars %q: %q is beyond float%d's range: want a magnitude up to %.3g", s, p, bits, limit)
	case err != nil:
		return 0, fmt.Errorf("scalars %q: %q is not a number", s, p)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("scalars %q: %q: want a finite number", s, p)
	}
	return v, nil
}

// maxScalars bounds a range of ParseScalars.
const maxScalars = 1 << 20

// ParseScalars reads the values of scalar tokens: "LO:HI" or "LO:HI:STEP"
// (HI included, STEP 1 by default) or a comma list "a,b,c"; at least two.
func ParseScalars(s string) ([]float32, error) {
	if !strings.Contains(s, ":") {
		var out []float32
		for _, p := range strings.Split(s, ",") {
			v, err := parseScalar(s, p, 32)
			if err != nil {
				return nil, err
			}
			out = append(out, float32(v))
		}
		if len(out) < 2 {
			return nil, fmt.Errorf("scalars %q: want at least 2 tokens", s)
		}
		return out, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return nil, fmt.Errorf("scalars %q: want LO:HI or LO:HI:STEP", s)
	}
	nums := []float64{0, 0, 1}
	for i, p := range parts {
		v, err := parseScalar(s, p, 64)
		if err != nil {
			return nil, err
		}
		nums[i] = v
	}
	lo, hi, step := nums[0], nums[1], nums[2]
	if !(step > 0) || hi < lo {
		return nil, fmt.Errorf("scalars %q: want LO <= HI and STEP > 0", s)
	}
	// Count in floats: a tiny STEP makes more tokens than an int holds.
	count := math.Floor((hi-lo)/step+1e-9) + 1
	if !(count >= 2 && count <= maxScalars) {
		return nil, fmt.Errorf("scalars %q: %.4g tokens from %g to %g in steps of %g: want 2 to %d", s, count, lo, hi, step, maxScalars)
	}
	n := int(count)
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + float64(i)*step)
	}
	return out, nil
}
