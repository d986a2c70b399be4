package dist2

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func scalars(k int) Scalar {
	vals := make([]float32, k)
	for i := range vals {
		vals[i] = float32(i)
	}
	return Scalar{Values: vals}
}

// A given tau is used as is; auto is calibrated, to DefaultPerplexity or K/2
// when no perplexity is given, and to the one given otherwise.
func TestResolveTau(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	big, _ := NewVectors(randomCodebook(r, 64, 4), 4, SquaredL2)
	for _, c := range []struct {
		name             string
		d                Distance
		tau, perplexity  float64
		auto             bool
		wantTau, wantPpl float64 // wantTau 0: calibrated
	}{
		{"given", big, 0.5, 0, false, 0.5, 0},
		{"given, perplexity ignored", big, 0.5, 3, false, 0.5, 0},
		{"auto, default", big, AutoTau, 0, true, 0, DefaultPerplexity},
		{"auto, given", big, AutoTau, 3, true, 0, 3},
		{"auto, default on 6 tokens", scalars(6), AutoTau, 0, true, 0, 3},
		{"auto, default on 16 tokens", scalars(16), AutoTau, 0, true, 0, 8},
		{"auto, given on 6 tokens", scalars(6), AutoTau, 5, true, 0, 5},
	} {
		got, err := ResolveTau(c.d, c.tau, c.perplexity)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Auto != c.auto || c.wantTau != 0 && got.Tau != c.wantTau || got.Perplexity != c.wantPpl {
			t.Errorf("%s: %+v, want auto %v, tau %v, perplexity %v", c.name, got, c.auto, c.wantTau, c.wantPpl)
		}
		if !c.auto {
			continue
		}
		tab, err := NewTable(c.d, got.Tau, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ppl := tab.MeanPerplexity(); math.Abs(ppl-c.wantPpl) > 1e-4*c.wantPpl || math.Abs(got.Reached-ppl) > 1e-6*ppl {
			t.Errorf("%s: tau %v gives perplexity %v (reached %v), want %v", c.name, got.Tau, ppl, got.Reached, c.wantPpl)
		}
	}
}

// Every bad tau or perplexity is a *SettingError naming its field.
func TestResolveTauErrors(t *testing.T) {
	for _, c := range []struct {
		tau, perplexity float64
		k               int
		field           string
	}{
		{-1, 0, 8, "tau"},
		{math.NaN(), 0, 8, "tau"},
		{math.Inf(1), 0, 8, "tau"},
		{AutoTau, 1, 8, "perplexity"},
		{AutoTau, -2, 8, "perplexity"},
		{AutoTau, 8, 8, "perplexity"},
		{AutoTau, math.Inf(1), 8, "perplexity"},
	} {
		_, err := ResolveTau(scalars(c.k), c.tau, c.perplexity)
		var se *SettingError
		if !errors.As(err, &se) || se.Field != c.field {
			t.Errorf("tau %v perplexity %v over %d tokens: %v, want a setting error of %s", c.tau, c.perplexity, c.k, err, c.field)
		}
	}
}

// Training's table, kernel's row and the explorer resolve auto tau alike.
func TestAutoTauIsOne(t *testing.T) {
	d := scalars(10)
	want, err := ResolveTau(d, AutoTau, 0)
	if err != nil {
		t.Fatal(err)
	}
	tab, b, err := Spec{Kind: "dist2", Distance: "l2"}.Table(func(VectorKind) (Distance, error) { return d, nil })
	if err != nil {
		t.Fatal(err)
	}
	row, err := TargetRow(d, 3, AutoTau, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Tau != want.Tau || tab.Tau != want.Tau || !b.TauAuto || row.Tau != want.Tau || !row.TauAuto {
		t.Errorf("table tau %v (auto %v), row tau %v (auto %v), want ResolveTau's %v", b.Tau, b.TauAuto, row.Tau, row.TauAuto, want.Tau)
	}
	if want.Perplexity != 5 {
		t.Errorf("default perplexity over 10 tokens: %v, want 5", want.Perplexity)
	}
}

func TestSpecValidate(t *testing.T) {
	ok := DefaultSpec()
	if err := ok.Validate(); err != nil {
		t.Fatalf("DefaultSpec: %v", err)
	}
	for _, c := range []struct {
		edit  func(*Spec)
		field string
	}{
		{func(s *Spec) { s.Kind = "dist3" }, "kind"},
		{func(s *Spec) { s.Alpha = -1 }, "alpha"},
		{func(s *Spec) { s.Tau = -0.5 }, "tau"},
		{func(s *Spec) { s.Perplexity = 0.5 }, "perplexity"},
		{func(s *Spec) { s.Distance = "l3" }, "distance"},
		{func(s *Spec) { s.TargetTopK = -2 }, "target_topk"},
		{func(s *Spec) { s.Kind, s.Smoothing = "smooth", 1 }, "smoothing"},
	} {
		s := ok
		c.edit(&s)
		var se *SettingError
		if err := s.Validate(); !errors.As(err, &se) || se.Field != c.field {
			t.Errorf("%+v: %v, want a setting error of %s", s, err, c.field)
		}
	}
	if err := (Spec{Kind: "ce", Tau: -1}).Validate(); err != nil {
		t.Errorf("ce with a tau it does not use: %v", err)
	}
}
