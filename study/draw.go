package study

import (
	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
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
