package imageio

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ToImages turns n images of c x h x w, one after another in pix, into
// images as ToImage does.
func ToImages(pix []float32, n, c, h, w int) []image.Image {
	if len(pix) != n*c*h*w {
		panic("imageio: ToImages: length mismatch")
	}
	out := make([]image.Image, n)
	for i := range out {
		out[i] = ToImage(pix[i*c*h*w:(i+1)*c*h*w], c, h, w)
	}
	return out
}

// ToImage turns one c x h x w image in [-1, 1] (c = 1 or 3) into a Gray or
// RGBA image.
func ToImage(pix []float32, c, h, w int) image.Image {
	if len(pix) != c*h*w {
		panic("imageio: ToImage: length mismatch")
	}
	if c == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i, v := range pix {
			img.Pix[i] = toByte(v)
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			o := img.PixOffset(x, y)
			img.Pix[o] = toByte(pix[y*w+x])
			img.Pix[o+1] = toByte(pix[(h+y)*w+x])
			img.Pix[o+2] = toByte(pix[(2*h+y)*w+x])
			img.Pix[o+3] = 255
		}
	}
	return img
}

func toByte(v float32) uint8 {
	b := (v + 1) * 127.5
	switch {
	case b <= 0 || b != b:
		return 0
	case b >= 255:
		return 255
	}
	return uint8(b + 0.5)
}

// GridOptions lays out a contact sheet.
type GridOptions struct {
	Cols        int      // cells per row
	Scale       int      // each cell is drawn Scale times its size (nearest neighbour); 0 means 1
	Pad         int      // pixels between cells and around the sheet
	RowCaptions []string // one per row, drawn left of it (optional)
	ColCaptions []string // one per column, drawn above it (optional)
	Outline     []image.Rectangle
	// Outline, if set, is drawn in red on every cell (in cell pixels before scaling).
}

const (
	glyphW = 7  // basicfont.Face7x13 advance
	lineH  = 13 // basicfont.Face7x13 height
)

// gridLayout is where Grid puts n cells of one size: cols x rows cells of
// cw x ch pixels (scaled, widened for captions), left and top margins for
// the captions, and the sheet's width and height.
type gridLayout struct {
	cols, rows, cw, ch, left, top, width, height int
}

func layoutGrid(n, w, h int, opt GridOptions) gridLayout {
	g := gridLayout{cols: max(1, min(opt.Cols, n))}
	if opt.Cols <= 0 {
		g.cols = n
	}
	g.rows = (n + g.cols - 1) / g.cols
	scale := max(1, opt.Scale)
	g.cw, g.ch = w*scale, h*scale
	for _, s := range opt.RowCaptions {
		g.left = max(g.left, len(s)*glyphW+opt.Pad+2)
	}
	maxCol := 0
	for _, s := range opt.ColCaptions {
		maxCol = max(maxCol, len(s)*glyphW)
	}
	if len(opt.ColCaptions) > 0 {
		g.top = lineH + 2
		g.cw = max(g.cw, maxCol) // a caption never runs into the next column
	}
	g.width = g.left + opt.Pad + g.cols*(g.cw+opt.Pad)
	g.height = g.top + opt.Pad + g.rows*(g.ch+opt.Pad)
	return g
}

// GridSize returns the width and height in pixels of the sheet Grid draws
// for n cells of w x h pixels, without drawing it.
func GridSize(n, w, h int, opt GridOptions) (width, height int) {
	if n == 0 {
		return 1, 1
	}
	g := layoutGrid(n, w, h, opt)
	return g.width, g.height
}

// Grid draws cells, all of one size, in a grid with captions.
func Grid(cells []image.Image, opt GridOptions) *image.RGBA {
	if len(cells) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	g := layoutGrid(len(cells), cells[0].Bounds().Dx(), cells[0].Bounds().Dy(), opt)
	scale, pad := max(1, opt.Scale), opt.Pad
	sheet := image.NewRGBA(image.Rect(0, 0, g.width, g.height))
	draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
	for i, cell := range cells {
		r, c := i/g.cols, i%g.cols
		x0 := g.left + pad + c*(g.cw+pad) + (g.cw-cells[0].Bounds().Dx()*scale)/2
		y0 := g.top + pad + r*(g.ch+pad)
		drawScaled(sheet, cell, x0, y0, scale)
		for _, o := range opt.Outline {
			outline(sheet, image.Rect(x0+o.Min.X*scale, y0+o.Min.Y*scale, x0+o.Max.X*scale, y0+o.Max.Y*scale))
		}
	}
	for c, s := range opt.ColCaptions {
		if c < g.cols {
			x := g.left + pad + c*(g.cw+pad) + (g.cw-len(s)*glyphW)/2
			caption(sheet, s, x, lineH-2)
		}
	}
	for r, s := range opt.RowCaptions {
		if r < g.rows {
			caption(sheet, s, 2, g.top+pad+r*(g.ch+pad)+g.ch/2+4)
		}
	}
	return sheet
}

func drawScaled(dst *image.RGBA, src image.Image, x0, y0, scale int) {
	b := src.Bounds()
	for y := range b.Dy() * scale {
		for x := range b.Dx() * scale {
			dst.Set(x0+x, y0+y, src.At(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
}

func outline(dst *image.RGBA, r image.Rectangle) {
	red := color.RGBA{220, 30, 30, 255}
	for x := r.Min.X; x < r.Max.X; x++ {
		dst.Set(x, r.Min.Y, red)
		dst.Set(x, r.Max.Y-1, red)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		dst.Set(r.Min.X, y, red)
		dst.Set(r.Max.X-1, y, red)
	}
}

func caption(dst *image.RGBA, s string, x, baseline int) {
	d := font.Drawer{Dst: dst, Src: image.Black, Face: basicfont.Face7x13,
		Dot: fixed.P(x, baseline)}
	d.DrawString(s)
}

// WritePNG writes img to path as PNG, atomically.
func WritePNG(path string, img image.Image) error {
	return WriteFile(path, func(w io.Writer) error { return png.Encode(w, img) })
}
