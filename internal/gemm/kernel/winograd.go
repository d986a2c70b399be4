package kernel

// WinogradTmp is the scratch the Winograd transforms work in.
type WinogradTmp [36 * 16]float32

// WinogradInput writes V = B^T d B of one 6 x 6 input tile of Winograd's
// F(4x4, 3x3) for the first 16*groups channels: point (k, j) of the tile,
// channel c, is d[k*rowStride+j*pix+c], and point p = 6i+s of the result
// goes to v[p*stride+c]. It reports false, doing nothing, when the kernels
// are off.
func WinogradInput(v []float32, stride int, d []float32, rowStride, pix, groups int, tmp *WinogradTmp) bool {
	if !enabled {
		return false
	}
	if groups == 0 {
		return true
	}
	_ = v[35*stride+16*groups-1]
	_ = d[5*rowStride+5*pix+16*groups-1]
	wgInput16(&v[0], stride, &d[0], rowStride, pix, groups, &tmp[0])
	return true
}

// WinogradOutput writes Y = A^T m A + bias, then max(0, .) if relu, of one
// 4 x 4 output tile for the first 16*groups channels: point p of the
// products, channel c, is m[p*mstride+c], and output pixel (i, j) for
// i < rows, j < cols goes to out[i*rowStride+j*pix+c]. bias must not be nil
// (zeros for none). It reports false, doing nothing, when the kernels are
// off.
func WinogradOutput(out []float32, rowStride, pix int, m []float32, mstride, groups int, bias []float32, relu bool, rows, cols int, tmp *WinogradTmp) bool {
	if !enabled {
		return false
	}
	if groups == 0 || rows <= 0 || cols <= 0 {
		return true
	}
	rows, cols = min(rows, 4), min(cols, 4)
	_ = out[(rows-1)*rowStride+(cols-1)*pix+16*groups-1]
	_ = m[35*mstride+16*groups-1]
	_ = bias[16*groups-1]
	wgOutput16(&out[0], rowStride, pix, &m[0], mstride, groups, &bias[0], relu, rows, cols, &tmp[0])
	return true
}
