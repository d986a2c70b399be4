package study

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBalanced(t *testing.T) {
	labels := []int32{0, 1, 0, 2, 1, 0, 2, 2, 1, 0}
	idx, err := Balanced(labels, 3, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 4, 6}
	if len(idx) != len(want) {
		t.Fatalf("got %v, want %v", idx, want)
	}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("got %v, want %v", idx, want)
		}
	}
	// A remainder goes to the lowest classes; a smaller subset is a prefix
	// of every class's share.
	idx, _ = Balanced(labels, 3, 4)
	if got := []int{0, 1, 2, 3}; len(idx) != 4 || idx[2] != got[2] || idx[3] != got[3] {
		t.Errorf("size 4: %v, want %v", idx, got)
	}
	if all, _ := Balanced(labels, 3, 100); len(all) != len(labels) {
		t.Errorf("a size over the pool: %d grids, want all %d", len(all), len(labels))
	}
	if _, err := Balanced([]int32{0, 0, 0, 1, 2, 2, 2}, 3, 6); err == nil {
		t.Error("2 grids of class 1 from a pool with one were accepted")
	}
}

func TestPlanAndShards(t *testing.T) {
	c := DefaultConfig()
	plan := c.Plan()
	sweep := len(c.SweepSizes) * len(c.Alphas) * len(c.Perplexities)
	main := len(c.Sizes) * len(c.Losses) * c.Seeds
	tuned := len(c.Sizes) * 2 * c.Seeds
	if len(plan) != sweep+main+tuned {
		t.Fatalf("%d runs, want %d sweep + %d main + %d fine-tuned", len(plan), sweep, main, tuned)
	}
	names := map[string]int{}
	for k, r := range plan {
		if _, dup := names[r.Name]; dup {
			t.Errorf("run %s twice", r.Name)
		}
		names[r.Name] = k
		if (k < sweep) != r.Sweep {
			t.Errorf("run %d (%s): the sweep comes first", k, r.Name)
		}
		if (k >= sweep+main) != (r.Init != "") {
			t.Errorf("run %d (%s): the fine-tune arm comes last", k, r.Name)
		}
		if r.Init != "" {
			p, ok := names[r.Init]
			if !ok || plan[p].Loss != "ce" || plan[p].Size != r.Size || plan[p].Seed != r.Seed || plan[p].Init != "" {
				t.Errorf("%s starts from %q: want a main ce run of its size and seed before it", r.Name, r.Init)
			}
		}
	}
	c.FineTune = 0
	if n := len(c.Plan()); n != sweep+main {
		t.Errorf("no fine-tune arm: %d runs, want %d", n, sweep+main)
	}
	for _, n := range []int{1, 2, 3, 7} {
		count := make([]int, len(plan))
		for i := 1; i <= n; i++ {
			for k := range plan {
				if (Shard{i, n}).Has(k) {
					count[k]++
				}
			}
		}
		for k, c := range count {
			if c != 1 {
				t.Errorf("%d shards: run %d in %d shards, want 1", n, k, c)
			}
		}
	}
	for _, bad := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
	if s, err := ParseShard("2/3"); err != nil || s != (Shard{2, 3}) {
		t.Errorf("2/3: %v %v", s, err)
	}
	if got := c.Steps(500); got != 469 {
		t.Errorf("steps at 500: %d, want ceil(60*500/64) = 469", got)
	}
	if got := c.Steps(55000); got != c.MaxSteps {
		t.Errorf("steps at 55000: %d, want the ceiling %d", got, c.MaxSteps)
	}
	if got := c.Steps(100); got != c.MinSteps {
		t.Errorf("steps at 100: %d, want the floor %d", got, c.MinSteps)
	}
}

func f64(v float64) *float64 { return &v }

func TestChoice(t *testing.T) {
	c := DefaultConfig()
	c.Alphas, c.Perplexities, c.Temperatures, c.SweepSizes = []float64{0.1, 1}, []float64{8}, []float64{1, 0.8}, []int{500}
	runs := []Result{
		{RunSpec: RunSpec{Name: "sweep-n500-a0.1-p8", Sweep: true, Size: 500, Loss: "dist2", Alpha: 0.1, Perplexity: 8},
			Scores: []Scores{{Temperature: 1, FLD: 3, FLDNovel: f64(9)}, {Temperature: 0.8, FLD: 2, FLDNovel: f64(7)}}},
	}
	if _, err := c.chooseFrom(runs); !errors.Is(err, ErrNeedSweep) {
		t.Fatalf("an incomplete sweep: %v, want ErrNeedSweep", err)
	}
	runs = append(runs, Result{RunSpec: RunSpec{Name: "sweep-n500-a1-p8", Sweep: true, Size: 500, Loss: "dist2", Alpha: 1, Perplexity: 8},
		Scores: []Scores{{Temperature: 1, FLD: 1, FLDNovel: f64(8)}, {Temperature: 0.8, FLD: 0.5, FLDNovel: nil}}})
	ch, err := c.chooseFrom(runs)
	if err != nil {
		t.Fatal(err)
	}
	// The lowest novel FLD wins (alpha 0.1 at T=0.8), not the lowest FLD of
	// a setting that mostly copies (alpha 1 at T=0.8, too few novel samples).
	if want := (Setting{0.1, 8, 0.8}); ch.Setting != want || ch.Score != 7 || !ch.Swept {
		t.Errorf("chose %+v, want %+v with score 7", ch, want)
	}
	c.Alphas, c.Temperatures = []float64{0.3}, []float64{1}
	if ch, _ := c.chooseFrom(nil); ch.Swept || ch.Alpha != 0.3 {
		t.Errorf("one setting: %+v, want it unswept", ch)
	}
}

func TestComparisons(t *testing.T) {
	c := DefaultConfig()
	c.Sizes, c.Losses, c.Seeds = []int{500}, []string{"ce", "dist2"}, 3
	var runs []Result
	for s := uint64(1); s <= 3; s++ {
		runs = append(runs,
			Result{RunSpec: RunSpec{Name: "ce", Size: 500, Loss: "ce", Seed: s}, TestNLL: 6 + 0.1*float64(s)},
			Result{RunSpec: RunSpec{Name: "d", Size: 500, Loss: "dist2", Seed: s}, TestNLL: 5 + 0.1*float64(s) + 0.01*float64(s*s)})
	}
	// The fine-tune arm is its own: its ce->ce runs are not ce runs.
	c.FineTune = 0.5
	for s := uint64(1); s <= 2; s++ {
		runs = append(runs,
			Result{RunSpec: RunSpec{Name: "ft-ce", Size: 500, Loss: "ce", Seed: s, Init: "ce"}, TestNLL: 100},
			Result{RunSpec: RunSpec{Name: "ft-d", Size: 500, Loss: "dist2", Seed: s, Init: "ce"}, TestNLL: 99 + float64(s)})
	}
	var got, tuned *Comparison
	for _, cm := range comparisons(runs, c) {
		if cm.Metric == "test_nll_bits" && cm.A == "dist2" && cm.B == "ce" {
			got = &cm
		}
		if cm.Metric == "test_nll_bits" && cm.A == "ce->dist2" && cm.B == "ce->ce" {
			tuned = &cm
		}
	}
	if tuned == nil || tuned.NPairs != 2 || tuned.MeanDiff != 0.5 {
		t.Errorf("ce->dist2 - ce->ce: %+v, want 0.5 over 2 pairs", tuned)
	}
	if got == nil {
		t.Fatal("no test NLL comparison")
	}
	// Differences -0.99, -0.96, -0.91: mean -0.953333, sd 0.040415, t(2) 4.303.
	h := 4.303 * 0.0404145 / math.Sqrt(3)
	if got.NPairs != 3 || math.Abs(got.MeanDiff+0.953333) > 1e-5 || math.Abs(got.CI95[0]-(-0.953333-h)) > 1e-4 || !got.Detected() {
		t.Errorf("got %+v, want mean -0.9533 ± %.4f over 3 pairs, detected", *got, h)
	}
	if (Comparison{NPairs: 3, CI95: [2]float64{-1, 1}}).Detected() {
		t.Error("an interval holding 0 counts as a difference")
	}
}

func TestValidateNamesTheBadValue(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Alphas = []float64{0.1, 0} }, "alpha 0"},
		{func(c *Config) { c.Perplexities = []float64{-2} }, "perplexity -2"},
		{func(c *Config) { c.Temperatures = []float64{math.Inf(1)} }, "temperature +Inf"},
		{func(c *Config) { c.Sizes = []int{5} }, "size 5"},
		{func(c *Config) { c.Losses = []string{"ce", "focal"} }, "focal"},
		{func(c *Config) { c.FineTune = -1 }, "fine-tune -1"},
		{func(c *Config) { c.FineTune = math.NaN() }, "fine-tune NaN"},
		{func(c *Config) { c.Losses = []string{"smooth", "dist2"} }, "starts from the ce runs"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("the default study: %v", err)
	}
}

// study.json names the study's tokenizer relative to the folder; an older
// study.json without one stays readable and gets it; another tokenizer that
// is still on disk is refused, as are shards of different tokenizers.
func TestStudyFileTokenizer(t *testing.T) {
	root := t.TempDir()
	vq, other := filepath.Join(root, "vq"), filepath.Join(root, "other.vq")
	for _, d := range []string{vq, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := DefaultConfig()
	old, shard := filepath.Join(root, "old"), filepath.Join(root, "shard")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c) // a study.json of a vqtool that named no tokenizer
	if err := os.WriteFile(filepath.Join(old, specFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := TokenizerOf([]string{old}); err != nil || got != "" {
		t.Fatalf("an older study.json: %q, %v; want none", got, err)
	}
	if err := claim(old, c, vq); err != nil {
		t.Fatal(err)
	}
	if err := claim(shard, c, vq); err != nil {
		t.Fatal(err)
	}
	f, err := readStudyFile(shard)
	if err != nil || f.Tokenizer != "../vq" || !reflect.DeepEqual(f.Config, c) {
		t.Fatalf("study.json: tokenizer %q, %v; want ../vq and the config", f.Tokenizer, err)
	}
	if got, err := TokenizerOf([]string{old, shard}); err != nil || filepath.Clean(got) != vq {
		t.Errorf("tokenizer %q, %v; want %s", got, err, vq)
	}
	if err := claim(shard, c, other); err == nil || !strings.Contains(err.Error(), "other.vq") {
		t.Errorf("another tokenizer: %v; want a refusal naming it", err)
	}
	if err := claim(old, c, ""); err != nil {
		t.Errorf("no tokenizer given: %v", err)
	}
	third := filepath.Join(root, "third")
	if err := claim(third, c, other); err != nil {
		t.Fatal(err)
	}
	if _, err := TokenizerOf([]string{shard, third}); err == nil {
		t.Error("shards of two tokenizers merged")
	}
}

// Handing a study folder's finished runs out to jobs takes the best
// checkpoints of the ce runs along when the fine-tune arm starts from them.
func TestHandOutKeepsFineTuneStarts(t *testing.T) {
	c := DefaultConfig()
	c.Sizes, c.Losses, c.Seeds = []int{500}, []string{"ce", "dist2"}, 1
	c.Alphas, c.Perplexities, c.Temperatures = c.Alphas[:1], c.Perplexities[:1], c.Temperatures[:1]
	dir := t.TempDir()
	jobs := []string{t.TempDir(), t.TempDir()}
	for _, name := range []string{"n500-ce-s1", "n500-dist2-s1"} {
		r := Result{RunSpec: RunSpec{Name: name, Size: 500, Loss: strings.Split(name, "-")[1], Seed: 1}}
		run := filepath.Join(dir, "runs", name)
		for f, b := range map[string][]byte{resultFile: must(json.Marshal(r)), "best/model.safetensors": []byte("w"), "best/config.json": []byte("{}")} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(run, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(run, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.handOut(dir, jobs); err != nil {
		t.Fatal(err)
	}
	// n500-ce-s1 is run 0 of the plan, n500-dist2-s1 run 1.
	for _, want := range []struct {
		path string
		ok   bool
	}{{filepath.Join(jobs[0], "runs", "n500-ce-s1", "best", "model.safetensors"), true},
		{filepath.Join(jobs[0], "runs", "n500-ce-s1", "best", "config.json"), true},
		{filepath.Join(jobs[1], "runs", "n500-dist2-s1", resultFile), true},
		{filepath.Join(jobs[1], "runs", "n500-dist2-s1", "best"), false}} {
		if _, err := os.Stat(want.path); (err == nil) != want.ok {
			t.Errorf("%s: %v, want there %v", want.path, err, want.ok)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Sample efficiency on known curves: the ce run's best is 5.0 at step 200;
// dist2 first reaches it at step 100 (ratio 0.5), corrupt never does, and
// a run of another seed has no ce run to be measured against.
func TestStepsToCEBest(t *testing.T) {
	curve := func(nll ...float64) []Point {
		var c []Point
		for i, v := range nll {
			c = append(c, Point{Step: 100 * (i + 1), NLL: v})
		}
		return c
	}
	runs := []Result{
		{RunSpec: RunSpec{Name: "ce", Size: 500, Loss: "ce", Seed: 1}, Curve: curve(6, 5, 5.5)},
		{RunSpec: RunSpec{Name: "d", Size: 500, Loss: "dist2", Seed: 1}, Curve: curve(4.9, 5.2)},
		{RunSpec: RunSpec{Name: "c", Size: 500, Loss: "corrupt", Seed: 1}, Curve: curve(6, 5.1)},
		{RunSpec: RunSpec{Name: "d2", Size: 500, Loss: "dist2+corrupt", Seed: 2}, Curve: curve(4)},
	}
	setStepsToCEBest(runs)
	if s, r := runs[1].StepsToCEBest, runs[1].StepsRatio; s == nil || *s != 100 || r == nil || *r != 0.5 {
		t.Errorf("dist2: %v steps, ratio %v: want 100 and 0.5", s, r)
	}
	for _, r := range runs[2:] {
		if r.StepsToCEBest != nil || r.StepsRatio != nil {
			t.Errorf("%s: %d steps: want none", r.Name, *r.StepsToCEBest)
		}
	}
	if runs[0].StepsToCEBest != nil {
		t.Error("the ce run measured against itself")
	}
	// results.json says null for a run that never reached CE's best.
	b, err := json.Marshal(runs[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"steps_to_ce_best":null`, `"steps_to_ce_best_ratio":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("corrupt run's JSON lacks %s", want)
		}
	}
}
