// Package gemm runs matrix products and the vector loops around them on
// the fastest kernels the processor has (package kernel: AVX-512, AVX2 or
// NEON, chosen by the processor's features; VQTOOL_CPU forces a lower
// path), and on gonum's pure-Go BLAS and plain loops otherwise. It is the
// one place that decides which path runs: callers never see package
// kernel, and each kernel has the plain loop it must equal beside it, as
// its fallback and its tests' reference.
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/vqtool/vqtool/internal/gemm/kernel"
	"github.com/vqtool/vqtool/internal/par"
)

// Impl is the BLAS in use. It also implements float64 and complex routines
// where gorgonia needs them.
var Impl interface {
	blas.Float32
	blas.Float64
	blas.Complex64
	blas.Complex128
} = gonum.Implementation{}

const name = "gonum (pure Go)"

// Name names the kernel path in use and the BLAS behind the generic path.
func Name() string {
	if kernel.Enabled() {
		return string(kernel.Current()) + " kernels (" + name + " for the rest)"
	}
	return "generic: " + name
}

// Path returns the kernel path in use: avx512, avx2, neon or generic.
func Path() string { return string(kernel.Current()) }

// PathError returns why VQTOOL_CPU was not followed, or nil.
func PathError() error { return kernel.EnvError() }

// serial runs one single-threaded product: on the vector kernels when a
// vector path runs, on gonum's BLAS otherwise.
func serial(ta, tb blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if kernel.Enabled() {
		kernel.Sgemm(ta == blas.Trans, tb == blas.Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	Impl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm computes C = alpha * op(A) * op(B) + beta * C for row-major matrices,
// op(A) m x k and C m x n, split across the CPUs along the larger of m and
// n, one range per CPU, each a single-threaded call that packs what it reads
// on the core that reads it: finer pieces would each pack B again, and one
// packing shared by all pieces would have each core read what another
// packed. A helper that has not arrived leaves its range to the caller
// (par.ForRanges).
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	split(m, n, func(lo, hi int) {
		// Rows lo..hi of op(A) start at row lo of A, or column lo of A^T.
		aOff := lo * lda
		if tA {
			aOff = lo
		}
		serial(ta, tb, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
	}, func(lo, hi int) {
		bOff := lo
		if tB {
			bOff = lo * ldb
		}
		serial(ta, tb, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
	})
}

// split runs a product's C, m x n, one range per CPU along the larger of
// m and n: rows(lo, hi) for rows [lo, hi) when m >= n, cols(lo, hi) for
// columns otherwise (forTiles: at whole tiles on the vector paths).
func split(m, n int, rows, cols func(lo, hi int)) {
	const grain = 64 // rows or columns per range, below which splitting costs more than it saves
	if m >= n {
		forTiles(m, grain, kernel.TileRows, par.ForRanges, rows)
		return
	}
	forTiles(n, grain, kernel.TileCols, par.ForRanges, cols)
}

// WeightGrad sets dw = x^T dy and db to the column sums of dy, for x
// [rows, in] and dy [rows, out]: a linear layer's weight and bias
// gradients, split across the CPUs as Sgemm is. On the vector paths db is
// summed as the product packs dy's rows, in row order as ColSums sums them
// (the same bits), instead of in a pass of its own.
func WeightGrad(dw, db, x, dy []float32, rows, in, out int) {
	if !kernel.Enabled() {
		Sgemm(true, false, in, out, rows, 1, x, in, dy, out, 0, dw, out)
		ColSums(db, dy, rows, out)
		return
	}
	db = db[:out]
	clear(db)
	split(in, out, func(lo, hi int) {
		if lo == 0 { // every range packs all of dy: the first sums it
			kernel.SgemmSums(true, hi-lo, out, rows, 1, x[lo:], in, dy, out, 0, dw[lo*out:], out, db)
			return
		}
		kernel.Sgemm(true, false, hi-lo, out, rows, 1, x[lo:], in, dy, out, 0, dw[lo*out:], out)
	}, func(lo, hi int) {
		kernel.SgemmSums(true, in, hi-lo, rows, 1, x, in, dy[lo:], out, 0, dw[lo:], out, db[lo:hi])
	})
}

// Serial is Sgemm without the split across CPUs, for callers that already
// run one piece of work per CPU.
func Serial(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmBias computes C = A B + bias (bias added to every row; nil for
// none), then max(C, 0) if relu is set, for row-major A m x k and B k x n, split across
// the CPUs like Sgemm. On the vector kernels the bias and the activation
// are applied as each tile of C is written.
func SgemmBias(m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	split(m, n, func(lo, hi int) {
		SerialBias(hi-lo, n, k, a[lo*lda:], lda, b, ldb, bias, relu, c[lo*ldc:], ldc)
	}, func(lo, hi int) {
		var bs []float32
		if bias != nil {
			bs = bias[lo:hi]
		}
		SerialBias(m, hi-lo, k, a, lda, b[lo:], ldb, bs, relu, c[lo:], ldc)
	})
}

// SerialBias is SgemmBias on the calling goroutine.
func SerialBias(m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if kernel.Enabled() {
		kernel.SgemmBias(m, n, k, a, lda, b, ldb, bias, relu, c, ldc)
		return
	}
	Impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if bias != nil {
			for j, v := range bias[:n] {
				row[j] += v
			}
		}
		if relu {
			for j, v := range row {
				row[j] = max(v, 0)
			}
		}
	}
}

// DotRows sets out[j] = scale * (q . k[j*stride : j*stride+len(q)]) for
// j < n, on one thread: attention scores of one query against n keys.
func DotRows(out, q, k []float32, stride, n int, scale float32) {
	if !kernel.DotRows(out, q, k, stride, n, scale) {
		Gemv(false, n, len(q), scale, k, stride, q, 0, out[:n])
	}
}

// AxpyRows sets out = sum_j p[j] * v[j*stride : j*stride+len(out)] for
// j < len(p), on one thread: attention's weighted sum of values.
func AxpyRows(out, p, v []float32, stride int) {
	if !kernel.AxpyRows(out, p, v, stride) {
		Gemv(true, len(p), len(out), 1, v, stride, p, 0, out)
	}
}

// Argmin returns the index of the smallest element of x (the first on
// ties) and its value: the reduction of a nearest-neighbour search. x must
// not be empty.
func Argmin(x []float32) (int, float32) { return kernel.Argmin(x) }

// ReLU sets dst[i] = max(src[i], 0) for i < len(src); dst may be src.
func ReLU(dst, src []float32) { kernel.ReLU(dst, src) }

// Add sets dst[i] = a[i] + b[i] for i < len(a), on one thread; dst may be
// a or b.
func Add(dst, a, b []float32) { kernel.Add(dst, a, b) }

// MaskPositive sets dst[i] = src[i] where ref[i] > 0 and 0 elsewhere, for
// i < len(src): a ReLU's gradient. dst may be src.
func MaskPositive(dst, src, ref []float32) { kernel.MaskPositive(dst, src, ref) }

// Gemv computes y = alpha * op(A) x + beta * y for a row-major m x n matrix
// A with row stride lda, on one thread.
func Gemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if m == 0 || n == 0 {
		return
	}
	t := blas.NoTrans
	if tA {
		t = blas.Trans
	}
	Impl.Sgemv(t, m, n, alpha, a, lda, x, 1, beta, y, 1)
}

// Tile sets the kernel.TileRows x kernel.TileCols block of C at c (rows ldc
// apart) to A B, or adds A B to it when add is set, for B's k x TileCols
// panel at b (rows ldb apart) and A's TileRows x k panel at a: row-major
// (rows lda apart), or column-major (element (i, p) at a[p*lda+i]) when
// cols is set. It is one micro-kernel call, for products too small to pack
// (a head of attention); it runs where FastRows reports true and reports
// false, doing nothing, elsewhere.
func Tile(cols bool, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, add bool) bool {
	return kernel.Tile(cols, k, a, lda, b, ldb, c, ldc, add)
}

// TileRows and TileCols are the tile of Tile.
const (
	TileRows = kernel.TileRows
	TileCols = kernel.TileCols
)
