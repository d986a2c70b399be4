//go:build (!amd64 && !arm64) || purego

package kernel

// archPaths: no vector kernels in this build.
func archPaths() []Path { return nil }

func noKernel() { panic("kernel: no vector kernel in this build") }

func kernelRows(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	noKernel()
}

func kernelCols(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	noKernel()
}

// kernelColsHalf computes the whole tile here.
func kernelColsHalf(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	kernelCols(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
}

func packRow(dst, src *float32, blocks, stride int) { noKernel() }

const haveTrans = false

func packTrans(dst, src *float32, ldb, kb int) { noKernel() }

func kernelIndirect(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool) {
	noKernel()
}

func kernelGather(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool) {
	noKernel()
}

func dotRows(q, k *float32, stride, n, dh int, scale float32, out *float32) { noKernel() }

func axpyRows(p, v *float32, stride, n, dh int, out *float32) { noKernel() }

func argmin16(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32) { noKernel() }

func reluCopy(dst, src *float32, n int) { noKernel() }
func addVec(dst, a, b *float32, n int)  { noKernel() }

func maskPositive(dst, src, ref *float32, n int) { noKernel() }

func wgInput16(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32) {
	noKernel()
}

func wgOutput16(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32) {
	noKernel()
}

func geluForward(dst, src *float32, n int, c *[14]float32) { noKernel() }

func geluBackward(dst, dy, x *float32, n int, c *[14]float32) { noKernel() }

func layerNormRow(out, xhat, x, gamma, beta *float32, d int, eps float32) float32 {
	noKernel()
	return 0
}

func layerNormGradRow(dx, dy, xhat, gamma *float32, d int, rstd float32) { noKernel() }

func colSums(dst, a, b *float32, rows, n, ld int) { noKernel() }

func sumSquares(x *float32, n int) float64 {
	noKernel()
	return 0
}

func adamStep(w, grad, m, v *float32, n int, c *AdamConsts) { noKernel() }

func softmaxRow(row *float32, width int, scale float32, c *[11]float32) { noKernel() }

func softmaxGradRow(p, ds *float32, width int, scale float32) { noKernel() }
