package explore

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/vqvae"
)

func TestRegionMSE(t *testing.T) {
	// 1 channel of 4 x 4 pixels, tokens of 2 x 2 pixels: region token (1, 0)
	// is pixel rows 2-3, columns 0-1.
	a, b := make([]float32, 16), make([]float32, 16)
	b[2*4+1] = 2 // inside the region
	b[0] = 1     // outside
	all, inside := regionMSE(a, b, 1, 4, 2, vqvae.Region{Y0: 1, X0: 0, Y1: 2, X1: 1})
	if all != 5.0/16 || inside != 4.0/4 {
		t.Errorf("regionMSE = %v, %v; want %v, %v", all, inside, 5.0/16, 1.0)
	}
}

// On the committed tokenizer, swapping in a near code changes the region less
// than a random or a far one, the original mode changes nothing, and the
// region error grows with neighbour rank.
func TestEvalSwaps(t *testing.T) {
	m, d := smallModel(t, 40)
	gs := m.Config.Grid()
	tokens := make([]int32, d.N*gs*gs)
	if err := m.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	sw, err := vqvae.NewSwapper(m.Codebook, dist2.SquaredL2, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	region := vqvae.CenterRegion(gs, 2)
	ev, err := EvalSwaps(context.Background(), m, sw, tokens, d.N, region, 8, rand.New(rand.NewPCG(1, 1)), func(done int) { seen = done })
	if err != nil {
		t.Fatal(err)
	}
	if seen != d.N || ev.Images != d.N || len(ev.Modes) != len(vqvae.SwapModes) || len(ev.Curve) != 8 {
		t.Fatalf("progress %d, %d images, %d modes, %d buckets", seen, ev.Images, len(ev.Modes), len(ev.Curve))
	}
	orig, near, random, far := ev.Modes[vqvae.Original], ev.Modes[vqvae.Near], ev.Modes[vqvae.Random], ev.Modes[vqvae.Far]
	if orig.MSE != 0 || orig.CodeDistance != 0 {
		t.Errorf("the original mode: MSE %v, code distance %v; want 0", orig.MSE, orig.CodeDistance)
	}
	if !(near.RegionMSE < random.RegionMSE && random.RegionMSE < far.RegionMSE) {
		t.Errorf("region MSE near %v, random %v, far %v: want increasing", near.RegionMSE, random.RegionMSE, far.RegionMSE)
	}
	if !(near.CodeDistance < far.CodeDistance) {
		t.Errorf("code distance near %v, far %v", near.CodeDistance, far.CodeDistance)
	}
	if ev.Spearman < 0.3 || ev.Ordered < 0.5 || math.IsNaN(ev.Spearman) {
		t.Errorf("Spearman %v, ordered %v: want the error to grow with rank", ev.Spearman, ev.Ordered)
	}
	if first, last := ev.Curve[0], ev.Curve[len(ev.Curve)-1]; first.RankLo != 0 || last.RankHi != m.Config.CodebookSize-1 || first.RegionMSE >= last.RegionMSE {
		t.Errorf("curve from %+v to %+v", first, last)
	}
	if p := ev.CurvePlot(); len(p.Series) != 1 || len(p.Series[0].X) != 8 {
		t.Errorf("plot %+v", p)
	}
}
