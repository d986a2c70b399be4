package explore

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/imageio"
)

// Each code image is the decode of a grid filled with that code, and the
// figures lay them out in rows.
func TestCodeFigures(t *testing.T) {
	m, _ := smallModel(t, 1)
	s, gs := m.Config.Size, m.Config.Grid()
	cells, err := CodeImages(m, []int{5, 2})
	if err != nil {
		t.Fatal(err)
	}
	grid := make([]int32, gs*gs)
	for i := range grid {
		grid[i] = 2
	}
	want := make([]float32, m.Config.Channels*s*s)
	if err := m.DecodeTo(want, grid, 1); err != nil {
		t.Fatal(err)
	}
	if !sameImage(cells[1], imageio.ToImage(want, m.Config.Channels, s, s)) {
		t.Error("the image of code 2 is not the decode of a grid of 2s")
	}
	fig, err := NeighbourFigure(m, 5, []int{1, 2, 3}, []int{9, 8, 7})
	if err != nil {
		t.Fatal(err)
	}
	// Row 1: code 5 and its nearest; row 2: a blank, then its farthest.
	all, err := CodeImages(m, []int{5, 1, 2, 3, 9, 8, 7})
	if err != nil {
		t.Fatal(err)
	}
	blank := image.NewGray(all[0].Bounds())
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	cells = append(append(all[:4:4], blank), all[4:]...)
	want2 := imageio.Grid(cells, imageio.GridOptions{Cols: 4, Scale: 2, Pad: 2, RowCaptions: []string{"5, nearest", "farthest"}})
	if !sameImage(fig, want2) {
		t.Error("the neighbour figure is not the code, its nearest and its farthest in two rows")
	}
	atlas, err := Atlas(m, []int{0, 1, 2, 3, 4, 5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b := atlas.Bounds(); b.Dx() < 3*s || b.Dx() > 4*s || b.Dy() < 2*s || b.Dy() > 3*s {
		t.Errorf("atlas %v for 3 x 2 cells of %d pixels", b, s)
	}
	six, _ := CodeImages(m, []int{0, 1, 2, 3, 4, 5})
	if !sameImage(atlas, imageio.Grid(six, imageio.GridOptions{Cols: 3, Scale: 1, Pad: 1})) {
		t.Error("the atlas is not the codes in order, 3 to a row")
	}
	var buf bytes.Buffer
	u := codebook.NewUsage(m.Config.CodebookSize)
	u.Add([]int32{1, 1, 2})
	dist, err := m.Codebook.Distance(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCodebookStats(&buf, u.Stats(), u.Counts, codebook.SpacingOf(dist), "l2"); err != nil {
		t.Fatal(err)
	}
	two, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("codebook stats: %v", err)
	}
	buf.Reset()
	if err := WriteCodebookStats(&buf, codebook.Stats{}, nil, codebook.SpacingOf(dist), "l2"); err != nil {
		t.Fatal(err)
	}
	one, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("codebook stats without counts: %v", err)
	}
	if w1, w2 := one.Bounds().Dx(), two.Bounds().Dx(); 2*w1 != w2 {
		t.Errorf("without counts the plot is %d pixels wide, with them %d: want one panel of two", w1, w2)
	}
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// The reconstruction figure is the images above their decodes from tokens.
func TestReconFigure(t *testing.T) {
	m, d := smallModel(t, 3)
	fig, err := ReconFigure(m, d.Pix, 3)
	if err != nil {
		t.Fatal(err)
	}
	gs := m.Config.Grid()
	tokens := make([]int32, 3*gs*gs)
	if err := m.EncodeTo(tokens, d.Pix, 3); err != nil {
		t.Fatal(err)
	}
	rec, err := Decoded(m, tokens, 3)
	if err != nil {
		t.Fatal(err)
	}
	cells := append(imageio.ToImages(d.Pix, 3, d.C, d.H, d.W), rec...)
	want := imageio.Grid(cells, imageio.GridOptions{Cols: 3, Scale: 2, Pad: 2, RowCaptions: []string{"input", "recon"}})
	if !sameImage(fig, want) {
		t.Error("the figure is not the inputs above their reconstructions")
	}
	if sameImage(cells[0], cells[3]) {
		t.Error("a reconstruction equals its input exactly: the test cannot tell them apart")
	}
}

// A count below one, or more images than given, is an error, not a panic.
func TestReconFigureRefusesBadCounts(t *testing.T) {
	m, d := smallModel(t, 3)
	for _, n := range []int{0, -1, 4} {
		if _, err := ReconFigure(m, d.Pix, n); err == nil {
			t.Errorf("ReconFigure of %d images out of 3: no error", n)
		}
	}
}

func TestDataFigure(t *testing.T) {
	d, err := imageio.Open("embedded", imageio.Options{Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	img, legend := DataFigure(d, 3, 2)
	if len(legend) != 3 || len(legend[0]) != 3 || len(legend[2]) != 1 || legend[0][0] != imageio.ClassName(d.Classes, int(d.Labels[0])) {
		t.Errorf("legend %v: want 3 rows of 3, 3 and 1 class names", legend)
	}
	plain := imageio.Grid(imageio.ToImages(d.Pix, d.N, d.C, d.H, d.W), imageio.GridOptions{Cols: 3, Scale: 2, Pad: 2})
	if img.Bounds() == plain.Bounds() {
		t.Errorf("figure %v: the size of a grid without its row captions", img.Bounds())
	}
	d.Labels = nil
	if _, legend := DataFigure(d, 3, 2); legend != nil {
		t.Errorf("unlabelled data: legend %v", legend)
	}
}
