package vqvae

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
)

// testModel is a small tokenizer trained on the built-in data (see
// testdata/README.md for the command that made it).
const testModel = "../testdata/fmnist-small.vq"

func TestSwapReplacesExactlyTheRegion(t *testing.T) {
	m, _, err := Load(testModel)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := imageio.Open("embedded", imageio.Options{Split: "test", Limit: 20})
	gs := m.Config.Grid()
	tokens := make([]int32, d.N*gs*gs)
	if err := m.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	sw, err := NewSwapper(m.Codebook, dist2.SquaredL2, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	region := Region{Y0: 1, X0: 2, Y1: 3, X1: 5}
	r := rand.New(rand.NewPCG(1, 1))
	dst := make([]int32, gs*gs)
	for i := range d.N {
		src := tokens[i*gs*gs : (i+1)*gs*gs]
		for _, mode := range SwapModes {
			sw.Swap(dst, src, gs, region, mode, r)
			for y := range gs {
				for x := range gs {
					p := y*gs + x
					inside := y >= region.Y0 && y < region.Y1 && x >= region.X0 && x < region.X1
					rank := sw.Ranked(src[p])
					switch {
					case !inside || mode == Original:
						if dst[p] != src[p] {
							t.Fatalf("%v: token (%d,%d) outside the region changed", mode, y, x)
						}
					case mode == Near:
						if !slices.Contains(rank[:10], dst[p]) {
							t.Fatalf("nearby: %d is not among the 10 nearest codes of %d", dst[p], src[p])
						}
					case mode == Far:
						if !slices.Contains(rank[len(rank)-10:], dst[p]) {
							t.Fatalf("distant: %d is not among the 10 farthest codes of %d", dst[p], src[p])
						}
					}
				}
			}
		}
	}
}

// The premise of DIST2Loss for images: replacing tokens by near codes
// changes the picture less than random codes, and random less than far ones.
func TestSwapErrorGrowsWithCodeDistance(t *testing.T) {
	m, _, err := Load(testModel)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := imageio.Open("embedded", imageio.Options{Split: "test", Limit: 60})
	gs, per := m.Config.Grid(), d.ImageSize()
	tokens := make([]int32, d.N*gs*gs)
	m.EncodeTo(tokens, d.Pix, d.N)
	sw, _ := NewSwapper(m.Codebook, dist2.SquaredL2, 10, 10)
	region := CenterRegion(gs, 2)
	r := rand.New(rand.NewPCG(2, 2))
	grids := make([]int32, 0, d.N*4*gs*gs)
	buf := make([]int32, gs*gs)
	for i := range d.N {
		for _, mode := range SwapModes {
			sw.Swap(buf, tokens[i*gs*gs:(i+1)*gs*gs], gs, region, mode, r)
			grids = append(grids, buf...)
		}
	}
	pix := make([]float32, d.N*4*per)
	if err := m.DecodeTo(pix, grids, d.N*4); err != nil {
		t.Fatal(err)
	}
	var mean [4]float64
	ordered := 0
	for i := range d.N {
		base := pix[i*4*per : (i*4+1)*per]
		var e [4]float64
		for v := 1; v < 4; v++ {
			e[v] = mse(pix[(i*4+v)*per:(i*4+v+1)*per], base)
			mean[v] += e[v] / float64(d.N)
		}
		if e[Near] < e[Random] && e[Random] < e[Far] {
			ordered++
		}
	}
	if !(mean[Near] < mean[Random] && mean[Random] < mean[Far]) {
		t.Errorf("mean pixel error nearby %.4f, random %.4f, distant %.4f: want increasing", mean[Near], mean[Random], mean[Far])
	}
	if ordered < d.N*2/3 {
		t.Errorf("nearby < random < distant for %d of %d images: want most", ordered, d.N)
	}
}

func TestParseRegion(t *testing.T) {
	for s, want := range map[string]Region{"center": {2, 2, 4, 4}, "0,1,3,7": {0, 1, 3, 7}, " 1, 1 ,2,2": {1, 1, 2, 2}} {
		if got, err := ParseRegion(s, 2, 7); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1,2,3", "a,b,c,d", "0,0,8,8", "3,3,3,5", "centre"} {
		if _, err := ParseRegion(s, 2, 7); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
