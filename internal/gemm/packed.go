package gemm

import (
	"github.com/vqtool/vqtool/internal/gemm/kernel"
	"github.com/vqtool/vqtool/internal/par"
)

// Packed is a matrix B prepared once for many products A B: a layer's
// weights during inference or across the blocks of one convolution. On the
// vector paths it holds B in the kernels' panel layout; otherwise it refers to
// B itself, which must then not change while the Packed is used.
type Packed struct {
	k, n, ldb int
	b         []float32
	p         kernel.PackedB
}

// Pack prepares the row-major k x n matrix b (rows ldb apart), reusing the
// memory of an earlier Pack.
func (p *Packed) Pack(b []float32, ldb, k, n int) {
	p.k, p.n, p.ldb, p.b = k, n, ldb, b
	if kernel.Enabled() {
		p.p.Pack(b, ldb, k, n)
		p.b = nil
	}
}

// N is the number of columns of the packed matrix.
func (p *Packed) N() int { return p.n }

// PackWide prepares b for Indirect and reports true, or reports false when
// Indirect cannot run here (the generic path).
func (p *Packed) PackWide(b []float32, ldb, k, n int) bool {
	if !kernel.Enabled() {
		return false
	}
	p.k, p.n, p.ldb, p.b = k, n, ldb, nil
	p.p.PackWide(b, ldb, k, n)
	return true
}

// Indirect computes C = A B + bias, then max(C, 0) if relu is set, for a B
// prepared by PackWide and an A whose row r is the concatenation of segs
// runs of span contiguous floats, run s starting at rows[r*segs+s]: a
// convolution's window rows, multiplied without copying them. It runs on the
// calling goroutine.
func (p *Packed) Indirect(m int, rows []*float32, segs, span int, bias []float32, relu bool, c []float32, ldc int) {
	kernel.SgemmIndirect(m, rows, segs, span, &p.p, bias, relu, c, ldc)
}

// MulBias computes C = A B + bias (bias added to every row), then
// max(C, 0) if relu is set, for row-major A m x k, split across the CPUs:
// by rows when there are many, by column panels when there are few.
func (p *Packed) MulBias(m int, a []float32, lda int, bias []float32, relu bool, c []float32, ldc int) {
	const grain = 64
	if m >= 2*grain || p.b != nil {
		if p.b != nil {
			SgemmBias(m, p.n, p.k, a, lda, p.b, p.ldb, bias, relu, c, ldc)
			return
		}
		par.For(m, grain, func(lo, hi int) {
			p.SerialBias(hi-lo, a[lo*lda:], lda, bias, relu, c[lo*ldc:], ldc)
		})
		return
	}
	const panel = 32
	panels := (p.n + panel - 1) / panel
	par.For(panels, 2, func(lo, hi int) {
		kernel.SgemmPacked(m, a, lda, &p.p, lo*panel, min(hi*panel, p.n), bias, relu, c, ldc)
	})
}

// SerialBias is MulBias on the calling goroutine.
func (p *Packed) SerialBias(m int, a []float32, lda int, bias []float32, relu bool, c []float32, ldc int) {
	if p.b != nil {
		SerialBias(m, p.n, p.k, a, lda, p.b, p.ldb, bias, relu, c, ldc)
		return
	}
	kernel.SgemmPacked(m, a, lda, &p.p, 0, p.n, bias, relu, c, ldc)
}

// Kernels reports whether a vector path's kernels run here, and with them
// Indirect and Gather.
func Kernels() bool { return kernel.Enabled() }

// Gather computes rows [i0, i1) of C = A B for a B prepared by Pack and an
// A whose column q is the contiguous floats at cols[q]: a convolution's
// weight gradient from the window rows of its padded input, without
// building patches. i0 must be a multiple of GatherPanel, and the memory
// behind each cols[q] must hold GatherPanel floats past A's rows. Only when
// Kernels() is true; on the calling goroutine.
func (p *Packed) Gather(i0, i1 int, cols []*float32, c []float32, ldc int) {
	kernel.SgemmGather(i0, i1, cols, &p.p, c, ldc)
}

// GatherPanel is the row granularity of Gather.
const GatherPanel = 12
