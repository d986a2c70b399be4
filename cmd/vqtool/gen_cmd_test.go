package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
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
	a, err := imageio.TokenCache(filepath.Join(model, nn.ModelFile), "train", tokenKey(dataOptions{Data: "embedded", Split: "train", Size: 28, Channels: 1, Fit: "crop"}), dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := imageio.TokenCache(filepath.Join(model, nn.ModelFile), "train", tokenKey(dataOptions{Data: "embedded", Split: "train", Size: 28, Channels: 1, Fit: "pad"}), dir)
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

// train-gen --init starts from a trained generator's weights: with a
// learning rate too small to move a float32 weight, the new run's held-out
// NLL is the start's to the bit; config.json names the start and its
// weights' digest; an architecture flag that disagrees is refused.
func TestTrainGenInit(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.vq")
	if _, err := runTrainVQ(context.Background(), &bytes.Buffer{}, tinyTrainOptions(model)); err != nil {
		t.Fatal(err)
	}
	opts := func(out string) trainGenOptions {
		return trainGenOptions{
			dataOptions: dataOptions{Data: "embedded", Split: "train", Limit: 100},
			lossOptions: lossOptions{Loss: "ce", Alpha: 0.1, Tau: "auto", Perplexity: 4, Distance: "l2", TopK: -1, Smoothing: 0.1},
			runOptions:  runOptions{Out: out, Steps: 6, Batch: 8, SaveEvery: 3, JSON: true},
			VQ:          model, EvalLimit: 50, LR: 1e-3, Warmup: 2, Decay: 0.05, Clip: 1,
			CondDrop: 0.1, Seed: 1, Dim: 16, Layers: 1, Heads: 2, MLP: 32, EvalEvery: 0, SampleCFG: 2,
		}
	}
	train := func(o trainGenOptions) (genResult, error) {
		var out bytes.Buffer
		if _, err := runTrainGen(context.Background(), &out, o); err != nil {
			return genResult{}, err
		}
		var res genResult
		err := json.Unmarshal(out.Bytes(), &res)
		return res, err
	}
	start := filepath.Join(dir, "start")
	a, err := train(opts(start))
	if err != nil {
		t.Fatal(err)
	}
	o := opts(filepath.Join(dir, "tuned"))
	o.Init, o.Steps, o.LR, o.Warmup, o.Decay = start, 1, 1e-30, 0, 0
	o.Dim, o.Layers, o.Heads, o.MLP = 64, 3, 4, 128 // not given: the start's are taken
	o.Loss = "dist2"
	b, err := train(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.HeldOut == nil || b.HeldOut == nil || a.HeldOut.NLL != b.HeldOut.NLL {
		t.Fatalf("held-out after --init: %+v, the start's %+v", b.HeldOut, a.HeldOut)
	}
	info, err := generator.ReadInfo(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(start, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if info.Init == nil || info.Init.Weights != "sha256:"+hex.EncodeToString(sum[:]) || info.Init.Step != 6 ||
		filepath.Clean(filepath.Join(o.Out, info.Init.Path)) != filepath.Clean(start) {
		t.Fatalf("config.json's init: %+v", info.Init)
	}
	if info.Config.Dim != 16 || info.Flags["dim"] != "16" {
		t.Errorf("dim %d, flag %q: want the start's 16", info.Config.Dim, info.Flags["dim"])
	}
	o.Out, o.given = filepath.Join(dir, "wrong"), map[string]int{"dim": 32}
	_, err = train(o)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "dim 32") || !strings.Contains(err.Error(), "dim 16") {
		t.Fatalf("--dim 32 against a start of width 16: %v, want a usage error naming both", err)
	}
}
