//go:build arm64 && !purego

package kernel

import "unsafe"

// Plain Go for the kernels that have no NEON assembly yet, on their raw
// contracts (the loops of vec.go and winograd.go's documentation), so that
// the NEON path is complete. They compute what the generic path computes,
// without its slices' bounds checks: the exported callers checked them.

func floats(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

// wgInput16Go writes V = B^T d B for 16*groups channels; see WinogradInput.
func wgInput16Go(v *float32, stride int, d *float32, rowStride, pix, groups int) {
	vs := floats(v, 35*stride+16*groups)
	ds := floats(d, 5*rowStride+5*pix+16*groups)
	bt := func(x [6]float32) [6]float32 {
		return [6]float32{
			4*x[0] - 5*x[2] + x[4],
			x[3] + x[4] - 4*(x[1]+x[2]),
			x[4] - x[3] + 4*(x[1]-x[2]),
			x[4] - x[2] + 2*(x[3]-x[1]),
			x[4] - x[2] - 2*(x[3]-x[1]),
			x[5] + 4*x[1] - 5*x[3],
		}
	}
	for c := range 16 * groups {
		var t [6][6]float32 // t[k][j] = (B^T d)[k][j]
		for j := range 6 {
			var col [6]float32
			for k := range 6 {
				col[k] = ds[k*rowStride+j*pix+c]
			}
			r := bt(col)
			for k := range 6 {
				t[k][j] = r[k]
			}
		}
		for i := range 6 {
			r := bt(t[i])
			for s := range 6 {
				vs[(6*i+s)*stride+c] = r[s]
			}
		}
	}
}

// wgOutput16Go writes Y = A^T m A + bias (then max(0, .) if relu) for
// 16*groups channels; see WinogradOutput.
func wgOutput16Go(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int) {
	os := floats(out, (rows-1)*rowStride+(cols-1)*pix+16*groups)
	ms := floats(m, 35*mstride+16*groups)
	bs := floats(bias, 16*groups)
	at := func(x [6]float32) [4]float32 {
		a, b, c, e := x[1]+x[2], x[1]-x[2], x[3]+x[4], x[3]-x[4]
		return [4]float32{x[0] + a + c, b + 2*e, a + 4*c, b + 8*e + x[5]}
	}
	for ch := range 16 * groups {
		var t [4][6]float32 // t[r][j] = (A^T m)[r][j]
		for j := range 6 {
			var col [6]float32
			for k := range 6 {
				col[k] = ms[(6*k+j)*mstride+ch]
			}
			r := at(col)
			for i := range 4 {
				t[i][j] = r[i]
			}
		}
		for i := range rows {
			r := at(t[i])
			for j := range cols {
				y := r[j] + bs[ch]
				if relu {
					y = max(y, 0)
				}
				os[i*rowStride+j*pix+ch] = y
			}
		}
	}
}
