package generator

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/dist2"
)

func tinyConfig() Config {
	return Config{CodebookSize: 16, Classes: 3, Len: 9, GridH: 3, GridW: 3, Dim: 16, Layers: 2, Heads: 2, MLP: 32}
}

func tinyTokens(r *rand.Rand, n int, c Config) Tokens {
	t := Tokens{Codes: make([]int32, n*c.Len), Labels: make([]int32, n), N: n, Len: c.Len}
	for i := range n {
		t.Labels[i] = int32(i % c.Classes)
		for j := range c.Len {
			// A learnable pattern: the class sets the first token, then +1 steps.
			t.Codes[i*c.Len+j] = int32((int(t.Labels[i])*5 + j + r.IntN(2)) % c.CodebookSize)
		}
	}
	return t
}

func tinyDistance(c Config) dist2.Distance {
	vals := make([]float32, c.CodebookSize)
	for i := range vals {
		vals[i] = float32(i)
	}
	return dist2.Scalar{Values: vals, Kind: dist2.Squared}
}

func TestSampleCacheMatchesFullRecomputation(t *testing.T) {
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 1)))
	classes := []int32{0, 1, 2, -1, 1}
	for _, cfg := range []SampleConfig{
		{Temperature: 1, TopP: 1, CFG: 1, Seed: 7},
		{Temperature: 0.8, TopK: 5, TopP: 0.9, CFG: 2, Seed: 8},
	} {
		cached, err := m.Sample(classes, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NoCache = true
		full, err := m.Sample(classes, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cached, full) {
			t.Errorf("%+v:\ncached %v\nfull   %v", cfg, cached, full)
		}
	}
	if _, err := m.Sample([]int32{3}, DefaultSampleConfig()); err == nil {
		t.Error("class 3 of 3: no error")
	}
}

func TestDraw(t *testing.T) {
	logits := []float32{0, 3, 1, 2}
	d := newDrawer(4)
	r := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		if v := d.draw(logits, SampleConfig{Temperature: 1, TopK: 1, TopP: 1}, r); v != 1 {
			t.Fatalf("top-1 drew %d, want 1", v)
		}
		if v := d.draw(logits, SampleConfig{Temperature: 1, TopP: 0.01}, r); v != 1 {
			t.Fatalf("top-p 0.01 drew %d, want 1", v)
		}
		if v := d.draw(logits, SampleConfig{Temperature: 1, TopK: 2, TopP: 1}, r); v != 1 && v != 3 {
			t.Fatalf("top-2 drew %d, want 1 or 3", v)
		}
	}
	counts := make([]int, 4)
	for range 20000 {
		counts[d.draw(logits, SampleConfig{Temperature: 1, TopP: 1}, r)]++
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for v, n := range counts {
		want := math.Exp(float64(logits[v])) / z
		if got := float64(n) / 20000; math.Abs(got-want) > 0.015 {
			t.Errorf("token %d drawn %.3f of the time, want %.3f", v, got, want)
		}
	}
}

// A fresh model predicts nearly uniformly: NLL = log2 V, and the expected
// distance is the mean of the distance row.
func TestEvaluateUniformModel(t *testing.T) {
	c := tinyConfig()
	m, _ := New(c, rand.New(rand.NewPCG(2, 2)))
	for _, p := range m.Params() { // zero logits exactly
		if p.Name == "head.weight" {
			clear(p.Data())
		}
	}
	data := tinyTokens(rand.New(rand.NewPCG(3, 3)), 20, c)
	d := tinyDistance(c)
	e, err := m.Evaluate(data, d)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.NLL-4) > 1e-4 || e.Tokens != 20*9 {
		t.Errorf("NLL %v bits over %d tokens, want 4 over 180", e.NLL, e.Tokens)
	}
	var want float64
	row := make([]float32, c.CodebookSize)
	for _, x := range data.Codes {
		d.RowTo(row, int(x))
		for _, v := range row {
			want += float64(v) / float64(c.CodebookSize)
		}
	}
	want /= float64(len(data.Codes))
	if math.Abs(e.ExpectedDistance-want) > 1e-3*want {
		t.Errorf("expected distance %v, want %v", e.ExpectedDistance, want)
	}
}

func TestTrainingLearnsEachLoss(t *testing.T) {
	c := tinyConfig()
	data := tinyTokens(rand.New(rand.NewPCG(4, 4)), 96, c)
	d := tinyDistance(c)
	tab, _ := dist2.NewTable(d, 1, 0)
	for _, loss := range []*dist2.Loss{{Kind: dist2.CE}, {Kind: dist2.Smooth, Smoothing: 0.1}, {Kind: dist2.Dist2, Alpha: 0.1, Table: tab}} {
		m, _ := New(c, rand.New(rand.NewPCG(5, 5)))
		tc := DefaultTrainConfig()
		tc.Batch, tc.Steps, tc.LR, tc.Warmup = 16, 150, 3e-3, 10
		tr, err := NewTrainer(m, data, loss, tc)
		if err != nil {
			t.Fatal(err)
		}
		for range tc.Steps {
			if _, err := tr.TrainStep(); err != nil {
				t.Fatal(err)
			}
		}
		e, _ := m.Evaluate(data, d)
		// Each token has two equally likely values: 1 bit is the floor.
		if e.NLL > 1.6 {
			t.Errorf("%v: NLL %.3f bits after training, want near 1", loss.Kind, e.NLL)
		}
	}
}

func TestResumeMatchesStraightRun(t *testing.T) {
	c := tinyConfig()
	data := tinyTokens(rand.New(rand.NewPCG(6, 6)), 40, c)
	tab, _ := dist2.NewTable(tinyDistance(c), 1, 0)
	loss := &dist2.Loss{Kind: dist2.Dist2, Alpha: 0.1, Table: tab}
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup, tc.LR = 16, 8, 2, 1e-3
	straight, _ := New(c, rand.New(rand.NewPCG(7, 7)))
	tr, _ := NewTrainer(straight, data, loss, tc)
	for range tc.Steps {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	split, _ := New(c, rand.New(rand.NewPCG(7, 7)))
	tr2, _ := NewTrainer(split, data, loss, tc)
	for range 5 { // 5 x 16 = 80 grids: past two epoch boundaries
		tr2.TrainStep()
	}
	dir := t.TempDir()
	if err := tr2.SaveCheckpoint(dir, Info{Loss: LossInfo{Kind: "dist2", Tau: 1}}); err != nil {
		t.Fatal(err)
	}
	tr3, info, err := Resume(dir, data, loss)
	if err != nil {
		t.Fatal(err)
	}
	if info.Loss.Tau != 1 || info.Step != 5 {
		t.Errorf("info %+v", info)
	}
	for range tc.Steps - 5 {
		if _, err := tr3.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range straight.Params() {
		q := tr3.Model.Params()[i]
		for j, v := range p.Data() {
			if math.Abs(float64(v-q.Data()[j])) > 1e-5*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("%s[%d]: straight %v, resumed %v", p.Name, j, v, q.Data()[j])
			}
		}
	}
	back, _, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Params()[3].Data()[0] != split.Params()[3].Data()[0] {
		t.Error("Load: weights differ from the saved ones")
	}
}

func TestTrainerRejectsBadTokens(t *testing.T) {
	c := tinyConfig()
	data := tinyTokens(rand.New(rand.NewPCG(1, 1)), 20, c)
	data.Codes[13] = 99
	m, _ := New(c, rand.New(rand.NewPCG(1, 1)))
	tc := DefaultTrainConfig()
	tc.Batch = 8
	if _, err := NewTrainer(m, data, &dist2.Loss{Kind: dist2.CE}, tc); err == nil || !strings.Contains(err.Error(), "is 99") {
		t.Errorf("token 99 of 16: error %v", err)
	}
}

func TestNaNStopsTraining(t *testing.T) {
	c := tinyConfig()
	data := tinyTokens(rand.New(rand.NewPCG(8, 8)), 32, c)
	m, _ := New(c, rand.New(rand.NewPCG(9, 9)))
	tc := DefaultTrainConfig()
	tc.Batch = 8
	tr, _ := NewTrainer(m, data, &dist2.Loss{Kind: dist2.CE}, tc)
	if _, err := tr.TrainStep(); err != nil {
		t.Fatal(err)
	}
	m.Params()[0].Data()[0] = float32(math.Inf(1))
	if _, err := tr.TrainStep(); !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "step 2") {
		t.Errorf("error %v, want ErrNotFinite naming step 2", err)
	}
}

// Over a codebook of several blocks and a tail, draw's frequencies are
// softmax(z / T), renormalised over the top k when truncated, and top-k 1
// is the first largest logit.
func TestDrawMatchesSoftmaxOverBlocks(t *testing.T) {
	const k, n = 3*drawBlock + 8, 200000
	r := rand.New(rand.NewPCG(4, 4))
	logits := make([]float32, k)
	for v := range logits {
		logits[v] = float32(r.NormFloat64() * 1.5)
	}
	logits[77], logits[150] = 9, 9 // a tie for the largest: greedy takes the first
	d := newDrawer(k)
	if v := d.draw(logits, SampleConfig{Temperature: 1, TopK: 1, TopP: 1}, r); v != 77 {
		t.Errorf("greedy drew %d, want 77", v)
	}
	logits[77], logits[150] = 3, 2.5
	for _, cfg := range []SampleConfig{{Temperature: 1, TopP: 1}, {Temperature: 0.6, TopP: 1}, {Temperature: 1, TopK: 20, TopP: 1}} {
		want := make([]float64, k)
		order := make([]int, k)
		for v := range order {
			order[v] = v
		}
		sort.Slice(order, func(a, b int) bool { return logits[order[a]] > logits[order[b]] })
		keep := order
		if cfg.TopK > 0 {
			keep = order[:cfg.TopK]
		}
		var z float64
		for _, v := range keep {
			want[v] = math.Exp(float64(logits[v]) / cfg.Temperature)
			z += want[v]
		}
		counts := make([]float64, k)
		for range n {
			counts[d.draw(logits, cfg, r)]++
		}
		var tv float64 // total variation distance
		for v := range counts {
			want[v] /= z
			if want[v] == 0 && counts[v] > 0 {
				t.Fatalf("%+v: drew token %d, which was cut", cfg, v)
			}
			tv += math.Abs(counts[v]/n-want[v]) / 2
		}
		if tv > 0.01 { // sampling noise is about 0.005 here
			t.Errorf("%+v: total variation %.4f from softmax", cfg, tv)
		}
	}
}
