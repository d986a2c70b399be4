package main

// GELU and its gradient, with tanh by the [7/6] Pade approximant of vec.go
// (Tanh) and its clamp to +-1 past 4.97, one q register at a time; the
// temporaries V4-V9 are reused for every register and renaming lets the
// four chains overlap.

// dupLane sets every lane of d to lane i of n.
func (a *asm) dupLane(d, n V, i int) { a.op("VDUP V%d.S[%d], %s", int(n), i, d.S4()) }

// geluConsts loads geluConsts (at R3) and spreads them: V29 holds
// sqrt(2/pi), 0.044715, 0.5, 1 by lane, V31 3150, 28, 4.97, -4.97 and V28
// -1, 3 0.044715 sqrt(2/pi); V20 = 1, V21 = 4.97, V22 = -4.97, V23 = -1,
// V24 = 135135, V25 = 17325, V26 = 378, V27 = 62370, V30 = 3150 and
// V10 = sqrt(2/pi) in every lane.
func geluConsts(a *asm) {
	a.op("VLD1 (R3), %s", list(29, 3))
	a.op("FMOVD 48(R3), F28")
	a.dupLane(20, 29, 3)
	a.dupLane(21, 31, 2)
	a.dupLane(22, 31, 3)
	a.dupLane(23, 28, 0)
	a.dupLane(24, 30, 0)
	a.dupLane(25, 30, 1)
	a.dupLane(26, 30, 2)
	a.dupLane(27, 30, 3)
	a.dupLane(30, 31, 0)
	a.dupLane(10, 29, 0)
}

// geluTanh leaves Tanh(sqrt(2/pi) (x + 0.044715 x^3)) in V6 for x in
// register x; it uses V4-V9.
func geluTanh(a *asm, x V) {
	const u, s, p, q, t, m = 4, 5, 6, 7, 8, 9
	a.fmul(s, x, x)
	a.fmul(s, s, x)
	a.mov(u, x)
	a.fmlaE(u, s, 29, 1)
	a.fmulE(u, u, 29, 0) // the argument
	a.fmul(s, u, u)
	a.fadd(p, s, 26)
	a.mov(t, 25)
	a.fmla(t, p, s)
	a.mov(p, 24)
	a.fmla(p, t, s)
	a.fmul(p, p, u) // the numerator
	a.fmulE(q, s, 31, 1)
	a.fadd(q, q, 30)
	a.mov(t, 27)
	a.fmla(t, q, s)
	a.mov(q, 24)
	a.fmla(q, t, s) // the denominator
	a.fdiv(p, p, q)
	a.fcmgt(m, u, 21) // u > 4.97: 1
	a.op("VBIT %s, %s, %s", V(m).B16(), V(20).B16(), V(p).B16())
	a.fcmgt(m, 22, u) // u < -4.97: -1
	a.op("VBIT %s, %s, %s", V(m).B16(), V(23).B16(), V(p).B16())
}

func geluForward(a *asm) {
	a.text("geluForward", "(dst, src *float32, n int, c *[14]float32)", 32,
		"dst[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for x = src[i],",
		"i < n (a multiple of 16); c is geluConsts.")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD src+8(FP), R1")
	a.op("MOVD n+16(FP), R2")
	a.op("LSR $4, R2")
	a.op("MOVD c+24(FP), R3")
	a.op("CBZ R2, %s", a.to("done"))
	geluConsts(a)
	a.label("loop")
	a.op("VLD1.P 64(R1), %s", list(0, 4))
	for x := V(0); x < 4; x++ {
		geluTanh(a, x)
		a.fadd(8, 6, 20)     // 1 + tanh
		a.fmulE(x, x, 29, 2) // 0.5 x
		a.fmul(x, x, 8)
	}
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R2")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}

func geluBackward(a *asm) {
	a.text("geluBackward", "(dst, dy, x *float32, n int, c *[14]float32)", 40,
		"dst[i] = dy[i] GELU'(x[i]) for i < n (a multiple of 16), where",
		"GELU'(x) = 0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 0.044715 x^2).")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD dy+8(FP), R1")
	a.op("MOVD x+16(FP), R2")
	a.op("MOVD n+24(FP), R4")
	a.op("LSR $4, R4")
	a.op("MOVD c+32(FP), R3")
	a.op("CBZ R4, %s", a.to("done"))
	geluConsts(a)
	a.label("loop")
	a.op("VLD1.P 64(R2), %s", list(0, 4))
	a.op("VLD1.P 64(R1), %s", list(12, 4))
	for x := V(0); x < 4; x++ {
		const u, s, p, q, t = 4, 5, 6, 7, 8
		geluTanh(a, x)
		a.fadd(t, p, 20)
		a.fmulE(t, t, 29, 2) // 0.5 (1 + th)
		a.fmul(q, p, p)
		a.fsub(q, 20, q) // 1 - th^2
		a.fmul(s, x, x)
		a.fmulE(u, s, 28, 1)
		a.fadd(u, u, 10) // sqrt(2/pi) + 3 0.044715 sqrt(2/pi) x^2
		a.fmul(q, q, u)
		a.fmulE(u, x, 29, 2) // 0.5 x
		a.fmla(t, u, q)
		a.fmul(x, t, 12+x)
	}
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}
