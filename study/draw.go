package study

import (
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
