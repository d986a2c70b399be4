//go:build amd64 && !purego

package kernel

// The vector kernels around the products, on the path in use. Each has one
// contract on every path, documented by the plain loop in vec.go, rows.go
// or winograd.go that calls it; the AVX2 ones take 16 floats as two ymm
// registers where AVX-512 takes one zmm.

func dotRows(q, k *float32, stride, n, dh int, scale float32, out *float32) {
	switch path {
	case AVX512:
		dotRowsAVX512(q, k, stride, n, dh, scale, out)
	default:
		noAVX2()
	}
}

func axpyRows(p, v *float32, stride, n, dh int, out *float32) {
	switch path {
	case AVX512:
		axpyRowsAVX512(p, v, stride, n, dh, out)
	default:
		noAVX2()
	}
}

func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32) {
	switch path {
	case AVX512:
		argmin16AVX512(x, n, iota, vals, idx)
	default:
		noAVX2()
	}
}

func reluCopy(dst, src *float32, n int) {
	switch path {
	case AVX512:
		reluCopyAVX512(dst, src, n)
	default:
		noAVX2()
	}
}

func maskPositive(dst, src, ref *float32, n int) {
	switch path {
	case AVX512:
		maskPositiveAVX512(dst, src, ref, n)
	default:
		noAVX2()
	}
}

func wgInput16(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32) {
	switch path {
	case AVX512:
		wgInput16AVX512(v, stride, d, rowStride, pix, groups, tmp)
	default:
		noAVX2()
	}
}

func wgOutput16(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32) {
	switch path {
	case AVX512:
		wgOutput16AVX512(out, rowStride, pix, m, mstride, groups, bias, relu, rows, cols, tmp)
	default:
		noAVX2()
	}
}

func geluForward(dst, src *float32, n int, c *[14]float32) {
	switch path {
	case AVX512:
		geluForwardAVX512(dst, src, n, c)
	default:
		noAVX2()
	}
}

func geluBackward(dst, dy, x *float32, n int, c *[14]float32) {
	switch path {
	case AVX512:
		geluBackwardAVX512(dst, dy, x, n, c)
	default:
		noAVX2()
	}
}

func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32 {
	switch path {
	case AVX512:
		return layerNormRowAVX512(out, xhat, x, gamma, beta, d, eps)
	default:
		noAVX2()
		return 0
	}
}

func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32) {
	switch path {
	case AVX512:
		layerNormGradRowAVX512(dx, dy, xhat, gamma, d, rstd)
	default:
		noAVX2()
	}
}

func colSums(dst, a, b *float32, rows, n, ld int) {
	switch path {
	case AVX512:
		colSumsAVX512(dst, a, b, rows, n, ld)
	default:
		noAVX2()
	}
}

func sumSquares(x *float32, n int) float64 {
	switch path {
	case AVX512:
		return sumSquaresAVX512(x, n)
	default:
		noAVX2()
		return 0
	}
}

func adamStep(w, grad, m, v *float32, n int, c *AdamConsts) {
	switch path {
	case AVX512:
		adamStepAVX512(w, grad, m, v, n, c)
	default:
		noAVX2()
	}
}

func softmaxRow(row *float32, width int, scale float32, c *[11]float32) {
	switch path {
	case AVX512:
		softmaxRowAVX512(row, width, scale, c)
	default:
		noAVX2()
	}
}

func softmaxGradRow(p, ds *float32, width int, scale float32) {
	switch path {
	case AVX512:
		softmaxGradRowAVX512(p, ds, width, scale)
	default:
		noAVX2()
	}
}

func noAVX2() { panic("kernel: no AVX2 kernel yet") }
