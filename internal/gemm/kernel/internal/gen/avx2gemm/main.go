// Command avx2gemm writes the AVX2 product kernels of package kernel
// (go generate in internal/gemm/kernel): kernelRowsAVX2, kernelColsAVX2,
// kernelColsHalfAVX2, kernelIndirectAVX2, kernelGatherAVX2, packRowAVX2 and
// packTransAVX2, with the contracts
// of the dispatching functions in gemm_amd64.go.
//
// The register plan is BLIS's for 16 ymm registers: a 6 x 16 piece of C in
// Y0-Y11 (row i in Y(2i), Y(2i+1)), the B row in Y12 and Y13, broadcasts of
// A alternating between Y14 and Y15. Per step of k, 12 FMAs against 2 loads
// of B and 6 broadcasts: two FMA units stay busy while the loads fit the
// load ports. A kernel's tile (plan.MR x plan.NR, or plan.WR x plan.WN) is
// computed piece by piece, each piece over the whole k, so that A's and B's
// panels stay where the drivers' blocking put them (L1 and L2).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/vqtool/vqtool/internal/gemm/kernel/internal/plan"
)

// The piece of C one pass of the k loop computes.
const (
	pr = 6  // rows
	pc = 16 // columns: two ymm registers
)

func init() {
	if plan.MR%pr != 0 || plan.NR%pc != 0 || plan.WR != pr || plan.WN%pc != 0 {
		panic(fmt.Sprintf("avx2gemm: tiles %dx%d and %dx%d do not split into %dx%d pieces", plan.MR, plan.NR, plan.WR, plan.WN, pr, pc))
	}
}

// acc returns the accumulator of row i, column half h of a piece.
func acc(i, h int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[2*i+h]
}

func zeroAcc() {
	for i := range pr {
		for h := range 2 {
			VXORPS(acc(i, h), acc(i, h), acc(i, h))
		}
	}
}

// fmaStep multiplies the B row at b (16 floats) by the six A elements at
// a(0..5) into the accumulators.
func fmaStep(b Mem, a func(i int) Mem) {
	VMOVUPS(b, Y12)
	VMOVUPS(b.Offset(32), Y13)
	for i := range pr {
		t := []VecPhysical{Y14, Y15}[i%2]
		VBROADCASTSS(a(i), t)
		VFMADD231PS(Y12, t, acc(i, 0))
		VFMADD231PS(Y13, t, acc(i, 1))
	}
}

// epilogue is how a piece is written to C.
type epilogue struct {
	alpha bool // scale by alpha (a parameter), else by 1
	add   bool // the add parameter exists: C is added when it is set
	bias  bool // the bias and relu parameters exist
}

// finish writes the accumulators into C at c (rows ldc bytes apart, ldc in
// R8), as e says; biasOff is the piece's column offset into bias, in bytes.
// It uses AX and BX.
func finish(name string, c Register, e epilogue, biasOff int) {
	if e.alpha {
		VBROADCASTSS(arg("alpha"), Y14)
	}
	if e.add {
		MOVBLZX(arg("add"), EAX)
		TESTL(EAX, EAX)
		next := name + "noadd"
		if e.alpha {
			JEQ(LabelRef(name + "scale"))
		} else {
			JEQ(LabelRef(next))
		}
		MOVQ(c, RBX)
		for i := range pr {
			for h := range 2 {
				m := Mem{Base: RBX, Disp: 32 * h}
				if e.alpha {
					VFMADD213PS(m, Y14, acc(i, h))
				} else {
					VADDPS(m, acc(i, h), acc(i, h))
				}
			}
			if i < pr-1 {
				ADDQ(R8, RBX)
			}
		}
		if e.alpha {
			JMP(LabelRef(name + "bias"))
			Label(name + "scale")
			for i := range pr {
				for h := range 2 {
					VMULPS(Y14, acc(i, h), acc(i, h))
				}
			}
			Label(name + "bias")
		} else {
			Label(next)
		}
	}
	if e.bias {
		MOVQ(arg("bias"), RAX)
		TESTQ(RAX, RAX)
		JEQ(LabelRef(name + "relu"))
		VMOVUPS(Mem{Base: RAX, Disp: biasOff}, Y12)
		VMOVUPS(Mem{Base: RAX, Disp: biasOff + 32}, Y13)
		for i := range pr {
			VADDPS(Y12, acc(i, 0), acc(i, 0))
			VADDPS(Y13, acc(i, 1), acc(i, 1))
		}
		Label(name + "relu")
		MOVBLZX(arg("relu"), EAX)
		TESTL(EAX, EAX)
		JEQ(LabelRef(name + "write"))
		VXORPS(Y12, Y12, Y12)
		for i := range pr {
			for h := range 2 {
				// max(0, acc) with acc as the second source, which
				// VMAXPS returns when either is NaN: a NaN passes
				// through, as in the plain loop.
				VMAXPS(acc(i, h), Y12, acc(i, h))
			}
		}
		Label(name + "write")
	}
	MOVQ(c, RBX)
	for i := range pr {
		VMOVUPS(acc(i, 0), Mem{Base: RBX})
		VMOVUPS(acc(i, 1), Mem{Base: RBX, Disp: 32})
		if i < pr-1 {
			ADDQ(R8, RBX)
		}
	}
}

// arg is the frame address of the parameter name.
func arg(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("avx2gemm: parameter %s: %v", name, err))
	}
	return b.Addr
}

// panelB sets RDI to column piece jh of B's panel.
func panelB(jh int) {
	MOVQ(arg("b"), RDI)
	if jh > 0 {
		ADDQ(U32(4*pc*jh), RDI)
	}
}

// cornerC sets RDX to the corner of piece (ih, jh) in C, rows R8 bytes
// apart; it uses RAX.
func cornerC(ih, jh int) {
	MOVQ(arg("c"), RDX)
	if ih > 0 {
		LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, RAX)
		LEAQ(Mem{Base: RDX, Index: RAX, Scale: 2}, RDX)
	}
	if jh > 0 {
		ADDQ(U32(4*pc*jh), RDX)
	}
}

const productSig = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, add bool, bias *float32, relu bool)"

// rowsOrCols writes kernelRowsAVX2 (A row-major, cols false) or
// kernelColsAVX2 (A column-major).
func rowsOrCols(name string, cols bool) { tile(name, cols, plan.MR/pr) }

// tile writes a product kernel over the first pieces*pr rows of the
// plan.MR x plan.NR tile: kernelRowsAVX2 and kernelColsAVX2 take all of
// them; kernelColsHalfAVX2 the first six, for a partial tile of at most six
// rows.
func tile(name string, cols bool, pieces int) {
	TEXT(name, NOSPLIT, productSig)
	Pragma("noescape")
	switch {
	case pieces < plan.MR/pr:
		Doc(name + " is kernelColsHalf on AVX2: rows 0-5 of the 12 x 32 tile as two 6 x 16 pieces.")
	case cols:
		Doc(name + " is kernelCols on AVX2: the 12 x 32 tile as four 6 x 16 pieces.")
	default:
		Doc(name + " is kernelRows on AVX2: the 12 x 32 tile as four 6 x 16 pieces.")
	}
	MOVQ(arg("lda"), R9)
	SHLQ(U8(2), R9)
	MOVQ(arg("ldb"), R10)
	SHLQ(U8(2), R10)
	MOVQ(arg("ldc"), R8)
	SHLQ(U8(2), R8)
	for ih := range pieces {
		for jh := 0; jh < plan.NR/pc; jh++ {
			piece := fmt.Sprintf("%sp%d%d", name, ih, jh)
			Commentf("Rows %d-%d, columns %d-%d.", ih*pr, ih*pr+pr-1, jh*pc, jh*pc+pc-1)
			MOVQ(arg("k"), RCX)
			MOVQ(arg("a"), RSI)
			if ih > 0 {
				if cols { // row i of the panel at a + 4i
					ADDQ(U32(4*pr*ih), RSI)
				} else { // rows lda apart: 6 lda further
					LEAQ(Mem{Base: R9, Index: R9, Scale: 2}, RAX)
					LEAQ(Mem{Base: RSI, Index: RAX, Scale: 2}, RSI)
				}
			}
			if !cols { // rows 3-5 from R11 = a + 3 lda
				LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, R11)
				ADDQ(R9, R11)
			}
			panelB(jh)
			zeroAcc()
			TESTQ(RCX, RCX)
			JEQ(LabelRef(piece + "store"))
			Label(piece + "loop")
			fmaStep(Mem{Base: RDI}, func(i int) Mem {
				if cols {
					return Mem{Base: RSI, Disp: 4 * i}
				}
				base := []Register{RSI, R11}[i/3]
				switch i % 3 {
				case 0:
					return Mem{Base: base}
				case 1:
					return Mem{Base: base, Index: R9, Scale: 1}
				}
				return Mem{Base: base, Index: R9, Scale: 2}
			})
			if cols {
				ADDQ(R9, RSI)
			} else {
				ADDQ(U8(4), RSI)
				ADDQ(U8(4), R11)
			}
			ADDQ(R10, RDI)
			DECQ(RCX)
			JNE(LabelRef(piece + "loop"))
			Label(piece + "store")
			cornerC(ih, jh)
			finish(piece, RDX, epilogue{alpha: true, add: true, bias: true}, 4*pc*jh)
		}
	}
	VZEROUPPER()
	RET()
}

// indirect writes kernelIndirectAVX2: row i of A is the k floats at
// rows[i]. The row pointers are biased by 4k and CX counts bytes up from
// -4k to 0, so one register indexes all six rows.
func indirect() {
	name := "kernelIndirectAVX2"
	TEXT(name, NOSPLIT, "func(k int, rows *[6]*float32, b *float32, c *float32, ldc int, add bool, bias *float32, relu bool)")
	Pragma("noescape")
	Doc(name + " is kernelIndirect on AVX2: the 6 x 64 tile as four 6 x 16 pieces.")
	rowRegs := []Register{R9, R10, R11, R12, R13, R14}
	MOVQ(arg("k"), RCX)
	SHLQ(U8(2), RCX)
	MOVQ(arg("rows"), RDX)
	for i, r := range rowRegs {
		MOVQ(Mem{Base: RDX, Disp: 8 * i}, r)
		ADDQ(RCX, r)
	}
	MOVQ(arg("ldc"), R8)
	SHLQ(U8(2), R8)
	for jh := 0; jh < plan.WN/pc; jh++ {
		piece := fmt.Sprintf("%sp%d", name, jh)
		Commentf("Columns %d-%d.", jh*pc, jh*pc+pc-1)
		MOVQ(arg("k"), RCX)
		SHLQ(U8(2), RCX)
		NEGQ(RCX)
		panelB(jh)
		zeroAcc()
		TESTQ(RCX, RCX)
		JEQ(LabelRef(piece + "store"))
		Label(piece + "loop")
		fmaStep(Mem{Base: RDI}, func(i int) Mem { return Mem{Base: rowRegs[i], Index: RCX, Scale: 1} })
		ADDQ(U32(4*plan.WN), RDI)
		ADDQ(U8(4), RCX)
		JNE(LabelRef(piece + "loop"))
		Label(piece + "store")
		cornerC(0, jh)
		finish(piece, RDX, epilogue{add: true, bias: true}, 4*pc*jh)
	}
	VZEROUPPER()
	RET()
}

// gather writes kernelGatherAVX2: column p of A is the 12 floats off
// bytes past ptrs[p].
func gather() {
	name := "kernelGatherAVX2"
	TEXT(name, NOSPLIT, "func(k int, ptrs **float32, off int, b *float32, c *float32, ldc int, add bool)")
	Pragma("noescape")
	Doc(name + " is kernelGather on AVX2: the 12 x 32 tile as four 6 x 16 pieces.")
	MOVQ(arg("ldc"), R8)
	SHLQ(U8(2), R8)
	for ih := 0; ih < plan.MR/pr; ih++ {
		for jh := 0; jh < plan.NR/pc; jh++ {
			piece := fmt.Sprintf("%sp%d%d", name, ih, jh)
			Commentf("Rows %d-%d, columns %d-%d.", ih*pr, ih*pr+pr-1, jh*pc, jh*pc+pc-1)
			MOVQ(arg("k"), RCX)
			MOVQ(arg("ptrs"), R11)
			MOVQ(arg("off"), R9)
			if ih > 0 {
				ADDQ(U32(4*pr*ih), R9)
			}
			panelB(jh)
			zeroAcc()
			TESTQ(RCX, RCX)
			JEQ(LabelRef(piece + "store"))
			Label(piece + "loop")
			MOVQ(Mem{Base: R11}, RSI)
			fmaStep(Mem{Base: RDI}, func(i int) Mem { return Mem{Base: RSI, Index: R9, Scale: 1, Disp: 4 * i} })
			ADDQ(U8(8), R11)
			ADDQ(U32(4*plan.NR), RDI)
			DECQ(RCX)
			JNE(LabelRef(piece + "loop"))
			Label(piece + "store")
			cornerC(ih, jh)
			finish(piece, RDX, epilogue{add: true}, 0)
		}
	}
	VZEROUPPER()
	RET()
}

// packRow writes packRowAVX2: blocks of plan.NR floats, block j from
// src+NR j to dst+j stride (stride in bytes).
func packRow() {
	name := "packRowAVX2"
	TEXT(name, NOSPLIT, "func(dst, src *float32, blocks, stride int)")
	Pragma("noescape")
	Doc(name + " is packRow on AVX2.")
	MOVQ(arg("dst"), RDI)
	MOVQ(arg("src"), RSI)
	MOVQ(arg("blocks"), RCX)
	MOVQ(arg("stride"), RDX)
	TESTQ(RCX, RCX)
	JEQ(LabelRef("packRowAVX2done"))
	Label("packRowAVX2loop")
	regs := []VecPhysical{Y0, Y1, Y2, Y3}
	for q, r := range regs {
		VMOVUPS(Mem{Base: RSI, Disp: 32 * q}, r)
	}
	for q, r := range regs {
		VMOVUPS(r, Mem{Base: RDI, Disp: 32 * q})
	}
	ADDQ(U32(4*plan.NR), RSI)
	ADDQ(RDX, RDI)
	DECQ(RCX)
	JNE(LabelRef("packRowAVX2loop"))
	Label("packRowAVX2done")
	VZEROUPPER()
	RET()
}

// packTrans writes packTransAVX2: a panel of op(B) = B^T, [kb][NR], from
// NR rows of B, eight rows by eight columns at a time transposed in
// registers (unpack, shuffle, then swap of 128-bit halves).
func packTrans() {
	name := "packTransAVX2"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ldb, kb int)")
	Pragma("noescape")
	Doc(name + " is packTrans on AVX2.")
	MOVQ(arg("ldb"), R8)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9) // 3 ldb
	MOVQ(arg("src"), R11)
	for g := 0; g < plan.NR/8; g++ {
		loop, done := fmt.Sprintf("%sg%d", name, g), fmt.Sprintf("%sg%ddone", name, g)
		Commentf("Rows %d-%d of B: columns %d-%d of the panel.", 8*g, 8*g+7, 8*g, 8*g+7)
		MOVQ(arg("dst"), RDI)
		if g > 0 {
			ADDQ(U32(32*g), RDI)
			LEAQ(Mem{Base: R11, Index: R8, Scale: 8}, R11) // 8 rows further
		}
		MOVQ(R11, RSI)
		LEAQ(Mem{Base: RSI, Index: R8, Scale: 4}, R10)
		MOVQ(arg("kb"), RCX)
		SHRQ(U8(3), RCX)
		JEQ(LabelRef(done))
		Label(loop)
		in := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
		for r, y := range in {
			base := []Register{RSI, R10}[r/4]
			m := Mem{Base: base}
			switch r % 4 {
			case 1:
				m = Mem{Base: base, Index: R8, Scale: 1}
			case 2:
				m = Mem{Base: base, Index: R8, Scale: 2}
			case 3:
				m = Mem{Base: base, Index: R9, Scale: 1}
			}
			VMOVUPS(m, y)
		}
		// Rows 0-3: Y12-Y15 hold columns (0|4), (1|5), (2|6), (3|7) of them.
		VUNPCKLPS(Y1, Y0, Y8)
		VUNPCKHPS(Y1, Y0, Y9)
		VUNPCKLPS(Y3, Y2, Y10)
		VUNPCKHPS(Y3, Y2, Y11)
		VSHUFPS(U8(0x44), Y10, Y8, Y12)
		VSHUFPS(U8(0xee), Y10, Y8, Y13)
		VSHUFPS(U8(0x44), Y11, Y9, Y14)
		VSHUFPS(U8(0xee), Y11, Y9, Y15)
		// Rows 4-7 likewise into Y4-Y7.
		VUNPCKLPS(Y5, Y4, Y0)
		VUNPCKHPS(Y5, Y4, Y1)
		VUNPCKLPS(Y7, Y6, Y2)
		VUNPCKHPS(Y7, Y6, Y3)
		VSHUFPS(U8(0x44), Y2, Y0, Y4)
		VSHUFPS(U8(0xee), Y2, Y0, Y5)
		VSHUFPS(U8(0x44), Y3, Y1, Y6)
		VSHUFPS(U8(0xee), Y3, Y1, Y7)
		// Column c of the eight rows: low halves for c < 4, high ones after.
		lo, hi := []VecPhysical{Y12, Y13, Y14, Y15}, []VecPhysical{Y4, Y5, Y6, Y7}
		out := []VecPhysical{Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11}
		for c := range 8 {
			sel := U8(0x20)
			if c >= 4 {
				sel = U8(0x31)
			}
			VPERM2F128(sel, hi[c%4], lo[c%4], out[c])
			VMOVUPS(out[c], Mem{Base: RDI, Disp: 4 * plan.NR * c})
		}
		ADDQ(U8(32), RSI)
		ADDQ(U8(32), R10)
		ADDQ(U32(4*plan.NR*8), RDI)
		DECQ(RCX)
		JNE(LabelRef(loop))
		Label(done)
	}
	VZEROUPPER()
	RET()
}

// fmaPeak writes fmaPeakAVX2: n rounds of 12 independent FMAs on
// registers, nothing read or written: the processor's FMA rate, against
// which BenchmarkBlocked's GFLOP/s are judged without knowing the clock.
func fmaPeak() {
	name := "fmaPeakAVX2"
	TEXT(name, NOSPLIT, "func(n int)")
	Pragma("noescape")
	Doc(name + " runs n rounds of 12 independent 8-wide FMAs (192 flops a round).")
	MOVQ(arg("n"), RCX)
	zeroAcc()
	VXORPS(Y12, Y12, Y12)
	VXORPS(Y13, Y13, Y13)
	TESTQ(RCX, RCX)
	JEQ(LabelRef(name + "done"))
	Label(name + "loop")
	for i := range pr {
		for h := range 2 {
			VFMADD231PS(Y12, Y13, acc(i, h))
		}
	}
	DECQ(RCX)
	JNE(LabelRef(name + "loop"))
	Label(name + "done")
	VZEROUPPER()
	RET()
}

func main() {
	if plan.NR != 4*8 {
		panic("avx2gemm: packRow copies 32 floats a block")
	}
	ConstraintExpr("amd64,!purego")
	rowsOrCols("kernelRowsAVX2", false)
	rowsOrCols("kernelColsAVX2", true)
	tile("kernelColsHalfAVX2", true, 1)
	indirect()
	gather()
	packRow()
	packTrans()
	fmaPeak()
	Generate()
}
