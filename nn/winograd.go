package nn

import (
	"slices"
	"sync"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// winograd computes 3x3, stride-1, pad-1 convolutions by Winograd's minimal
// filtering F(4x4, 3x3) (Lavin and Gray, 2016): each 4 x 4 block of output
// pixels comes from a 6 x 6 block of input through
//
//	Y = A^T [ (G g G^T) .* (B^T d B) ] A,
//
// so that the products become 36 GEMMs, one per point of the 6 x 6 domain,
// with 36 multiplies per 16 outputs instead of 144: a quarter of the
// multiplies of the direct convolution on maps whose sides are multiples of
// four (7 x 7 maps pad to 8 x 8, a third). The transforms are additions and a
// few scalings; rounding differs from the direct sum by a few float32 ulps
// of the largest terms.
type winograd struct {
	w    []float32       // the weights u was made from
	u    []float32       // the transformed weights, [36][Cin][Cout]
	pu   [36]gemm.Packed // each point's weights, packed for its GEMM
	pad  []float32       // the input with a 1-pixel border on top and left, and enough below and right for whole tiles
	pool sync.Pool       // per-goroutine transform buffers
}

// wgBlock is how many tiles go through the three stages at a time: their
// transformed inputs and products (36 x 48 x C floats each) stay in L2.
const wgBlock = 48

// forward writes the convolution of x [B, H, W, Cin] with w [9*Cin, Cout]
// (rows in (ky, kx, ci) order) into out [B, H, W, Cout], adding bias (nil
// for none), taking max(0, x) first if inRelu and max(0, .) last if relu.
func (c *winograd) forward(out, x, w, bias []float32, b, h, wd, cin, cout int, inRelu, relu bool) {
	th, tw := (h+3)/4, (wd+3)/4
	hp, wp := 4*th+2, 4*tw+2
	c.transformWeights(w, cin, cout)
	c.pad = grow(c.pad, b*hp*wp*cin)
	par.For(b, 1, func(lo, hi int) {
		for bi := lo; bi < hi; bi++ {
			img := c.pad[bi*hp*wp*cin : (bi+1)*hp*wp*cin]
			clear(img[:wp*cin])
			for y := range hp - 1 {
				row := img[(y+1)*wp*cin : (y+2)*wp*cin]
				clear(row[:cin])
				if y >= h {
					clear(row)
					continue
				}
				src := x[(bi*h+y)*wd*cin : (bi*h+y+1)*wd*cin]
				if inRelu {
					gemm.ReLU(row[cin:(wd+1)*cin], src)
				} else {
					copy(row[cin:(wd+1)*cin], src)
				}
				clear(row[(wd+1)*cin:])
			}
		}
	})
	tiles := b * th * tw
	blocks := (tiles + wgBlock - 1) / wgBlock
	par.For(blocks, 1, func(lo, hi int) {
		buf, _ := c.pool.Get().(*wgBuffers)
		if buf == nil {
			buf = new(wgBuffers)
		}
		buf.v = grow(buf.v, 36*wgBlock*cin)
		buf.m = grow(buf.m, 36*wgBlock*cout)
		b := bias
		if b == nil {
			buf.zeros = grow(buf.zeros, cout)
			clear(buf.zeros)
			b = buf.zeros
		}
		for blk := lo; blk < hi; blk++ {
			t0, t1 := blk*wgBlock, min((blk+1)*wgBlock, tiles)
			n := t1 - t0
			for t := t0; t < t1; t++ {
				bi, ty, tx := t/(th*tw), (t/tw)%th, t%tw
				base := ((bi*hp+4*ty)*wp + 4*tx) * cin
				gemm.WinogradInput(buf.v[(t-t0)*cin:], n*cin, c.pad[base:], wp*cin, cin, &buf.tmp)
			}
			for p := range 36 {
				c.pu[p].SerialBias(n, buf.v[p*n*cin:], cin, nil, false, buf.m[p*n*cout:], cout)
			}
			for t := t0; t < t1; t++ {
				bi, ty, tx := t/(th*tw), (t/tw)%th, t%tw
				gemm.WinogradOutput(out, buf.m[(t-t0)*cout:], n*cout, b, bi, 4*ty, 4*tx, h, wd, cout, relu, &buf.tmp)
			}
		}
		c.pool.Put(buf)
	})
}

// wgG is Winograd's G for F(4x4, 3x3), 6 x 3, and wgKron its Kronecker
// square: wgKron[(r*6+s)*9+ky*3+kx] = G[r][ky] G[s][kx].
var (
	wgG = [6][3]float32{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	wgKron = func() (k [36 * 9]float32) {
		for r := range 6 {
			for s := range 6 {
				for ky := range 3 {
					for kx := range 3 {
						k[(r*6+s)*9+ky*3+kx] = wgG[r][ky] * wgG[s][kx]
					}
				}
			}
		}
		return k
	}()
)

type wgBuffers struct {
	v, m  []float32
	zeros []float32 // the bias when there is none
	tmp   gemm.WinogradTmp
}

// transformWeights sets u[p] = G g G^T for every (ci, co) and packs each
// point's Cin x Cout matrix, unless w is what it was last time.
func (c *winograd) transformWeights(w []float32, cin, cout int) {
	if slices.Equal(c.w, w) && len(c.u) == 36*cin*cout { // inference: unchanged since the last pass
		return
	}
	c.w = append(c.w[:0], w...)
	c.u = grow(c.u, 36*cin*cout)
	// U[r*6+s] = sum over (ky, kx) of G[r][ky] G[s][kx] w[ky*3+kx], each
	// w[q] a Cin x Cout matrix: one product of the 36 x 9 matrix G (x) G
	// with the weights seen as 9 rows of Cin*Cout.
	gemm.Sgemm(false, false, 36, cin*cout, 9, 1, wgKron[:], 9, w, cin*cout, 0, c.u, cin*cout)
	for p := range 36 {
		c.pu[p].Pack(c.u[p*cin*cout:(p+1)*cin*cout], cout, cin, cout)
	}
}
