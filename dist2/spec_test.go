package dist2

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestSpecBuild(t *testing.T) {
	vecs := []float32{0, 0, 1, 0, 0, 2, 3, 3, 1, 1}
	dist := func(k VectorKind) (Distance, error) { return NewVectors(vecs, 2, k) }
	d, _ := dist(SquaredL2)
	// A given tau builds the table NewTable builds.
	l, b, err := Spec{Kind: "dist2", Alpha: 0.3, Tau: 0.5, Distance: "l2"}.Build(5, dist)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewTable(d, 0.5, 0)
	for i, p := range want.P {
		if l.Table.P[i] != p {
			t.Fatalf("entry %d: %v, want %v", i, l.Table.P[i], p)
		}
	}
	if l.Alpha != 0.3 || b.Tau != 0.5 || b.TauAuto || math.Abs(b.Perplexity-want.MeanPerplexity()) > 1e-12 || b.Kind != "dist2" {
		t.Errorf("built %+v", b)
	}
	// Tau 0 calibrates to the perplexity asked for.
	_, b, err = Spec{Kind: "dist2", Alpha: 0.1, Perplexity: 2, Distance: "l2", TargetTopK: AutoTargetTopK}.Build(5, dist)
	if err != nil || !b.TauAuto || math.Abs(b.Perplexity-2) > 0.02 || b.TopK != 0 {
		t.Errorf("auto tau: %+v, %v; want perplexity 2, dense", b, err)
	}
	for _, bad := range []Spec{{Kind: "dist3"}, {Kind: "dist2", Distance: "l3"}, {Kind: "dist2", Distance: "l2", Tau: -1}, {Kind: "dist2", Distance: "l2", TargetTopK: -2}} {
		if _, _, err := bad.Build(5, dist); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
	if l, _, err := (Spec{Kind: "ce"}).Build(5, nil); err != nil || l.Kind != CE {
		t.Errorf("ce: %v", err)
	}
	for s, want := range map[string]float64{"auto": 0, "0.25": 0.25} {
		if got, err := ParseTau(s); err != nil || got != want {
			t.Errorf("ParseTau(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"0", "-1", "x", "inf"} {
		if _, err := ParseTau(s); err == nil {
			t.Errorf("ParseTau(%q) accepted", s)
		}
	}
}

func TestBuiltString(t *testing.T) {
	b := Built{Kind: "dist2", Tau: 0.25, TauAuto: true, Perplexity: 4, Distance: "l2", TopK: 64, Dropped: 0.001}
	want := "dist2 targets: distance l2, tau 0.25 (auto), mean perplexity 4.00, top-k 64, dropped mass 0.0010"
	if got := b.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Built{Kind: "ce"}).String(); got != "ce" {
		t.Errorf("ce: got %q", got)
	}
}

// Spec.Bytes is what Table allocates, within a factor of two, and says
// what a table of a million codes would take without building it.
func TestSpecBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vecs := make([]float32, 1500*4)
	for i := range vecs {
		vecs[i] = float32(r.NormFloat64())
	}
	dist := func(k VectorKind) (Distance, error) { return NewVectors(vecs, 4, k) }
	for _, s := range []Spec{
		{Kind: "dist2", Tau: 0.5, Distance: "l2"},
		{Kind: "dist2", Tau: 0.5, Distance: "l2", TargetTopK: 16},
		{Kind: "dist2", Perplexity: 8, Distance: "l2", TargetTopK: AutoTargetTopK},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, _, err := s.Table(dist); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		got, want := float64(after.TotalAlloc-before.TotalAlloc), float64(s.Bytes(1500))
		if want < got/2 || want > 2*got {
			t.Errorf("%+v: Bytes %v, Table allocated %v", s, want, got)
		}
	}
	if got := (Spec{Kind: "dist2", Tau: 1, Distance: "l2"}).Bytes(40000); got < 40000*40000*4 {
		t.Errorf("dense table of 40,000 codes: Bytes %d, want at least 6.4 GB", got)
	}
	if got := (Spec{Kind: "dist2", Perplexity: 8, Distance: "l2", TargetTopK: AutoTargetTopK}).Bytes(1_000_000); got < 1024*1_000_000*4 {
		t.Errorf("calibrating a million codes: Bytes %d, want at least 4 GB", got)
	}
	if got := (Spec{Kind: "dist2", Tau: 1, Distance: "l2"}).Bytes(math.MaxInt32); got != math.MaxInt64 {
		t.Errorf("dense table of 2^31 codes: Bytes %d, want MaxInt64", got)
	}
}
