//go:build arm64 && !purego

package kernel

// archPaths: Advanced SIMD is part of every ARMv8-A processor, so arm64
// always runs NEON.
func archPaths() []Path { return []Path{NEON} }

// The kernels on arm64, where NEON is the one vector path: each has the
// contract of its namesake in gemm_amd64.go or vec_amd64.go. The NEON
// assembly is kernel_neon_arm64.s (go generate).

func kernelRows(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	kernelRowsNEON(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
}

func kernelCols(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	kernelColsNEON(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
}

// kernelColsHalf computes the whole tile here.
func kernelColsHalf(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	kernelCols(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
}

func packRow(dst, src *float32, blocks, stride int) { packRowNEON(dst, src, blocks, stride) }

// No packTrans on arm64: packB transposes by its loop.
const haveTrans = false

func packTrans(dst, src *float32, ldb, kb int) { panic("kernel: no packTrans on arm64") }

func kernelIndirect(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool) {
	kernelIndirectNEON(k, rows, b, c, ldc, add, bias, relu)
}

func kernelGather(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool) {
	kernelGatherNEON(k, ptrs, off, b, c, ldc, add)
}

func dotRows(q, k *float32, stride, n, dh int, scale float32, out *float32) {
	dotRowsNEON(q, k, stride, n, dh, scale, out)
}

func axpyRows(p, v *float32, stride, n, dh int, out *float32) { axpyRowsNEON(p, v, stride, n, dh, out) }

func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32) {
	argmin16NEON(x, n, iota, vals, idx)
}

func reluCopy(dst, src *float32, n int) { reluCopyNEON(dst, src, n) }
func addVec(dst, a, b *float32, n int)  { addVecNEON(dst, a, b, n) }

func maskPositive(dst, src, ref *float32, n int) { maskPositiveNEON(dst, src, ref, n) }

func wgInput16(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32) {
	wgInput16NEON(v, stride, d, rowStride, pix, groups, tmp)
}

func wgOutput16(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32) {
	wgOutput16NEON(out, rowStride, pix, m, mstride, groups, bias, relu, rows, cols, tmp)
}

func geluForward(dst, src *float32, n int, c *[14]float32) { geluForwardNEON(dst, src, n, c) }

func geluBackward(dst, dy, x *float32, n int, c *[14]float32) {
	geluBackwardNEON(dst, dy, x, n, c)
}

func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32 {
	return layerNormRowNEON(out, xhat, x, gamma, beta, d, eps)
}

func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32) {
	layerNormGradRowNEON(dx, dy, xhat, gamma, d, rstd)
}

func colSums(dst, a, b *float32, rows, n, ld int) { colSumsNEON(dst, a, b, rows, n, ld) }

func sumSquares(x *float32, n int) float64 { return sumSquaresNEON(x, n) }

func adamStep(w, grad, m, v *float32, n int, c *AdamConsts) { adamStepNEON(w, grad, m, v, n, c) }

func softmaxRow(row *float32, width int, scale float32, c *[11]float32) {
	softmaxRowNEON(row, width, scale, c)
}

func softmaxGradRow(p, ds *float32, width int, scale float32) {
	softmaxGradRowNEON(p, ds, width, scale)
}
