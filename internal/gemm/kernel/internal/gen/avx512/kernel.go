package main

import (
	"fmt"

	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/vqtool/vqtool/internal/gemm/kernel/internal/plan"
)

// The product kernels, from plan's tiles. An MR x NR tile of C (kernelRows,
// kernelCols, kernelGather) keeps row i in the nv = NR/Group registers
// Z(nv i) ... Z(nv i + nv - 1), the row of B in the nv after them, and
// broadcasts of A rotate through the rest. The WR x WN tile of
// kernelIndirect is laid out the same way with WN/Group registers a row.
const (
	nv  = plan.NR / plan.Group // zmm registers in a row of the MR x NR tile
	wv  = plan.WN / plan.Group // and in a row of the WR x WN tile
	acc = plan.MR * nv         // accumulators of the MR x NR tile: Z0 up
	wac = plan.WR * wv         // and of the WR x WN tile
)

// checkPlan stops the generator when plan's tiles do not fit the registers
// the kernels assume: 32 zmm registers of 16 floats, at least two for the
// broadcasts of A, and (kernelRows) rows of A addressed three to a base
// register, at most four bases; kernelIndirect keeps its rows of A in six
// general registers.
func checkPlan() {
	switch {
	case plan.Group != 16:
		fatalf("plan.Group is %d: a zmm register holds 16 floats", plan.Group)
	case plan.NR%plan.Group != 0 || plan.WN%plan.Group != 0:
		fatalf("plan.NR %d and plan.WN %d must be multiples of 16", plan.NR, plan.WN)
	case acc+nv+2 > 32:
		fatalf("a %d x %d tile needs more than 32 zmm registers", plan.MR, plan.NR)
	case wac+wv+2 > 32:
		fatalf("a %d x %d tile needs more than 32 zmm registers", plan.WR, plan.WN)
	case plan.MR%3 != 0 || plan.MR/3 > len(rowBases):
		fatalf("plan.MR is %d: kernelRows takes a multiple of 3, at most %d", plan.MR, 3*len(rowBases))
	case plan.WR > len(windowRows):
		fatalf("plan.WR is %d: kernelIndirect has %d registers for rows", plan.WR, len(windowRows))
	}
}

// rowBases address kernelRows' rows of A: row 3j+r at (rowBases[j])(R9*r),
// R9 = lda*4.
var rowBases = []reg.Register{reg.RSI, reg.R11, reg.R12, reg.R13}

// windowRows point at kernelIndirect's rows of A.
var windowRows = []reg.Register{reg.RAX, reg.RBX, reg.RSI, reg.R9, reg.R11, reg.R12}

const productSig = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool)"

func products(g gen) {
	g.fn("kernelRows", productSig,
		fmt.Sprintf("sets the %d x %d block of C at c (rows ldc apart) to", plan.MR, plan.NR),
		fmt.Sprintf("alpha (A B) + C, or to alpha (A B) when add is false, for A's %d x k panel", plan.MR),
		fmt.Sprintf("stored row-major (rows lda apart) and B's k x %d panel stored row-major", plan.NR),
		fmt.Sprintf("(rows ldb apart; nr when packed); then adds bias[0:%d] to every row unless", plan.NR),
		"bias is nil, and takes max(., 0) if relu is set.")
	g.productHead("kernelRows")
	// Rows 3j, 3j+1, 3j+2 of A at (base j), (base j)(lda), (base j)(2 lda).
	for j := 1; j < len(rowBases) && 3*j < plan.MR; j++ {
		g.LEAQ(at(rowBases[j-1], 0).Idx(reg.R9, 2), rowBases[j])
		g.ADDQ(reg.R9, rowBases[j])
	}
	g.Label("kernelRowsloop")
	g.loadB()
	for i := range plan.MR {
		m := at(rowBases[i/3], 0)
		if i%3 > 0 {
			m = m.Idx(reg.R9, uint8(i%3))
		}
		g.fma(i, m)
	}
	for j := 0; j < plan.MR/3; j++ {
		g.ADDQ(imm(4), rowBases[j])
	}
	g.productTail("kernelRows")

	g.fn("kernelCols", productSig,
		"is kernelRows for an A panel stored column-major: element",
		"(i, p) at a[p*lda+i].")
	g.productHead("kernelCols")
	g.Label("kernelColsloop")
	g.loadB()
	for i := range plan.MR {
		g.fma(i, at(reg.RSI, 4*i))
	}
	g.ADDQ(reg.R9, reg.RSI)
	g.productTail("kernelCols")

	g.indirect()
	g.gather()
}

// productHead loads kernelRows' and kernelCols' arguments: k in CX, a in
// SI, lda*4 in R9, b in DI, ldb*4 in R10, c in DX, ldc*4 in R8; it clears
// the accumulators and skips the loop when k is 0.
func (g gen) productHead(name string) {
	g.MOVQ(g.arg("k"), reg.RCX)
	g.MOVQ(g.arg("a"), reg.RSI)
	g.MOVQ(g.arg("lda"), reg.R9)
	g.SHLQ(imm(2), reg.R9)
	g.MOVQ(g.arg("b"), reg.RDI)
	g.MOVQ(g.arg("ldb"), reg.R10)
	g.SHLQ(imm(2), reg.R10)
	g.MOVQ(g.arg("c"), reg.RDX)
	g.MOVQ(g.arg("ldc"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.clear(acc)
	g.TESTQ(reg.RCX, reg.RCX)
	g.JEQ(lbl(name + "store"))
}

// clear zeroes Z0 ... Z(n-1).
func (g gen) clear(n int) {
	for i := range n {
		g.VPXORD(z(i), z(i), z(i))
	}
}

// loadB loads the row of B at DI.
func (g gen) loadB() {
	for j := range nv {
		g.VMOVUPS(at(reg.RDI, 64*j), z(acc+j))
	}
}

// fma broadcasts A's row-i element at m and accumulates row i.
func (g gen) fma(i int, m operand.Mem) {
	first := acc + nv
	r := z(first + i%(32-first))
	g.VBROADCASTSS(m, r)
	for j := range nv {
		g.VFMADD231PS(z(acc+j), r, z(nv*i+j))
	}
}

// productTail ends kernelRows' and kernelCols' loop (B's next row, ldb
// on) and writes C: alpha times the sum, plus C when add is set, plus bias,
// then max(., 0).
func (g gen) productTail(name string) {
	g.ADDQ(reg.R10, reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl(name + "loop"))
	g.Label(name + "store")
	alpha := z(acc + nv)
	g.VBROADCASTSS(g.arg("alpha"), alpha)
	g.MOVBLZX(g.arg("add"), reg.EAX)
	g.TESTQ(reg.RAX, reg.RAX)
	g.JEQ(lbl(name + "scale"))
	g.MOVQ(reg.RDX, reg.RBX)
	g.eachC(plan.MR, nv, func(r reg.VecPhysical, c operand.Mem, _ reg.VecPhysical) {
		g.VFMADD213PS(c, alpha, r)
	})
	g.JMP(lbl(name + "bias"))
	g.Label(name + "scale")
	g.each(plan.MR, nv, func(r, _ reg.VecPhysical) { g.VMULPS(alpha, r, r) })
	g.Label(name + "bias")
	g.epilogue(name, plan.MR, nv, g.arg("bias"), g.arg("relu"))
	g.Label(name + "write")
	g.store(plan.MR, nv)
	g.VZEROUPPER()
	g.RET()
}

// each applies op to each accumulator r of a rows x n tile, with e the
// register of B's row (or of bias) over r's column.
func (g gen) each(rows, n int, op func(r, e reg.VecPhysical)) {
	for i := range rows * n {
		op(z(i), z(rows*n+i%n))
	}
}

// eachC is each with c, the address of r's element of C: BX walks the rows
// of C, ldc (R8) apart.
func (g gen) eachC(rows, n int, op func(r reg.VecPhysical, c operand.Mem, e reg.VecPhysical)) {
	for i := range rows * n {
		op(z(i), at(reg.RBX, 64*(i%n)), z(rows*n+i%n))
		if i%n == n-1 && i < rows*n-1 {
			g.ADDQ(reg.R8, reg.RBX)
		}
	}
}

// epilogue adds the bias (when not nil) to each row of a rows x n tile,
// then takes max(., 0) when relu is set, with the registers after the
// accumulators as scratch; it ends by jumping to name+"write" or falling
// through to it.
func (g gen) epilogue(name string, rows, n int, bias, relu operand.Mem) {
	e := rows * n
	g.MOVQ(bias, reg.RAX)
	g.TESTQ(reg.RAX, reg.RAX)
	g.JEQ(lbl(name + "relu"))
	for j := range n {
		g.VMOVUPS(at(reg.RAX, 64*j), z(e+j))
	}
	g.each(rows, n, func(r, e reg.VecPhysical) { g.VADDPS(e, r, r) })
	g.Label(name + "relu")
	g.MOVBLZX(relu, reg.EAX)
	g.TESTQ(reg.RAX, reg.RAX)
	g.JEQ(lbl(name + "write"))
	for j := range n {
		g.VPXORD(z(e+j), z(e+j), z(e+j))
	}
	// max(0, r) with r as the second source, which VMAXPS returns when
	// either is NaN: a NaN passes through, as in the plain loop.
	g.each(rows, n, func(r, e reg.VecPhysical) { g.VMAXPS(r, e, r) })
}

// store writes a rows x n tile to C at DX.
func (g gen) store(rows, n int) {
	g.MOVQ(reg.RDX, reg.RBX)
	g.eachC(rows, n, func(r reg.VecPhysical, c operand.Mem, _ reg.VecPhysical) { g.VMOVUPS(r, c) })
}

// indirect writes kernelIndirect. CX counts bytes up from -4k to 0 and
// every row pointer is biased by 4k, so that one register indexes all the
// rows of A.
func (g gen) indirect() {
	g.fn("kernelIndirect",
		fmt.Sprintf("func(k int, rows *[%d]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool)", plan.WR),
		fmt.Sprintf("sets the %d x %d block of C at c (rows ldc apart) to A B + C,", plan.WR, plan.WN),
		"or A B when add is false, where row i of A is the k floats at rows[i] (a",
		"window row of an image, so that a convolution needs no im2row copy) and",
		fmt.Sprintf("B's k x %d panel is packed; then adds bias[0:%d] unless bias is nil, and", plan.WN, plan.WN),
		"takes max(., 0) if relu is set.")
	rows := windowRows[:plan.WR]
	g.MOVQ(g.arg("k"), reg.RCX)
	g.SHLQ(imm(2), reg.RCX)
	g.MOVQ(g.arg("rows"), reg.RDX)
	for i, r := range rows {
		g.MOVQ(at(reg.RDX, 8*i), r)
		g.ADDQ(reg.RCX, r)
	}
	g.NEGQ(reg.RCX)
	g.MOVQ(g.arg("b"), reg.RDI)
	g.MOVQ(g.arg("c"), reg.RDX)
	g.MOVQ(g.arg("ldc"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.clear(wac)
	g.TESTQ(reg.RCX, reg.RCX)
	g.JEQ(lbl("indirectstore"))
	g.Label("indirectloop")
	for j := range wv {
		g.VMOVUPS(at(reg.RDI, 64*j), z(wac+j))
	}
	first := wac + wv
	for i, row := range rows {
		r := z(first + i%(32-first))
		g.VBROADCASTSS(at(row, 0).Idx(reg.RCX, 1), r)
		for j := range wv {
			g.VFMADD231PS(z(wac+j), r, z(wv*i+j))
		}
	}
	g.ADDQ(imm(4*plan.WN), reg.RDI)
	g.ADDQ(imm(4), reg.RCX)
	g.JNE(lbl("indirectloop"))
	g.Label("indirectstore")
	g.MOVBLZX(g.arg("add"), reg.EAX)
	g.TESTQ(reg.RAX, reg.RAX)
	g.JEQ(lbl("indirectbias"))
	g.MOVQ(reg.RDX, reg.RBX)
	g.eachC(plan.WR, wv, func(r reg.VecPhysical, c operand.Mem, _ reg.VecPhysical) { g.VADDPS(c, r, r) })
	g.Label("indirectbias")
	g.epilogue("indirect", plan.WR, wv, g.arg("bias"), g.arg("relu"))
	g.Label("indirectwrite")
	g.store(plan.WR, wv)
	g.VZEROUPPER()
	g.RET()
}

// gather writes kernelGather: kernelCols' registers, with R11 walking ptrs
// and R9 holding off.
func (g gen) gather() {
	g.fn("kernelGather",
		"func(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool)",
		fmt.Sprintf("sets the %d x %d block of C at c (rows ldc apart) to A B + C,", plan.MR, plan.NR),
		fmt.Sprintf("or A B when add is false, where column p of A's %d x k panel is the %d", plan.MR, plan.MR),
		"floats off bytes past ptrs[p] (a window row of an image, so that a",
		"convolution's weight gradient needs no im2row copy), and B's",
		fmt.Sprintf("k x %d panel is packed.", plan.NR))
	g.MOVQ(g.arg("k"), reg.RCX)
	g.MOVQ(g.arg("ptrs"), reg.R11)
	g.MOVQ(g.arg("off"), reg.R9)
	g.MOVQ(g.arg("b"), reg.RDI)
	g.MOVQ(g.arg("c"), reg.RDX)
	g.MOVQ(g.arg("ldc"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.clear(acc)
	g.TESTQ(reg.RCX, reg.RCX)
	g.JEQ(lbl("gatherstore"))
	g.Label("gatherloop")
	g.MOVQ(at(reg.R11, 0), reg.RSI)
	g.ADDQ(reg.R9, reg.RSI)
	g.loadB()
	for i := range plan.MR {
		g.fma(i, at(reg.RSI, 4*i))
	}
	g.ADDQ(imm(8), reg.R11)
	g.ADDQ(imm(4*plan.NR), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("gatherloop"))
	g.Label("gatherstore")
	g.MOVBLZX(g.arg("add"), reg.EAX)
	g.TESTQ(reg.RAX, reg.RAX)
	g.JEQ(lbl("gatherwrite"))
	g.MOVQ(reg.RDX, reg.RBX)
	g.eachC(plan.MR, nv, func(r reg.VecPhysical, c operand.Mem, _ reg.VecPhysical) { g.VADDPS(c, r, r) })
	g.Label("gatherwrite")
	g.store(plan.MR, nv)
	g.VZEROUPPER()
	g.RET()
}
