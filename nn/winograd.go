package nn

import (
	"slices"
	"sync"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/gemm/avx512"
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
				wgInput(buf.v[(t-t0)*cin:], n*cin, c.pad[base:], wp*cin, cin, &buf.tmp)
			}
			for p := range 36 {
				c.pu[p].SerialBias(n, buf.v[p*n*cin:], cin, nil, false, buf.m[p*n*cout:], cout)
			}
			for t := t0; t < t1; t++ {
				bi, ty, tx := t/(th*tw), (t/tw)%th, t%tw
				wgOutput(out, buf.m[(t-t0)*cout:], n*cout, b, bi, 4*ty, 4*tx, h, wd, cout, relu, &buf.tmp)
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
	tmp   avx512.WinogradTmp
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

// wgInput writes B^T d B for the 6 x 6 input tile at d (rows rowStride
// apart, pixels cin apart) into v[p*stride+ci] for each of the 36 points p:
// 16 channels at a time on AVX-512, the rest one by one.
func wgInput(v []float32, stride int, d []float32, rowStride, cin int, tmp *avx512.WinogradTmp) {
	done := 0
	if avx512.WinogradInput(v, stride, d, rowStride, cin, cin/16, tmp) {
		done = cin / 16 * 16
	}
	for ci := done; ci < cin; ci++ {
		var t [6][6]float32 // B^T d
		for j := range 6 {
			o := j*cin + ci
			d0, d1, d2 := d[o], d[rowStride+o], d[2*rowStride+o]
			d3, d4, d5 := d[3*rowStride+o], d[4*rowStride+o], d[5*rowStride+o]
			t[0][j] = 4*d0 - 5*d2 + d4
			t[1][j] = -4*(d1+d2) + d3 + d4
			t[2][j] = 4*(d1-d2) - d3 + d4
			t[3][j] = 2*(d3-d1) - d2 + d4
			t[4][j] = 2*(d1-d3) - d2 + d4
			t[5][j] = 4*d1 - 5*d3 + d5
		}
		for i := range 6 { // (B^T d) B
			t0, t1, t2, t3, t4, t5 := t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5]
			o := i*6*stride + ci
			v[o] = 4*t0 - 5*t2 + t4
			v[o+stride] = -4*(t1+t2) + t3 + t4
			v[o+2*stride] = 4*(t1-t2) - t3 + t4
			v[o+3*stride] = 2*(t3-t1) - t2 + t4
			v[o+4*stride] = 2*(t1-t3) - t2 + t4
			v[o+5*stride] = 4*t1 - 5*t3 + t5
		}
	}
}

// wgOutput writes A^T m A for one tile (m[p*stride+co] for the 36 points p),
// plus bias and max(0, .) if relu, into the pixels of out [B, H, W, Cout]
// from (y0, x0) that lie inside the image: 16 channels at a time on
// AVX-512, the rest one by one.
func wgOutput(out, m []float32, stride int, bias []float32, bi, y0, x0, h, wd, cout int, relu bool, tmp *avx512.WinogradTmp) {
	rows, cols := min(4, h-y0), min(4, wd-x0)
	done := 0
	if avx512.WinogradOutput(out[((bi*h+y0)*wd+x0)*cout:], wd*cout, cout, m, stride, cout/16, bias, relu, rows, cols, tmp) {
		done = cout / 16 * 16
	}
	for co := done; co < cout; co++ {
		var s [4][6]float32 // A^T m
		for j := range 6 {
			o := j*stride + co
			m0, m1, m2 := m[o], m[6*stride+o], m[12*stride+o]
			m3, m4, m5 := m[18*stride+o], m[24*stride+o], m[30*stride+o]
			s[0][j] = m0 + m1 + m2 + m3 + m4
			s[1][j] = m1 - m2 + 2*(m3-m4)
			s[2][j] = m1 + m2 + 4*(m3+m4)
			s[3][j] = m1 - m2 + 8*(m3-m4) + m5
		}
		b0 := bias[co]
		for i := range rows {
			s0, s1, s2, s3, s4, s5 := s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5]
			y := [4]float32{
				s0 + s1 + s2 + s3 + s4,
				s1 - s2 + 2*(s3-s4),
				s1 + s2 + 4*(s3+s4),
				s1 - s2 + 8*(s3-s4) + s5,
			}
			o := ((bi*h+y0+i)*wd+x0)*cout + co
			for j := range cols {
				v := y[j] + b0
				if relu {
					v = max(v, 0)
				}
				out[o+j*cout] = v
			}
		}
	}
}
