package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/internal/gemm/avx512"
)

// The AVX-512 Winograd transforms equal the plain loops, channel by channel,
// including the channels past the last whole group of 16 and clipped tiles.
func TestWinogradKernelsMatchLoops(t *testing.T) {
	if !avx512.Enabled() {
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
		var got, want []float32
		for _, on := range []bool{true, false} {
			restore := avx512.SetForTest(on)
			v := make([]float32, 36*stride)
			WinogradInput(v, stride, d, w*cin, cin, &tmp)
			restore()
			got, want = want, v
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("input cin=%d: v[%d] = %v with the kernel, %v with the loop", cin, i, got[i], want[i])
			}
		}
	}
	for _, c := range []struct{ cout, h, wd, y0, x0 int }{{16, 8, 8, 0, 0}, {35, 7, 6, 4, 4}, {48, 5, 9, 4, 0}} {
		stride := c.cout + 1
		m, bias := fill(36*stride), fill(c.cout)
		for _, relu := range []bool{false, true} {
			var got, want []float32
			for _, on := range []bool{true, false} {
				restore := avx512.SetForTest(on)
				out := make([]float32, 2*c.h*c.wd*c.cout)
				WinogradOutput(out, m, stride, bias, 1, c.y0, c.x0, c.h, c.wd, c.cout, relu, &tmp)
				restore()
				got, want = want, out
			}
			for i := range want {
				if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("output %+v relu=%v: out[%d] = %v with the kernel, %v with the loop", c, relu, i, got[i], want[i])
				}
			}
		}
	}
}
