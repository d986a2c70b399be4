package explore

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
)

// A small generator for the committed tokenizer's grids.
func smallGenerator(t *testing.T, codebookSize, grid, classes int) *generator.Model {
	t.Helper()
	g, err := generator.New(generator.Config{CodebookSize: codebookSize, Classes: classes, Len: grid * grid, GridH: grid, GridW: grid,
		Dim: 16, Layers: 1, Heads: 2, MLP: 32}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSampleGridAndPair(t *testing.T) {
	vq, _ := smallModel(t, 1)
	c := vq.Config
	gen := smallGenerator(t, c.CodebookSize, c.Grid(), 3)
	if err := CheckPair(gen, "gen", vq, "vq"); err != nil {
		t.Fatal(err)
	}
	img, err := SampleGrid(gen, vq, []string{"a", "b", "c"}, 2, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	// Three rows of two images at twice the model's size, with captions beside.
	if b := img.Bounds(); b.Dy() < 3*2*c.Size || b.Dx() < 2*2*c.Size {
		t.Errorf("grid of %v: want at least 3 rows and 2 columns of %d-pixel images", b, 2*c.Size)
	}
	other := smallGenerator(t, c.CodebookSize+1, c.Grid(), 0)
	if err := CheckPair(other, "gen-x", vq, "vq-y"); err == nil || !strings.Contains(err.Error(), "gen-x") || !strings.Contains(err.Error(), "vq-y") {
		t.Errorf("a generator over another codebook: %v", err)
	}
	wide := smallGenerator(t, c.CodebookSize, c.Grid()+1, 0)
	if err := CheckPair(wide, "gen", vq, "vq"); err == nil {
		t.Error("a generator of larger grids: no error")
	}
}
