package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

func TestTrainGenAndSample(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.vq")
	if _, err := runTrainVQ(context.Background(), &bytes.Buffer{}, tinyTrainOptions(model)); err != nil {
		t.Fatal(err)
	}
	for _, loss := range []string{"dist2", "ce", "smooth"} {
		gen := filepath.Join(dir, "gen-"+loss)
		o := trainGenOptions{
			dataOptions: dataOptions{Data: "embedded", Split: "train", Limit: 100},
			lossOptions: lossOptions{Loss: loss, Alpha: 0.1, Tau: "auto", Perplexity: 4, Distance: "l2", TopK: -1, Smoothing: 0.1},
			runOptions:  runOptions{Out: gen, Steps: 6, Batch: 8, SaveEvery: 3, JSON: true},
			VQ:          model, EvalLimit: 50, LR: 1e-3, Warmup: 2, Decay: 0.05, Clip: 1,
			CondDrop: 0.1, Seed: 1, Dim: 16, Layers: 1, Heads: 2, MLP: 32, EvalEvery: 3, SampleCFG: 2,
		}
		var out bytes.Buffer
		if _, err := runTrainGen(context.Background(), &out, o); err != nil {
			t.Fatal(err)
		}
		var res genResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res.Steps != 6 || res.HeldOut == nil || res.HeldOut.Tokens != 50*49 || res.Loss.Kind != loss {
			t.Errorf("%s: %+v", loss, res)
		}
		if loss == "dist2" && (!res.Loss.TauAuto || res.Loss.Tau <= 0) {
			t.Errorf("dist2: tau %v auto %v", res.Loss.Tau, res.Loss.TauAuto)
		}
	}
	// The three runs encoded each split once, into the tokenizer's folder.
	cached, err := filepath.Glob(filepath.Join(model, "tokens", "*-????????????.npy")) // not NAME.labels.npy
	if err != nil || len(cached) != 2 {
		t.Fatalf("token cache %v (%v): want one file per split", cached, err)
	}
	a, err := tokenCache(model, dataOptions{Data: "embedded", Split: "train", Size: 28, Channels: 1, Fit: "crop"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tokenCache(model, dataOptions{Data: "embedded", Split: "train", Size: 28, Channels: 1, Fit: "pad"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || filepath.Dir(a) != filepath.Join(model, "tokens") {
		t.Errorf("caches for two fits: %s and %s", a, b)
	}
	gen := filepath.Join(dir, "gen-dist2")
	tokens := filepath.Join(dir, "s.npy")
	so := sampleOptions{Gen: gen, N: 20, Classes: "all", CFG: 2, Temperature: 1, TopP: 0.9, Seed: 3,
		Out: filepath.Join(dir, "s.png"), Tokens: tokens, Scale: 1}
	if err := runSample(context.Background(), &bytes.Buffer{}, so); err != nil {
		t.Fatal(err)
	}
	tok, err := imageio.LoadTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	if tok.N != 20 || tok.Labels[19] != 9 || tok.Labels[0] != 0 {
		t.Errorf("samples: N %d labels %v", tok.N, tok.Labels)
	}
	so.Classes, so.Class = "", 12
	if err := runSample(context.Background(), &bytes.Buffer{}, so); err == nil {
		t.Error("--class 12 of 10: no error")
	}
}
