package main

// softmaxRow: three passes over the row (the largest entry; the
// exponentials, written back and summed; the division by the sum), with
// exp as in Exp of vec.go: t = scale (x - max) <= 0, clamped to -110 so
// that -Inf gives 0; n = round(t log2(e)), r = t - n ln2 (ln2 in two
// parts), e^r by its Taylor series to r^7 in Horner's form, times 2^n.
// n is down to -159, past the smallest normal exponent (-126), so 2^n is
// applied in two steps: 2^(n>>1) added to p's exponent field (p ~ 1, so the
// result stays normal), then a multiplication by the float 2^(n - n>>1),
// which rounds once, into the subnormals or to 0 as it must.
func softmaxRow(a *asm) {
	a.text("softmaxRow", "(row *float32, width int, scale float32, c *[11]float32)", 32,
		"softmaxRow sets row[j] = exp(scale (row[j] - max)) / sum over j < width (a",
		"positive multiple of 16); entries of -Inf become 0. c is expConsts:",
		"log2(e), ln2 in two parts (hi, lo), the Taylor coefficients 1/2 to",
		"1/5040, 1 and the clamp -110.")
	a.op("MOVD row+0(FP), R0")
	a.op("MOVD width+8(FP), R1")
	a.op("LSR $4, R1")
	a.op("MOVD c+24(FP), R2")
	a.op("CBZ R1, %s", a.to("done"))
	// The constants: V20 = log2(e), ln2 hi, ln2 lo, scale by lane (for the
	// by-element forms); V22-V27 = 1/2 ... 1/5040, V28 = 1 and V29 = -110
	// in every lane. c is read as 32 + 4 + 8 bytes, not past its end.
	const (
		lanes  = V(20)
		taylor = V(22) // V22-V27: 1/2, 1/6, ..., 1/5040
		one    = V(28)
		clamp  = V(29)
		top    = V(31) // the largest entry, then 1/sum
	)
	a.op("VLD1 (R2), %s", list(16, 2))
	a.op("FMOVS 32(R2), F18")
	a.op("FMOVD 36(R2), F19")
	a.mov(lanes, 16)
	a.op("MOVWU scale+16(FP), R3")
	a.op("VMOV R3, V%d.S[3]", int(lanes))
	a.dupLane(taylor, 16, 3)
	for i := range 4 {
		a.dupLane(taylor+1+V(i), 17, i)
	}
	a.dupLane(taylor+5, 18, 0)
	a.dupLane(one, 19, 0)
	a.dupLane(clamp, 19, 1)

	// The largest entry, lane by lane in V0-V3, then across.
	a.op("MOVD R0, R3")
	a.op("VLD1.P 64(R3), %s", list(0, 4))
	a.op("SUBS $1, R1, R4")
	a.op("BEQ %s", a.to("maxdone"))
	a.label("max")
	a.op("VLD1.P 64(R3), %s", list(4, 4))
	for j := V(0); j < 4; j++ {
		a.fmax(j, j, 4+j)
	}
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("max"))
	a.label("maxdone")
	a.fmax(0, 0, 1)
	a.fmax(2, 2, 3)
	a.fmax(0, 0, 2)
	a.fmaxp(0, 0, 0)
	a.fmaxp(0, 0, 0)
	a.dup(top, 0)

	// The exponentials, over the row in place; their sum in V16-V19.
	for v := V(16); v < 20; v++ {
		a.zero(v)
	}
	a.op("MOVD R0, R3")
	a.op("MOVD R1, R4")
	a.label("exp")
	a.op("VLD1 (R3), %s", list(0, 4))
	for q := V(0); q < 4; q++ {
		x, n, p, u := q, 4+3*q, 5+3*q, 6+3*q // u and p alternate in Horner's steps
		a.fsub(x, x, top)
		a.fmulE(x, x, lanes, 3) // t
		a.fmax(x, x, clamp)
		a.fmulE(n, x, lanes, 0)
		a.fcvtns(n, n) // n, an int32
		a.scvtf(p, n)
		a.fmlsE(x, p, lanes, 1)
		a.fmlsE(x, p, lanes, 2) // r
		a.mov(p, taylor+5)
		for _, c := range []V{taylor + 4, taylor + 3, taylor + 2, taylor + 1, taylor, one, one} {
			a.mov(u, c)
			a.fmla(u, p, x) // c + r p
			p, u = u, p
		}
		// p = e^r; u is free.
		a.sshr(u, n, 1)
		a.op("VSUB %s, %s, %s", u.S4(), n.S4(), n.S4()) // n - n>>1
		a.op("VSHL $23, %s, %s", u.S4(), u.S4())
		a.op("VADD %s, %s, %s", u.S4(), p.S4(), p.S4()) // p 2^(n>>1)
		a.op("VSHL $23, %s, %s", n.S4(), n.S4())
		a.op("VADD %s, %s, %s", one.S4(), n.S4(), n.S4()) // 2^(n - n>>1), as bits
		a.fmul(x, p, n)
		a.fadd(16+q, 16+q, x)
	}
	a.op("VST1.P %s, 64(R3)", list(0, 4))
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("exp"))
	a.sum4(16)
	a.op("FMOVS $(1.0), F0")
	a.op("FDIVS F16, F0, F0")
	a.dup(top, 0)

	// The division, as a multiplication by 1/sum.
	a.op("MOVD R0, R3")
	a.label("norm")
	a.op("VLD1 (R3), %s", list(0, 4))
	for j := V(0); j < 4; j++ {
		a.fmul(j, j, top)
	}
	a.op("VST1.P %s, 64(R3)", list(0, 4))
	a.op("SUBS $1, R1")
	a.op("BNE %s", a.to("norm"))
	a.label("done")
	a.op("RET")
}
