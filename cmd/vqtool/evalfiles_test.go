package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

// evalFixture encodes 40 test images (samples, with labels) and 50 training
// images (train) with the small tokenizer and trains a quick classifier.
type evalFixture struct {
	dir, samples, train, lenet string
}

func newEvalFixture(t *testing.T) evalFixture {
	t.Helper()
	dir := t.TempDir()
	fx := evalFixture{dir: dir, samples: filepath.Join(dir, "samples.npy"), train: filepath.Join(dir, "train.npy"), lenet: filepath.Join(dir, "lenet")}
	for _, e := range []struct {
		split, out string
		n          int
	}{{"test", fx.samples, 40}, {"train", fx.train, 50}} {
		o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: e.split, Limit: e.n}, Model: smallVQ, Out: e.out, Shard: "1/1"}
		if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	co := trainClassifierOptions{dataOptions: dataOptions{Data: "embedded", Split: "train", Limit: 256}, Out: fx.lenet, Steps: 20, Batch: 32, LR: 2e-3, Seed: 1}
	if err := runTrainClassifier(context.Background(), &bytes.Buffer{}, co); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx evalFixture) eval(t *testing.T, o evalOptions) EvalResult {
	t.Helper()
	o.dataOptions = dataOptions{Data: "embedded", Split: "test", Limit: 60}
	o.Classifier, o.JSON, o.Seed = fx.lenet, true, 1
	res, err := runEval(context.Background(), &bytes.Buffer{}, o)
	if err != nil {
		t.Fatalf("eval %+v: %v", o, err)
	}
	return res
}

// near reports whether a and b agree within tol, relative to 1 or b.
func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }

// eval scores token files and image files, .npz or a folder, of another
// generator; decode --images writes them. The decoded images score as their
// tokens do up to what storing them changes (decodes clipped to [-1, 1] and
// rounded to bytes), and the same bytes score the same from any file.
func TestEvalTokensAndImages(t *testing.T) {
	fx := newEvalFixture(t)
	tok := fx.eval(t, evalOptions{Tokens: fx.samples, VQ: smallVQ, TrainTokens: fx.train})
	if tok.Samples != 40 || tok.Real != 60 || tok.Accuracy < 0 || tok.Memorization == nil || tok.Memorization.Train != 50 ||
		tok.HeldOut != nil || tok.Sampling != nil || math.IsNaN(tok.FLD) {
		t.Fatalf("eval --tokens: %+v", tok)
	}
	// The samples' grids are training grids: every one is a near copy.
	self := fx.eval(t, evalOptions{Tokens: fx.samples, VQ: smallVQ, TrainTokens: fx.samples})
	if m := self.Memorization; m.NearCopies != 1 || m.MeanOverlap != 1 || m.Novel != 0 || m.FLDNovel != nil {
		t.Errorf("samples against themselves: %+v, want all near copies", m)
	}

	npz, folder := filepath.Join(fx.dir, "recon.npz"), filepath.Join(fx.dir, "recon")+"/"
	for _, out := range []string{npz, folder} {
		if err := execute(t, "decode", "--vq", smallVQ, fx.samples, "--images", out); err != nil {
			t.Fatal(err)
		}
	}
	if names, _ := filepath.Glob(filepath.Join(folder, "*.png")); len(names) != 40 {
		t.Fatalf("decode --images %s wrote %d PNGs, want 40", folder, len(names))
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "decoded.png")); err == nil {
		t.Error("decode --images also wrote the default grid")
	}
	d, err := imageio.OpenNPZ(npz, imageio.Options{})
	if err != nil || d.N != 40 || d.C != 1 || d.Labels == nil {
		t.Fatalf("decode --images %s: %v, %+v", npz, err, d)
	}

	fromNPZ := fx.eval(t, evalOptions{Images: npz})
	fromDir := fx.eval(t, evalOptions{Images: folder})
	withVQ := fx.eval(t, evalOptions{Images: npz, VQ: smallVQ, TrainTokens: fx.samples})
	for name, r := range map[string]EvalResult{"npz": fromNPZ, "folder": fromDir, "npz with --vq": withVQ} {
		if r.Samples != 40 || !near(r.FLD, tok.FLD, 0.2) || !near(r.Precision, tok.Precision, 0.1) || !near(r.Recall, tok.Recall, 0.1) {
			t.Errorf("eval --images (%s): %+v; the tokens scored %+v", name, r.Report, tok.Report)
		}
	}
	if fromNPZ.Accuracy != tok.Accuracy || fromDir.Accuracy != -1 {
		t.Errorf("class accuracy: npz %v, folder %v; want the tokens' %v, and none for a folder without classes", fromNPZ.Accuracy, fromDir.Accuracy, tok.Accuracy)
	}
	if m := withVQ.Memorization; m == nil || m.MeanOverlap < 0.5 {
		t.Errorf("the decoded samples re-encoded against their own grids: %+v, want most tokens shared", m)
	}
	if fromNPZ.FLD != fromDir.FLD || fromNPZ.KID != fromDir.KID || fromNPZ.FLD != withVQ.FLD {
		t.Errorf("the same bytes score FLD %v KID %v from an npz, %v %v from a folder, FLD %v with --vq",
			fromNPZ.FLD, fromNPZ.KID, fromDir.FLD, fromDir.KID, withVQ.FLD)
	}

	// --split is honoured for named sets.
	var out bytes.Buffer
	o := evalOptions{dataOptions: dataOptions{Data: "embedded", Split: "train", Limit: 30}, Tokens: fx.samples, VQ: smallVQ, Classifier: fx.lenet}
	if _, err := runEval(context.Background(), &out, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "against 30 real images of embedded train") {
		t.Errorf("eval --split train: %q", out.String())
	}

	// An npz written by numpy (compressed, labels int32) scores as ours.
	py := needPython(t, "numpy")
	runPython(t, py, fx.dir, `
import numpy as np
z = np.load("recon.npz")
assert z["arr_0"].shape == (40, 28, 28, 3) and z["arr_0"].dtype == np.uint8, z["arr_0"].shape
np.savez_compressed("numpy.npz", np.ascontiguousarray(z["arr_0"]), z["arr_1"].astype(np.int32))
`)
	fromNumpy := fx.eval(t, evalOptions{Images: filepath.Join(fx.dir, "numpy.npz")})
	if fromNumpy.Report != fromNPZ.Report {
		t.Errorf("numpy's npz scores %+v, ours %+v", fromNumpy.Report, fromNPZ.Report)
	}
}

// eval wants one source of samples and refuses flags that do not apply to
// it, naming them; --split defaults to test.
func TestEvalRefusesAndSplit(t *testing.T) {
	if def := newEvalCommand().Flags().Lookup("split").DefValue; def != "test" {
		t.Errorf("eval --split defaults to %q, want test", def)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "t.npy")
	if err := imageio.SaveTokens(tokens, &imageio.Tokens{Codes: make([]int32, 3*49), N: 3, H: 7, W: 7}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		parts []string
	}{
		{[]string{"eval"}, []string{"--gen", "--tokens", "--images", "want one of them"}},
		{[]string{"eval", "--tokens", tokens, "--images", "x.npz"}, []string{"want one of them"}},
		{[]string{"eval", "--tokens", tokens}, []string{"--tokens", "want --vq"}},
		{[]string{"eval", "--tokens", tokens, "--vq", smallVQ, "--temperature", "0.5"}, []string{"--temperature", "--gen"}},
		{[]string{"eval", "--images", filepath.Join(dir, "x.npz"), "--train-tokens", tokens}, []string{"--train-tokens", "want --vq"}},
		{[]string{"eval", "--images", filepath.Join(dir, "missing")}, []string{"FILE.npz or a folder"}},
		{[]string{"decode", "--vq", smallVQ, tokens, "--images", filepath.Join(dir, "x.png")}, []string{"--images", "FILE.npz or a folder DIR/"}},
	} {
		wantUsage(t, strings.Join(c.args, " "), execute(t, c.args...), c.parts...)
	}
	nf := filepath.Join(dir, "none.npz")
	if err := imageio.WriteImages(nf, make([]float32, 2*28*28), 2, 1, 28, 28, nil); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "eval --images without a classifier", execute(t, "eval", "--images", nf), "--classifier", "--vq")
}
