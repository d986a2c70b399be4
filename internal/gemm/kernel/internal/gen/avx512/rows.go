package main

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The loops of rows.go: attention's rows, the nearest-code search's
// argmin, ReLU and its gradient; each function's plain Go loop there is its
// reference.
func rows(g gen) {
	g.dotRows()
	g.axpyRows()
	g.argmin16()
	g.reluCopy()
	g.addVec()
	g.maskPositive()
}

func (g gen) dotRows() {
	g.fn("dotRows", "func(q, k *float32, stride, n, dh int, scale float32, out *float32)",
		"sets out[j] = scale * sum_c q[c] k[j*stride+c] for j < n, c < dh (dh a",
		"positive multiple of 16).")
	g.MOVQ(g.arg("q"), reg.RSI)
	g.MOVQ(g.arg("k"), reg.RDI)
	g.MOVQ(g.arg("stride"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.MOVQ(g.arg("dh"), reg.R9)
	g.SHRQ(imm(4), reg.R9)
	g.VMOVSS(g.arg("scale"), x(3))
	g.MOVQ(g.arg("out"), reg.RDX)
	g.TESTQ(reg.RCX, reg.RCX)
	g.JEQ(lbl("dotdone"))
	g.Label("dotrow")
	g.VPXORD(z(0), z(0), z(0))
	g.MOVQ(reg.R9, reg.R10)
	g.XORQ(reg.RAX, reg.RAX)
	g.Label("dotchunk")
	g.VMOVUPS(idx(reg.RSI), z(1))
	g.VFMADD231PS(idx(reg.RDI), z(1), z(0))
	g.ADDQ(imm(64), reg.RAX)
	g.DECQ(reg.R10)
	g.JNE(lbl("dotchunk"))
	g.hsum()
	g.VMULSS(x(3), x(0), x(0))
	g.VMOVSS(x(0), at(reg.RDX, 0))
	g.ADDQ(imm(4), reg.RDX)
	g.ADDQ(reg.R8, reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("dotrow"))
	g.Label("dotdone")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) axpyRows() {
	g.fn("axpyRows", "func(p, v *float32, stride, n, dh int, out *float32)",
		"sets out[c] = sum_j p[j] v[j*stride+c] for c < dh (a positive multiple",
		"of 16), j < n.")
	g.MOVQ(g.arg("p"), reg.RSI)
	g.MOVQ(g.arg("v"), reg.RDI)
	g.MOVQ(g.arg("stride"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.MOVQ(g.arg("dh"), reg.R9)
	g.SHRQ(imm(4), reg.R9)
	g.MOVQ(g.arg("out"), reg.RDX)
	// Each 16 columns: R11 walks p, R12 the rows of v, two rows a step
	// into two accumulators (Z0, Z2), then the odd one.
	g.Label("axpychunk")
	g.VPXORD(z(0), z(0), z(0))
	g.VPXORD(z(2), z(2), z(2))
	g.MOVQ(reg.RCX, reg.R10)
	g.MOVQ(reg.RSI, reg.R11)
	g.MOVQ(reg.RDI, reg.R12)
	g.TESTQ(reg.R10, reg.R10)
	g.JEQ(lbl("axpystore"))
	g.SHRQ(imm(1), reg.R10)
	g.JEQ(lbl("axpyodd"))
	g.Label("axpypair")
	g.VBROADCASTSS(at(reg.R11, 0), z(1))
	g.VFMADD231PS(at(reg.R12, 0), z(1), z(0))
	g.VBROADCASTSS(at(reg.R11, 4), z(3))
	g.VFMADD231PS(at(reg.R12, 0).Idx(reg.R8, 1), z(3), z(2))
	g.ADDQ(imm(8), reg.R11)
	g.LEAQ(at(reg.R12, 0).Idx(reg.R8, 2), reg.R12)
	g.DECQ(reg.R10)
	g.JNE(lbl("axpypair"))
	g.Label("axpyodd")
	g.TESTQ(operand.U32(1), reg.RCX)
	g.JEQ(lbl("axpystore"))
	g.VBROADCASTSS(at(reg.R11, 0), z(1))
	g.VFMADD231PS(at(reg.R12, 0), z(1), z(0))
	g.Label("axpystore")
	g.VADDPS(z(2), z(0), z(0))
	g.VMOVUPS(z(0), at(reg.RDX, 0))
	g.ADDQ(imm(64), reg.RDX)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.R9)
	g.JNE(lbl("axpychunk"))
	g.VZEROUPPER()
	g.RET()
}

func (g gen) argmin16() {
	g.fn("argmin16", "func(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32)",
		"sets lane l of vals and idx to the smallest x[i] over i = l (mod 16),",
		"and the first i where it occurs; n is a positive multiple of 16 and",
		"iota holds 0 ... 15.")
	g.MOVQ(g.arg("x"), reg.RSI)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.SHRQ(imm(4), reg.RCX)
	g.MOVQ(g.arg("iota"), reg.RAX)
	// Z0 the smallest values, Z2 their indices, Z3 the indices of the
	// current 16, Z4 16 in every lane.
	g.VMOVDQU32(at(reg.RAX, 0), z(3))
	g.VMOVUPS(at(reg.RSI, 0), z(0))
	g.VMOVDQA32(z(3), z(2))
	g.MOVL(operand.U32(16), reg.EAX)
	g.VPBROADCASTD(reg.EAX, z(4))
	g.ADDQ(imm(64), reg.RSI)
	g.DECQ(reg.RCX)
	g.JEQ(lbl("argmindone"))
	g.Label("argminloop")
	g.VPADDD(z(4), z(3), z(3))
	g.VMOVUPS(at(reg.RSI, 0), z(1))
	g.VCMPPS(imm(1), z(0), z(1), reg.K1) // x < smallest: the first stays
	g.VCMPPS(imm(3), z(0), z(0), reg.K2) // or the lane holds a NaN, which a number replaces
	g.KORW(reg.K2, reg.K1, reg.K1)
	g.VMOVAPS(z(1), reg.K1, z(0))
	g.VMOVDQA32(z(3), reg.K1, z(2))
	g.ADDQ(imm(64), reg.RSI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("argminloop"))
	g.Label("argmindone")
	g.MOVQ(g.arg("vals"), reg.RAX)
	g.VMOVUPS(z(0), at(reg.RAX, 0))
	g.MOVQ(g.arg("idx"), reg.RAX)
	g.VMOVDQU32(z(2), at(reg.RAX, 0))
	g.VZEROUPPER()
	g.RET()
}

func (g gen) reluCopy() {
	g.fn("reluCopy", "func(dst, src *float32, n int)",
		"sets dst[i] = max(src[i], 0) for i < n, n a multiple of 16.")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("src"), reg.RSI)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.SHRQ(imm(4), reg.RCX)
	g.JEQ(lbl("reludone"))
	g.VPXORD(z(1), z(1), z(1))
	g.Label("reluloop")
	g.VMAXPS(at(reg.RSI, 0), z(1), z(0))
	g.VMOVUPS(z(0), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("reluloop"))
	g.Label("reludone")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) addVec() {
	g.fn("addVec", "func(dst, a, b *float32, n int)",
		"sets dst[i] = a[i] + b[i] for i < n, n a multiple of 16; dst may be a",
		"or b.")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("a"), reg.RSI)
	g.MOVQ(g.arg("b"), reg.RDX)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.SHRQ(imm(4), reg.RCX)
	g.JEQ(lbl("adddone"))
	g.Label("addloop")
	g.VMOVUPS(at(reg.RSI, 0), z(0))
	g.VADDPS(at(reg.RDX, 0), z(0), z(0))
	g.VMOVUPS(z(0), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RDX)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("addloop"))
	g.Label("adddone")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) maskPositive() {
	g.fn("maskPositive", "func(dst, src, ref *float32, n int)",
		"sets dst[i] = src[i] where ref[i] > 0, else 0, for i < n (a multiple",
		"of 16).")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("src"), reg.RSI)
	g.MOVQ(g.arg("ref"), reg.RDX)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.SHRQ(imm(4), reg.RCX)
	g.JEQ(lbl("maskdone"))
	g.VPXORD(z(1), z(1), z(1))
	g.Label("maskloop")
	g.VMOVUPS(at(reg.RDX, 0), z(2))
	g.VCMPPS(imm(1), z(2), z(1), reg.K1) // 0 < ref
	g.VMOVUPS_Z(at(reg.RSI, 0), reg.K1, z(0))
	g.VMOVUPS(z(0), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RDI)
	g.ADDQ(imm(64), reg.RDX)
	g.DECQ(reg.RCX)
	g.JNE(lbl("maskloop"))
	g.Label("maskdone")
	g.VZEROUPPER()
	g.RET()
}
