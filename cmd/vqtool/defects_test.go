package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/runlock"
)

// smallVQ is a copy of the committed small tokenizer (testdata/fmnist-small.vq)
// made by TestMain: commands cache encoded splits in a tokenizer's folder, and
// tests never write into the checkout.
var smallVQ string

func TestMain(m *testing.M) {
	if os.Getenv("VQTOOL_TEST_AS_MAIN") != "" { // a job started by a test of experiment --jobs
		main()
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "vqtool-test-")
	if err != nil {
		panic(err)
	}
	smallVQ = filepath.Join(dir, "fmnist-small.vq")
	os.MkdirAll(smallVQ, 0o755)
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fmnist-small.vq", f))
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(smallVQ, f), b, 0o644); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wantUsage checks that err is a usage error whose text holds every part.
func wantUsage(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("%s: %v, want a usage error", what, err)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not say %q", what, err, p)
		}
	}
}

// A --channels or --size that disagrees with the model is an error naming
// both values, not images reshaped until they fit.
func TestShapeFlagsMustMatchTheModel(t *testing.T) {
	dir := t.TempDir()
	eo := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 20, Channels: 3}, Model: smallVQ, Out: filepath.Join(dir, "e.npy"), Shard: "1/1"}
	wantUsage(t, "encode --channels 3", runEncode(context.Background(), &bytes.Buffer{}, eo, nil), "--channels 3", "1-channel")
	if _, err := os.Stat(eo.Out); err == nil {
		t.Error("encode wrote its output after the error")
	}
	ro := reconstructOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Size: 32}, Model: smallVQ, Out: filepath.Join(dir, "r.png"), N: 8, JSON: true}
	wantUsage(t, "reconstruct --size 32", runReconstruct(context.Background(), &bytes.Buffer{}, ro), "--size 32", "28x28")
	ro.Size, ro.Channels = 28, 1 // the model's own values are fine
	if err := runReconstruct(context.Background(), &bytes.Buffer{}, ro); err != nil {
		t.Errorf("reconstruct with the model's own size and channels: %v", err)
	}
}

// execute runs the vqtool command line args as main does, without exiting.
func execute(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCommand()
	root.SetArgs(append(args, "--quiet"))
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	return root.ExecuteContext(context.Background())
}

// --resume keeps the settings a run was started with: a flag given again
// with another value is an error naming it, its saved value and the given
// one; flags left out take the saved values, not the defaults.
func TestResumeKeepsTheRunsSettings(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	base := []string{"train-gen", "--vq", smallVQ, "--data", "embedded", "--limit", "64", "--out", gen,
		"--batch", "8", "--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "20", "--eval-every", "2", "--save-every", "2"}
	if err := execute(t, append(base, "--loss", "dist2", "--tau", "0.5", "--steps", "2")...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ flag, value, saved string }{
		{"--loss", "ce", "dist2"}, {"--tau", "auto", "0.5"}, {"--steps", "9", "2"}, {"--vq", "elsewhere.vq", smallVQ}, {"--limit", "32", "64"},
	} {
		err := execute(t, "train-gen", "--resume", "--out", gen, c.flag, c.value)
		wantUsage(t, "train-gen --resume "+c.flag+" "+c.value, err, c.flag+" "+c.value, c.flag+" "+c.saved)
	}
	// Resumed with no settings, the run keeps tau 0.5 (the default is auto).
	if err := execute(t, "train-gen", "--resume", "--out", gen); err != nil {
		t.Fatal(err)
	}
	info, err := generator.ReadInfo(gen)
	if err != nil || info.Loss.Kind != "dist2" || info.Loss.Tau != 0.5 || info.Loss.TauAuto || info.Step != 2 {
		t.Errorf("after resume: %+v, %v; want dist2 at tau 0.5, step 2", info.Loss, err)
	}

	vq := filepath.Join(dir, "vq")
	vqBase := []string{"train-vq", "--data", "embedded", "--limit", "64", "--out", vq, "--steps", "2", "--batch", "16",
		"--codebook-size", "16", "--code-dim", "4", "--hidden", "16", "--res-blocks", "1", "--eval-split", "none", "--save-every", "1"}
	if err := execute(t, vqBase...); err != nil {
		t.Fatal(err)
	}
	err = execute(t, "train-vq", "--resume", "--out", vq, "--data", "fashion-mnist")
	wantUsage(t, "train-vq --resume --data fashion-mnist", err, "--data fashion-mnist", "--data embedded")
	err = execute(t, "train-vq", "--resume", "--out", vq, "--codebook-size", "32")
	wantUsage(t, "train-vq --resume --codebook-size 32", err, "--codebook-size 32", "--codebook-size 16")
	if err := execute(t, "train-vq", "--resume", "--out", vq); err != nil {
		t.Errorf("train-vq --resume with the saved settings: %v", err)
	}
}

// A folder that holds a model is not overwritten without --force; a folder
// another live run holds is refused, naming the holder.
func TestOutputsAreNotClobbered(t *testing.T) {
	dir := t.TempDir()
	vq := filepath.Join(dir, "ow.vq")
	for _, f := range []string{"config.json", "model.safetensors"} { // a model, as testdata ships one: no resume state
		b, _ := os.ReadFile(filepath.Join(smallVQ, f))
		os.MkdirAll(vq, 0o755)
		os.WriteFile(filepath.Join(vq, f), b, 0o644)
	}
	args := []string{"train-vq", "--data", "embedded", "--limit", "32", "--out", vq, "--steps", "1", "--batch", "16",
		"--codebook-size", "16", "--code-dim", "4", "--hidden", "16", "--res-blocks", "1", "--eval-split", "none"}
	wantUsage(t, "train-vq over a model", execute(t, args...), vq, "--force")
	if b, _ := os.ReadFile(filepath.Join(vq, "model.safetensors")); len(b) < 100000 {
		t.Error("the model was overwritten")
	}
	if err := execute(t, append(args, "--force")...); err != nil {
		t.Errorf("--force: %v", err)
	}

	// A live holder: this very process, as a second run would see it.
	busy := filepath.Join(dir, "busy.vq")
	release, _, err := runlock.Acquire(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	err = execute(t, append(args[:len(args)-12], "--out", busy, "--steps", "1", "--batch", "16", "--codebook-size", "16", "--code-dim", "4",
		"--hidden", "16", "--res-blocks", "1", "--eval-split", "none")...)
	if err == nil || !strings.Contains(err.Error(), busy) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Errorf("a second writer: %v, want an error naming the folder and the holder's pid", err)
	}
}

// Negative counts and periods are usage errors, as their siblings are.
func TestNegativeValuesAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	gen := []string{"train-gen", "--vq", smallVQ, "--data", "embedded", "--out", filepath.Join(dir, "g"), "--steps", "1"}
	vq := []string{"train-vq", "--data", "embedded", "--out", filepath.Join(dir, "v"), "--steps", "1"}
	for _, c := range [][]string{
		append(gen, "--limit", "-5"), append(gen, "--target-topk", "-5"), append(gen, "--topk", "-7"), append(gen, "--save-every", "0"), append(gen, "--eval-every", "-1"),
		append(vq, "--epochs", "-1"), append(vq, "--save-every", "-1"), append(vq, "--grid-every", "-1"), append(vq, "--limit", "-2"),
	} {
		flag := strings.Join(c[len(c)-2:], " ") // named with its value, alone
		if flag == "--topk -7" {
			flag = "--target-topk -7" // the old name is a hidden alias of the new one
		}
		wantUsage(t, strings.Join(c[len(c)-2:], " "), execute(t, c...), flag)
	}
	if _, err := os.Stat(filepath.Join(dir, "g")); err == nil {
		t.Error("train-gen left an --out folder after a usage error")
	}
	// Mistakes found once the tokenizer, the data and the loss are loaded
	// leave no folder either.
	for _, c := range [][]string{append(gen, "--loss", "bogus"), append(gen, "--heads", "5"), append(gen, "--batch", "0")} {
		if err := execute(t, c...); err == nil {
			t.Errorf("%s: no error", strings.Join(c[len(c)-2:], " "))
		}
		if _, err := os.Stat(filepath.Join(dir, "g")); err == nil {
			t.Errorf("%s: train-gen left an empty --out folder", strings.Join(c[len(c)-2:], " "))
			os.Remove(filepath.Join(dir, "g"))
		}
	}
}

func TestVersionFlag(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs([]string{"--version"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil || !strings.HasPrefix(out.String(), "vqtool ") {
		t.Errorf("--version: %q, %v", out.String(), err)
	}
}

// Mistakes in the command line exit 2 (usage), as their siblings do.
func TestUsageMistakesExit2(t *testing.T) {
	for _, args := range [][]string{
		{"data", "info", "--split", "banana"},
		{"data", "info", "--data", "nosuchset"},
		{"data", "info", "--channels", "2"},
		{"frobnicate"},
		{"decode", "--model", smallVQ},
		{"train-vq", "--no-such-flag"},
	} {
		err := execute(t, args...)
		if err == nil || !isUsage(err) {
			t.Errorf("vqtool %s: %v, want a usage error (exit 2)", strings.Join(args, " "), err)
		}
	}
	if isUsage(errors.New("imageio: read x.png: unexpected EOF")) {
		t.Error("a failure of the work counted as a usage error")
	}
}

// A token outside the codebook in --tokens or --held-out is an error naming
// the file.
func TestTokenRangeErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.npy")
	codes := make([]int32, 4*49)
	codes[60] = 999
	if err := imageio.SaveTokens(bad, &imageio.Tokens{Codes: codes, N: 4, H: 7, W: 7}); err != nil {
		t.Fatal(err)
	}
	err := execute(t, "train-gen", "--vq", smallVQ, "--tokens", bad, "--out", filepath.Join(dir, "g"), "--steps", "1", "--batch", "2")
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "999") {
		t.Errorf("an out-of-range token: %v, want an error naming %s", err, bad)
	}
}
