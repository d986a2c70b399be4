// Package kernel holds vqtool's vector kernels in Go assembly, for AVX-512
// and AVX2 (amd64) and NEON (arm64): float32 matrix products (a 12 x 32
// micro-kernel reading A in place, an indirect one for convolution windows,
// a gathering one for their weight gradient), Winograd F(4x4, 3x3)
// transforms, and the vector loops around them (attention rows, argmin,
// ReLU and its gradient, GELU, softmax, layer norm, AdamW). Every path
// computes the same contracts, documented on the dispatching functions;
// path.go picks the path from the processor's features and VQTOOL_CPU.
// The assembly is generated from Go: go generate runs the avo programs
// under internal/gen, which take their tiles from internal/plan as the
// drivers here do. When the path is Generic, package gemm, their only
// caller, takes the BLAS and plain Go paths, which are the kernels' tests'
// reference.
package kernel

import (
	"sync"

	"github.com/vqtool/vqtool/internal/gemm/kernel/internal/plan"
)

// Block sizes. A 12 x 32 tile of C fills 24 of the 32 AVX-512 registers. A
// 12 x kc panel of A (12 KiB) stays in L1 while the kernel walks the packed
// kc x nc block of B (up to 1 MiB) in L2. Sgemm blocks B as skc x snc
// instead, the same 1 MiB: with half as many blocks along k, C is read and
// written back half as often, which a product whose k runs past kc (a
// layer's input gradient, its weight gradient) pays for in memory traffic
// (the ref-gen step about 5% faster, median of nine paired runs); the
// convolutions' products keep kc.
const (
	mr  = plan.MR
	nr  = plan.NR
	kc  = 256
	nc  = 1024
	skc = 512
	snc = 512

	directRows = 8 * mr // at most this many rows of A: B is read in place

	wr = plan.WR // rows of C per kernelIndirect tile
	wn = plan.WN // and columns
)

// TileRows x TileCols is the tile of C the product kernels compute at once:
// a product cut into pieces of rows at multiples of TileRows (of columns
// at multiples of TileCols) leaves a partial tile, computed in scratch and
// copied, in the last piece only.
const (
	TileRows = mr
	TileCols = nr
)

// Sgemm's B block fits the buffer sized for the convolutions' (compile error otherwise).
var _ = [1]struct{}{}[skc*snc-kc*nc]

// buffers holds one goroutine's packed B block and edge scratch.
type buffers struct {
	b    [kc * nc]float32  // = skc * snc
	a    [mr * skc]float32 // an edge panel of A, column-major, rows past m zero
	tile [mr * nr]float32
	wide [wr * wn]float32 // an edge tile of kernelIndirect
	at   []float32        // op(A)'s packed panels when A is transposed (packAT), grown as needed
}

var pool = sync.Pool{New: func() any { return new(buffers) }}

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major matrices on one
// goroutine: B is packed in skc x snc blocks and the kernel reads A in place,
// 12 rows at a time; the last rows of A and edge tiles of C go through
// zero-padded scratch. When A has few rows, packing B would cost more than
// it saves, and the kernel reads B in place too.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, false, nil)
}

// SgemmSums is Sgemm for an untransposed B that also adds B's column sums
// to sums: sums[j] += b[r*ldb+j] for r < k in order and j < n, the bits
// of ColSums from a cleared sums. Each row is added as it is packed, while
// it is in cache, so that a weight gradient x^T dY gives its bias gradient
// without a pass over dY of its own. Where B is not packed (few rows of A)
// the sums take their own pass.
func SgemmSums(tA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, sums []float32) {
	sums = sums[:n]
	if m <= directRows || k == 0 || alpha == 0 {
		Sgemm(tA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		colAdd(sums, b, nil, k, ldb)
		return
	}
	sgemm(tA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, false, sums)
}

// SgemmBias computes C = A B + bias (bias added to every row; nil for
// none), then max(C, 0) if relu is set: a layer's product and activation in
// one pass over C.
func SgemmBias(m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	if bias != nil {
		bias = bias[:n]
	}
	if k == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			clear(row)
			copy(row, bias)
			if relu {
				for j, v := range row {
					row[j] = max(v, 0)
				}
			}
		}
		return
	}
	sgemm(false, false, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, bias, relu, nil)
}

// Tile sets the TileRows x TileCols block of C at c (rows ldc apart) to
// A B, or adds A B to it when add is set, for B's k x TileCols panel at b
// (rows ldb apart) and A's TileRows x k panel at a: row-major (rows lda
// apart), or column-major (element (i, p) at a[p*lda+i]) when cols is set.
// One micro-kernel call, for products too small to block or pack (a head
// of attention). It reports false, doing nothing, when the kernels are off.
func Tile(cols bool, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, add bool) bool {
	if !enabled {
		return false
	}
	_ = c[(mr-1)*ldc+nr-1]
	if k == 0 {
		if !add { // A B is 0: C stays, or becomes 0
			for i := range mr {
				clear(c[i*ldc : i*ldc+nr])
			}
		}
		return true
	}
	_ = b[(k-1)*ldb+nr-1]
	if cols {
		_ = a[(k-1)*lda+mr-1]
		kernelCols(k, &a[0], lda, &b[0], ldb, &c[0], ldc, 1, add, nil, false)
	} else {
		_ = a[(mr-1)*lda+k-1]
		kernelRows(k, &a[0], lda, &b[0], ldb, &c[0], ldc, 1, add, nil, false)
	}
	return true
}

// sgemm is Sgemm with SgemmBias's bias and activation and SgemmSums's sums
// (nil for none; only with B packed and not transposed).
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool, sums []float32) {
	if k == 0 || alpha == 0 || m == 0 || n == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	if beta != 0 {
		scale(m, n, beta, c, ldc)
	}
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	for jc := 0; jc < n; jc += snc {
		nb := min(snc, n-jc)
		for pc := 0; pc < k; pc += skc {
			kb := min(skc, k-pc)
			add := pc > 0 || beta != 0 // else the first block overwrites C
			var bb []float32           // the bias goes in with the first block
			if pc == 0 && bias != nil {
				bb = bias[jc : jc+nb]
			}
			rl := relu && pc+kb == k // and the activation with the last
			direct := !tB && m <= directRows
			if !direct {
				var sb []float32
				if sums != nil {
					sb = sums[jc : jc+nb]
				}
				packB(buf.b[:], tB, b, ldb, pc, kb, jc, nb, sb)
			} else if nb%nr != 0 { // only the edge panel
				last := nb - nb%nr
				packB(buf.b[last*kb:], tB, b, ldb, pc, kb, jc+last, nb-last, nil)
			}
			if tA {
				if need := (m + mr - 1) / mr * panelStride(kb); len(buf.at) < need {
					buf.at = make([]float32, need)
				}
				packAT(buf.at, a, lda, m, pc, kb)
			}
			for ir := 0; ir < m; ir += mr {
				rows := min(mr, m-ir)
				kernel, ap, ld := kernelRows, (*float32)(nil), lda
				switch {
				case tA: // op(A)'s panels, packed by packAT above
					kernel, ap, ld = kernelCols, &buf.at[ir/mr*panelStride(kb)], mr
				case rows < mr:
					packA(buf.a[:], a, lda, ir, rows, pc, kb)
					kernel, ap, ld = kernelCols, &buf.a[0], mr
				default:
					ap = &a[ir*lda+pc]
				}
				if rows <= mr/2 { // into the scratch tile, of which rows are kept
					kernel = kernelColsHalf
				}
				for jr := 0; jr < nb; jr += nr {
					cols := min(nr, nb-jr)
					bp, ldp := &buf.b[jr*kb], nr
					if direct && cols == nr {
						bp, ldp = &b[pc*ldb+jc+jr], ldb
					}
					off := ir*ldc + jc + jr
					if rows == mr && cols == nr {
						var bj *float32
						if bb != nil {
							bj = &bb[jr]
						}
						kernel(kb, ap, ld, bp, ldp, &c[off], ldc, alpha, add, bj, rl)
						continue
					}
					kernel(kb, ap, ld, bp, ldp, &buf.tile[0], nr, alpha, false, nil, false)
					var bj []float32
					if bb != nil {
						bj = bb[jr : jr+cols]
					}
					finishTile(c[off:], ldc, buf.tile[:], nr, rows, cols, add, bj, rl)
				}
			}
		}
	}
}

// finishTile writes the rows x cols corner of a kernel's scratch tile
// (rows tw floats apart, computed without C, bias or activation) into c (rows ldc apart): adding
// C's values if add, then bias[0:cols] unless it is nil, then max(., 0) if
// relu.
func finishTile(c []float32, ldc int, tile []float32, tw, rows, cols int, add bool, bias []float32, relu bool) {
	for i := range rows {
		dst := c[i*ldc : i*ldc+cols]
		for j, v := range tile[i*tw : i*tw+cols] {
			if add {
				v += dst[j]
			}
			if bias != nil {
				v += bias[j]
			}
			if relu {
				v = max(v, 0)
			}
			dst[j] = v
		}
	}
}

// scale multiplies the m x n matrix c by beta (clearing it when beta is 0).
func scale(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packA writes A[i0:i0+rows, p0:p0+kb] (A not transposed: packAT packs
// A^T) column by column into dst ([kb][mr]), rows past rows zero.
func packA(dst []float32, a []float32, lda, i0, rows, p0, kb int) {
	clear(dst[:kb*mr])
	for i := range rows {
		for p := range kb {
			dst[p*mr+i] = a[(i0+i)*lda+p0+p]
		}
	}
}

// packAT writes the panels of op(A) = A^T's rows [0, m), columns
// [p0, p0+kb) into dst: panel ir/mr at dst[ir*kb:], [kb][mr], rows past m
// zero. A^T's column p is row p0+p of A, read once and in order; read
// panel by panel, its 12-float strips would be lda apart and every line
// would wait on memory.
func packAT(dst []float32, a []float32, lda, m, p0, kb int) {
	full := m / mr
	ps := panelStride(kb)
	for p := range kb {
		src := a[(p0+p)*lda:]
		src = src[:m]
		for ir := range full {
			// Three 16-byte moves: a 48-byte array copy is a call of
			// memmove.
			d, s := dst[ir*ps+p*mr:][:mr], src[ir*mr:][:mr]
			*(*[4]float32)(d) = *(*[4]float32)(s)
			*(*[4]float32)(d[4:]) = *(*[4]float32)(s[4:])
			*(*[4]float32)(d[8:]) = *(*[4]float32)(s[8:])
		}
		if rest := m - full*mr; rest > 0 {
			// An element loop: a copy of a few floats would be a call of
			// memmove for every column: two thirds of this function's time in
			// a profile of the ref-gen step.
			d := (*[mr]float32)(dst[full*ps+p*mr:])
			for i := range mr {
				if i < rest {
					d[i] = src[full*mr+i]
				} else {
					d[i] = 0
				}
			}
		}
	}
}

// packB writes op(B)[p0:p0+kb, j0:j0+nb] as panels of nr columns, each stored
// row by row ([kb][nr]), columns past nb zero. Unless sums is nil (it must
// be when tB), it adds each row of the block to sums[0:nb] as it packs it.
func packB(dst []float32, tB bool, b []float32, ldb, p0, kb, j0, nb int, sums []float32) {
	if edge := nb % nr; edge != 0 {
		last := nb - edge
		clear(dst[last*kb : last*kb+nr*kb])
	}
	if tB { // op(B)[p, j] = b[j*ldb+p]: rows of b become columns of the panels
		for jr := 0; jr < nb; jr += nr {
			cols := min(nr, nb-jr)
			done := 0 // rows of the panel packTrans wrote
			if haveTrans && cols == nr && kb >= 8 {
				done = kb &^ 7
				_ = b[(j0+jr+nr-1)*ldb+p0+done-1]
				packTrans(&dst[jr*kb], &b[(j0+jr)*ldb+p0], 4*ldb, done)
			}
			packTransLoop(dst[jr*kb+done*nr:jr*kb+nr*kb], b[(j0+jr)*ldb+p0+done:], ldb, kb-done, cols)
		}
		return
	}
	// Row by row: each row of the block is read once, in order, which the
	// prefetcher follows; read panel by panel, the rows are a stride of
	// ldb apart and every line waits on memory (a fifth of a weight
	// gradient's time went there).
	for p := range kb {
		src := b[(p0+p)*ldb+j0:]
		src = src[:nb]
		full := nb / nr
		if full > 0 {
			_ = dst[(full-1)*kb*nr+p*nr+nr-1] // the last block packRow writes
			packRow(&dst[p*nr], &src[0], full, kb*nr*4)
		}
		if jr := full * nr; jr < nb {
			copy(dst[jr*kb+p*nr:jr*kb+p*nr+nb-jr], src[jr:])
		}
		if sums != nil {
			colAdd(sums, src, nil, 1, 0)
		}
	}
}

// packTransLoop writes rows p < kb of a panel of op(B) = B^T from the first
// cols rows of b (rows ldb apart): panel[p*nr+j] = b[j*ldb+p]. It is
// packTrans's reference, and takes the rows and panels it leaves.
func packTransLoop(panel, b []float32, ldb, kb, cols int) {
	j := 0
	for ; j+4 <= cols; j += 4 { // four rows at a time: four floats side by side in the panel
		s0 := b[j*ldb:][:kb]
		s1 := b[(j+1)*ldb:][:len(s0)]
		s2 := b[(j+2)*ldb:][:len(s0)]
		s3 := b[(j+3)*ldb:][:len(s0)]
		for p, v := range s0 {
			d := panel[p*nr+j:][:4]
			d[0], d[1], d[2], d[3] = v, s1[p], s2[p], s3[p]
		}
	}
	for ; j < cols; j++ {
		for p, v := range b[j*ldb:][:kb] {
			panel[p*nr+j] = v
		}
	}
}

// packRowLoop is packRow's reference: it copies blocks of nr floats, block j
// from src[j*nr:] to dst[j*stride:] (stride in floats).
func packRowLoop(dst, src []float32, blocks, stride int) {
	for j := range blocks {
		copy(dst[j*stride:j*stride+nr], src[j*nr:])
	}
}

// panelStride is how many floats apart packAT lays its panels of kb
// columns: one cache line more than a panel holds. At kb = 512 a panel is
// 24 KiB, a multiple of 4 KiB, and packAT's writes (one strip into every
// panel for each column) would all fall in the same sets of the L1 cache
// and evict each other.
func panelStride(kb int) int { return kb*mr + 16 }
