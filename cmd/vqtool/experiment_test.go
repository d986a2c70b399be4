package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// A tiny study runs end to end, and a second run keeps the finished runs
// instead of training them again.
func TestExperimentResumes(t *testing.T) {
	out := t.TempDir()
	o := experimentOptions{
		lossOptions: lossOptions{Alpha: 0.1, Tau: "auto", Perplexity: 4, Distance: "l2", TopK: -1, Smoothing: 0.1},
		Data:        "embedded", VQ: "../../testdata/fmnist-small.vq", Sizes: "64", Losses: "ce,dist2", Seeds: 1, Out: out,
		GenSteps: 3, Batch: 16, Dim: 16, Layers: 1, Heads: 2, MLP: 32, Samples: 20, TopK: 5, CFG: 1.5, ClassifierSteps: 5,
	}
	never := func(string) bool { return false }
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o, never); err != nil {
		t.Fatal(err)
	}
	var res struct{ Runs []runResult }
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Runs) != 2 || res.Runs[1].Loss != "dist2" || res.Runs[0].Steps != 3 {
		t.Fatalf("results: %+v, %v", res.Runs, err)
	}
	for _, f := range []string{"report.html", "report.md", "fld.png", "nll.png", "runs/n64-ce-s1/samples-t1.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	done := filepath.Join(out, "runs", "n64-ce-s1", "result.json")
	before, _ := os.Stat(done)
	if err := runExperiment(context.Background(), &bytes.Buffer{}, o, never); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(done)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("a finished run was trained again")
	}
}
