package main

// The training step's element-wise kernels (vec.go's plain loops are their
// references): column sums, sums of squares, AdamW, layer norm and the
// softmax gradient. Reductions keep four (or eight) accumulators and add
// them up at the end, so their sums differ from the loops' by rounding.

// dup sets every lane of d to lane 0 of n.
func (a *asm) dup(d, n V) { a.op("VDUP V%d.S[0], %s", int(n), d.S4()) }

// sum4 leaves the sum of all lanes of V(v)..V(v+3) in lane 0 of V(v).
func (a *asm) sum4(v V) {
	a.fadd(v, v, v+1)
	a.fadd(v+2, v+2, v+3)
	a.fadd(v, v, v+2)
	a.hsum(v, v)
}

func colSums(a *asm) {
	a.text("colSums", "(dst, a, b *float32, rows, n, ld int)", 48,
		"dst[j] += a[r*ld+j] (times b[r*ld+j] unless b is nil) for r < rows in",
		"order and j < n: rows > 0, n a positive multiple of 16. Each product is",
		"added by FMLA, unrounded, as Go on arm64 compiles the loop's s += a*b.")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD a+8(FP), R1")
	a.op("MOVD b+16(FP), R2")
	a.op("MOVD rows+24(FP), R3")
	a.op("MOVD n+32(FP), R4")
	a.op("LSR $4, R4")
	a.op("MOVD ld+40(FP), R5")
	a.op("LSL $2, R5")
	a.op("CBZ R4, %s", a.to("done"))
	a.label("chunk")
	a.op("VLD1 (R0), %s", list(0, 4))
	a.op("MOVD R3, R6")
	a.op("MOVD R1, R7")
	a.op("MOVD R2, R8")
	a.op("CBZ R2, %s", a.to("sum"))
	a.label("dot")
	a.op("VLD1 (R7), %s", list(4, 4))
	a.op("ADD R5, R7")
	a.op("VLD1 (R8), %s", list(16, 4))
	a.op("ADD R5, R8")
	for j := V(0); j < 4; j++ {
		a.fmla(j, 4+j, 16+j)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("dot"))
	a.op("ADD $64, R2")
	a.op("B %s", a.to("store"))
	a.label("sum")
	a.op("VLD1 (R7), %s", list(4, 4))
	a.op("ADD R5, R7")
	for j := V(0); j < 4; j++ {
		a.fadd(j, j, 4+j)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("sum"))
	a.label("store")
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("ADD $64, R1")
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("chunk"))
	a.label("done")
	a.op("RET")
}

func sumSquares(a *asm) {
	a.text("sumSquares", "(x *float32, n int) float64", 24,
		"n is a positive multiple of 16; the squares are summed in float64 (a",
		"float32's square is exact there), eight lanes of two doubles.")
	a.op("MOVD x+0(FP), R0")
	a.op("MOVD n+8(FP), R1")
	a.op("LSR $4, R1")
	for v := V(0); v < 8; v++ {
		a.zero(v)
	}
	a.op("CBZ R1, %s", a.to("done"))
	a.label("loop")
	a.op("VLD1.P 64(R0), %s", list(16, 4))
	for j := V(0); j < 4; j++ {
		a.fcvtl(20+2*j, 16+j)
		a.fcvtl2(21+2*j, 16+j)
	}
	for v := V(0); v < 8; v++ {
		a.fmlaD(v, 20+v, 20+v)
	}
	a.op("SUBS $1, R1")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	for v := V(0); v < 8; v += 2 {
		a.faddD(v, v, v+1)
	}
	a.faddD(0, 0, 2)
	a.faddD(4, 4, 6)
	a.faddD(0, 0, 4)
	a.faddpD(0, 0)
	a.op("FMOVD F0, ret+16(FP)")
	a.op("RET")
}

func adamStep(a *asm) {
	a.text("adamStep", "(w, grad, m, v *float32, n int, c *AdamConsts)", 48,
		"One AdamW update of n floats (a positive multiple of 16). The constants",
		"sit in lanes: V24 = GradScale, B1, 1-B1, B2; V25 = 1-B2, Decay, Step,",
		"RBC2; V27 = Eps in every lane.")
	a.op("MOVD w+0(FP), R0")
	a.op("MOVD grad+8(FP), R1")
	a.op("MOVD m+16(FP), R2")
	a.op("MOVD v+24(FP), R3")
	a.op("MOVD n+32(FP), R4")
	a.op("LSR $4, R4")
	a.op("MOVD c+40(FP), R5")
	a.op("VLD1 (R5), %s", list(24, 2))
	a.op("FMOVS 32(R5), F26")
	a.dup(27, 26)
	a.op("CBZ R4, %s", a.to("done"))
	a.label("loop")
	a.op("VLD1.P 64(R1), %s", list(0, 4)) // g
	a.op("VLD1 (R2), %s", list(4, 4))     // m
	a.op("VLD1 (R3), %s", list(8, 4))     // v
	a.op("VLD1 (R0), %s", list(12, 4))    // w
	for j := V(0); j < 4; j++ {
		g, m, v, w, t, u := j, 4+j, 8+j, 12+j, 16+j, 20+j
		a.fmulE(g, g, 24, 0) // g *= GradScale
		a.fmulE(m, m, 24, 1) // m = B1 m + (1-B1) g
		a.fmlaE(m, g, 24, 2)
		a.fmul(t, g, g) // v = B2 v + (1-B2) g^2
		a.fmulE(v, v, 24, 3)
		a.fmlaE(v, t, 25, 0)
		a.fsqrt(u, v) // m / (sqrt(v) RBC2 + Eps) Step
		a.fmulE(u, u, 25, 3)
		a.fadd(u, u, 27)
		a.fdiv(u, m, u)
		a.fmulE(u, u, 25, 2)
		a.fmulE(w, w, 25, 1) // w = w Decay - that
		a.fsub(w, w, u)
	}
	a.op("VST1.P %s, 64(R2)", list(4, 4))
	a.op("VST1.P %s, 64(R3)", list(8, 4))
	a.op("VST1.P %s, 64(R0)", list(12, 4))
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}

func layerNormRow(a *asm) {
	a.text("layerNormRow", "(out, xhat, x, gamma, beta *float32, d int, eps float32) float32", 60,
		"Normalises x to zero mean and unit variance into xhat, writes",
		"out = xhat gamma + beta and returns 1/sqrt(var + eps); d is a positive",
		"multiple of 16. Three passes: the mean, the variance about it, the",
		"outputs.")
	a.op("MOVD out+0(FP), R0")
	a.op("MOVD xhat+8(FP), R1")
	a.op("MOVD x+16(FP), R2")
	a.op("MOVD gamma+24(FP), R3")
	a.op("MOVD beta+32(FP), R4")
	a.op("MOVD d+40(FP), R5")
	a.op("SCVTFS R5, F28") // d
	a.op("LSR $4, R5")
	for v := V(0); v < 4; v++ {
		a.zero(v)
	}
	a.op("MOVD R2, R7")
	a.op("MOVD R5, R6")
	a.label("mean")
	a.op("VLD1.P 64(R7), %s", list(16, 4))
	for j := V(0); j < 4; j++ {
		a.fadd(j, j, 16+j)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("mean"))
	a.sum4(0)
	a.op("FDIVS F28, F0, F0")
	a.dup(29, 0) // the mean
	for v := V(0); v < 4; v++ {
		a.zero(v)
	}
	a.op("MOVD R2, R7")
	a.op("MOVD R5, R6")
	a.label("var")
	a.op("VLD1.P 64(R7), %s", list(16, 4))
	for j := V(0); j < 4; j++ {
		a.fsub(16+j, 16+j, 29)
		a.fmla(j, 16+j, 16+j)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("var"))
	a.sum4(0)
	a.op("FDIVS F28, F0, F0")
	a.op("FMOVS eps+48(FP), F1")
	a.op("FADDS F1, F0, F0")
	a.op("FSQRTS F0, F0")
	a.op("FMOVS $(1.0), F1")
	a.op("FDIVS F0, F1, F30")
	a.op("FMOVS F30, ret+56(FP)")
	a.dup(30, 30) // rstd
	a.label("out")
	a.op("VLD1.P 64(R2), %s", list(16, 4))
	a.op("VLD1.P 64(R3), %s", list(20, 4))
	a.op("VLD1.P 64(R4), %s", list(0, 4))
	for j := V(0); j < 4; j++ {
		a.fsub(16+j, 16+j, 29)
		a.fmul(16+j, 16+j, 30)
		a.fmla(j, 16+j, 20+j)
	}
	a.op("VST1.P %s, 64(R1)", list(16, 4))
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R5")
	a.op("BNE %s", a.to("out"))
	a.op("RET")
}

func layerNormGradRow(a *asm) {
	a.text("layerNormGradRow", "(dx, dy, xhat, gamma *float32, d int, rstd float32)", 44,
		"dx = rstd (dy gamma - mean(dy gamma) - xhat mean(dy gamma xhat)); d is",
		"a positive multiple of 16.")
	a.op("MOVD dx+0(FP), R0")
	a.op("MOVD dy+8(FP), R1")
	a.op("MOVD xhat+16(FP), R2")
	a.op("MOVD gamma+24(FP), R3")
	a.op("MOVD d+32(FP), R4")
	a.op("SCVTFS R4, F28")
	a.op("LSR $4, R4")
	a.op("FMOVS rstd+40(FP), F29")
	a.dup(29, 29)
	for v := V(0); v < 8; v++ {
		a.zero(v)
	}
	a.op("MOVD R1, R5")
	a.op("MOVD R2, R6")
	a.op("MOVD R3, R7")
	a.op("MOVD R4, R8")
	a.label("sums")
	a.op("VLD1.P 64(R5), %s", list(16, 4))
	a.op("VLD1.P 64(R7), %s", list(20, 4))
	a.op("VLD1.P 64(R6), %s", list(24, 4))
	for j := V(0); j < 4; j++ {
		a.fmul(16+j, 16+j, 20+j)
		a.fadd(j, j, 16+j)
		a.fmla(4+j, 16+j, 24+j)
	}
	a.op("SUBS $1, R8")
	a.op("BNE %s", a.to("sums"))
	a.sum4(0)
	a.sum4(4)
	a.op("FDIVS F28, F0, F0")
	a.op("FDIVS F28, F4, F4")
	a.dup(30, 0) // mean(dy gamma)
	a.dup(31, 4) // mean(dy gamma xhat)
	a.label("dx")
	a.op("VLD1.P 64(R1), %s", list(16, 4))
	a.op("VLD1.P 64(R3), %s", list(20, 4))
	a.op("VLD1.P 64(R2), %s", list(24, 4))
	for j := V(0); j < 4; j++ {
		a.fmul(16+j, 16+j, 20+j)
		a.fsub(16+j, 16+j, 30)
		a.fmls(16+j, 24+j, 31)
		a.fmul(16+j, 16+j, 29)
	}
	a.op("VST1.P %s, 64(R0)", list(16, 4))
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("dx"))
	a.op("RET")
}

func softmaxGradRow(a *asm) {
	a.text("softmaxGradRow", "(p, ds *float32, width int, scale float32)", 28,
		"ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale for j < width (a positive",
		"multiple of 16).")
	a.op("MOVD p+0(FP), R0")
	a.op("MOVD ds+8(FP), R1")
	a.op("MOVD width+16(FP), R2")
	a.op("LSR $4, R2")
	a.op("FMOVS scale+24(FP), F31")
	a.dup(31, 31)
	for v := V(0); v < 4; v++ {
		a.zero(v)
	}
	a.op("MOVD R0, R3")
	a.op("MOVD R1, R4")
	a.op("MOVD R2, R5")
	a.label("dot")
	a.op("VLD1.P 64(R3), %s", list(16, 4))
	a.op("VLD1.P 64(R4), %s", list(20, 4))
	for j := V(0); j < 4; j++ {
		a.fmla(j, 16+j, 20+j)
	}
	a.op("SUBS $1, R5")
	a.op("BNE %s", a.to("dot"))
	a.sum4(0)
	a.dup(30, 0)
	a.label("grad")
	a.op("VLD1.P 64(R0), %s", list(16, 4))
	a.op("VLD1 (R1), %s", list(20, 4))
	for j := V(0); j < 4; j++ {
		a.fsub(20+j, 20+j, 30)
		a.fmul(20+j, 20+j, 16+j)
		a.fmul(20+j, 20+j, 31)
	}
	a.op("VST1.P %s, 64(R1)", list(20, 4))
	a.op("SUBS $1, R2")
	a.op("BNE %s", a.to("grad"))
	a.op("RET")
}
