package explore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

// smallModel loads the committed tokenizer and n test images of the built-in set.
func smallModel(t *testing.T, n int) (*vqvae.Model, *imageio.Dataset) {
	t.Helper()
	m, _, err := vqvae.Load("../testdata/fmnist-small.vq")
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageio.Open("embedded", imageio.Options{Split: "test", Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

func decodePNG(t *testing.T, url string) image.Image {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every tile of a sprite is the decode of its image with that one token
// swapped for that code, and every MSE is that decode's error.
func TestBuildSwaps(t *testing.T) {
	m, d := smallModel(t, 3)
	const near, far = 3, 2
	p, err := Build(context.Background(), m, d.Pix, d.N, Options{Near: near, Far: far, Distance: dist2.Cosine, Labels: d.Labels, Classes: d.Classes})
	if err != nil {
		t.Fatal(err)
	}
	pd := p.data
	cfg := m.Config
	gs, s, k := cfg.Grid(), cfg.Size, cfg.CodebookSize
	per := gs * gs
	if pd.Distance != "cosine" || pd.CodebookSize != k || len(pd.Images) != d.N || pd.Images[0].Label != d.Classes[d.Labels[0]] {
		t.Fatalf("page of %s distance, %d codes, %d images, label %q", pd.Distance, pd.CodebookSize, len(pd.Images), pd.Images[0].Label)
	}
	for x := range k {
		n, f, _, _, err := m.Codebook.Neighbors(x, near, dist2.Cosine)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pd.Near[x], n) || !slices.Equal(pd.Far[x], f[:far]) {
			t.Fatalf("code %d: near %v far %v, codebook %v and %v", x, pd.Near[x], pd.Far[x], n, f[:far])
		}
	}
	tokens := make([]int32, d.N*per)
	if err := m.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	img := s * s
	base := make([]float32, img)
	swapped := make([]float32, img)
	grid := make([]int32, per)
	for i := range d.N {
		src := tokens[i*per : (i+1)*per]
		if !slices.Equal(pd.Images[i].Tokens, src) {
			t.Fatalf("image %d: page tokens differ from the tokenizer's", i)
		}
		if err := m.DecodeTo(base, src, 1); err != nil {
			t.Fatal(err)
		}
		sprite := decodePNG(t, pd.Images[i].Sprite).(*image.Gray)
		if b := sprite.Bounds(); b.Dx() != (near+far)*s || b.Dy() != per*s {
			t.Fatalf("sprite of %v: want %dx%d", b, (near+far)*s, per*s)
		}
		for _, tj := range [][2]int{{0, 0}, {per / 2, near - 1}, {per - 1, near}, {7, near + far - 1}} {
			tok, j := tj[0], tj[1]
			code := pd.Near[src[tok]]
			if j >= near {
				code, j = pd.Far[src[tok]], j-near
			}
			copy(grid, src)
			grid[tok] = int32(code[j])
			if err := m.DecodeTo(swapped, grid, 1); err != nil {
				t.Fatal(err)
			}
			want := imageio.ToImage(swapped, 1, s, s).(*image.Gray)
			col := tj[1]
			for y := range s {
				for x := range s {
					if g, w := sprite.GrayAt(col*s+x, tok*s+y).Y, want.GrayAt(x, y).Y; g != w {
						t.Fatalf("image %d token %d swap %d pixel (%d,%d): sprite %d, decode %d", i, tok, col, y, x, g, w)
					}
				}
			}
			var e float64
			for q := range swapped {
				e += float64(swapped[q]-base[q]) * float64(swapped[q]-base[q])
			}
			e /= float64(img)
			if got := float64(pd.Images[i].MSE[tok][col]); math.Abs(got-e) > 1e-5*e+1e-9 {
				t.Errorf("image %d token %d swap %d: MSE %g, want %g", i, tok, col, got, e)
			}
		}
	}
}

// The embedded distance rows are the codebook's, and the opening tau is the
// one a generator trains with for the same settings.
func TestBuildTargetRows(t *testing.T) {
	m, d := smallModel(t, 3)
	p, err := Build(context.Background(), m, d.Pix, d.N, Options{Near: 2, Far: 2, Distance: dist2.SquaredL2, Perplexity: 4})
	if err != nil {
		t.Fatal(err)
	}
	k := m.Config.CodebookSize
	raw, err := base64.StdEncoding.DecodeString(p.data.Dist)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]float32, len(raw)/4)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(p.data.RowCodes)*k {
		t.Fatalf("%d distances for %d rows of %d", len(rows), len(p.data.RowCodes), k)
	}
	dist, err := m.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, k)
	for i, x := range p.data.RowCodes {
		dist.RowTo(want, x)
		if !slices.Equal(rows[i*k:(i+1)*k], want) {
			t.Fatalf("row of code %d differs from the codebook's", x)
		}
	}
	for i := range d.N {
		for _, x := range p.Tokens(i) {
			if !slices.Contains(p.data.RowCodes, int(x)) {
				t.Fatalf("code %d occurs but has no row", x)
			}
		}
	}
	_, built, err := m.Loss(dist2.Spec{Kind: "dist2", Perplexity: 4, Distance: "l2"})
	if err != nil {
		t.Fatal(err)
	}
	tau := built.Tau
	if p.Tau() != tau || !p.data.TauAuto || p.data.Perplexity != 4 {
		t.Errorf("opening tau %v (auto %v, perplexity %v), want training's %v for perplexity 4", p.Tau(), p.data.TauAuto, p.data.Perplexity, tau)
	}
	var b bytes.Buffer
	if _, err := p.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	head, rest, ok := strings.Cut(page, `<script id="data" type="application/json">`)
	if !ok || !strings.Contains(head, "<title>vqtool token explorer</title>") {
		t.Fatal("the page has no data script or no title")
	}
	js, _, _ := strings.Cut(rest, "</script>")
	var back pageData
	if err := json.Unmarshal([]byte(js), &back); err != nil {
		t.Fatalf("the page's data do not read back: %v", err)
	}
	if back.Tau != tau || len(back.Images) != d.N {
		t.Errorf("read back tau %v and %d images", back.Tau, len(back.Images))
	}
}

func TestBuildErrors(t *testing.T) {
	m, d := smallModel(t, 3)
	k := m.Config.CodebookSize
	for _, c := range []struct {
		n    int
		pix  []float32
		opt  Options
		want string
	}{
		{0, nil, Options{Near: 1, Far: 1}, "0 images"},
		{d.N, d.Pix[1:], Options{Near: 1, Far: 1}, "values for"},
		{d.N, d.Pix, Options{Near: k, Far: 1}, "near and"},
		{d.N, d.Pix, Options{Near: 1, Far: 0}, "near and"},
		{d.N, d.Pix, Options{Near: 1, Far: 1, Labels: []int32{1}}, "labels for"},
		{d.N, d.Pix, Options{Near: 1, Far: 1, Tau: -1}, "tau -1"},
		{d.N, d.Pix, Options{Near: 1, Far: 1, Perplexity: float64(k)}, "perplexity 64"},
	} {
		_, err := Build(context.Background(), m, c.pix, c.n, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d images, %+v: %v, want an error with %q", c.n, c.opt, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, m, d.Pix, d.N, Options{Near: 1, Far: 1}); err == nil {
		t.Error("a cancelled context built a page")
	}
}
