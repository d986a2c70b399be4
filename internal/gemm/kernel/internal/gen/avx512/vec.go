package main

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/vqtool/vqtool/internal/gemm/kernel/internal/plan"
)

// The element-wise kernels of vec.go, 16 floats at a time; each function's
// plain Go loop in vec.go is its reference.

// adamFields are AdamConsts' fields in order, the floats adamStep loads.
var adamFields = []string{"GradScale", "B1", "OneMinusB1", "B2", "OneMinusB2", "Decay", "Step", "RBC2", "Eps"}

func vectors(g gen) {
	g.geluForward()
	g.geluBackward()
	g.layerNormRow()
	g.layerNormGradRow()
	g.colSums()
	g.sumSquares()
	g.adamStep()
	g.softmaxRow()
	g.softmaxGradRow()
	g.packRow()
}

// broadcast broadcasts the n floats at AX into Z(first) ... Z(first+n-1).
func (g gen) broadcast(first, n int) {
	for i := range n {
		g.VBROADCASTSS(at(reg.RAX, 4*i), z(first+i))
	}
}

// GELU's constants, geluConsts of vec.go in order, in Z16-Z29: sqrt(2/pi),
// 0.044715, 0.5, 1, the six Pade coefficients, 4.97, -4.97, -1 and
// 3 * 0.044715 * sqrt(2/pi).
var (
	geluC, geluA, half, one = z(16), z(17), z(18), z(19)
	pade                    = [6]reg.VecPhysical{z(20), z(21), z(22), z(23), z(24), z(25)}
	clampHi, clampLo, minus = z(26), z(27), z(28)
	geluDu                  = z(29)
)

// geluTanh sets Z1 = x^2 and Z5 = Tanh(sqrt(2/pi) (x + 0.044715 x^3)) for
// x in Z0 (Tanh of vec.go: a [7/6] Pade approximant, clamped to +-1
// beyond +-4.97); it uses Z2-Z4, K1 and K2.
func (g gen) geluTanh() {
	g.VMULPS(z(0), z(0), z(1))
	g.VMULPS(geluA, z(1), z(2))
	g.VFMADD213PS(z(0), z(0), z(2))
	g.VMULPS(geluC, z(2), z(2)) // u
	g.VMULPS(z(2), z(2), z(3))  // u^2
	g.VADDPS(pade[2], z(3), z(4))
	g.VFMADD213PS(pade[1], z(3), z(4))
	g.VFMADD213PS(pade[0], z(3), z(4))
	g.VMULPS(z(2), z(4), z(4)) // numerator
	g.VMOVAPS(pade[5], z(5))
	g.VFMADD213PS(pade[4], z(3), z(5))
	g.VFMADD213PS(pade[3], z(3), z(5))
	g.VFMADD213PS(pade[0], z(3), z(5)) // denominator
	g.VDIVPS(z(5), z(4), z(5))
	g.VCMPPS(imm(0x0e), clampHi, z(2), reg.K1) // u > 4.97
	g.VMOVAPS(one, reg.K1, z(5))
	g.VCMPPS(imm(0x01), clampLo, z(2), reg.K2) // u < -4.97
	g.VMOVAPS(minus, reg.K2, z(5))
}

// horizontal sets X0 to op over the 16 floats of Z0, by halves: op on
// ymm, then op on xmm, then opS on the last two floats; it uses Z1.
func (g gen) horizontal(op, opS func(...operand.Op)) {
	g.VEXTRACTF64X4(imm(1), z(0), y(1))
	op(y(1), y(0), y(0))
	g.VEXTRACTF128(imm(1), y(0), x(1))
	op(x(1), x(0), x(0))
	g.VPERMILPS(imm(0x4e), x(0), x(1))
	op(x(1), x(0), x(0))
	g.VPERMILPS(imm(0xb1), x(0), x(1))
	opS(x(1), x(0), x(0))
}

// hsum sets X0 to the sum of the 16 floats of Z0; it uses Z1.
func (g gen) hsum() { g.horizontal(g.VADDPS, g.VADDSS) }

// hmax sets X0 to the largest of the 16 floats of Z0; it uses Z1.
func (g gen) hmax() { g.horizontal(g.VMAXPS, g.VMAXSS) }

// loop ends a loop that steps AX by 64 bytes and counts CX down to 0.
func (g gen) loop(name string) {
	g.ADDQ(imm(64), reg.RAX)
	g.DECQ(reg.RCX)
	g.JNE(lbl(name))
}

// restart sets AX to 0 and CX to R11, the number of 16-float groups.
func (g gen) restart() {
	g.XORQ(reg.RAX, reg.RAX)
	g.MOVQ(reg.R11, reg.RCX)
}

// idx is the address base + AX.
func idx(base reg.Register) operand.Mem { return at(base, 0).Idx(reg.RAX, 1) }

func (g gen) geluForward() {
	g.fn("geluForward", "func(dst, src *float32, n int, c *[14]float32)",
		"sets dst[i] = 0.5 src[i] (1 + Tanh(sqrt(2/pi) (src[i] + 0.044715 src[i]^3)))",
		"for i < n rounded down to a multiple of 16, with c = geluConsts.")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("src"), reg.RSI)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.MOVQ(g.arg("c"), reg.RAX)
	g.SHRQ(imm(4), reg.RCX)
	g.JEQ(lbl("gfdone"))
	g.broadcast(16, 14)
	g.Label("gfloop")
	g.VMOVUPS(at(reg.RSI, 0), z(0))
	g.geluTanh()
	g.VMULPS(half, z(0), z(6))
	g.VFMADD213PS(z(6), z(6), z(5)) // 0.5 x + 0.5 x tanh
	g.VMOVUPS(z(5), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("gfloop"))
	g.Label("gfdone")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) geluBackward() {
	g.fn("geluBackward", "func(dst, dy, x *float32, n int, c *[14]float32)",
		"sets dst[i] = dy[i] GELU'(x[i]) for i < n rounded down to a multiple",
		"of 16, with c = geluConsts.")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("dy"), reg.RDX)
	g.MOVQ(g.arg("x"), reg.RSI)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.MOVQ(g.arg("c"), reg.RAX)
	g.SHRQ(imm(4), reg.RCX)
	g.JEQ(lbl("gbdone"))
	g.broadcast(16, 14)
	g.Label("gbloop")
	g.VMOVUPS(at(reg.RSI, 0), z(0))
	g.geluTanh()
	g.VMOVAPS(geluDu, z(7))
	g.VFMADD213PS(geluC, z(1), z(7)) // du = c + 3 a c x^2
	g.VMULPS(half, z(0), z(6))       // 0.5 x
	g.VMOVAPS(one, z(8))
	g.VFNMADD231PS(z(5), z(5), z(8)) // 1 - tanh^2
	g.VMULPS(z(6), z(8), z(8))
	g.VMULPS(z(7), z(8), z(8))
	g.VFMADD231PS(half, z(5), z(8)) // + 0.5 tanh
	g.VADDPS(half, z(8), z(8))      // + 0.5
	g.VMULPS(at(reg.RDX, 0), z(8), z(8))
	g.VMOVUPS(z(8), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RDX)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("gbloop"))
	g.Label("gbdone")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) layerNormRow() {
	g.fn("layerNormRow", "func(out, xhat, x, gamma, beta *float32, d int, eps float32) float32",
		"normalises the row x of d floats (a positive multiple of 16):",
		"xhat = (x - mean) rstd, out = xhat gamma + beta, and returns",
		"rstd = 1 / sqrt(variance + eps).")
	g.MOVQ(g.arg("out"), reg.RDI)
	g.MOVQ(g.arg("xhat"), reg.R8)
	g.MOVQ(g.arg("x"), reg.RSI)
	g.MOVQ(g.arg("gamma"), reg.R9)
	g.MOVQ(g.arg("beta"), reg.R10)
	g.MOVQ(g.arg("d"), reg.RDX)
	g.MOVQ(reg.RDX, reg.R11)
	g.SHRQ(imm(4), reg.R11)
	// The mean, in Z8.
	g.VPXORD(z(0), z(0), z(0))
	g.restart()
	g.Label("lnsum")
	g.VADDPS(idx(reg.RSI), z(0), z(0))
	g.loop("lnsum")
	g.hsum()
	g.VCVTSI2SSQ(reg.RDX, x(7), x(7)) // d
	g.VDIVSS(x(7), x(0), x(0))
	g.VBROADCASTSS(x(0), z(8))
	// The variance.
	g.VPXORD(z(0), z(0), z(0))
	g.restart()
	g.Label("lnvar")
	g.VMOVUPS(idx(reg.RSI), z(2))
	g.VSUBPS(z(8), z(2), z(2))
	g.VFMADD231PS(z(2), z(2), z(0))
	g.loop("lnvar")
	g.hsum()
	g.VDIVSS(x(7), x(0), x(0))
	g.VADDSS(g.arg("eps"), x(0), x(0))
	g.VSQRTSS(x(0), x(0), x(0))
	g.MOVL(operand.U32(math.Float32bits(1)), reg.EAX)
	g.VMOVD(reg.EAX, x(1))
	g.VDIVSS(x(0), x(1), x(0))
	g.VMOVSS(x(0), g.ret())
	g.VBROADCASTSS(x(0), z(9)) // rstd
	// xhat and out.
	g.restart()
	g.Label("lnout")
	g.VMOVUPS(idx(reg.RSI), z(2))
	g.VSUBPS(z(8), z(2), z(2))
	g.VMULPS(z(9), z(2), z(2))
	g.VMOVUPS(z(2), idx(reg.R8))
	g.VMOVUPS(idx(reg.R9), z(3))
	g.VFMADD213PS(idx(reg.R10), z(3), z(2))
	g.VMOVUPS(z(2), idx(reg.RDI))
	g.loop("lnout")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) layerNormGradRow() {
	g.fn("layerNormGradRow", "func(dx, dy, xhat, gamma *float32, d int, rstd float32)",
		"sets dx = rstd (dy gamma - mean(dy gamma) - xhat mean(dy gamma xhat))",
		"over a row of d floats (a positive multiple of 16).")
	g.MOVQ(g.arg("dx"), reg.RDI)
	g.MOVQ(g.arg("dy"), reg.RSI)
	g.MOVQ(g.arg("xhat"), reg.R8)
	g.MOVQ(g.arg("gamma"), reg.R9)
	g.MOVQ(g.arg("d"), reg.RDX)
	g.MOVQ(reg.RDX, reg.R11)
	g.SHRQ(imm(4), reg.R11)
	g.VPXORD(z(0), z(0), z(0)) // sum dy g
	g.VPXORD(z(4), z(4), z(4)) // sum dy g xhat
	g.restart()
	g.Label("lngsum")
	g.VMOVUPS(idx(reg.RSI), z(2))
	g.VMULPS(idx(reg.R9), z(2), z(2))
	g.VADDPS(z(2), z(0), z(0))
	g.VFMADD231PS(idx(reg.R8), z(2), z(4))
	g.loop("lngsum")
	g.VCVTSI2SSQ(reg.RDX, x(7), x(7)) // d
	g.hsum()
	g.VDIVSS(x(7), x(0), x(0))
	g.VBROADCASTSS(x(0), z(8)) // mean(dy g)
	g.VMOVAPS(z(4), z(0))
	g.hsum()
	g.VDIVSS(x(7), x(0), x(0))
	g.VBROADCASTSS(x(0), z(9)) // mean(dy g xhat)
	g.VBROADCASTSS(g.arg("rstd"), z(10))
	g.restart()
	g.Label("lngout")
	g.VMOVUPS(idx(reg.RSI), z(2))
	g.VMULPS(idx(reg.R9), z(2), z(2))
	g.VSUBPS(z(8), z(2), z(2))
	g.VMOVUPS(idx(reg.R8), z(3))
	g.VFNMADD231PS(z(9), z(3), z(2))
	g.VMULPS(z(10), z(2), z(2))
	g.VMOVUPS(z(2), idx(reg.RDI))
	g.loop("lngout")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) colSums() {
	g.fn("colSums", "func(dst, a, b *float32, rows, n, ld int)",
		"adds a[r*ld+j] (times b[r*ld+j] unless b is nil) to dst[j] for r < rows",
		"in order and j < n: rows > 0, n a positive multiple of 16.")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("a"), reg.RSI)
	g.MOVQ(g.arg("b"), reg.RDX)
	g.MOVQ(g.arg("rows"), reg.R8)
	g.MOVQ(g.arg("n"), reg.R9)
	g.MOVQ(g.arg("ld"), reg.R10)
	g.SHLQ(imm(2), reg.R10)
	g.SHRQ(imm(4), reg.R9)
	g.TESTQ(reg.RDX, reg.RDX)
	g.JNE(lbl("csdotrow"))
	g.Label("cssumrow")
	g.XORQ(reg.RAX, reg.RAX)
	g.MOVQ(reg.R9, reg.RCX)
	g.Label("cssum")
	g.VMOVUPS(idx(reg.RDI), z(0))
	g.VADDPS(idx(reg.RSI), z(0), z(0))
	g.VMOVUPS(z(0), idx(reg.RDI))
	g.loop("cssum")
	g.ADDQ(reg.R10, reg.RSI)
	g.DECQ(reg.R8)
	g.JNE(lbl("cssumrow"))
	g.VZEROUPPER()
	g.RET()
	g.Label("csdotrow")
	g.XORQ(reg.RAX, reg.RAX)
	g.MOVQ(reg.R9, reg.RCX)
	g.Label("csdot")
	g.VMOVUPS(idx(reg.RSI), z(1))
	g.VMULPS(idx(reg.RDX), z(1), z(1))
	g.VADDPS(idx(reg.RDI), z(1), z(1))
	g.VMOVUPS(z(1), idx(reg.RDI))
	g.loop("csdot")
	g.ADDQ(reg.R10, reg.RSI)
	g.ADDQ(reg.R10, reg.RDX)
	g.DECQ(reg.R8)
	g.JNE(lbl("csdotrow"))
	g.VZEROUPPER()
	g.RET()
}

func (g gen) sumSquares() {
	g.fn("sumSquares", "func(x *float32, n int) float64",
		"returns the sum of x[i]^2 for i < n (a positive multiple of 16), the",
		"squares summed in float64.")
	g.MOVQ(g.arg("x"), reg.RSI)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.SHRQ(imm(4), reg.RCX)
	g.VXORPD(z(0), z(0), z(0))
	g.VXORPD(z(1), z(1), z(1))
	g.Label("ssloop")
	g.VCVTPS2PD(at(reg.RSI, 0), z(2))
	g.VCVTPS2PD(at(reg.RSI, 32), z(3))
	g.VFMADD231PD(z(2), z(2), z(0))
	g.VFMADD231PD(z(3), z(3), z(1))
	g.ADDQ(imm(64), reg.RSI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("ssloop"))
	g.VADDPD(z(1), z(0), z(0))
	g.VEXTRACTF64X4(imm(1), z(0), y(1))
	g.VADDPD(y(1), y(0), y(0))
	g.VEXTRACTF128(imm(1), y(0), x(1))
	g.VADDPD(x(1), x(0), x(0))
	g.VPERMILPD(imm(1), x(0), x(1))
	g.VADDSD(x(1), x(0), x(0))
	g.VMOVSD(x(0), g.ret())
	g.VZEROUPPER()
	g.RET()
}

func (g gen) adamStep() {
	g.fn("adamStep", "func(w, grad, m, v *float32, n int, c *AdamConsts)",
		"applies AdamStep's update to w, m and v for i < n (a positive multiple",
		"of 16).")
	g.MOVQ(g.arg("w"), reg.RDI)
	g.MOVQ(g.arg("grad"), reg.RSI)
	g.MOVQ(g.arg("m"), reg.R8)
	g.MOVQ(g.arg("v"), reg.R9)
	g.MOVQ(g.arg("n"), reg.RCX)
	g.MOVQ(g.arg("c"), reg.RAX)
	g.SHRQ(imm(4), reg.RCX)
	// AdamConsts' fields in Z16 on: gradient scale, b1, 1 - b1, b2,
	// 1 - b2, decay, step, rbc2, eps.
	g.broadcast(16, len(adamFields))
	scale, b1, b1c, b2, b2c, decay, step, rbc2, eps := z(16), z(17), z(18), z(19), z(20), z(21), z(22), z(23), z(24)
	g.Label("adamloop")
	g.VMULPS(at(reg.RSI, 0), scale, z(0))
	g.VMULPS(at(reg.R8, 0), b1, z(1))
	g.VFMADD231PS(b1c, z(0), z(1)) // m
	g.VMULPS(at(reg.R9, 0), b2, z(2))
	g.VMULPS(z(0), z(0), z(3))
	g.VFMADD231PS(b2c, z(3), z(2)) // v
	g.VMOVUPS(z(1), at(reg.R8, 0))
	g.VMOVUPS(z(2), at(reg.R9, 0))
	g.VSQRTPS(z(2), z(4))
	g.VMOVAPS(eps, z(5))
	g.VFMADD231PS(rbc2, z(4), z(5)) // sqrt(v) rbc2 + eps
	g.VDIVPS(z(5), z(1), z(6))
	g.VMULPS(at(reg.RDI, 0), decay, z(7))
	g.VFNMADD231PS(step, z(6), z(7))
	g.VMOVUPS(z(7), at(reg.RDI, 0))
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.R8)
	g.ADDQ(imm(64), reg.R9)
	g.ADDQ(imm(64), reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("adamloop"))
	g.VZEROUPPER()
	g.RET()
}

func (g gen) softmaxRow() {
	g.fn("softmaxRow", "func(row *float32, width int, scale float32, c *[11]float32)",
		"sets row[j] = exp(scale (row[j] - max)) / sum over j < width (a",
		"positive multiple of 16); entries of -Inf become 0. c holds log2(e), ln2",
		"in two parts (hi, lo), the Taylor coefficients 1/2 to 1/5040, 1 and the",
		"clamp -110, below which exp underflows to 0 through VSCALEFPS.")
	g.MOVQ(g.arg("row"), reg.RSI)
	g.MOVQ(g.arg("width"), reg.R11)
	g.SHRQ(imm(4), reg.R11)
	g.MOVQ(g.arg("c"), reg.RAX)
	// c in Z16-Z26: log2(e), ln2 hi, ln2 lo, 1/2, 1/6, 1/24, 1/120,
	// 1/720, 1/5040, 1, -110.
	g.broadcast(16, 11)
	log2e, ln2hi, ln2lo, one, clamp := z(16), z(17), z(18), z(25), z(26)
	taylor := []reg.VecPhysical{z(19), z(20), z(21), z(22), z(23), z(24)} // 1/2 ... 1/5040
	scale := z(27)
	g.VBROADCASTSS(g.arg("scale"), scale)
	// The largest entry, in Z8.
	g.VMOVUPS(at(reg.RSI, 0), z(0))
	g.MOVQ(operand.U32(64), reg.RAX)
	g.MOVQ(reg.R11, reg.RCX)
	g.DECQ(reg.RCX)
	g.JEQ(lbl("smmaxdone"))
	g.Label("smmax")
	g.VMAXPS(idx(reg.RSI), z(0), z(0))
	g.loop("smmax")
	g.Label("smmaxdone")
	g.hmax()
	g.VBROADCASTSS(x(0), z(8))
	// exp(scale (x - max)) = 2^n e^r with n = round(t log2(e)) and
	// r = t - n ln2; their sum in Z9.
	g.VPXORD(z(9), z(9), z(9))
	g.restart()
	g.Label("smexp")
	g.VMOVUPS(idx(reg.RSI), z(0))
	g.VSUBPS(z(8), z(0), z(0))
	g.VMULPS(scale, z(0), z(0))
	g.VMAXPS(clamp, z(0), z(0))
	g.VMULPS(log2e, z(0), z(1))
	g.VRNDSCALEPS(imm(0), z(1), z(1))
	g.VFNMADD231PS(ln2hi, z(1), z(0))
	g.VFNMADD231PS(ln2lo, z(1), z(0))
	g.VMOVAPS(taylor[5], z(2))
	for k := 4; k >= 0; k-- {
		g.VFMADD213PS(taylor[k], z(0), z(2))
	}
	g.VFMADD213PS(one, z(0), z(2))
	g.VFMADD213PS(one, z(0), z(2))
	g.VSCALEFPS(z(1), z(2), z(2))
	g.VMOVUPS(z(2), idx(reg.RSI))
	g.VADDPS(z(2), z(9), z(9))
	g.loop("smexp")
	g.VMOVAPS(z(9), z(0))
	g.hsum()
	g.VDIVSS(x(0), x(25), x(0))
	g.VBROADCASTSS(x(0), z(8))
	g.restart()
	g.Label("smnorm")
	g.VMULPS(idx(reg.RSI), z(8), z(0))
	g.VMOVUPS(z(0), idx(reg.RSI))
	g.loop("smnorm")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) softmaxGradRow() {
	g.fn("softmaxGradRow", "func(p, ds *float32, width int, scale float32)",
		"sets ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale for j < width (a",
		"positive multiple of 16).")
	g.MOVQ(g.arg("p"), reg.RSI)
	g.MOVQ(g.arg("ds"), reg.RDI)
	g.MOVQ(g.arg("width"), reg.R11)
	g.SHRQ(imm(4), reg.R11)
	g.VPXORD(z(0), z(0), z(0))
	g.restart()
	g.Label("sgdot")
	g.VMOVUPS(idx(reg.RSI), z(2))
	g.VFMADD231PS(idx(reg.RDI), z(2), z(0))
	g.loop("sgdot")
	g.hsum()
	g.VBROADCASTSS(x(0), z(8))
	g.VBROADCASTSS(g.arg("scale"), z(9))
	g.restart()
	g.Label("sgout")
	g.VMOVUPS(idx(reg.RDI), z(2))
	g.VSUBPS(z(8), z(2), z(2))
	g.VMULPS(idx(reg.RSI), z(2), z(2))
	g.VMULPS(z(9), z(2), z(2))
	g.VMOVUPS(z(2), idx(reg.RDI))
	g.loop("sgout")
	g.VZEROUPPER()
	g.RET()
}

func (g gen) packRow() {
	g.fn("packRow", "func(dst, src *float32, blocks, stride int)",
		fmt.Sprintf("copies blocks of %d floats, block j from src+%dj to dst+j*stride", plan.NR, plan.NR),
		"(stride in bytes): one row of B into the panels packB lays out",
		"(packRowLoop is its reference).")
	g.MOVQ(g.arg("dst"), reg.RDI)
	g.MOVQ(g.arg("src"), reg.RSI)
	g.MOVQ(g.arg("blocks"), reg.RCX)
	g.MOVQ(g.arg("stride"), reg.RDX)
	g.TESTQ(reg.RCX, reg.RCX)
	g.JEQ(lbl("prdone"))
	g.Label("prloop")
	for j := range nv {
		g.VMOVUPS(at(reg.RSI, 64*j), z(j))
	}
	for j := range nv {
		g.VMOVUPS(z(j), at(reg.RDI, 64*j))
	}
	g.ADDQ(imm(4*plan.NR), reg.RSI)
	g.ADDQ(reg.RDX, reg.RDI)
	g.DECQ(reg.RCX)
	g.JNE(lbl("prloop"))
	g.Label("prdone")
	g.VZEROUPPER()
	g.RET()
}
