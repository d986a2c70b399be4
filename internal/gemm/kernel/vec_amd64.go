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
	case AVX2:
		dotRowsAVX2(q, k, stride, n, dh, scale, out)
	default:
		panic(noVector())
	}
}

func axpyRows(p, v *float32, stride, n, dh int, out *float32) {
	switch path {
	case AVX512:
		axpyRowsAVX512(p, v, stride, n, dh, out)
	case AVX2:
		axpyRowsAVX2(p, v, stride, n, dh, out)
	default:
		panic(noVector())
	}
}

func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32) {
	switch path {
	case AVX512:
		argmin16AVX512(x, n, iota, vals, idx)
	case AVX2:
		argmin16AVX2(x, n, iota, vals, idx)
	default:
		panic(noVector())
	}
}

func addVec(dst, a, b *float32, n int) {
	switch path {
	case AVX512:
		addVecAVX512(dst, a, b, n)
	case AVX2:
		addVecAVX2(dst, a, b, n)
	default:
		panic(noVector())
	}
}

func reluCopy(dst, src *float32, n int) {
	switch path {
	case AVX512:
		reluCopyAVX512(dst, src, n)
	case AVX2:
		reluCopyAVX2(dst, src, n)
	default:
		panic(noVector())
	}
}

func maskPositive(dst, src, ref *float32, n int) {
	switch path {
	case AVX512:
		maskPositiveAVX512(dst, src, ref, n)
	case AVX2:
		maskPositiveAVX2(dst, src, ref, n)
	default:
		panic(noVector())
	}
}

func wgInput16(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32) {
	switch path {
	case AVX512:
		wgInput16AVX512(v, stride, d, rowStride, pix, groups, tmp)
	case AVX2:
		wgInput16AVX2(v, stride, d, rowStride, pix, groups, tmp)
	default:
		panic(noVector())
	}
}

func wgOutput16(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32) {
	switch path {
	case AVX512:
		wgOutput16AVX512(out, rowStride, pix, m, mstride, groups, bias, relu, rows, cols, tmp)
	case AVX2:
		wgOutput16AVX2(out, rowStride, pix, m, mstride, groups, bias, relu, rows, cols, tmp)
	default:
		panic(noVector())
	}
}

func geluForward(dst, src *float32, n int, c *[14]float32) {
	switch path {
	case AVX512:
		geluForwardAVX512(dst, src, n, c)
	case AVX2:
		geluForwardAVX2(dst, src, n, c)
	default:
		panic(noVector())
	}
}

func geluBackward(dst, dy, x *float32, n int, c *[14]float32) {
	switch path {
	case AVX512:
		geluBackwardAVX512(dst, dy, x, n, c)
	case AVX2:
		geluBackwardAVX2(dst, dy, x, n, c)
	default:
		panic(noVector())
	}
}

func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32 {
	switch path {
	case AVX512:
		return layerNormRowAVX512(out, xhat, x, gamma, beta, d, eps)
	case AVX2:
		return layerNormRowAVX2(out, xhat, x, gamma, beta, d, eps)
	default:
		panic(noVector())
	}
}

func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32) {
	switch path {
	case AVX512:
		layerNormGradRowAVX512(dx, dy, xhat, gamma, d, rstd)
	case AVX2:
		layerNormGradRowAVX2(dx, dy, xhat, gamma, d, rstd)
	default:
		panic(noVector())
	}
}

func colSums(dst, a, b *float32, rows, n, ld int) {
	switch path {
	case AVX512:
		colSumsAVX512(dst, a, b, rows, n, ld)
	case AVX2:
		colSumsAVX2(dst, a, b, rows, n, ld)
	default:
		panic(noVector())
	}
}

func sumSquares(x *float32, n int) float64 {
	switch path {
	case AVX512:
		return sumSquaresAVX512(x, n)
	case AVX2:
		return sumSquaresAVX2(x, n)
	default:
		panic(noVector())
	}
}

func adamStep(w, grad, m, v *float32, n int, c *AdamConsts) {
	switch path {
	case AVX512:
		adamStepAVX512(w, grad, m, v, n, c)
	case AVX2:
		adamStepAVX2(w, grad, m, v, n, c)
	default:
		panic(noVector())
	}
}

func softmaxRow(row *float32, width int, scale float32, c *[11]float32) {
	switch path {
	case AVX512:
		softmaxRowAVX512(row, width, scale, c)
	case AVX2:
		softmaxRowAVX2(row, width, scale, c)
	default:
		panic(noVector())
	}
}

func softmaxGradRow(p, ds *float32, width int, scale float32) {
	switch path {
	case AVX512:
		softmaxGradRowAVX512(p, ds, width, scale)
	case AVX2:
		softmaxGradRowAVX2(p, ds, width, scale)
	default:
		panic(noVector())
	}
}

// noVector is the message of a kernel called on a path that has none: the
// drivers call them only when a vector path is in use.
func noVector() string { return "kernel: no vector kernels on path " + string(path) }
