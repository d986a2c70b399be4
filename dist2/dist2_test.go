package dist2

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randomCodebook(r *rand.Rand, k, dim int) []float32 {
	e := make([]float32, k*dim)
	for i := range e {
		e[i] = float32(r.NormFloat64())
	}
	return e
}

func rowSum(p []float32) float64 {
	var s float64
	for _, v := range p {
		s += float64(v)
	}
	return s
}

func TestRowsSumToOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d, err := NewVectors(randomCodebook(r, 64, 4), 4, SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	for _, topk := range []int{0, 8, 64} {
		tab, err := NewTable(d, 2, topk)
		if err != nil {
			t.Fatal(err)
		}
		for x := range tab.CodebookSize {
			_, p := tab.Row(x)
			if s := rowSum(p); math.Abs(s-1) > 1e-5 {
				t.Errorf("topk %d row %d: sum %v, want 1", topk, x, s)
			}
		}
	}
}

func TestTauLimits(t *testing.T) {
	d := Scalar{Values: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Kind: Squared}
	cold, err := NewTable(d, 1e-3, 0)
	if err != nil {
		t.Fatal(err)
	}
	hot, err := NewTable(d, 1e9, 0)
	if err != nil {
		t.Fatal(err)
	}
	for x := range 10 {
		_, pc := cold.Row(x)
		_, ph := hot.Row(x)
		for v := range 10 {
			want := float32(0)
			if v == x {
				want = 1
			}
			if math.Abs(float64(pc[v]-want)) > 1e-6 {
				t.Errorf("tau->0: p(%d|%d) = %v, want %v", v, x, pc[v], want)
			}
			if math.Abs(float64(ph[v])-0.1) > 1e-6 {
				t.Errorf("tau->inf: p(%d|%d) = %v, want 0.1", v, x, ph[v])
			}
		}
	}
}

func TestScalarKernelKnownValues(t *testing.T) {
	// tau = 1, squared distance around 5 over 0..9: p(v) ∝ exp(-(v-5)^2).
	d := Scalar{Values: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Kind: Squared}
	tab, err := NewTable(d, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var z float64
	for v := range 10 {
		z += math.Exp(-float64((v - 5) * (v - 5)))
	}
	_, p := tab.Row(5)
	for v := range 10 {
		want := math.Exp(-float64((v-5)*(v-5))) / z
		if math.Abs(float64(p[v])-want) > 1e-6 {
			t.Errorf("p(%d|5) = %v, want %v", v, p[v], want)
		}
	}
}

func TestDistances(t *testing.T) {
	data := []float32{1, 0, 0, 2, 3, 4}
	tests := []struct {
		kind VectorKind
		want []float32 // row of token 0
	}{
		{SquaredL2, []float32{0, 1 + 9 + 16}},
		{MSE, []float32{0, 26.0 / 3}},
		{Cosine, []float32{0, 1 - 2/float32(math.Sqrt(29))}},
	}
	for _, tc := range tests {
		d, err := NewVectors(data, 3, tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 2)
		d.RowTo(got, 0)
		for i := range got {
			if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
				t.Errorf("kind %d: d(%d,0) = %v, want %v", tc.kind, i, got[i], tc.want[i])
			}
		}
	}
	abs := Scalar{Values: []float32{0, 2, -1}, Kind: Absolute}
	got := make([]float32, 3)
	abs.RowTo(got, 1)
	if got[0] != 2 || got[1] != 0 || got[2] != 3 {
		t.Errorf("absolute row of 2 = %v, want [2 0 3]", got)
	}
	if _, err := NewVectors(data, 4, MSE); err == nil {
		t.Error("6 values as vectors of 4: no error")
	}
}

// lossFD checks GradTo against central finite differences of the loss.
func lossFD(t *testing.T, name string, l *Loss, logits []float32, targets []int32) {
	t.Helper()
	grad := make([]float32, len(logits))
	l.GradTo(grad, logits, targets)
	x := make([]float32, len(logits))
	const h = 1e-2
	for i := range logits {
		copy(x, logits)
		x[i] = logits[i] + h
		up := l.GradTo(nil, x, targets).Loss
		x[i] = logits[i] - h
		down := l.GradTo(nil, x, targets).Loss
		fd := (up - down) / (2 * h)
		if math.Abs(fd-float64(grad[i])) > 2e-3*math.Max(1, math.Abs(fd)) {
			t.Errorf("%s: dL/dz[%d] = %v, finite difference %v", name, i, grad[i], fd)
		}
	}
}

func TestGradientFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const k, v = 12, 15 // metric tokens at [2, 14), two non-metric tokens
	d, _ := NewVectors(randomCodebook(r, k, 3), 3, SquaredL2)
	dense, err := NewTable(d, 1.5, 0)
	if err != nil {
		t.Fatal(err)
	}
	sparse, err := NewTable(d, 1.5, 4)
	if err != nil {
		t.Fatal(err)
	}
	targets := []int32{2, 7, 13, 0, -1, 14} // metric, metric, metric, non-metric, ignored, non-metric
	logits := make([]float32, len(targets)*v)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	losses := map[string]*Loss{
		"ce":           {Kind: CE},
		"smooth":       {Kind: Smooth, Smoothing: 0.1},
		"dist2-dense":  {Kind: Dist2, Alpha: 0.1, Table: dense, Offset: 2},
		"dist2-top4":   {Kind: Dist2, Alpha: 0.5, Table: sparse, Offset: 2},
		"dist2-alpha0": {Kind: Dist2, Alpha: 0, Table: dense, Offset: 2},
	}
	for name, l := range losses {
		if err := l.Validate(v); err != nil {
			t.Fatal(err)
		}
		lossFD(t, name, l, logits, targets)
	}
	grad := make([]float32, len(logits))
	losses["dist2-dense"].GradTo(grad, logits, targets)
	for j, g := range grad[4*v : 5*v] {
		if g != 0 {
			t.Errorf("ignored position: gradient[%d] = %v, want 0", j, g)
		}
	}
}

// The loss is (1 + alpha) times CE against q = (onehot + alpha p_d)/(1 + alpha)
// plus alpha * sum p_d log p_d.
func TestLossIsSoftTargetCE(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k = 20
	d, _ := NewVectors(randomCodebook(r, k, 2), 2, MSE)
	tab, _ := NewTable(d, 0.3, 0)
	const alpha = 0.1
	l := &Loss{Kind: Dist2, Alpha: alpha, Table: tab}
	z := make([]float32, k)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	for x := range k {
		got := l.GradTo(nil, z, []int32{int32(x)}).Loss
		var m, s float64
		m = math.Inf(-1)
		for _, zv := range z {
			m = math.Max(m, float64(zv))
		}
		for _, zv := range z {
			s += math.Exp(float64(zv) - m)
		}
		lse := m + math.Log(s)
		_, pd := tab.Row(x)
		var ceq float64
		for v := range k {
			q := alpha * float64(pd[v])
			if v == x {
				q++
			}
			ceq -= q / (1 + alpha) * (float64(z[v]) - lse)
		}
		want := (1+alpha)*ceq + alpha*float64(tab.NegEnt[x])
		if math.Abs(got-want) > 1e-5 {
			t.Errorf("target %d: loss %v, want (1+a) CE_q + a negEnt = %v", x, got, want)
		}
	}
}

func TestCalibrateHitsPerplexity(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, want := range []float64{2, 8, 30} {
		d, _ := NewVectors(randomCodebook(r, 256, 8), 8, SquaredL2)
		tau, got, err := Calibrate(d, want)
		if err != nil {
			t.Fatal(err)
		}
		tab, err := NewTable(d, tau, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ppl := tab.MeanPerplexity(); math.Abs(ppl-want) > 0.01*want || math.Abs(got-want) > 0.01*want {
			t.Errorf("perplexity %v: tau %v gives %v (reported %v)", want, tau, ppl, got)
		}
	}
	d := Scalar{Values: []float32{0, 1, 2}}
	if _, _, err := Calibrate(d, 3); err == nil {
		t.Error("perplexity 3 over 3 tokens: no error")
	}
	one, _ := NewVectors([]float32{1, 2}, 2, SquaredL2)
	if _, _, err := Calibrate(one, 8); err == nil || !strings.Contains(err.Error(), "the codebook has 1 code: no distance-aware target") {
		t.Errorf("a codebook of one code: %v, want an error saying it has one code", err)
	}
}

func TestTopKEqualsDenseAtK(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const k = 32
	d, _ := NewVectors(randomCodebook(r, k, 4), 4, SquaredL2)
	dense, _ := NewTable(d, 1, 0)
	full, _ := NewTable(d, 1, k)
	if full.Dense() {
		t.Fatal("topk = K built a dense table; want the sparse path")
	}
	if mean, max := full.DroppedMass(); mean > 1e-6 || max > 1e-6 {
		t.Errorf("topk = K dropped mass %v (max %v), want 0", mean, max)
	}
	targets := []int32{0, 5, 31}
	logits := make([]float32, len(targets)*k)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	ga, gb := make([]float32, len(logits)), make([]float32, len(logits))
	a := (&Loss{Kind: Dist2, Alpha: 0.1, Table: dense}).GradTo(ga, logits, targets)
	b := (&Loss{Kind: Dist2, Alpha: 0.1, Table: full}).GradTo(gb, logits, targets)
	if math.Abs(a.Loss-b.Loss) > 1e-5 {
		t.Errorf("loss: dense %v, top-K %v", a.Loss, b.Loss)
	}
	for i := range ga {
		if math.Abs(float64(ga[i]-gb[i])) > 1e-6 {
			t.Errorf("grad[%d]: dense %v, top-K %v", i, ga[i], gb[i])
		}
	}
	small, _ := NewTable(d, 1, 4)
	if mean, _ := small.DroppedMass(); !(mean > 0) {
		t.Errorf("top-4 of 32: dropped mass %v, want > 0", mean)
	}
	if small.Bytes() >= dense.Bytes() {
		t.Errorf("top-4 table %d bytes, dense %d: want smaller", small.Bytes(), dense.Bytes())
	}
}

func TestExp32(t *testing.T) {
	for x := float32(-87); x <= 0; x += 0.013 {
		got, want := float64(exp32(x)), math.Exp(float64(x))
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("exp32(%v) = %v, want %v", x, got, want)
		}
	}
	if exp32(-100) != 0 {
		t.Error("exp32(-100) != 0")
	}
}

func TestValidate(t *testing.T) {
	tab, _ := NewTable(Scalar{Values: []float32{0, 1, 2}}, 1, 0)
	bad := []*Loss{
		{Kind: Smooth, Smoothing: 1},
		{Kind: Dist2, Alpha: -1, Table: tab},
		{Kind: Dist2, Alpha: 0.1},
		{Kind: Dist2, Alpha: 0.1, Table: tab, Offset: 2},
	}
	for i, l := range bad {
		if err := l.Validate(4); err == nil {
			t.Errorf("case %d: %+v: no error", i, l)
		}
	}
	if _, err := NewTable(Scalar{Values: []float32{0, 1}}, 0, 0); err == nil {
		t.Error("tau 0: no error")
	}
}

// FullPerplexity is the perplexity Calibrate aims at, and, for a dense
// table, the table's own mean perplexity.
func TestFullPerplexity(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d, _ := NewVectors(randomCodebook(r, 64, 4), 4, SquaredL2)
	tau, got, err := Calibrate(d, 6)
	if err != nil {
		t.Fatal(err)
	}
	full, err := FullPerplexity(d, tau)
	if err != nil {
		t.Fatal(err)
	}
	dense, _ := NewTable(d, tau, 0)
	if math.Abs(full-got) > 1e-6*got || math.Abs(full-dense.MeanPerplexity()) > 1e-4*full {
		t.Errorf("full perplexity %v, calibration %v, dense table %v", full, got, dense.MeanPerplexity())
	}
	top, _ := NewTable(d, tau, 4)
	if kept := top.MeanPerplexity(); kept >= full || kept > 4 {
		t.Errorf("top-4 table: perplexity %v, want below the full %v and at most 4", kept, full)
	}
}

func TestDenseKeepsEveryRow(t *testing.T) {
	d, err := NewVectors([]float32{0, 0, 3, 4, 1, 1}, 2, SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	dd := NewDense(d)
	if NewDense(dd) != dd {
		t.Error("NewDense of a Dense made a copy")
	}
	want := [][]float32{{0, 25, 2}, {25, 0, 13}, {2, 13, 0}}
	got := make([]float32, 3)
	for x, w := range want {
		dd.RowTo(got, x)
		if !slices.Equal(got, w) || !slices.Equal(dd.Row(x), w) {
			t.Errorf("row %d: RowTo %v, Row %v, want %v", x, got, dd.Row(x), w)
		}
	}
}

// A batch split in two parts, each told the batch's count, gives the
// gradient of the whole batch's mean; a row far from its target (p[t]
// below any normal float) still gets a finite NLL equal to the one
// computed without a gradient.
func TestGradToPartIsTheBatchMean(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k = 16
	d, _ := NewVectors(randomCodebook(r, k, 3), 3, SquaredL2)
	tab, err := NewTable(d, 1.5, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Loss{{Kind: CE}, {Kind: Smooth, Smoothing: 0.1}, {Kind: Dist2, Alpha: 0.3, Table: tab}} {
		targets := []int32{3, -1, 7, 0, 15}
		logits := make([]float32, len(targets)*k)
		for i := range logits {
			logits[i] = float32(r.NormFloat64() * 3)
		}
		logits[4*k+5] = 200 // row 4: p[15] = e^-200 underflows
		whole := make([]float32, len(logits))
		ws := l.GradTo(whole, logits, targets)
		parts := make([]float32, len(logits))
		a := l.GradToPart(parts[:2*k], logits[:2*k], targets[:2], ws.Positions)
		b := l.GradToPart(parts[2*k:], logits[2*k:], targets[2:], ws.Positions)
		for i := range whole {
			if d := whole[i] - parts[i]; d > 1e-7 || d < -1e-7 {
				t.Fatalf("%v: gradient %d: whole %v, parts %v", l.Kind, i, whole[i], parts[i])
			}
		}
		if got := (a.NLL*float64(a.Positions) + b.NLL*float64(b.Positions)) / float64(ws.Positions); math.Abs(got-ws.NLL) > 1e-9 {
			t.Errorf("%v: parts' NLL %v, whole %v", l.Kind, got, ws.NLL)
		}
		none := l.GradTo(nil, logits, targets) // the scalar path
		if math.IsInf(ws.NLL, 0) || math.IsNaN(ws.NLL) || math.Abs(none.NLL-ws.NLL) > 1e-5*math.Abs(none.NLL) {
			t.Errorf("%v: NLL %v with a gradient, %v without", l.Kind, ws.NLL, none.NLL)
		}
	}
}
