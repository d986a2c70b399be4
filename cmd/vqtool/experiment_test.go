package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/study"
)

// tinyStudy is a study of the built-in data sized to run in seconds: one
// size, two losses, two seeds and a sweep of two alphas, without the
// fine-tune arm.
func tinyStudy(out string) experimentOptions {
	o := experimentOptions{Data: "embedded", VQ: smallVQ, Out: out,
		Shard: "1/1", Jobs: 1, ClassifierSteps: 5}
	o.Config = study.DefaultConfig()
	o.Sizes, o.Losses, o.Alphas, o.Perplexities, o.Temperatures, o.SweepSizes = []int{40}, []string{"ce", "dist2"}, []float64{0.1, 1}, []float64{4}, []float64{1}, []int{40}
	o.Seeds, o.ValSize, o.Dim, o.Layers, o.Heads, o.MLP, o.Batch = 2, 100, 16, 1, 2, 32, 16
	o.Epochs, o.MinSteps, o.MaxSteps, o.EvalEvery, o.ValLimit, o.Samples, o.TopK = 1, 4, 6, 2, 50, 20, 5
	o.FineTune = 0 // TestExperimentFineTune turns the arm on
	return o
}

// sameStudy checks that the study in dir holds the runs, choice and
// comparisons of the one in ref, apart from times, and returns it.
func sameStudy(t *testing.T, how, dir, ref string) study.Results {
	t.Helper()
	got, want := readResults(t, dir), readResults(t, ref)
	if len(got.Runs) != len(want.Runs) {
		t.Fatalf("%s: %d runs, against %d", how, len(got.Runs), len(want.Runs))
	}
	for i := range want.Runs {
		w, g := want.Runs[i], got.Runs[i]
		w.TrainSeconds, g.TrainSeconds, w.EvalSeconds, g.EvalSeconds = 0, 0, 0, 0
		if !reflect.DeepEqual(w, g) {
			t.Errorf("run %d: %s\n%+v\nagainst\n%+v", i, how, g, w)
		}
	}
	if !reflect.DeepEqual(got.Comparisons, want.Comparisons) || !reflect.DeepEqual(got.Choice, want.Choice) {
		t.Errorf("%s: comparisons or choice differ: %+v / %+v", how, got.Choice, want.Choice)
	}
	return got
}

func readResults(t *testing.T, dir string) study.Results {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res study.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// A tiny study runs end to end, writes what the report promises, and a second
// run keeps the finished runs instead of training them again.
func TestExperimentResumes(t *testing.T) {
	out := t.TempDir()
	o := tinyStudy(out)
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	res := readResults(t, out)
	if len(res.Runs) != 6 || res.Choice == nil || !res.Choice.Swept {
		t.Fatalf("got %d runs (want 2 sweep + 4 main), choice %+v", len(res.Runs), res.Choice)
	}
	for _, r := range res.Runs {
		if r.BestStep < 1 || r.BestStep > r.Steps || len(r.Curve) == 0 {
			t.Errorf("%s: best step %d of %d, curve %v", r.Name, r.BestStep, r.Steps, r.Curve)
		}
		if !r.Sweep && (r.Samples == "" || r.TestNLL <= 0 || r.Against != "test") {
			t.Errorf("%s: samples %q, test nll %v, against %s", r.Name, r.Samples, r.TestNLL, r.Against)
		}
		if r.Sweep && (r.TestNLL != 0 || r.Against != "validation") {
			t.Errorf("sweep run %s touched the test split (test nll %v, against %s)", r.Name, r.TestNLL, r.Against)
		}
		if r.Loss == "dist2" && !r.Sweep && (r.Alpha != res.Choice.Alpha || r.Perplexity != res.Choice.Perplexity) {
			t.Errorf("%s: alpha %v perplexity %v, the sweep chose %+v", r.Name, r.Alpha, r.Perplexity, res.Choice)
		}
	}
	if len(res.Comparisons) == 0 || res.Comparisons[0].NPairs != 2 {
		t.Errorf("comparisons: %+v", res.Comparisons)
	}
	for _, f := range []string{"report.html", "report.md", "fld.png", "nll.png", "copies-fld.png", "sweep.png",
		"samples/n40-ce-s1.npy", "samples/n40-ce-s1.labels.npy", "grids/n40-dist2-s1.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	done := filepath.Join(out, "runs", "n40-ce-s1", "result.json")
	before, _ := os.Stat(done)
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(done); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a finished run was trained again")
	}
	o.Seeds = 3
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o); err == nil {
		t.Error("a study resumed with other settings was accepted")
	}
}

// Two shards, each into its own folder, merged by experiment report, give the
// same runs as one unsharded study.
func TestExperimentShardsMerge(t *testing.T) {
	one, a, b, merged := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	ctx := context.Background()
	if err := runExperiment(ctx, &bytes.Buffer{}, tinyStudy(one)); err != nil {
		t.Fatal(err)
	}
	sa, sb := tinyStudy(a), tinyStudy(b)
	sa.Shard, sb.Shard = "1/2", "2/2"
	// Each shard does its sweep share first; its dist2 runs wait for the
	// other shard's sweep runs.
	for _, s := range []experimentOptions{sa, sb} {
		if err := runExperiment(ctx, &bytes.Buffer{}, s); err != nil && !errors.Is(err, study.ErrNeedSweep) {
			t.Fatal(err)
		}
	}
	sa.With, sb.With = []string{b}, []string{a}
	for _, s := range []experimentOptions{sa, sb} {
		if err := runExperiment(ctx, &bytes.Buffer{}, s); err != nil {
			t.Fatal(err)
		}
	}
	// The shards ran with a tokenizer outside their folders: their
	// study.json name it, so the report needs no --vq.
	if err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: merged, Data: "embedded"}, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	got := sameStudy(t, "sharded", merged, one)
	for _, r := range got.Runs {
		if r.Samples != "" {
			if _, err := os.Stat(filepath.Join(merged, r.Samples)); err != nil {
				t.Errorf("merged samples: %v", err)
			}
		}
	}
}

// The fine-tune arm: each ce run's best checkpoint continued with DIST2 at
// the paper's setting and with CE. A fine-tune run starts from its parent's
// best weights exactly (their digest, their step, and their validation NLL
// to the bit as the run's step 0), results.json lists it with init naming
// the parent, and the paired ce->dist2 - ce->ce comparison is there. Three
// shards, where a fine-tune run waits for a parent in another shard, merge
// into the same study.
func TestExperimentFineTune(t *testing.T) {
	one := t.TempDir()
	ctx := context.Background()
	o := tinyStudy(one)
	o.FineTune = 1
	if err := runExperiment(ctx, &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	res := readResults(t, one)
	byName := map[string]study.Result{}
	for _, r := range res.Runs {
		byName[r.Name] = r
	}
	tuned := 0
	for _, r := range res.Runs {
		if r.Init == "" {
			continue
		}
		tuned++
		p, ok := byName[r.Init]
		if !ok || p.Loss != "ce" || p.Init != "" || p.Size != r.Size || p.Seed != r.Seed {
			t.Fatalf("%s starts from %q: want the ce run of its size and seed", r.Name, r.Init)
		}
		best := slices.MinFunc(p.Curve, func(a, b generator.Point) int { return cmp.Compare(a.NLL, b.NLL) })
		if r.InitStep != p.BestStep || best.Step != p.BestStep || r.InitValNLL != best.NLL {
			t.Errorf("%s: starts at step %d with validation NLL %v; %s's best is step %d at %v", r.Name, r.InitStep, r.InitValNLL, p.Name, best.Step, best.NLL)
		}
		raw, err := os.ReadFile(filepath.Join(one, "runs", p.Name, generator.BestDir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		info, err := generator.ReadInfo(filepath.Join(one, "runs", r.Name))
		if err != nil {
			t.Fatal(err)
		}
		want := "sha256:" + hex.EncodeToString(sum[:])
		if in := info.Init; in == nil || in.Weights != want || r.InitWeights != want || in.Step != p.BestStep ||
			filepath.Clean(filepath.Join(one, "runs", r.Name, in.Path)) != filepath.Join(one, "runs", p.Name, generator.BestDir) {
			t.Errorf("%s: config.json's init %+v, results.json's %q: want %s's best (%s, step %d)", r.Name, info.Init, r.InitWeights, p.Name, want, p.BestStep)
		}
		if r.Steps != p.Steps || len(r.Curve) == 0 || r.Samples == "" {
			t.Errorf("%s: %d steps (the ce run's %d), curve %v, samples %q", r.Name, r.Steps, p.Steps, r.Curve, r.Samples)
		}
		switch {
		case r.Arm() == "ce->dist2" && (r.Alpha != 0.1 || r.Perplexity != 8 || info.Loss.Kind != "dist2" || r.Tau <= 0):
			t.Errorf("%s: alpha %v, perplexity %v, loss %s, tau %v: want the paper's DIST2", r.Name, r.Alpha, r.Perplexity, info.Loss.Kind, r.Tau)
		case r.Arm() == "ce->ce" && (r.Alpha != 0 || info.Loss.Kind != "ce"):
			t.Errorf("%s: alpha %v, loss %s: want CE", r.Name, r.Alpha, info.Loss.Kind)
		}
	}
	if tuned != 4 || len(res.Runs) != 10 {
		t.Fatalf("%d runs, %d fine-tuned: want 2 sweep + 4 main + 4 fine-tuned", len(res.Runs), tuned)
	}
	for _, m := range []string{"test_nll_bits", "fld_t1", "near_copies"} {
		found := false
		for _, c := range res.Comparisons {
			if c.A == "ce->dist2" && c.B == "ce->ce" && c.Metric == m {
				found = c.NPairs == 2
			}
		}
		if !found {
			t.Errorf("no paired ce->dist2 - ce->ce comparison of %s over 2 seeds: %+v", m, res.Comparisons)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(one, "report.md")); !strings.Contains(string(md), "ce->dist2 - ce->ce") {
		t.Error("report.md does not show the fine-tune arm")
	}

	// Shard 1 of 3 holds n40-ce-to-dist2-s1, shard 3 its parent n40-ce-s1.
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var shards []experimentOptions
	for i, d := range dirs {
		s := tinyStudy(d)
		s.FineTune, s.Shard = 1, strconv.Itoa(i+1)+"/3"
		shards = append(shards, s)
		err := runExperiment(ctx, &bytes.Buffer{}, s)
		if err != nil && !errors.Is(err, study.ErrNeedSweep) {
			t.Fatal(err)
		}
		if i == 0 && (err == nil || !strings.Contains(err.Error(), "n40-ce-to-dist2-s1 waits for n40-ce-s1")) {
			t.Errorf("shard 1 before shard 3: %v, want n40-ce-to-dist2-s1 to wait for n40-ce-s1", err)
		}
	}
	for i, s := range shards {
		for j, d := range dirs {
			if j != i {
				s.With = append(s.With, d)
			}
		}
		if err := runExperiment(ctx, &bytes.Buffer{}, s); err != nil {
			t.Fatal(err)
		}
	}
	merged := t.TempDir()
	if err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: merged, Data: "embedded"}, dirs); err != nil {
		t.Fatal(err)
	}
	sameStudy(t, "fine-tuned in shards", merged, one)
}

// experiment --jobs 2 runs the study as two processes side by side, each on
// its share of the cores, and ends with the same runs, bit for bit, as one
// process, in a folder laid out as one process leaves it.
func TestExperimentJobs(t *testing.T) {
	t.Setenv("VQTOOL_TEST_AS_MAIN", "1") // the jobs are this test binary, run as vqtool
	one, two := t.TempDir(), t.TempDir()
	ctx := context.Background()
	if err := runExperiment(ctx, &bytes.Buffer{}, tinyStudy(one)); err != nil {
		t.Fatal(err)
	}
	o := tinyStudy(two)
	o.Jobs = 2
	if err := runExperiment(ctx, &bytes.Buffer{}, o); err != nil {
		log, _ := os.ReadFile(filepath.Join(two, "jobs", "1", "log.txt"))
		t.Fatalf("%v\njob 1 log:\n%s", err, log)
	}
	for _, r := range sameStudy(t, "with jobs", two, one).Runs {
		if _, err := os.Stat(filepath.Join(two, "runs", r.Name, "result.json")); err != nil {
			t.Errorf("the study folder lacks %s: %v", r.Name, err)
		}
	}
	// Run again, now without jobs: every run is found finished.
	o.Jobs = 1
	if err := runExperiment(ctx, &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	if again := readResults(t, two); len(again.Runs) != 6 {
		t.Errorf("%d runs after a second pass", len(again.Runs))
	}
	o.Jobs, o.Shard = 2, "1/2"
	wantUsage(t, "--jobs 2 --shard 1/2", runExperiment(ctx, &bytes.Buffer{}, o), "--jobs 2")
}

// A study's run is an ordinary generator run folder, trained by the one
// trainer: train-gen given the same grids and the settings the run's
// config.json records writes byte-identical weights, and sample --gen
// opens the run.
func TestStudyRunIsTrainGen(t *testing.T) {
	dir := t.TempDir()
	o := tinyStudy(filepath.Join(dir, "study"))
	o.Losses, o.Seeds, o.SweepSizes = []string{"ce"}, 1, nil
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(o.Out, "runs", "*", "model.safetensors"))
	if len(runs) != 1 {
		t.Fatalf("runs %v: want one", runs)
	}
	run := filepath.Dir(runs[0])
	_, info, err := generator.Load(run)
	if err != nil {
		t.Fatal(err)
	}
	// The study's grids: the balanced subset of the pool (the training
	// split before its last ValSize grids), as the study draws it.
	vq, vinfo, err := loadVQ(smallVQ)
	if err != nil {
		t.Fatal(err)
	}
	all, _, _, err := tokensFor(context.Background(), "", dataOptions{Data: "embedded", Split: "train"}, smallVQ, vq, vinfo, o.Out)
	if err != nil {
		t.Fatal(err)
	}
	pool := all.Head(all.N - o.ValSize)
	idx, err := study.Balanced(pool.Labels, len(info.Classes), o.Sizes[0])
	if err != nil {
		t.Fatal(err)
	}
	sub := &imageio.Tokens{N: len(idx), H: pool.H, W: pool.W}
	per := pool.H * pool.W
	for _, i := range idx {
		sub.Codes = append(sub.Codes, pool.Codes[i*per:(i+1)*per]...)
		sub.Labels = append(sub.Labels, pool.Labels[i])
	}
	tokens, gen := filepath.Join(dir, "subset.npy"), filepath.Join(dir, "gen")
	if err := imageio.SaveTokens(tokens, sub); err != nil {
		t.Fatal(err)
	}
	tc, c := info.Train, info.Config
	f := strconv.FormatFloat
	if err := execute(t, "train-gen", "--vq", smallVQ, "--tokens", tokens, "--loss", "ce", "--out", gen,
		"--steps", strconv.Itoa(tc.Steps), "--batch", strconv.Itoa(tc.Batch), "--lr", f(tc.LR, 'g', -1, 64),
		"--warmup", strconv.Itoa(tc.Warmup), "--weight-decay", f(tc.WeightDecay, 'g', -1, 64), "--clip", f(tc.Clip, 'g', -1, 64),
		"--cond-drop", f(tc.CondDrop, 'g', -1, 64), "--seed", strconv.FormatUint(tc.Seed, 10),
		"--dim", strconv.Itoa(c.Dim), "--layers", strconv.Itoa(c.Layers), "--heads", strconv.Itoa(c.Heads), "--mlp", strconv.Itoa(c.MLP)); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(run, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(gen, "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the study's run %s and train-gen with its settings wrote different weights (%d and %d bytes)", run, len(a), len(b))
	}
	if err := execute(t, "sample", "--gen", run, "--n", "2", "--out", filepath.Join(dir, "s.png")); err != nil {
		t.Errorf("sample --gen on the study's run: %v", err)
	}
}

// The second edition's measures: the corrupt arm trains on corrupted inputs
// and is compared with ce and dist2; every main run records its codebook
// size, patience and convergence, C_T and the prefix extraction at T = 1,
// greedy and at its last checkpoint; dist2 and corrupt runs say when they
// reach their ce run's best validation NLL.
func TestExperimentSecondEditionMeasures(t *testing.T) {
	dir := t.TempDir()
	o := tinyStudy(dir)
	o.Losses, o.Seeds, o.SweepSizes, o.Alphas, o.Perplexities = []string{"ce", "corrupt", "dist2"}, 1, nil, []float64{0.1}, []float64{4}
	o.Temperatures, o.Corrupt, o.Patience, o.ExtractionGiven, o.ExtractionGrids = []float64{1}, 0.2, 1, []int{1, 24}, 20
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	res := readResults(t, dir)
	if len(res.Runs) != 3 {
		t.Fatalf("%d runs: want ce, corrupt and dist2", len(res.Runs))
	}
	for _, r := range res.Runs {
		if r.CodebookSize != 64 || r.Patience != 1 || len(r.Extraction) != 2 || len(r.ExtractionGreedy) != 2 || len(r.ExtractionLast) != 2 {
			t.Errorf("%s: codebook %d, patience %d, extraction %v %v %v: want 64, 1 and two prefixes each", r.Name, r.CodebookSize, r.Patience, r.Extraction, r.ExtractionGreedy, r.ExtractionLast)
		}
		for given, share := range r.Extraction {
			if share < 0 || share > 1 || (given != "1" && given != "24") {
				t.Errorf("%s: extraction %q = %v", r.Name, given, share)
			}
		}
		if r.Converged && r.BestStep >= r.Steps {
			t.Errorf("%s: converged with its best at the budget's end (step %d of %d)", r.Name, r.BestStep, r.Steps)
		}
		if want := map[string]float64{"corrupt": 0.2}[r.Loss]; r.Corrupt != want {
			t.Errorf("%s: corrupt %v, want %v", r.Name, r.Corrupt, want)
		}
		if r.Loss != "ce" && r.StepsToCEBest != nil && *r.StepsToCEBest > r.Curve[len(r.Curve)-1].Step {
			t.Errorf("%s: reaches the ce best at step %d, after its curve ends", r.Name, *r.StepsToCEBest)
		}
	}
	got := map[[2]string]bool{}
	for _, c := range res.Comparisons {
		got[[2]string{c.A, c.B}] = true
	}
	for _, p := range [][2]string{{"dist2", "ce"}, {"dist2", "corrupt"}, {"corrupt", "ce"}} {
		if !got[p] {
			t.Errorf("no %s - %s comparison", p[0], p[1])
		}
	}
	_, info, err := generator.Load(filepath.Join(dir, "runs", "n40-corrupt-s1"))
	if err != nil || info.Train.Corrupt != 0.2 {
		t.Errorf("the corrupt run's config.json: corrupt %v (%v), want 0.2", info.Train, err)
	}
}

// A prefix longer than the grids is refused before any run trains.
func TestExperimentExtractionGivenChecked(t *testing.T) {
	dir := t.TempDir()
	o := tinyStudy(dir)
	o.ExtractionGiven = []int{49}
	wantUsage(t, "--extraction-given 49", runExperiment(context.Background(), &bytes.Buffer{}, o), "--extraction-given 49", "49 tokens")
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("runs were started")
	}
}

// The second edition's report: parts of other designs (here two budgets of
// one codebook, each named by --codebook-size) merge into one report whose
// comparisons are each part's own, keyed by codebook size and size; parts
// that name a run alike are refused, and so is an out that holds a study.
func TestExperimentReportMergesParts(t *testing.T) {
	a, b, clash, merged := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	ctx := context.Background()
	vq, _, err := loadVQ(smallVQ)
	if err != nil {
		t.Fatal(err)
	}
	k := vq.Config.CodebookSize
	sa, sb := tinyStudy(a), tinyStudy(b)
	sa.Alphas, sb.Alphas = []float64{0.1}, []float64{0.1}
	sa.CodebookSize, sb.CodebookSize = k, k
	sb.Sizes, sb.Losses, sb.Corrupt, sb.Seeds = []int{60}, []string{"ce", "corrupt", "dist2+corrupt"}, 0.2, 2
	for _, s := range []experimentOptions{sa, sb} {
		if err := runExperiment(ctx, &bytes.Buffer{}, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: merged, Data: "embedded"}, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	got := readResults(t, merged)
	ra, rb := readResults(t, a), readResults(t, b)
	if len(got.Parts) != 2 || got.Parts[0].CodebookSize != k || got.Parts[1].Config.Corrupt != 0.2 || got.Planned != ra.Planned+rb.Planned {
		t.Fatalf("parts %+v, %d planned: want the two designs at K = %d, %d planned", got.Parts, got.Planned, k, ra.Planned+rb.Planned)
	}
	if len(got.Runs) != len(ra.Runs)+len(rb.Runs) {
		t.Fatalf("%d runs: want %d + %d", len(got.Runs), len(ra.Runs), len(rb.Runs))
	}
	want := append(slices.Clone(ra.Comparisons), rb.Comparisons...)
	if !reflect.DeepEqual(got.Comparisons, want) {
		t.Errorf("merged comparisons differ from the parts' own:\n%+v\nwant\n%+v", got.Comparisons, want)
	}
	pairs := map[string]bool{}
	for _, c := range got.Comparisons {
		if c.CodebookSize != k {
			t.Errorf("comparison %+v: want codebook size %d", c, k)
		}
		pairs[fmt.Sprintf("%d %s-%s", c.Size, c.A, c.B)] = true
	}
	for _, p := range []string{"40 dist2-ce", "60 corrupt-ce", "60 dist2+corrupt-corrupt", "60 dist2+corrupt-ce"} {
		if !pairs[p] {
			t.Errorf("no comparison %s among %v", p, pairs)
		}
	}
	for _, r := range got.Runs {
		if !strings.HasPrefix(r.Name, fmt.Sprintf("k%d-", k)) || r.CodebookSize != k {
			t.Errorf("run %s of codebook size %d: want it named and sized by K = %d", r.Name, r.CodebookSize, k)
		}
		if corrupted := r.Loss == "corrupt" || r.Loss == "dist2+corrupt"; corrupted != (r.Corrupt == 0.2) {
			t.Errorf("run %s trained with corruption %v", r.Name, r.Corrupt)
		}
	}
	// Another design that plans a run of a's (a shard run with another
	// flag, say): refused, whatever the order.
	sc := tinyStudy(clash)
	sc.Alphas, sc.CodebookSize, sc.Samples = []float64{0.1}, k, 25
	sc.Losses = []string{"ce"}
	if err := runExperiment(ctx, &bytes.Buffer{}, sc); err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]string{{a, clash}, {clash, a}} {
		err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: t.TempDir(), Data: "embedded"}, in)
		if err == nil || !strings.Contains(err.Error(), "both plan run k") || !strings.Contains(err.Error(), "hold different studies") {
			t.Errorf("parts %v naming one run: %v", in, err)
		}
	}
	if err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: a, Data: "embedded"}, []string{a, b}); err == nil || !strings.Contains(err.Error(), "holds a study") {
		t.Errorf("a report of two parts into a study's folder: %v", err)
	}
	// A part with a run not finished: the report says which cell misses it.
	if err := os.Remove(filepath.Join(b, "runs", fmt.Sprintf("k%d-n60-corrupt-s2", k), "result.json")); err != nil {
		t.Fatal(err)
	}
	partial := t.TempDir()
	if err := runExperimentReport(ctx, &bytes.Buffer{}, experimentReportOptions{Out: partial, Data: "embedded"}, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(partial, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	say := fmt.Sprintf("%d of %d planned runs are done (missing: K = %d, 60 images, 1 of 6)", got.Planned-1, got.Planned, k)
	if !strings.Contains(string(md), say) {
		t.Errorf("report.md of a part missing a run does not say %q:\n%.400s", say, md)
	}
}
