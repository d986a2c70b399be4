package explore

import (
	"fmt"
	"image"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

// CheckPair returns an error, naming both checkpoint folders, when the
// generator gen (from genPath) does not make the token grids of the
// tokenizer vq (from vqPath).
func CheckPair(gen *generator.Model, genPath string, vq *vqvae.Model, vqPath string) error {
	g, c := gen.Config, vq.Config
	if c.CodebookSize != g.CodebookSize || c.Grid() != g.GridH || c.Grid() != g.GridW {
		return fmt.Errorf("the generator %s makes %dx%d grids over %d codes; the VQ model %s has %dx%d over %d",
			genPath, g.GridH, g.GridW, g.CodebookSize, vqPath, c.Grid(), c.Grid(), c.CodebookSize)
	}
	return nil
}

// TokenGrid decodes n token grids and lays the images out cols to a row,
// scaled by scale, with a caption per row when rowCaptions is not nil.
func TokenGrid(vq *vqvae.Model, tokens []int32, n, cols int, rowCaptions []string, scale int) (image.Image, error) {
	cells, err := Decoded(vq, tokens, n)
	if err != nil {
		return nil, err
	}
	return imageio.Grid(cells, imageio.GridOptions{Cols: cols, Scale: scale, Pad: 2, RowCaptions: rowCaptions}), nil
}

// SampleGrid draws per samples of every class, a row each captioned with
// its name from names (or per*per samples of an unconditional model), at
// guidance cfg and the default sampling settings.
func SampleGrid(gen *generator.Model, vq *vqvae.Model, names []string, per int, cfg float64, seed uint64) (image.Image, error) {
	classes := gen.ClassRows(per)
	var rows []string
	for c := range gen.Config.Classes {
		rows = append(rows, imageio.ClassName(names, c))
	}
	sc := generator.DefaultSampleConfig()
	sc.CFG, sc.Seed = cfg, seed
	tokens, err := gen.Sample(classes, sc)
	if err != nil {
		return nil, err
	}
	return TokenGrid(vq, tokens, len(classes), per, rows, 2)
}
