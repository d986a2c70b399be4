package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/study"
)

// tinyStudy is a study of the built-in data sized to run in seconds: one
// size, two losses, two seeds and a sweep of two alphas.
func tinyStudy(out string) experimentOptions {
	o := experimentOptions{Data: "embedded", VQ: smallVQ, Out: out,
		Shard: "1/1", Jobs: 1, ClassifierSteps: 5}
	o.Config = study.DefaultConfig()
	o.Sizes, o.Losses, o.Alphas, o.Perplexities, o.Temperatures, o.SweepSizes = []int{40}, []string{"ce", "dist2"}, []float64{0.1, 1}, []float64{4}, []float64{1}, []int{40}
	o.Seeds, o.ValSize, o.Dim, o.Layers, o.Heads, o.MLP, o.Batch = 2, 100, 16, 1, 2, 32, 16
	o.Epochs, o.MinSteps, o.MaxSteps, o.EvalEvery, o.ValLimit, o.Samples, o.TopK = 1, 4, 6, 2, 50, 20, 5
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
		w.TrainSeconds, g.TrainSeconds = 0, 0
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
