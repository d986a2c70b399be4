package main

// The vector kernels: lengths come in groups of 16 floats, four q
// registers, loaded and stored by one VLD1 or VST1 of four registers.

func vectors(a *asm) {
	dotRows(a)
	axpyRows(a)
	argmin16(a)
	reluCopy(a)
	addVec(a)
	maskPositive(a)
	colSums(a)
	sumSquares(a)
	adamStep(a)
	layerNormRow(a)
	layerNormGradRow(a)
	softmaxRow(a)
	softmaxGradRow(a)
	geluForward(a)
	geluBackward(a)
	wgInput16(a)
	wgOutput16(a)
}

func dotRows(a *asm) {
	a.text("dotRows", "(q, k *float32, stride, n, dh int, scale float32, out *float32)", 56,
		"out[j] = scale * sum_c q[c] k[j*stride+c] for j < n, c < dh (dh a multiple",
		"of 16). Four accumulators, one per q register of a group.")
	a.op("MOVD q+0(FP), R0")
	a.op("MOVD k+8(FP), R1")
	a.op("MOVD stride+16(FP), R2")
	a.op("LSL $2, R2")
	a.op("MOVD n+24(FP), R3")
	a.op("MOVD dh+32(FP), R4")
	a.op("LSR $4, R4")
	a.op("FMOVS scale+40(FP), F31")
	a.op("MOVD out+48(FP), R5")
	a.op("CBZ R3, %s", a.to("done"))
	a.label("row")
	for v := V(0); v < 4; v++ {
		a.zero(v)
	}
	a.op("MOVD R4, R6")
	a.op("MOVD R0, R7")
	a.op("MOVD R1, R8")
	a.label("chunk")
	a.op("VLD1.P 64(R7), %s", list(4, 4))
	a.op("VLD1.P 64(R8), %s", list(16, 4))
	for j := V(0); j < 4; j++ {
		a.fmla(j, 4+j, 16+j)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("chunk"))
	a.fadd(0, 0, 1)
	a.fadd(2, 2, 3)
	a.fadd(0, 0, 2)
	a.hsum(0, 0)
	a.op("FMULS F31, F0, F0")
	a.op("FMOVS F0, (R5)")
	a.op("ADD $4, R5")
	a.op("ADD R2, R1")
	a.op("SUBS $1, R3")
	a.op("BNE %s", a.to("row"))
	a.label("done")
	a.op("RET")
}

func axpyRows(a *asm) {
	a.text("axpyRows", "(p, v *float32, stride, n, dh int, out *float32)", 48,
		"out[c] = sum_j p[j] v[j*stride+c] for c < dh (a multiple of 16), j < n.",
		"Two rows a step into two sets of accumulators, then the odd one.")
	a.op("MOVD p+0(FP), R0")
	a.op("MOVD v+8(FP), R1")
	a.op("MOVD stride+16(FP), R2")
	a.op("LSL $2, R2")
	a.op("MOVD n+24(FP), R3")
	a.op("MOVD dh+32(FP), R4")
	a.op("LSR $4, R4")
	a.op("MOVD out+40(FP), R5")
	a.op("CBZ R4, %s", a.to("done"))
	a.label("chunk")
	for v := V(0); v < 8; v++ {
		a.zero(v)
	}
	a.op("MOVD R0, R7")
	a.op("MOVD R1, R8")
	a.op("LSR $1, R3, R6")
	a.op("CBZ R6, %s", a.to("odd"))
	a.label("pair")
	a.op("VLD1R.P 4(R7), [%s]", V(16).S4())
	a.op("VLD1R.P 4(R7), [%s]", V(17).S4())
	a.op("VLD1 (R8), %s", list(20, 4))
	a.op("ADD R2, R8")
	a.op("VLD1 (R8), %s", list(24, 4))
	a.op("ADD R2, R8")
	for j := V(0); j < 4; j++ {
		a.fmla(j, 20+j, 16)
		a.fmla(4+j, 24+j, 17)
	}
	a.op("SUBS $1, R6")
	a.op("BNE %s", a.to("pair"))
	a.label("odd")
	a.op("TBZ $0, R3, %s", a.to("store"))
	a.op("VLD1R (R7), [%s]", V(16).S4())
	a.op("VLD1 (R8), %s", list(20, 4))
	for j := V(0); j < 4; j++ {
		a.fmla(j, 20+j, 16)
	}
	a.label("store")
	for j := V(0); j < 4; j++ {
		a.fadd(j, j, 4+j)
	}
	a.op("VST1.P %s, 64(R5)", list(0, 4))
	a.op("ADD $64, R1")
	a.op("SUBS $1, R4")
	a.op("BNE %s", a.to("chunk"))
	a.label("done")
	a.op("RET")
}

func argmin16(a *asm) {
	a.text("argmin16", "(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32)", 40,
		"Lane l of vals and idx gets the smallest x[i] over i = l (mod 16), and the",
		"first i where it occurs; n is a positive multiple of 16. A NaN is kept",
		"only until a number comes, as in the plain loop.")
	a.op("MOVD x+0(FP), R0")
	a.op("MOVD n+8(FP), R1")
	a.op("LSR $4, R1")
	a.op("MOVD iota+16(FP), R2")
	a.op("VLD1 (R2), %s", list(4, 4)) // the indices of the best
	a.op("VLD1.P 64(R0), %s", list(0, 4))
	for j := V(0); j < 4; j++ {
		a.mov(8+j, 4+j) // the indices of the group at hand
	}
	a.op("MOVD $16, R3")
	a.op("VDUP R3, %s", V(12).S4())
	a.op("SUBS $1, R1")
	a.op("BEQ %s", a.to("done"))
	a.label("loop")
	a.op("VLD1.P 64(R0), %s", list(16, 4))
	for j := V(0); j < 4; j++ {
		a.op("VADD %s, %s, %s", V(12).S4(), (8 + j).S4(), (8 + j).S4())
		a.fcmeq(24+j, j, j) // best is a number: else new replaces it
		a.op("VBIF %s, %s, %s", (24 + j).B16(), (16 + j).B16(), j.B16())
		a.op("VBIF %s, %s, %s", (24 + j).B16(), (8 + j).B16(), (4 + j).B16())
		a.fcmgt(20+j, j, 16+j) // best > new
		a.op("VBIT %s, %s, %s", (20 + j).B16(), (16 + j).B16(), j.B16())
		a.op("VBIT %s, %s, %s", (20 + j).B16(), (8 + j).B16(), (4 + j).B16())
	}
	a.op("SUBS $1, R1")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("MOVD vals+24(FP), R2")
	a.op("VST1 %s, (R2)", list(0, 4))
	a.op("MOVD idx+32(FP), R2")
	a.op("VST1 %s, (R2)", list(4, 4))
	a.op("RET")
}

func reluCopy(a *asm) {
	a.text("reluCopy", "(dst, src *float32, n int)", 24,
		"dst[i] = max(src[i], 0) for i < n, n a multiple of 16; NaN stays NaN.")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD src+8(FP), R1")
	a.op("MOVD n+16(FP), R2")
	a.op("LSR $4, R2")
	a.op("CBZ R2, %s", a.to("done"))
	a.zero(31)
	a.label("loop")
	a.op("VLD1.P 64(R1), %s", list(0, 4))
	for j := V(0); j < 4; j++ {
		a.fmax(j, j, 31)
	}
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R2")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}

func addVec(a *asm) {
	a.text("addVec", "(dst, x, y *float32, n int)", 32,
		"dst[i] = x[i] + y[i] for i < n, n a multiple of 16; dst may be x or y.")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD x+8(FP), R1")
	a.op("MOVD y+16(FP), R3")
	a.op("MOVD n+24(FP), R2")
	a.op("LSR $4, R2")
	a.op("CBZ R2, %s", a.to("done"))
	a.label("loop")
	a.op("VLD1.P 64(R1), %s", list(0, 4))
	a.op("VLD1.P 64(R3), %s", list(4, 4))
	for j := V(0); j < 4; j++ {
		a.fadd(j, j, j+4)
	}
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R2")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}

func maskPositive(a *asm) {
	a.text("maskPositive", "(dst, src, ref *float32, n int)", 32,
		"dst[i] = src[i] where ref[i] > 0, else 0, for i < n (a multiple of 16).")
	a.op("MOVD dst+0(FP), R0")
	a.op("MOVD src+8(FP), R1")
	a.op("MOVD ref+16(FP), R2")
	a.op("MOVD n+24(FP), R3")
	a.op("LSR $4, R3")
	a.op("CBZ R3, %s", a.to("done"))
	a.label("loop")
	a.op("VLD1.P 64(R1), %s", list(0, 4))
	a.op("VLD1.P 64(R2), %s", list(4, 4))
	for j := V(0); j < 4; j++ {
		a.fcmgtz(4+j, 4+j)
		a.op("VAND %s, %s, %s", (4 + j).B16(), j.B16(), j.B16())
	}
	a.op("VST1.P %s, 64(R0)", list(0, 4))
	a.op("SUBS $1, R3")
	a.op("BNE %s", a.to("loop"))
	a.label("done")
	a.op("RET")
}
