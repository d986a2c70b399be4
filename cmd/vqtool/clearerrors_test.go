package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
)

// writeIDXPair writes n 28 x 28 images and their labels as IDX files in dir
// and returns the --data value IMAGES,LABELS.
func writeIDXPair(t *testing.T, dir string, labels []byte) string {
	t.Helper()
	n := len(labels)
	head := func(dims ...uint32) []byte {
		b := []byte{0, 0, 8, byte(len(dims))}
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, d)
		}
		return b
	}
	pix := make([]byte, n*28*28)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	images, lab := filepath.Join(dir, "images.idx"), filepath.Join(dir, "labels.idx")
	if err := os.WriteFile(images, append(head(uint32(n), 28, 28), pix...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lab, append(head(uint32(n)), labels...), 0o644); err != nil {
		t.Fatal(err)
	}
	return images + "," + lab
}

// Command functions called with values the flag check refuses return an
// error, not a panic.
func TestNoPanicOnCountsBelowOne(t *testing.T) {
	dir := t.TempDir()
	ro := reconstructOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 8}, Model: smallVQ, Out: filepath.Join(dir, "r.png"), N: -1}
	wantUsage(t, "reconstruct -n -1", runReconstruct(context.Background(), &bytes.Buffer{}, ro), "--n -1", "at least 1")
	for _, batch := range []int{0, -1} {
		o := trainClassifierOptions{dataOptions: dataOptions{Data: "embedded", Limit: 100}, Out: filepath.Join(dir, "c"), Steps: 1, Batch: batch, LR: 1e-3, Seed: 1}
		err := runTrainClassifier(context.Background(), &bytes.Buffer{}, o)
		if err == nil || !strings.Contains(err.Error(), "batch") {
			t.Errorf("train-classifier --batch %d: %v, want an error about the batch", batch, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Error("train-classifier wrote a classifier after the error")
	}
}

// eval with a data set smaller than the batch of the classifier it would
// train says what is needed: more images, or a classifier of its own.
func TestEvalOnFourImagesSaysWhatIsNeeded(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	m, err := generator.New(generator.Config{CodebookSize: 64, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 16, Layers: 1, Heads: 2, MLP: 32},
		rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(gen, generator.Info{VQ: smallVQ}); err != nil {
		t.Fatal(err)
	}
	data := writeIDXPair(t, dir, []byte{0, 1, 0, 1})
	o := evalOptions{dataOptions: dataOptions{Data: data}, Gen: gen, Classifier: filepath.Join(dir, "lenet"), N: 10, CFG: 1, Temperature: 1, TopP: 1, Seed: 1}
	_, err = runEval(context.Background(), &bytes.Buffer{}, o)
	wantUsage(t, "eval on 4 images", err, "4 labelled training images", "batches of 64", "more images", "--classifier", "train-classifier --batch 4")
}

// Errors name what they mean: a range of scalars too fine to count, a
// number beyond float64, a codebook of one code, labels of one class (naming
// the labels file), a labels file beside a folder.
func TestErrorsSayWhatTheyMean(t *testing.T) {
	dir := t.TempDir()
	ko := kernelOptions{lossOptions: lossOptions{Tau: "1", Distance: "squared"}, Scalar: "0:1:1e-300"}
	err := runKernel(context.Background(), &bytes.Buffer{}, ko)
	wantUsage(t, "kernel --scalar 0:1:1e-300", err, "1e+300 tokens", "steps of 1e-300", "want 2 to")
	if err != nil && strings.Contains(err.Error(), "-9223372036854775807") {
		t.Errorf("kernel --scalar 0:1:1e-300: %v", err)
	}

	var f floats
	if err := f.Set("1,1e309"); err == nil || !strings.Contains(err.Error(), `"1e309" is beyond float64's range`) {
		t.Errorf("floats 1e309: %v, want an error saying it is beyond float64's range", err)
	}

	one := filepath.Join(dir, "one.npy")
	if err := imageio.WriteFile(one, func(w io.Writer) error { return imageio.WriteNPYFloat32(w, []float32{1, 2, 3, 4}, []int{1, 4}) }); err != nil {
		t.Fatal(err)
	}
	ko = kernelOptions{lossOptions: lossOptions{Tau: "auto", Perplexity: 8, Distance: "l2"}, Codebook: one}
	err = runKernel(context.Background(), &bytes.Buffer{}, ko)
	if err == nil || !strings.Contains(err.Error(), "has 1 code") || !strings.Contains(err.Error(), "no distance-aware target") {
		t.Errorf("kernel --codebook of one code: %v, want an error saying the codebook has one code", err)
	}

	data := writeIDXPair(t, dir, []byte{0, 0, 0, 0})
	o := trainClassifierOptions{dataOptions: dataOptions{Data: data}, Out: filepath.Join(dir, "c"), Steps: 1, Batch: 2, LR: 1e-3, Seed: 1}
	err = runTrainClassifier(context.Background(), &bytes.Buffer{}, o)
	if err == nil || !strings.Contains(err.Error(), "labels.idx") || !strings.Contains(err.Error(), "2 or more") {
		t.Errorf("train-classifier on labels of one class: %v, want an error naming labels.idx", err)
	}

	folder := filepath.Join(dir, "folder")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	do := dataInfoOptions{dataOptions: dataOptions{Data: folder + "," + filepath.Join(dir, "labels.idx")}}
	err = runDataInfo(context.Background(), &bytes.Buffer{}, do)
	wantUsage(t, "data info --data FOLDER,LABELS", err, "labels.idx", "IDX images only")
}
