package gemm

import "github.com/vqtool/vqtool/internal/gemm/kernel"

// WinogradTmp is the scratch of the Winograd transforms.
type WinogradTmp = kernel.WinogradTmp

// The transforms of Winograd's F(4x4, 3x3) for the 3 x 3 convolutions of
// package nn: the vector kernels for whole groups of 16 channels, and the
// plain loops, which they must equal, for the rest (and everything when the
// kernels are off).

// WinogradInput writes B^T d B for the 6 x 6 input tile at d (rows rowStride
// apart, pixels cin apart) into v[p*stride+ci] for each of the 36 points p:
// 16 channels at a time on a vector path, the rest one by one.
func WinogradInput(v []float32, stride int, d []float32, rowStride, cin int, tmp *WinogradTmp) {
	done := 0
	if kernel.WinogradInput(v, stride, d, rowStride, cin, cin/16, tmp) {
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

// WinogradOutput writes A^T m A for one tile (m[p*stride+co] for the 36 points p),
// plus bias and max(0, .) if relu, into the pixels of out [B, H, W, Cout]
// from (y0, x0) that lie inside the image: 16 channels at a time on
// a vector path, the rest one by one.
func WinogradOutput(out, m []float32, stride int, bias []float32, bi, y0, x0, h, wd, cout int, relu bool, tmp *WinogradTmp) {
	rows, cols := min(4, h-y0), min(4, wd-x0)
	done := 0
	if kernel.WinogradOutput(out[((bi*h+y0)*wd+x0)*cout:], wd*cout, cout, m, stride, cout/16, bias, relu, rows, cols, tmp) {
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
