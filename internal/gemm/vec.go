package gemm

import (
	"github.com/vqtool/vqtool/internal/gemm/kernel"
	"github.com/vqtool/vqtool/internal/par"
)

// The element-wise passes of a training step, on the vector kernels where
// they run and on plain loops otherwise (package kernel holds both).

const elemGrain = 16 << 10 // elements per piece of an element-wise pass

// For is par.For for an f that cuts a product, computing rows or columns
// [lo, hi) of C with this package's serial functions. On the vector paths a
// product cut anywhere has the bits of the product whole
// (TestProductPiecesKeepTheBits), so For's pieces do; the BLAS's bits
// depend on where a product is cut, so on the Generic path For keeps the
// split's ranges (par.ForRanges), and with them the bits of a given Split.
func For(n, grain int, f func(lo, hi int)) {
	if kernel.Enabled() {
		par.For(n, grain, f)
		return
	}
	par.ForRanges(n, grain, f)
}

// ForRows is For for an f that computes rows [lo, hi) of a product's C:
// on the vector paths its pieces start at whole tiles (forTiles).
func ForRows(n, grain int, f func(lo, hi int)) { forTiles(n, grain, kernel.TileRows, par.For, f) }

// forTiles runs loop over [0, n) for a product cut along rows (t =
// kernel.TileRows) or columns (kernel.TileCols). On the vector paths the
// pieces start at multiples of t, so that only the last one ends in a
// partial tile: cut anywhere, every piece would compute a whole tile for
// its last few rows and copy it through scratch. On the Generic path, whose
// BLAS's bits depend on where a product is cut, it keeps the split's
// ranges (par.ForRanges), as For does.
func forTiles(n, grain, t int, loop func(n, grain int, f func(lo, hi int)), f func(lo, hi int)) {
	if !kernel.Enabled() {
		par.ForRanges(n, grain, f)
		return
	}
	tiles(n, grain, t, loop, f)
}

// tiles runs loop over [0, n) in units of t: its pieces start at multiples
// of t and hold at least grain items (one unit when grain < t).
func tiles(n, grain, t int, loop func(n, grain int, f func(lo, hi int)), f func(lo, hi int)) {
	loop((n+t-1)/t, max(grain/t, 1), func(lo, hi int) { f(lo*t, min(hi*t, n)) })
}

// forBlocks is par.For over [0, n) with pieces that start at multiples of
// 16, so that which elements a kernel or its loop computes does not depend
// on the split.
func forBlocks(n, grain int, f func(lo, hi int)) {
	blocks := (n + 15) / 16
	par.For(blocks, grain/16, func(lo, hi int) { f(lo*16, min(hi*16, n)) })
}

// GELU sets dst[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for
// x = src[i], split across the CPUs; dst may be src.
func GELU(dst, src []float32) {
	forBlocks(len(src), elemGrain, func(lo, hi int) { kernel.GELU(dst[lo:hi], src[lo:hi]) })
}

// GELUGrad sets dst[i] = dy[i] * GELU'(x[i]), split across the CPUs; dst
// may be dy.
func GELUGrad(dst, dy, x []float32) {
	forBlocks(len(x), elemGrain, func(lo, hi int) { kernel.GELUGrad(dst[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// LayerNormRow normalises the row x, keeps the normalised row in xhat and
// writes out = xhat * g + b; it returns 1/sqrt(var + eps).
func LayerNormRow(out, xhat, x, g, b []float32, eps float32) float32 {
	return kernel.LayerNormRow(out, xhat, x, g, b, eps)
}

// LayerNormGradRow sets dx to rstd * (dy g - mean(dy g) - xhat mean(dy g xhat)),
// the gradient of layer norm's input for one row.
func LayerNormGradRow(dx, dy, xhat, g []float32, rstd float32) {
	kernel.LayerNormGradRow(dx, dy, xhat, g, rstd)
}

const colGrain = 64 // columns per piece of a column reduction

// ColSums sets dst[j] to the sum over r < rows of m[r*ld+j], for
// j < len(dst), split across the CPUs by columns: each column is summed in
// row order, so the result does not depend on the split.
func ColSums(dst, m []float32, rows, ld int) {
	par.For(len(dst), colGrain, func(lo, hi int) { kernel.ColSums(dst[lo:hi], m[lo:], rows, ld) })
}

// ColDots sets dst[j] to the sum over r < rows of a[r*ld+j] * b[r*ld+j],
// split like ColSums.
func ColDots(dst, a, b []float32, rows, ld int) {
	par.For(len(dst), colGrain, func(lo, hi int) { kernel.ColDots(dst[lo:hi], a[lo:], b[lo:], rows, ld) })
}

// SerialColSums is ColSums on the calling goroutine, for a caller that
// already runs one piece of work per CPU.
func SerialColSums(dst, m []float32, rows, ld int) { kernel.ColSums(dst, m, rows, ld) }

// SerialColDots is ColDots on the calling goroutine.
func SerialColDots(dst, a, b []float32, rows, ld int) { kernel.ColDots(dst, a, b, rows, ld) }

// SumSquares returns the sum of x[i]^2 in float64, on one thread; it is NaN
// or +Inf when x holds a NaN or an infinity.
func SumSquares(x []float32) float64 { return kernel.SumSquares(x) }

// AdamConsts are the constants of one AdamW step over a tensor.
type AdamConsts = kernel.AdamConsts

// AdamStep applies one AdamW update to w with gradient g * c.GradScale and
// moments m and v, split across the CPUs.
func AdamStep(w, g, m, v []float32, c *AdamConsts) {
	forBlocks(len(w), 1<<15, func(lo, hi int) { kernel.AdamStep(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], c) })
}

// SoftmaxPrefix replaces row[:n] by the softmax of scale * row[:n] and
// zeroes the rest of row, on one thread; 1 <= n <= len(row), scale > 0.
// The vector kernel runs when row reaches n rounded up to 16.
func SoftmaxPrefix(row []float32, n int, scale float32) { kernel.SoftmaxPrefix(row, n, scale) }

// SoftmaxRows is SoftmaxPrefix on rows r < rows of p (rows ld apart), row r
// over its first n0 + r entries (a head of causal attention), on one
// thread.
func SoftmaxRows(p []float32, ld, rows, n0 int, scale float32) {
	kernel.SoftmaxRows(p, ld, rows, n0, scale)
}

// SoftmaxGradRows is SoftmaxGrad on rows r < rows of p and ds (rows ld
// apart), row r over its first n0 + r entries (a head of causal
// attention), on one thread.
func SoftmaxGradRows(p, ds []float32, ld, rows, n0 int, scale float32) {
	kernel.SoftmaxGradRows(p, ds, ld, rows, n0, scale)
}

// SoftmaxGrad turns the gradient ds of SoftmaxPrefix's output p (weights
// past n zero) into the gradient of its input, in place:
// ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale; on one thread.
func SoftmaxGrad(p, ds []float32, n int, scale float32) { kernel.SoftmaxGrad(p, ds, n, scale) }

// FastRows reports whether DotRows and AxpyRows run on vector kernels, so
// that many of them beat one small product (attention by rows, a head's
// causal half only); otherwise they are BLAS calls.
func FastRows() bool { return kernel.Enabled() }

// SetKernelsForTest runs the fastest kernels this processor has (on) or
// the BLAS and the plain loops (off) until restore is called, so that a
// test in another package can compare the two. Not safe while other
// goroutines compute.
func SetKernelsForTest(on bool) (restore func()) {
	if on {
		return kernel.SetForTest(kernel.Paths()[0])
	}
	return kernel.SetForTest(kernel.Generic)
}
