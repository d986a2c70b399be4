package study

import (
	"fmt"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

// Draw samples n grids from gen with sc, the classes in turn when gen is
// conditional, and decodes them with vq: the images channel-major in
// [-1, 1], the grids, and the classes they were drawn for (nil for an
// unconditional generator). progress, if not nil, hears the grids drawn so
// far and stops the drawing with its error.
func Draw(gen *generator.Model, vq *vqvae.Model, n int, sc generator.SampleConfig, progress func(done int) error) (pix []float32, tokens, classes []int32, err error) {
	classes = gen.EvenClasses(n)
	if progress == nil {
		progress = func(int) error { return nil }
	}
	if tokens, err = gen.SampleMany(classes, sc, progress); err != nil {
		return nil, nil, nil, err
	}
	c, s := vq.Config.Channels, vq.Config.Size
	pix = make([]float32, n*c*s*s)
	if err := vq.DecodeTo(pix, tokens, n); err != nil {
		return nil, nil, nil, err
	}
	if gen.Config.Classes == 0 {
		classes = nil
	}
	return pix, tokens, classes, nil
}

// HeldOut measures gen on n real images (channel-major, at vq's size)
// encoded by vq: NLL, token accuracy and the expected code distance
// (squared L2 between codes), with the images' labels when gen is
// conditional.
func HeldOut(gen *generator.Model, vq *vqvae.Model, pix []float32, n int, labels []int32) (generator.Eval, error) {
	tokens, err := vq.EncodeMany(pix, n, nil)
	if err != nil {
		return generator.Eval{}, err
	}
	held := generator.Tokens{Codes: tokens, Labels: labels, N: n, Len: vq.Config.Grid() * vq.Config.Grid()}
	if gen.Config.Classes == 0 {
		held.Labels = nil
	}
	dist, err := vq.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		return generator.Eval{}, err
	}
	return gen.Evaluate(held, dist)
}

// Samples are images to score as the study scores its runs: N images
// channel-major in [-1, 1], the class each was asked for (nil: none), and
// their grids of Len tokens (nil: no memorisation measured).
type Samples struct {
	Pix    []float32
	N      int
	Asked  []int32
	Tokens []int32
	Len    int
}

// SampleScores are what Score measures.
type SampleScores struct {
	metrics.Report
	Memorization *metrics.Memorization
}

// Score compares samples with nr real images (at the classifier's size)
// through lenet, as the study does: FLD, KID, precision, recall and the
// class accuracy; and, given training grids, memorisation (near copies of
// them and the FLD of the rest).
func Score(s Samples, real []float32, nr int, lenet *metrics.LeNet, train *generator.Tokens, seed uint64) (SampleScores, error) {
	for i, c := range s.Asked {
		if c < 0 || int(c) >= lenet.Classes {
			return SampleScores{}, fmt.Errorf("study: sample %d is of class %d: the classifier knows %d classes", i, c, lenet.Classes)
		}
	}
	realFeat, _, err := lenet.Run(real, nr)
	if err != nil {
		return SampleScores{}, err
	}
	var sc SampleScores
	if sc.Report, err = lenet.CompareFeatures(realFeat, nr, s.Pix, s.N, s.Asked, seed); err != nil {
		return sc, err
	}
	if train != nil {
		if s.Tokens == nil || train.Len != s.Len {
			return sc, fmt.Errorf("study: training grids of %d tokens: the samples' grids have %d", train.Len, s.Len)
		}
		m, err := lenet.Memorize(realFeat, nr, s.Pix, s.Tokens[:s.N*s.Len], s.N, train.Codes, train.N, s.Len)
		if err != nil {
			return sc, err
		}
		sc.Memorization = &m
	}
	return sc, nil
}
