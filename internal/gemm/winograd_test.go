package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/internal/gemm/kernel"
)

// The AVX-512 Winograd transforms equal the plain loops, channel by channel,
// including the channels past the last whole group of 16 and clipped tiles.
func TestWinogradKernelsMatchLoops(t *testing.T) {
	if !kernel.Enabled() {
		t.Skip("no AVX-512 here: the loops are all that runs")
	}
	r := rand.New(rand.NewPCG(5, 5))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	var tmp WinogradTmp
	for _, cin := range []int{16, 35, 64} {
		const w = 9 // pixels in a row of the padded input
		d := fill(6 * w * cin)
		stride := cin + 3
		onEachPath(t, func() []float32 {
			v := make([]float32, 36*stride)
			WinogradInput(v, stride, d, w*cin, cin, &tmp)
			return v
		}, func(p kernel.Path, i int, got, want float32) {
			t.Fatalf("input cin=%d: v[%d] = %v on %s, %v with the loop", cin, i, got, p, want)
		})
	}
	for _, c := range []struct{ cout, h, wd, y0, x0 int }{{16, 8, 8, 0, 0}, {35, 7, 6, 4, 4}, {48, 5, 9, 4, 0}} {
		stride := c.cout + 1
		m, bias := fill(36*stride), fill(c.cout)
		for _, relu := range []bool{false, true} {
			onEachPath(t, func() []float32 {
				out := make([]float32, 2*c.h*c.wd*c.cout)
				WinogradOutput(out, m, stride, bias, 1, c.y0, c.x0, c.h, c.wd, c.cout, relu, &tmp)
				return out
			}, func(p kernel.Path, i int, got, want float32) {
				t.Fatalf("output %+v relu=%v: out[%d] = %v on %s, %v with the loop", c, relu, i, got, p, want)
			})
		}
	}
}

// onEachPath runs compute on every path this processor has and calls fail
// for the first element of a vector path's result more than 1e-4 from the
// Generic path's (the plain loops').
func onEachPath(t *testing.T, compute func() []float32, fail func(p kernel.Path, i int, got, want float32)) {
	t.Helper()
	paths := kernel.Paths()
	results := make([][]float32, len(paths))
	for k, p := range paths {
		restore := kernel.SetForTest(p)
		results[k] = compute()
		restore()
	}
	want := results[len(paths)-1]
	for k, got := range results[:len(paths)-1] {
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				fail(paths[k], i, got[i], want[i])
				return
			}
		}
	}
}
