package main

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

// tinyGenArgs are train-gen's flags for a one-step generator on 16 images.
var tinyGenArgs = []string{"--data", "embedded", "--limit", "16", "--steps", "1", "--batch", "4",
	"--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "4"}

// otherTokenizer copies the tokenizer src to dst with one weight's sign
// flipped: the same codebook size and grid, other weights.
func otherTokenizer(t *testing.T, src, dst string) {
	t.Helper()
	copyDir(t, src, dst)
	file := filepath.Join(dst, nn.ModelFile)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x80 // the sign of the last float32
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A generator records its tokenizer's fingerprint and refuses another
// tokenizer of the same codebook size and grid: one of the same name found
// from another folder, or one given with --vq; a generator from before
// fingerprints samples with a note.
func TestGeneratorChecksItsTokenizer(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	copyDir(t, smallVQ, "tok.vq")
	gen := filepath.Join(root, "gen")
	if err := execute(t, append([]string{"train-gen", "--vq", "tok.vq", "--out", gen}, tinyGenArgs...)...); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(gen, nn.ConfigFile)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"vq_weights": "sha256:`)) {
		t.Fatalf("%s records no vq_weights:\n%s", cfg, b)
	}
	// The older form, the path as typed where train-gen ran, opened from a
	// folder that holds another tokenizer of that name.
	old := bytes.Replace(b, []byte(`"vq": "../tok.vq"`), []byte(`"vq": "tok.vq"`), 1)
	if bytes.Equal(old, b) {
		t.Fatalf("%s does not hold \"vq\": \"../tok.vq\":\n%s", cfg, b)
	}
	os.WriteFile(cfg, old, 0o644)
	elsewhere := filepath.Join(root, "elsewhere")
	otherTokenizer(t, smallVQ, filepath.Join(elsewhere, "tok.vq"))
	t.Chdir(elsewhere)
	err = execute(t, "sample", "--gen", gen, "--n", "2", "--out", "s.png")
	for _, part := range []string{"tok.vq", gen, "--vq", "not the one"} {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("sample with another tokenizer of the same name: %v, want an error naming %s", err, part)
		}
	}
	if _, serr := os.Stat("s.png"); serr == nil {
		t.Error("sample wrote s.png with the wrong tokenizer")
	}
	err = execute(t, "sample", "--gen", gen, "--vq", filepath.Join(elsewhere, "tok.vq"), "--n", "2", "--out", "s.png")
	if err == nil || !strings.Contains(err.Error(), "not the one") {
		t.Errorf("sample --vq another tokenizer: %v, want an error", err)
	}
	if err := execute(t, "sample", "--gen", gen, "--vq", filepath.Join(root, "tok.vq"), "--n", "2", "--out", "s.png"); err != nil {
		t.Errorf("sample --vq the right tokenizer: %v", err)
	}

	// A generator without a fingerprint still samples, with a note.
	os.WriteFile(cfg, bytes.Replace(old, []byte(`"vq_weights"`), []byte(`"unknown_key"`), 1), 0o644)
	log, err := executeLogged(t, false, "sample", "--gen", gen, "--n", "2", "--out", "s.png")
	if err != nil || !strings.Contains(log, "no fingerprint") {
		t.Errorf("a generator without a fingerprint: %v, stderr %q: want a note and samples", err, log)
	}
}

// classFolders writes a folder of class folders, two small images each.
func classFolders(t *testing.T, dir string, classes ...string) {
	t.Helper()
	for c, name := range classes {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		for i := range 2 {
			img := image.NewGray(image.Rect(0, 0, 28, 28))
			for p := range img.Pix {
				img.Pix[p] = uint8(40*c + 7*i + p)
			}
			if err := imageio.WritePNG(filepath.Join(dir, name, fmt.Sprintf("%d.png", i)), img); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Class names travel with tokens: held-out tokens of a test folder that
// lacks one class folder, whose labels name other classes than the training
// tokens', are refused by name; tokens made by another tokenizer than --vq
// are refused too.
func TestTokensCarryClassesAndTokenizer(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train"), filepath.Join(dir, "test")
	classFolders(t, train, "cat", "dog", "zebra")
	classFolders(t, test, "cat", "zebra")
	for _, set := range []string{train, test} {
		if err := execute(t, "encode", "--vq", smallVQ, "--data", set, "--out", set+".npy"); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := imageio.LoadTokens(test + ".npy")
	if err != nil || !slices.Equal(tok.Classes, []string{"cat", "zebra"}) {
		t.Fatalf("%s: classes %q (%v): want cat, zebra", test+".npy", tok.Classes, err)
	}
	args := []string{"train-gen", "--vq", smallVQ, "--tokens", train + ".npy", "--held-out", test + ".npy", "--out", filepath.Join(dir, "gen"),
		"--steps", "1", "--batch", "2", "--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32"}
	wantUsage(t, "train-gen with a held-out set of other classes", execute(t, args...), "zebra", "dog", test+".npy")
	if _, err := os.Stat(filepath.Join(dir, "gen")); err == nil {
		t.Error("a refused train-gen left its run folder")
	}

	other := filepath.Join(dir, "other.vq")
	otherTokenizer(t, smallVQ, other)
	if err := execute(t, "encode", "--vq", other, "--data", train, "--out", filepath.Join(dir, "other.npy")); err != nil {
		t.Fatal(err)
	}
	args[4] = filepath.Join(dir, "other.npy")
	args[6] = args[4]
	err = execute(t, args...)
	if err == nil || !strings.Contains(err.Error(), "other.npy") || !strings.Contains(err.Error(), "--vq") {
		t.Errorf("train-gen on tokens of another tokenizer: %v, want an error naming the file and --vq", err)
	}
}
