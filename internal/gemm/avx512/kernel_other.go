//go:build !amd64 || purego

package avx512

// supported says the kernels may run: never on this processor.
const supported = false

func kernelRows(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	panic("avx512: no micro-kernel on this processor")
}

func kernelCols(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	panic("avx512: no micro-kernel on this processor")
}

func packRow(dst, src *float32, blocks, stride int) { panic("avx512: no kernel on this processor") }

func dotRows(q, k *float32, stride, n, dh int, scale float32, out *float32) {
	panic("avx512: no kernel on this processor")
}

func axpyRows(p, v *float32, stride, n, dh int, out *float32) {
	panic("avx512: no kernel on this processor")
}

func kernelIndirect(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool) {
	panic("avx512: no kernel on this processor")
}

func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32) {
	panic("avx512: no kernel on this processor")
}

func reluCopy(dst, src *float32, n int) { panic("avx512: no kernel on this processor") }

func kernelGather(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool) {
	panic("avx512: no kernel on this processor")
}

func maskPositive(dst, src, ref *float32, n int) { panic("avx512: no kernel on this processor") }

func wgInput16(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32) {
	panic("avx512: no kernel on this processor")
}

func wgOutput16(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32) {
	panic("avx512: no kernel on this processor")
}

func geluForward(dst, src *float32, n int, c *[14]float32) {
	panic("avx512: no kernel on this processor")
}

func geluBackward(dst, dy, x *float32, n int, c *[14]float32) {
	panic("avx512: no kernel on this processor")
}

func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32 {
	panic("avx512: no kernel on this processor")
}

func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32) {
	panic("avx512: no kernel on this processor")
}

func colSums(dst, a, b *float32, rows, n, ld int) { panic("avx512: no kernel on this processor") }

func sumSquares(x *float32, n int) float64 { panic("avx512: no kernel on this processor") }

func adamStep(w, grad, m, v *float32, n int, c *AdamConsts) {
	panic("avx512: no kernel on this processor")
}

func softmaxRow(row *float32, width int, scale float32, c *[11]float32) {
	panic("avx512: no kernel on this processor")
}

func softmaxGradRow(p, ds *float32, width int, scale float32) {
	panic("avx512: no kernel on this processor")
}
