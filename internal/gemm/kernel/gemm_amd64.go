//go:build amd64 && !purego

package kernel

// The product kernels, on the path in use. Each has one contract on every
// path; the AVX2 ones compute their 12 x 32 (or 6 x 64) tile as 6 x 16
// pieces, which fill 12 of the 16 ymm registers with accumulators.

// kernelRows sets the 12 x 32 block of C at c (rows ldc apart) to
// alpha (A B) + C, or to alpha (A B) when add is false, for A's 12 x k panel
// stored row-major (rows lda apart) and B's k x 32 panel stored row-major
// (rows ldb apart; nr when packed); then adds bias[0:32] to every row unless
// bias is nil, and takes max(., 0) if relu is set.
func kernelRows(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	switch path {
	case AVX512:
		kernelRowsAVX512(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	default:
		kernelRowsAVX2(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	}
}

// kernelCols is kernelRows for an A panel stored column-major: element
// (i, p) at a[p*lda+i].
func kernelCols(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	switch path {
	case AVX512:
		kernelColsAVX512(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	default:
		kernelColsAVX2(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	}
}

// kernelColsHalf is kernelCols for a partial tile of at most mr/2 rows:
// rows past mr/2 of the tile at c are left as they are where the path has
// a kernel for half a tile (AVX2, where a tile is four 6 x 16 pieces), and
// computed as well elsewhere. The edge of a product whose rows leave a
// few over 12 (a weight gradient of a 256-wide input: 4 of 256) costs half
// a tile's work instead of a whole one's.
func kernelColsHalf(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool) {
	switch path {
	case AVX2:
		kernelColsHalfAVX2(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	default:
		kernelCols(k, a, lda, b, ldb, c, ldc, alpha, add, bias, relu)
	}
}

// packRow copies blocks of 32 floats, block j from src+32j to dst+j*stride
// (stride in bytes): one row of B into the panels packB lays out
// (packRowLoop is its reference).
func packRow(dst, src *float32, blocks, stride int) {
	switch path {
	case AVX512:
		packRowAVX512(dst, src, blocks, stride)
	default:
		packRowAVX2(dst, src, blocks, stride)
	}
}

// packTrans writes the panel of op(B) = B^T that packB lays out from nr
// rows of B at src (rows ldb bytes apart): dst[p*nr+j] = src[j*ldb/4+p] for
// p < kb (a multiple of 8) and j < nr (packTransLoop is its reference). The
// AVX2 instructions serve the AVX-512 path too.
func packTrans(dst, src *float32, ldb, kb int) { packTransAVX2(dst, src, ldb, kb) }

// haveTrans says whether packTrans exists in this build.
const haveTrans = true

// kernelIndirect sets the 6 x 64 block of C at c (rows ldc apart) to A B + C,
// or A B when add is false, where row i of A is the k floats at rows[i] and
// B's k x 64 panel is packed; then adds bias[0:64] unless bias is nil, and
// takes max(., 0) if relu is set.
func kernelIndirect(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool) {
	switch path {
	case AVX512:
		kernelIndirectAVX512(k, rows, b, c, ldc, add, bias, relu)
	default:
		kernelIndirectAVX2(k, rows, b, c, ldc, add, bias, relu)
	}
}

// kernelGather sets the 12 x 32 block of C at c (rows ldc apart) to A B + C,
// or A B when add is false, where column p of A's 12 x k panel is the 12
// floats off bytes past ptrs[p], and B's k x 32 panel is packed.
func kernelGather(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool) {
	switch path {
	case AVX512:
		kernelGatherAVX512(k, ptrs, off, b, c, ldc, add)
	default:
		kernelGatherAVX2(k, ptrs, off, b, c, ldc, add)
	}
}
