package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

func tinyTrainOptions(out string) trainVQOptions {
	return trainVQOptions{
		dataOptions: dataOptions{Data: "embedded", Split: "train", Limit: 64},
		runOptions:  runOptions{Out: out, Steps: 6, Batch: 16, SaveEvery: 3, JSON: true},
		LR:          1e-3, Warmup: 2, CodebookSize: 16, CodeDim: 4, Hidden: 16,
		ResBlocks: 1, Downsample: 4, Beta: 0.25, EMA: true, Decay: 0.99, Restart: 1, Seed: 1,
		GridEvery: 3, EvalSplit: "test",
	}
}

func TestTrainEncodeDecodeReconstruct(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.vq")
	var out bytes.Buffer
	if _, err := runTrainVQ(context.Background(), &out, tinyTrainOptions(model)); err != nil {
		t.Fatal(err)
	}
	var res vqResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err, out.String())
	}
	if res.Steps != 6 || res.Test == nil || res.Test.Total != 1000*49 {
		t.Errorf("train-vq result %+v", res)
	}
	for _, f := range []string{"config.json", "model.safetensors", "resume.safetensors", "recon.png", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(model, f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	// A second run into the same folder must not overwrite it silently.
	_, err := runTrainVQ(context.Background(), &bytes.Buffer{}, tinyTrainOptions(model))
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("second run: %v, want a usage error suggesting --resume", err)
	}

	tokens := filepath.Join(dir, "tok.npy")
	eo := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 30}, Model: model, Out: tokens, Shard: "2/3"}
	if err := runEncode(context.Background(), &bytes.Buffer{}, eo, nil); err != nil {
		t.Fatal(err)
	}
	tok, err := imageio.LoadTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	if tok.N != 10 || tok.H != 7 || len(tok.Labels) != 10 {
		t.Errorf("tokens N %d H %d labels %d, want 10 grids of 7x7 with labels", tok.N, tok.H, len(tok.Labels))
	}
	full, _ := imageio.Open("embedded", imageio.Options{Split: "test", Limit: 30})
	if tok.Labels[0] != full.Labels[1] || tok.Labels[1] != full.Labels[4] {
		t.Errorf("shard 2/3 labels %v: want images 1, 4, 7, ...", tok.Labels[:2])
	}

	png := filepath.Join(dir, "dec.png")
	if err := runDecode(context.Background(), &bytes.Buffer{}, decodeOptions{Model: model, Out: png, N: 4, Cols: 2, Scale: 1}, tokens); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	ro := reconstructOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 50}, Model: model, Out: filepath.Join(dir, "r.png"), N: 4, JSON: true}
	if err := runReconstruct(context.Background(), &out, ro); err != nil {
		t.Fatal(err)
	}
	var rr reconResult
	json.Unmarshal(out.Bytes(), &rr)
	if rr.Images != 50 || !(rr.PSNR > 0) || rr.Used < 1 || rr.CodebookSize != 16 {
		t.Errorf("reconstruct %+v", rr)
	}
	out.Reset()
	ko := kernelOptions{lossOptions: lossOptions{Tau: "auto", Perplexity: 4, Distance: "l2"}, Model: model, Token: 3, JSON: true}
	if err := runKernel(context.Background(), &out, ko); err != nil {
		t.Fatal(err)
	}
	var kr kernelResult
	json.Unmarshal(out.Bytes(), &kr)
	if len(kr.P) != 16 || kr.Distance != "l2" {
		t.Errorf("kernel over the codebook: %+v", kr)
	}
	if err := runEncode(context.Background(), &bytes.Buffer{}, encodeOptions{Model: model, Out: tokens, Shard: "4/3"}, nil); err == nil {
		t.Error("--shard 4/3: no error")
	}
	if err := runDecode(context.Background(), &bytes.Buffer{}, decodeOptions{Model: dir, Out: png, N: 1, Cols: 1, Scale: 1}, tokens); err == nil ||
		!strings.Contains(err.Error(), "not a VQ-VAE checkpoint") {
		t.Errorf("decode with a folder that is no model: %v", err)
	}
}
