package main

import "fmt"

// The transforms of Winograd's F(4x4, 3x3) on 16 channels at a time, one
// channel a lane, as on AVX-512 (winograd.go of gen/avx512): a 6-point
// transform down the columns of the tile into tmp (point (k, j) at
// 64 (6k + j) bytes), then one along the rows of tmp into the destination.
// A point's 16 channels are four q registers; the six points of a column
// or row sit in V0-V23, point k in V(4k)..V(4k+3), and each transform
// works in place, q register by q register, so that its results are again
// four consecutive registers a point, for one VST1 each.

// wgConsts is the register whose lanes hold 4, 5, 2 and 8, for the
// by-element forms.
const wgConsts = V(31)

// loadWgConsts sets the lanes of wgConsts (with R16).
func loadWgConsts(a *asm) {
	for i, bits := range []uint32{0x40800000, 0x40a00000, 0x40000000, 0x41000000} { // 4, 5, 2, 8
		a.op("MOVW $0x%08x, R16", bits)
		a.op("VMOV R16, V%d.S[%d]", int(wgConsts), i)
	}
}

// pointReg is q register q of point k.
func pointReg(k, q int) V { return V(4*k + q) }

// bt applies B^T to the six points in V0-V23, in place: with x the points,
//
//	t0 = 4 x0 - 5 x2 + x4        t3 = x4 - x2 + 2 (x3 - x1)
//	t1 = x3 + x4 - 4 (x1 + x2)   t4 = x4 - x2 - 2 (x3 - x1)
//	t2 = x4 - x3 + 4 (x1 - x2)   t5 = x5 + 4 x1 - 5 x3
//
// t0 and t5 first (they read x1-x4), then the sums and differences in
// V24-V27, then t1-t4 over x1-x4.
func bt(a *asm) {
	for q := range 4 {
		x := func(k int) V { return pointReg(k, q) }
		const s, d, e, f = 24, 25, 26, 27
		a.fmulE(x(0), x(0), wgConsts, 0)
		a.fadd(x(0), x(0), x(4))
		a.fmlsE(x(0), x(2), wgConsts, 1) // t0
		a.fmlaE(x(5), x(1), wgConsts, 0)
		a.fmlsE(x(5), x(3), wgConsts, 1) // t5
		a.fadd(s, x(1), x(2))
		a.fsub(d, x(1), x(2))
		a.fsub(e, x(3), x(1))
		a.fadd(e, e, e) // 2 (x3 - x1)
		a.fsub(f, x(4), x(2))
		a.fadd(x(1), x(3), x(4))
		a.fmlsE(x(1), s, wgConsts, 0) // t1
		a.fsub(x(2), x(4), x(3))
		a.fmlaE(x(2), d, wgConsts, 0) // t2
		a.fadd(x(3), f, e)            // t3
		a.fsub(x(4), f, e)            // t4
	}
}

// at applies A^T to the six points in V0-V23, leaving the four results in
// the registers of points 0, 1, 2 and 5 (atSlots): with a = x1 + x2,
// b = x1 - x2, c = x3 + x4, e = x3 - x4,
//
//	y0 = x0 + a + c   y1 = b + 2 e   y2 = a + 4 c   y3 = b + 8 e + x5.
//
// a goes to V28; b, c and e replace x1, x2 and x3.
func at(a *asm) {
	for q := range 4 {
		x := func(k int) V { return pointReg(k, q) }
		const t = 28
		a.fadd(t, x(1), x(2))
		a.fsub(x(1), x(1), x(2))
		a.fadd(x(2), x(3), x(4))
		a.fsub(x(3), x(3), x(4))
		a.fadd(x(0), x(0), t)
		a.fadd(x(0), x(0), x(2)) // y0
		a.fadd(x(5), x(5), x(1))
		a.fmlaE(x(5), x(3), wgConsts, 3) // y3
		a.fmlaE(x(1), x(3), wgConsts, 2) // y1
		a.fmulE(x(2), x(2), wgConsts, 0)
		a.fadd(x(2), x(2), t) // y2
	}
}

// atSlots are the points whose registers hold at's results y0-y3.
var atSlots = [4]int{0, 1, 2, 5}

// point is the register list of point k's 16 channels.
func point(k int) string { return list(pointReg(k, 0), 4) }

func wgInput16(a *asm) {
	a.text("wgInput16", "(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32)", 56,
		"wgInput16 sets V = B^T d B for groups groups of 16 channels of one 6 x 6",
		"input tile: point (k, j) of channel c at d[k*rowStride+j*pix+c], of V at",
		"v[(6k+j)*stride+c]. tmp holds 36 x 16 floats.")
	a.op("MOVD v+0(FP), R0")
	a.op("MOVD stride+8(FP), R1")
	a.op("LSL $2, R1")
	a.op("MOVD d+16(FP), R2")
	a.op("MOVD rowStride+24(FP), R3")
	a.op("LSL $2, R3")
	a.op("MOVD pix+32(FP), R4")
	a.op("LSL $2, R4")
	a.op("MOVD groups+40(FP), R5")
	a.op("MOVD tmp+48(FP), R6")
	a.op("CBZ R5, %s", a.to("done"))
	loadWgConsts(a)
	a.label("group")
	// Columns: point (k, j) at R2 + k rowStride + j pix, R7 walking j and
	// R8 k; the results to tmp, at R6.
	a.op("MOVD R2, R7")
	for j := range 6 {
		a.comment(fmt.Sprintf("column %d", j))
		a.op("MOVD R7, R8")
		for k := range 6 {
			a.op("VLD1 (R8), %s", point(k))
			if k < 5 {
				a.op("ADD R3, R8")
			}
		}
		bt(a)
		for k := range 6 {
			a.op("ADD $%d, R6, R9", 64*(6*k+j))
			a.op("VST1 %s, (R9)", point(k))
		}
		if j < 5 {
			a.op("ADD R4, R7")
		}
	}
	// Rows of tmp into v: point 6i+s at R0 + (6i+s) stride, R10 walking
	// them in order.
	a.op("MOVD R0, R10")
	for i := range 6 {
		a.comment(fmt.Sprintf("row %d", i))
		a.op("ADD $%d, R6, R9", 64*6*i)
		for k := range 6 {
			a.op("VLD1.P 64(R9), %s", point(k))
		}
		bt(a)
		for s := range 6 {
			a.op("VST1 %s, (R10)", point(s))
			a.op("ADD R1, R10")
		}
	}
	a.op("ADD $64, R2")
	a.op("ADD $64, R0")
	a.op("SUBS $1, R5")
	a.op("BNE %s", a.to("group"))
	a.label("done")
	a.op("RET")
}

func wgOutput16(a *asm) {
	a.text("wgOutput16", "(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32)", 88,
		"wgOutput16 sets Y = A^T m A (+ bias, then max(0, .) if relu is set) for",
		"groups groups of 16 channels of one 4 x 4 output tile, writing its first",
		"rows rows and cols columns (1 to 4 each): point (k, j) of channel c of m",
		"at m[(6k+j)*mstride+c], pixel (i, j) of out at out[i*rowStride+j*pix+c],",
		"bias[c]. tmp holds at least 24 x 16 floats.")
	a.op("MOVD out+0(FP), R0")
	a.op("MOVD rowStride+8(FP), R1")
	a.op("LSL $2, R1")
	a.op("MOVD pix+16(FP), R2")
	a.op("LSL $2, R2")
	a.op("MOVD m+24(FP), R3")
	a.op("MOVD mstride+32(FP), R4")
	a.op("LSL $2, R4")
	a.op("MOVD groups+40(FP), R5")
	a.op("MOVD bias+48(FP), R6")
	a.op("MOVBU relu+56(FP), R12")
	a.op("MOVD rows+64(FP), R13")
	a.op("MOVD cols+72(FP), R14")
	a.op("MOVD tmp+80(FP), R15")
	a.op("MOVD $6, R11")
	a.op("MUL R4, R11, R11") // 6 mstride: from point (k, j) to (k+1, j)
	a.op("CBZ R5, %s", a.to("done"))
	loadWgConsts(a)
	const bias, zero = V(24), V(29)
	a.zero(zero)
	a.label("group")
	// Columns: point (k, j) at R3 + (6k + j) mstride, R7 walking j and R8
	// k; the four results to tmp, at R15, as rows 0-3 of a 4 x 6 tile.
	a.op("MOVD R3, R7")
	for j := range 6 {
		a.comment(fmt.Sprintf("column %d", j))
		a.op("MOVD R7, R8")
		for k := range 6 {
			a.op("VLD1 (R8), %s", point(k))
			if k < 5 {
				a.op("ADD R11, R8")
			}
		}
		at(a)
		for r, k := range atSlots {
			a.op("ADD $%d, R15, R9", 64*(6*r+j))
			a.op("VST1 %s, (R9)", point(k))
		}
		if j < 5 {
			a.op("ADD R4, R7")
		}
	}
	// Rows 0 to rows-1 of tmp into out: pixel (i, j) at
	// R0 + i rowStride + j pix, R10 walking i and R16 j.
	a.op("VLD1 (R6), %s", list(bias, 4))
	a.op("MOVD R0, R10")
	for i := range 4 {
		row := fmt.Sprintf("row%d", i)
		a.comment(row)
		if i > 0 {
			a.op("CMP $%d, R13", i+1)
			a.op("BLT %s", a.to("next"))
		}
		a.op("ADD $%d, R15, R9", 64*6*i)
		for k := range 6 {
			a.op("VLD1.P 64(R9), %s", point(k))
		}
		at(a)
		for _, k := range atSlots {
			for q := range 4 {
				a.fadd(pointReg(k, q), pointReg(k, q), bias+V(q))
			}
		}
		a.op("CBZ R12, %s", a.to(row+"store"))
		for _, k := range atSlots {
			for q := range 4 {
				a.fmax(pointReg(k, q), pointReg(k, q), zero)
			}
		}
		a.label(row + "store")
		a.op("MOVD R10, R16")
		for j, k := range atSlots {
			if j > 0 {
				a.op("CMP $%d, R14", j+1)
				a.op("BLT %s", a.to(row+"end"))
			}
			a.op("VST1 %s, (R16)", point(k))
			if j < 3 {
				a.op("ADD R2, R16")
			}
		}
		a.label(row + "end")
		if i < 3 {
			a.op("ADD R1, R10")
		}
	}
	a.label("next")
	a.op("ADD $64, R3")
	a.op("ADD $64, R0")
	a.op("ADD $64, R6")
	a.op("SUBS $1, R5")
	a.op("BNE %s", a.to("group"))
	a.label("done")
	a.op("RET")
}
