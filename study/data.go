package study

import (
	"fmt"
	"path/filepath"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
)

// Data is what a study runs on: one tokenizer's grids of a labelled set, the
// pictures the scores compare samples with, and the classifier whose
// features they compare.
type Data struct {
	Tokenizer
	Train generator.Tokens // the whole training split, labelled
	Test  generator.Tokens // the test split, labelled: final scores only
	// TrainPix and TestPix are the images of the splits (channel-major in
	// [-1, 1]); the validation images are the last ValSize of TrainPix.
	TrainPix, TestPix []float32
	LeNet             *metrics.LeNet
}

// Tokenizer is the study's tokenizer and the class names of its data.
type Tokenizer struct {
	VQ *vqvae.Model
	// VQPath is the tokenizer's folder, which study.json and the runs'
	// config.json name, each relative to itself (empty: none).
	VQPath  string
	Classes []string // class names by label
}

// For returns t whatever the folder: Merge's tokenizer for the shards of
// one study.
func (t Tokenizer) For(string) (Tokenizer, error) { return t, nil }

// split is Data cut for a Config: the pool, the validation grids, and the
// classifier's features of the validation and test images.
type split struct {
	Data
	pool, val          generator.Tokens
	valFeat, testFeat  []float32
	nVal, nTest, nFeat int
}

func (c Config) split(d Data) (*split, error) {
	if d.Train.Labels == nil || d.Test.Labels == nil {
		return nil, fmt.Errorf("study: the training and test grids need labels")
	}
	if d.Train.N <= c.ValSize {
		return nil, fmt.Errorf("study: %d training grids: want more than the %d held out for validation", d.Train.N, c.ValSize)
	}
	per := len(d.TrainPix) / d.Train.N
	if per*d.Train.N != len(d.TrainPix) || per*d.Test.N != len(d.TestPix) {
		return nil, fmt.Errorf("study: %d and %d pixels for %d training and %d test grids: want images of one size",
			len(d.TrainPix), len(d.TestPix), d.Train.N, d.Test.N)
	}
	s := &split{Data: d, nVal: c.ValSize, nTest: d.Test.N}
	cut := d.Train.N - c.ValSize
	s.pool, s.val = d.Train.Slice(0, cut), d.Train.Slice(cut, d.Train.N)
	var err error
	if s.valFeat, _, err = d.LeNet.Run(d.TrainPix[cut*per:], c.ValSize); err != nil {
		return nil, err
	}
	if s.testFeat, _, err = d.LeNet.Run(d.TestPix, d.Test.N); err != nil {
		return nil, err
	}
	return s, nil
}

// Balanced returns the indices of a class-balanced subset of n grids: the
// first n/classes grids of each class in order (the remainder of n/classes
// going to the lowest classes), or every index when n covers the whole set.
// It depends on the labels only, so that every loss and seed trains on the
// same grids.
func Balanced(labels []int32, classes, n int) ([]int, error) {
	if n >= len(labels) {
		idx := make([]int, len(labels))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	want := make([]int, classes)
	for c := range want {
		want[c] = n / classes
		if c < n%classes {
			want[c]++
		}
	}
	var idx []int
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return nil, fmt.Errorf("study: label %d of grid %d: want a class in [0, %d)", l, i, classes)
		}
		if want[l] > 0 {
			want[l]--
			idx = append(idx, i)
		}
	}
	for c, w := range want {
		if w > 0 {
			return nil, fmt.Errorf("study: a balanced subset of %d grids needs %d more of class %d than the pool has", n, w, c)
		}
	}
	return idx, nil
}

// gather copies the grids idx of t.
func gather(t generator.Tokens, idx []int) generator.Tokens {
	g := generator.Tokens{Codes: make([]int32, 0, len(idx)*t.Len), Labels: make([]int32, 0, len(idx)), N: len(idx), Len: t.Len}
	for _, i := range idx {
		g.Codes = append(g.Codes, t.Codes[i*t.Len:(i+1)*t.Len]...)
		g.Labels = append(g.Labels, t.Labels[i])
	}
	return g
}

// head returns the first n grids of t (all when n is 0 or more than t has).
func head(t generator.Tokens, n int) generator.Tokens {
	if n <= 0 || n >= t.N {
		return t
	}
	return t.Slice(0, n)
}

// Encoded returns the grids of the images d encoded by the tokenizer vq
// whose folder is vqPath: from its cache file (imageio.TokenCache, key
// describing how d was read) when that holds them all, else encoded
// (progress, if not nil, hears the images done and stops the encoding with
// its error) and saved there for the next run. fallback takes the cache
// when vqPath cannot be written.
func Encoded(vq *vqvae.Model, vqPath string, d *imageio.Dataset, split, key, fallback string, progress func(done int) error) (*imageio.Tokens, string, error) {
	cache, err := imageio.TokenCache(filepath.Join(vqPath, nn.ModelFile), split, key, fallback)
	if err != nil {
		return nil, "", err
	}
	if t, err := imageio.LoadTokens(cache); err == nil && t.N == d.N {
		return t, cache, nil
	}
	codes, err := vq.EncodeMany(d.Pix, d.N, progress)
	if err != nil {
		return nil, "", err
	}
	gs := vq.Config.Grid()
	t := &imageio.Tokens{Codes: codes, N: d.N, H: gs, W: gs, Labels: d.Labels, Classes: d.Classes}
	if t.Tokenizer, err = nn.Fingerprint(filepath.Join(vqPath, nn.ModelFile)); err != nil {
		return nil, "", err
	}
	return t, cache, imageio.SaveTokens(cache, t)
}
