package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
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

// folderFiles returns the names and contents of the files in dir.
func folderFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// sample --images DIR/ replaces the folder whole: a smaller --n leaves only
// its images; a write killed midway or stopped by a full disk leaves the
// previous images, all of them and only them; a folder of other files is
// refused. --images - is the .npz on standard output; --tokens -, several
// files, is refused.
func TestSampleImagesFolderIsOneCommit(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if err := execute(t, append([]string{"train-gen", "--vq", smallVQ, "--out", gen}, tinyGenArgs...)...); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	pngs := filepath.Join(out, "pngs")
	sample := func(n int) error {
		return execute(t, "sample", "--gen", gen, "--n", strconv.Itoa(n), "--out", filepath.Join(dir, "grid.png"), "--images", pngs+"/", "--seed", strconv.Itoa(n))
	}
	if err := sample(6); err != nil {
		t.Fatal(err)
	}
	if err := sample(2); err != nil {
		t.Fatal(err)
	}
	before := folderFiles(t, pngs)
	if len(before) != 2 {
		t.Fatalf("--n 6 then --n 2: %d files in %s, want 2", len(before), pngs)
	}
	for nth := 1; nth <= 5; nth += 2 {
		killed := filepath.Join(dir, fmt.Sprintf("killed%d", nth))
		restore := atomicfile.Fault(nth, -1, func() {
			if err := atomicfile.CopyTree(killed, out); err != nil {
				t.Fatal(err)
			}
		})
		err := sample(5)
		restore()
		if err == nil {
			t.Fatalf("file %d failed: no error", nth)
		}
		for what, d := range map[string]string{"killed": filepath.Join(killed, "pngs"), "failed": pngs} {
			if got := folderFiles(t, d); !maps.Equal(got, before) {
				t.Errorf("%s at file %d of --n 5: %s holds %d files, not the 2 of the last complete write", what, nth, d, len(got))
			}
		}
	}
	restore := atomicfile.Fault(0, 2000, nil)
	err := sample(5)
	restore()
	if err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("a full disk: %v", err)
	}
	if got := folderFiles(t, pngs); !maps.Equal(got, before) {
		t.Errorf("a full disk: %s holds %d files, not the 2 of the last complete write", pngs, len(got))
	}
	if stale, _ := filepath.Glob(filepath.Join(out, ".pngs*")); len(stale) != 0 {
		t.Errorf("a failed write left %v", stale)
	}
	os.WriteFile(filepath.Join(pngs, "notes.txt"), []byte("mine"), 0o644)
	if err := sample(2); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("a folder of other files: %v, want an error naming notes.txt", err)
	}

	var npz bytes.Buffer
	old := dataOut
	dataOut = &npz
	err = execute(t, "sample", "--gen", gen, "--n", "2", "--out", filepath.Join(dir, "grid.png"), "--images", "-")
	dataOut = old
	if err != nil || !bytes.HasPrefix(npz.Bytes(), []byte("PK")) {
		t.Errorf("--images -: %v, standard output starts %q: want an .npz", err, npz.Bytes()[:min(4, npz.Len())])
	}
	t.Chdir(dir)
	wantUsage(t, "--tokens -", execute(t, "sample", "--gen", gen, "--n", "2", "--tokens", "-"), "--tokens -", "several files")
	wantUsage(t, "--images - --out -", execute(t, "sample", "--gen", gen, "--n", "2", "--images", "-", "--out", "-"), "standard output")
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a file named "-" was written`)
	}
}

// failWriter fails every write as a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// A run whose first save is cut short after resume.safetensors, before
// config.json (a full disk), continues with --resume from the resume file;
// a resume file from before it held a copy of config.json gets an error
// that names the file to delete.
func TestRunFolderWithoutItsCommitPoint(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	args := []string{"train-gen", "--vq", smallVQ, "--out", gen, "--data", "embedded", "--limit", "16", "--steps", "4", "--save-every", "2", "--batch", "4",
		"--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "4"}
	atomicfile.Hook = func(path string, w io.Writer) io.Writer {
		if filepath.Base(path) == nn.ModelFile {
			return failWriter{}
		}
		return w
	}
	err := execute(t, args...)
	atomicfile.Hook = nil
	if err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("a full disk at the first save: %v, want an error that says --resume", err)
	}
	if _, err := os.Stat(filepath.Join(gen, nn.ConfigFile)); err == nil {
		t.Fatal("config.json was written")
	}
	wantUsage(t, "train-gen again", execute(t, args...), "--resume")
	resumeFile := filepath.Join(gen, nn.ResumeFile)
	saved, _ := os.ReadFile(resumeFile)
	if err := execute(t, append(args, "--resume")...); err != nil {
		t.Fatalf("--resume from resume.safetensors alone: %v", err)
	}
	info, err := generator.ReadInfo(gen)
	if err != nil || info.Step != 4 {
		t.Errorf("after --resume: step %d (%v), want 4", info.Step, err)
	}

	// A resume file of an older vqtool, without config.json's copy.
	os.Remove(filepath.Join(gen, nn.ConfigFile))
	os.Remove(filepath.Join(gen, nn.ModelFile))
	os.WriteFile(resumeFile, saved, 0o644)
	c, err := nn.LoadCheckpoint(resumeFile)
	if err != nil {
		t.Fatal(err)
	}
	delete(c.Meta, "info")
	if err := c.Save(resumeFile); err != nil {
		t.Fatal(err)
	}
	err = execute(t, append(args, "--resume")...)
	if err == nil || !strings.Contains(err.Error(), "delete "+resumeFile) {
		t.Errorf("an older resume file without config.json: %v, want an error that says to delete %s", err, resumeFile)
	}
}

// An encode killed midway over an earlier one, as a token file or a
// LlamaGen folder, is refused by train-gen --tokens rather than trained on.
func TestTrainGenRefusesAnEncodeKilledMidway(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.vq")
	otherTokenizer(t, smallVQ, other)
	for _, format := range []string{"npy", "llamagen"} {
		out := filepath.Join(dir, "tokens-"+format)
		if format == "npy" {
			out += ".npy"
		}
		encode := func(vq string) error {
			return execute(t, "encode", "--vq", vq, "--data", "embedded", "--split", "test", "--limit", "12", "--format", format, "--out", out)
		}
		if err := encode(smallVQ); err != nil {
			t.Fatal(err)
		}
		restore := atomicfile.Fault(3, -1, nil) // the pending manifest, then two files
		err := encode(other)
		restore()
		if err == nil {
			t.Fatalf("%s: the third file failed: no error", format)
		}
		err = execute(t, "train-gen", "--vq", smallVQ, "--tokens", out, "--out", filepath.Join(dir, "gen-"+format), "--steps", "1", "--batch", "2",
			"--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32")
		if !errors.Is(err, imageio.ErrIncomplete) || !strings.Contains(err.Error(), filepath.Base(out)) {
			t.Errorf("%s: train-gen on an encode killed midway: %v, want an ErrIncomplete naming %s", format, err, out)
		}
	}
}
