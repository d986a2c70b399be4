package explore

import (
	"cmp"
	"fmt"
	"image"
	"io"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

// CodeImages decodes, for each code, a token grid filled with that code:
// what the code draws on its own.
func CodeImages(m *vqvae.Model, codes []int) ([]image.Image, error) {
	ch, s := m.Config.Channels, m.Config.Size
	pix := make([]float32, len(codes)*ch*s*s)
	if err := m.DecodeCodesTo(pix, codes); err != nil {
		return nil, err
	}
	return imageio.ToImages(pix, len(codes), ch, s, s), nil
}

// Decoded decodes n token grids, one after another in tokens, into images.
func Decoded(m *vqvae.Model, tokens []int32, n int) ([]image.Image, error) {
	ch, s := m.Config.Channels, m.Config.Size
	pix := make([]float32, n*ch*s*s)
	if err := m.DecodeTo(pix, tokens, n); err != nil {
		return nil, err
	}
	return imageio.ToImages(pix, n, ch, s, s), nil
}

// ReconFigure draws n images (channel-major, at the model's size) in one
// row and, below, their reconstructions from tokens.
func ReconFigure(m *vqvae.Model, images []float32, n int) (image.Image, error) {
	if per := m.Config.Channels * m.Config.Size * m.Config.Size; n < 1 || len(images) < n*per {
		return nil, fmt.Errorf("explore: %d images to draw from %d floats: want at least 1 image of %d floats", n, len(images), per)
	}
	gs := m.Config.Grid()
	tokens := make([]int32, n*gs*gs)
	if err := m.EncodeTo(tokens, images, n); err != nil {
		return nil, err
	}
	rec, err := Decoded(m, tokens, n)
	if err != nil {
		return nil, err
	}
	ch, s := m.Config.Channels, m.Config.Size
	cells := append(imageio.ToImages(images[:n*ch*s*s], n, ch, s, s), rec...)
	return imageio.Grid(cells, imageio.GridOptions{Cols: n, Scale: 2, Pad: 2, RowCaptions: []string{"input", "recon"}}), nil
}

// NeighbourFigure draws code x and its near codes in the first row and its
// far codes in the second, each as CodeImages draws it.
func NeighbourFigure(m *vqvae.Model, x int, near, far []int) (image.Image, error) {
	cells, err := CodeImages(m, slices.Concat([]int{x}, near, far))
	if err != nil {
		return nil, err
	}
	blank := image.NewGray(cells[0].Bounds())
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	grid := slices.Concat(cells[:1+len(near)], []image.Image{blank}, cells[1+len(near):])
	return imageio.Grid(grid, imageio.GridOptions{Cols: 1 + len(near), Scale: 2, Pad: 2,
		RowCaptions: []string{fmt.Sprintf("%d, nearest", x), "farthest"}}), nil
}

// Atlas draws the codes in order, cols to a row.
func Atlas(m *vqvae.Model, order []int, cols int) (image.Image, error) {
	cells, err := CodeImages(m, order)
	if err != nil {
		return nil, err
	}
	return imageio.Grid(cells, imageio.GridOptions{Cols: cols, Scale: 1, Pad: 1}), nil
}

// WriteCodebookStats writes a PNG of two panels to w: the code counts
// sorted, and a histogram of each code's distance to its nearest other code
// (under the distance named). With counts nil (a codebook without the
// encoder that would count its codes) it draws the histogram alone.
func WriteCodebookStats(w io.Writer, s codebook.Stats, counts []int64, sp codebook.Spacing, distance string) error {
	nn := plot.New()
	nn.Title.Text = "Distance to the nearest other code"
	nn.X.Label.Text = distance + " distance"
	nn.Y.Label.Text = "codes"
	vals := make(plotter.Values, len(sp.Nearest))
	for i, v := range sp.Nearest {
		vals[i] = float64(v)
	}
	h, err := plotter.NewHist(vals, 40)
	if err != nil {
		return err
	}
	nn.Add(h)
	panels := []*plot.Plot{nn}
	if counts != nil {
		usage := plot.New()
		usage.Title.Text = fmt.Sprintf("Code usage, sorted (%d used, perplexity %.0f)", s.Used, s.Perplexity)
		usage.X.Label.Text = "code rank"
		usage.Y.Label.Text = "tokens"
		sorted := slices.Clone(counts)
		slices.SortFunc(sorted, func(a, b int64) int { return cmp.Compare(b, a) })
		pts := make(plotter.XYs, len(sorted))
		for i, c := range sorted {
			pts[i].X, pts[i].Y = float64(i), float64(c)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		usage.Add(line, plotter.NewGrid())
		panels = []*plot.Plot{usage, nn}
	}
	img := vgimg.New(vg.Length(6*len(panels))*vg.Inch, 4*vg.Inch)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 4}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, draw.New(img))
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// DataFigure draws the images of d, cols to a row at scale, each row
// captioned with its images' labels when they fit (12 characters), and
// returns the class names of each row's images for a legend (nil for
// unlabelled data).
func DataFigure(d *imageio.Dataset, cols, scale int) (image.Image, [][]string) {
	gopt := imageio.GridOptions{Cols: cols, Scale: scale, Pad: 2}
	var legend [][]string
	if d.Labels != nil {
		for r := 0; r*cols < d.N; r++ {
			var labels, names []string
			for i := r * cols; i < min(d.N, (r+1)*cols); i++ {
				labels = append(labels, fmt.Sprint(d.Labels[i]))
				names = append(names, imageio.ClassName(d.Classes, int(d.Labels[i])))
			}
			gopt.RowCaptions = append(gopt.RowCaptions, strings.Join(labels, ""))
			legend = append(legend, names)
		}
		if len(gopt.RowCaptions[0]) > 12 {
			gopt.RowCaptions = nil // labels of wide rows go in the legend only
		}
	}
	return imageio.Grid(imageio.ToImages(d.Pix, d.N, d.C, d.H, d.W), gopt), legend
}
