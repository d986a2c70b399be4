package explore

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

//go:embed page.html
var pageHTML string

// Options says what a page shows.
type Options struct {
	Near, Far int              // swaps per token: its nearest and its farthest codes
	Distance  dist2.VectorKind // the codebook distance of the neighbours and of p_d
	Title     string

	Labels  []int32  // class of each image, or nil
	Classes []string // class names by label, or nil

	// Usage counts the codes over the split the images come from (nil: over
	// the images); UsageOf says what it counted, as "the test split".
	Usage   *codebook.Usage
	UsageOf string

	// Tau and Perplexity are those of a dist2.Spec: the target row opens at
	// the temperature dist2.ResolveTau makes of them, which is the one
	// train-gen trains with for the same settings.
	Tau, Perplexity float64

	// Progress, when set, is called after each image's swaps are decoded.
	Progress func(done, total int)
}

// Page is a built explorer, ready to write.
type Page struct {
	data pageData
}

// pageData is what the page's script reads, as JSON.
type pageData struct {
	Title        string `json:"title"`
	Grid         int    `json:"grid"`          // tokens per side
	Size         int    `json:"size"`          // pixels per side
	Channels     int    `json:"channels"`      // 1 or 3
	CodebookSize int    `json:"codebook_size"` // K
	Distance     string `json:"distance"`
	NearN        int    `json:"near_n"`
	FarN         int    `json:"far_n"`

	Images []pageImage `json:"images"`

	// Near[k] are code k's NearN nearest codes, nearest first, and NearD
	// their distances; Far[k] its FarN farthest, farthest first.
	Near  [][]int     `json:"near"`
	NearD [][]float32 `json:"near_d"`
	Far   [][]int     `json:"far"`
	FarD  [][]float32 `json:"far_d"`

	Usage      []int64 `json:"usage"` // per code
	UsageTotal int64   `json:"usage_total"`
	UsageOf    string  `json:"usage_of"`

	// Rows of d(., x) for the codes x in RowCodes: row i is
	// Dist[i*CodebookSize : (i+1)*CodebookSize], as little-endian float32 in base64.
	RowCodes []int  `json:"row_codes"`
	Dist     string `json:"dist"`

	Tau        float64 `json:"tau"`        // the opening tau
	TauAuto    bool    `json:"tau_auto"`   // calibrated to Perplexity
	Perplexity float64 `json:"perplexity"` // the mean perplexity asked for (the default filled in), when TauAuto

	Order     []int  `json:"order"`      // codes by the first principal component
	Atlas     string `json:"atlas"`      // PNG data URL: code Order[i] at tile i, AtlasCols a row
	AtlasCols int    `json:"atlas_cols"` // tiles per row of Atlas
}

type pageImage struct {
	Label  string      `json:"label,omitempty"`
	Input  string      `json:"input"`  // PNG data URL of the image
	Decode string      `json:"decode"` // PNG data URL of its decode
	Tokens []int32     `json:"tokens"` // G*G, row-major
	Sprite string      `json:"sprite"` // PNG data URL: tile (t, j) at (j*Size, t*Size)
	MSE    [][]float32 `json:"mse"`    // [t][j]: pixel MSE of swap j at t against the decode
}

// Build encodes n images (C x S x S each, in [-1, 1], the model's size) and
// decodes every swap the page shows.
func Build(ctx context.Context, m *vqvae.Model, images []float32, n int, opt Options) (*Page, error) {
	cfg := m.Config
	k, gs, s, c := cfg.CodebookSize, cfg.Grid(), cfg.Size, cfg.Channels
	if n < 1 {
		return nil, fmt.Errorf("explore: %d images: want at least 1", n)
	}
	if len(images) != n*c*s*s {
		return nil, fmt.Errorf("explore: %d values for %d images of %dx%dx%d", len(images), n, c, s, s)
	}
	if opt.Near < 1 || opt.Far < 1 || opt.Near+1 > k || opt.Far+1 > k {
		return nil, fmt.Errorf("explore: %d near and %d far codes: want each in [1, %d)", opt.Near, opt.Far, k)
	}
	if opt.Labels != nil && len(opt.Labels) != n {
		return nil, fmt.Errorf("explore: %d labels for %d images", len(opt.Labels), n)
	}
	dist, err := m.Codebook.Distance(opt.Distance)
	if err != nil {
		return nil, err
	}
	temp, err := dist2.ResolveTau(dist, opt.Tau, opt.Perplexity)
	if err != nil {
		return nil, err
	}
	p := &Page{data: pageData{Title: opt.Title, Grid: gs, Size: s, Channels: c, CodebookSize: k,
		Distance: opt.Distance.String(), NearN: opt.Near, FarN: opt.Far,
		Tau: temp.Tau, TauAuto: temp.Auto, Perplexity: temp.Perplexity}}
	d := &p.data
	if d.Title == "" {
		d.Title = "vqtool token explorer"
	}
	for x := range k {
		near, far, nd, fd, err := m.Codebook.Neighbors(x, max(opt.Near, opt.Far), opt.Distance)
		if err != nil {
			return nil, err
		}
		d.Near = append(d.Near, near[:opt.Near])
		d.NearD = append(d.NearD, nd[:opt.Near])
		d.Far = append(d.Far, far[:opt.Far])
		d.FarD = append(d.FarD, fd[:opt.Far])
	}

	per := gs * gs
	tokens := make([]int32, n*per)
	if err := m.EncodeTo(tokens, images, n); err != nil {
		return nil, err
	}
	usage := opt.Usage
	d.UsageOf = opt.UsageOf
	if usage == nil {
		usage = codebook.NewUsage(k)
		usage.Add(tokens)
		d.UsageOf = fmt.Sprintf("these %d images", n)
	}
	if len(usage.Counts) != k {
		return nil, fmt.Errorf("explore: usage of %d codes for a codebook of %d", len(usage.Counts), k)
	}
	d.Usage = usage.Counts
	for _, u := range usage.Counts {
		d.UsageTotal += u
	}

	img := c * s * s
	base := make([]float32, n*img)
	if err := m.DecodeTo(base, tokens, n); err != nil {
		return nil, err
	}
	swaps := opt.Near + opt.Far
	grids := make([]int32, per*swaps*per)
	pix := make([]float32, per*swaps*img)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src := tokens[i*per : (i+1)*per]
		for t := range per {
			x := src[t]
			for j := range swaps {
				g := grids[(t*swaps+j)*per : (t*swaps+j+1)*per]
				copy(g, src)
				if j < opt.Near {
					g[t] = int32(d.Near[x][j])
				} else {
					g[t] = int32(d.Far[x][j-opt.Near])
				}
			}
		}
		if err := m.DecodeTo(pix, grids, per*swaps); err != nil {
			return nil, err
		}
		pi := pageImage{Tokens: append([]int32(nil), src...), MSE: make([][]float32, per)}
		if opt.Labels != nil {
			if l := int(opt.Labels[i]); l >= 0 && l < len(opt.Classes) {
				pi.Label = opt.Classes[l]
			} else {
				pi.Label = fmt.Sprint(l)
			}
		}
		b := base[i*img : (i+1)*img]
		sprite := newImage(c, swaps*s, per*s)
		for t := range per {
			pi.MSE[t] = make([]float32, swaps)
			for j := range swaps {
				v := pix[(t*swaps+j)*img : (t*swaps+j+1)*img]
				pi.MSE[t][j] = float32(mse(v, b))
				tile := imageio.ToImage(v, c, s, s)
				draw.Draw(sprite, image.Rect(j*s, t*s, (j+1)*s, (t+1)*s), tile, image.Point{}, draw.Src)
			}
		}
		if pi.Sprite, err = dataURL(sprite); err != nil {
			return nil, err
		}
		if pi.Input, err = dataURL(imageio.ToImage(images[i*img:(i+1)*img], c, s, s)); err != nil {
			return nil, err
		}
		if pi.Decode, err = dataURL(imageio.ToImage(b, c, s, s)); err != nil {
			return nil, err
		}
		d.Images = append(d.Images, pi)
		if opt.Progress != nil {
			opt.Progress(i+1, n)
		}
	}

	// The distance rows of the codes that occur, for p_d in the page.
	seen := make([]bool, k)
	for _, x := range tokens {
		seen[x] = true
	}
	var raw bytes.Buffer
	row := make([]float32, k)
	for x := range k {
		if !seen[x] {
			continue
		}
		d.RowCodes = append(d.RowCodes, x)
		dist.RowTo(row, x)
		_ = binary.Write(&raw, binary.LittleEndian, row)
	}
	d.Dist = base64.StdEncoding.EncodeToString(raw.Bytes())

	d.Order = m.Codebook.PrincipalOrder()
	d.AtlasCols = int(math.Ceil(math.Sqrt(float64(k))))
	cells := make([]float32, k*img)
	if err := m.DecodeCodesTo(cells, d.Order); err != nil {
		return nil, err
	}
	atlas := newImage(c, d.AtlasCols*s, (k+d.AtlasCols-1)/d.AtlasCols*s)
	for i := range k {
		x, y := i%d.AtlasCols*s, i/d.AtlasCols*s
		draw.Draw(atlas, image.Rect(x, y, x+s, y+s), imageio.ToImage(cells[i*img:(i+1)*img], c, s, s), image.Point{}, draw.Src)
	}
	if d.Atlas, err = dataURL(atlas); err != nil {
		return nil, err
	}
	return p, nil
}

// Tokens returns image i's token grid, row-major.
func (p *Page) Tokens(i int) []int32 { return p.data.Images[i].Tokens }

// Tau returns the temperature the target row opens with.
func (p *Page) Tau() float64 { return p.data.Tau }

// WriteTo writes the page as one HTML file.
func (p *Page) WriteTo(w io.Writer) (int64, error) {
	js, err := json.Marshal(p.data) // escapes <, > and &, so it cannot end the script
	if err != nil {
		return 0, err
	}
	head, tail, ok := strings.Cut(pageHTML, "{{DATA}}")
	if !ok {
		panic("explore: page.html has no {{DATA}}")
	}
	head = strings.ReplaceAll(head, "{{TITLE}}", html.EscapeString(p.data.Title))
	var n int64
	for _, part := range [][]byte{[]byte(head), js, []byte(tail)} {
		m, err := w.Write(part)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func newImage(c, w, h int) draw.Image {
	if c == 1 {
		return image.NewGray(image.Rect(0, 0, w, h))
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

func dataURL(m image.Image) (string, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, m); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

func mse(a, b []float32) float64 {
	var s float64
	for i := range a {
		e := float64(a[i] - b[i])
		s += e * e
	}
	return s / float64(len(a))
}
