//go:build amd64 && !purego

package kernel

// The AVX-512 kernels' declarations: the same contracts as the dispatching
// functions of gemm_amd64.go and vec_amd64.go, which document them.

// kernelRows sets the 12 x 32 block of C at c (rows ldc apart) to
// alpha (A B) + C, or to alpha (A B) when add is false, for A's 12 x k panel
// stored row-major (rows lda apart) and B's k x 32 panel stored row-major
// (rows ldb apart; nr when packed); then adds bias[0:32] to every row unless
// bias is nil, and takes max(., 0) if relu is set.
//
//go:noescape
func kernelRowsAVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool)

// kernelCols is kernelRows for an A panel stored column-major: element
// (i, p) at a[p*lda+i].
//
//go:noescape
func kernelColsAVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool)

// packRow copies blocks of 32 floats, block j from src+32j to dst+j*stride
// (stride in bytes): one row of B into the panels packB lays out
// (packRowLoop is its reference).
//
//go:noescape
func packRowAVX512(dst, src *float32, blocks, stride int)

//go:noescape
func dotRowsAVX512(q, k *float32, stride, n, dh int, scale float32, out *float32)

//go:noescape
func axpyRowsAVX512(p, v *float32, stride, n, dh int, out *float32)

// kernelIndirect sets the 6 x 64 block of C at c (rows ldc apart) to A B + C,
// or A B when add is false, where row i of A is the k floats at rows[i] and
// B's k x 64 panel is packed; then adds bias[0:64] unless bias is nil, and
// takes max(., 0) if relu is set.
//
//go:noescape
func kernelIndirectAVX512(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool)

//go:noescape
func argmin16AVX512(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32)

//go:noescape
func reluCopyAVX512(dst, src *float32, n int)

// kernelGather sets the 12 x 32 block of C at c (rows ldc apart) to A B + C,
// or A B when add is false, where column p of A's 12 x k panel is the 12
// floats off bytes past ptrs[p], and B's k x 32 panel is packed.
//
//go:noescape
func kernelGatherAVX512(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool)

//go:noescape
func maskPositiveAVX512(dst, src, ref *float32, n int)

//go:noescape
func wgInput16AVX512(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32)

//go:noescape
func wgOutput16AVX512(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32)

//go:noescape
func geluForwardAVX512(dst, src *float32, n int, c *[14]float32)

//go:noescape
func geluBackwardAVX512(dst, dy, x *float32, n int, c *[14]float32)

//go:noescape
func layerNormRowAVX512(out, xhat, x, gamma, beta *float32, d int, eps float32) float32

//go:noescape
func layerNormGradRowAVX512(dx, dy, xhat, gamma *float32, d int, rstd float32)

//go:noescape
func colSumsAVX512(dst, a, b *float32, rows, n, ld int)

//go:noescape
func sumSquaresAVX512(x *float32, n int) float64

//go:noescape
func adamStepAVX512(w, grad, m, v *float32, n int, c *AdamConsts)

//go:noescape
func softmaxRowAVX512(row *float32, width int, scale float32, c *[11]float32)

//go:noescape
func softmaxGradRowAVX512(p, ds *float32, width int, scale float32)
