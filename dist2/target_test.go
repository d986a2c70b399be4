package dist2

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestTargetRowKnownCase(t *testing.T) {
	d := Scalar{Values: []float32{0, 1, 2, 3, 4}, Kind: Squared}
	row, err := TargetRow(d, 2, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	// p(v | 2) = exp(-(v-2)^2) / Z, Z = 1 + 2e^-1 + 2e^-4.
	z := 1 + 2*math.Exp(-1) + 2*math.Exp(-4)
	for v, want := range []float64{math.Exp(-4) / z, math.Exp(-1) / z, 1 / z, math.Exp(-1) / z, math.Exp(-4) / z} {
		if math.Abs(float64(row.P[v])-want) > 1e-6 {
			t.Errorf("p(%d) = %v, want %v", v, row.P[v], want)
		}
	}
	var h float64
	for _, p := range row.P {
		h -= float64(p) * math.Log(float64(p))
	}
	if math.Abs(row.Entropy-h) > 1e-5 || math.Abs(row.Perplexity-math.Exp(h)) > 1e-4 || row.TauAuto {
		t.Errorf("entropy %v perplexity %v auto %v, want %v, %v, false", row.Entropy, row.Perplexity, row.TauAuto, h, math.Exp(h))
	}
	if got := row.Top(3); !slices.Equal(got[:1], []int{2}) || len(got) != 3 || row.P[got[1]] != row.P[got[2]] {
		t.Errorf("Top(3) = %v, want 2 then its two neighbours", got)
	}
	if len(row.Top(0)) != 5 {
		t.Errorf("Top(0) has %d tokens, want all 5", len(row.Top(0)))
	}
}

func TestTargetRowAutoTau(t *testing.T) {
	vals := make([]float32, 100)
	for i := range vals {
		vals[i] = float32(i)
	}
	row, err := TargetRow(Scalar{Values: vals, Kind: Absolute}, 50, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !row.TauAuto || math.Abs(row.MeanPerplexity-4) > 0.04 {
		t.Errorf("auto tau %v: mean perplexity %v, want 4", row.Tau, row.MeanPerplexity)
	}
	if _, err := TargetRow(Scalar{Values: vals}, 100, 1, 0); err == nil {
		t.Error("token 100 of 100: no error")
	}
}

func TestParseScalars(t *testing.T) {
	for s, want := range map[string][]float32{
		"0:3":       {0, 1, 2, 3},
		"0:1:0.25":  {0, 0.25, 0.5, 0.75, 1},
		"1, 2.5,-4": {1, 2.5, -4},
	} {
		got, err := ParseScalars(s)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseScalars(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"9:0", "0:9:0", "0:1:2:3", "1", "a,b", "0:x", "0:0", "0:2000000", "0:inf", "nan,1"} {
		if _, err := ParseScalars(s); err == nil {
			t.Errorf("ParseScalars(%q): no error", s)
		}
	}
	// The error says what is wrong, in numbers that mean something.
	for s, want := range map[string]string{
		"0:1:1e-300": "1e+300 tokens from 0 to 1 in steps of 1e-300: want 2 to",
		"0,1e39":     `"1e39" is beyond float32's range`,
		"0:1e309":    `"1e309" is beyond float64's range`,
	} {
		if _, err := ParseScalars(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseScalars(%q): %v, want %q", s, err, want)
		}
	}
	for _, name := range []string{"", "l2", "squared"} {
		if k, err := ParseScalarKind(name); err != nil || k != Squared {
			t.Errorf("ParseScalarKind(%q) = %v, %v", name, k, err)
		}
	}
	if _, err := ParseScalarKind("manhattan"); err == nil {
		t.Error("manhattan: no error")
	}
}
