package main

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The transforms of Winograd's F(4x4, 3x3) on 16 channels at a time, one
// channel a lane. Each runs a 6-point transform down the columns of its tile
// into tmp (36 vectors, point (k, j) at 64 (6k + j)), then along the rows
// of tmp into the destination. The constants live in Z27 = 8, Z28 = 4,
// Z29 = 5, Z30 = 2.
var (
	eight = z(27)
	four  = z(28)
	five  = z(29)
	two   = z(30)
)

func winograd(g gen) {
	g.wgInput()
	g.wgOutput()
}

// consts loads eight, four, five and two (with AX).
func (g gen) consts() {
	for _, c := range []struct {
		r reg.VecPhysical
		v float32
	}{{eight, 8}, {four, 4}, {five, 5}, {two, 2}} {
		g.MOVL(operand.U32(math.Float32bits(c.v)), reg.EAX)
		g.VPBROADCASTD(reg.EAX, c.r)
	}
}

// tmp is the address of point (k, j) of tmp (at DI).
func tmp(k, j int) operand.Mem { return at(reg.RDI, 64*(6*k+j)) }

// bt loads the six points src(0) ... src(5) into Z0-Z5, applies B^T and
// hands the six results, in order, to dst.
func (g gen) bt(src func(k int) operand.Mem, dst func(k int, r reg.VecPhysical)) {
	for k := range 6 {
		g.VMOVUPS(src(k), z(k))
	}
	g.VMOVAPS(z(4), z(6))
	g.VFMADD231PS(four, z(0), z(6))  // d4 + 4 d0
	g.VFNMADD231PS(five, z(2), z(6)) // - 5 d2: t0
	g.VADDPS(z(2), z(1), z(7))       // d1 + d2
	g.VADDPS(z(4), z(3), z(8))       // d3 + d4
	g.VFNMADD231PS(four, z(7), z(8)) // t1
	g.VSUBPS(z(2), z(1), z(9))       // d1 - d2
	g.VSUBPS(z(3), z(4), z(10))      // d4 - d3
	g.VFMADD231PS(four, z(9), z(10)) // t2
	g.VSUBPS(z(1), z(3), z(11))      // d3 - d1
	g.VSUBPS(z(2), z(4), z(12))      // d4 - d2
	g.VMOVAPS(z(12), z(13))
	g.VFMADD231PS(two, z(11), z(12))  // t3
	g.VFNMADD231PS(two, z(11), z(13)) // t4
	g.VMOVAPS(z(5), z(14))
	g.VFMADD231PS(four, z(1), z(14))
	g.VFNMADD231PS(five, z(3), z(14)) // t5
	for k, r := range []int{6, 8, 10, 12, 13, 14} {
		dst(k, z(r))
	}
}

// at loads the six points src(0) ... src(5) into Z0-Z5 and leaves A^T of
// them in Z6, Z8, Z10, Z12: with a = m1+m2, b = m1-m2, c = m3+m4,
// e = m3-m4, y0 = m0+a+c, y1 = b+2e, y2 = a+4c, y3 = b+8e+m5.
func (g gen) at(src func(k int) operand.Mem) {
	for k := range 6 {
		g.VMOVUPS(src(k), z(k))
	}
	g.VADDPS(z(2), z(1), z(7))  // a
	g.VSUBPS(z(2), z(1), z(9))  // b
	g.VADDPS(z(4), z(3), z(11)) // c
	g.VSUBPS(z(4), z(3), z(13)) // e
	g.VADDPS(z(11), z(7), z(6))
	g.VADDPS(z(0), z(6), z(6)) // y0
	g.VMOVAPS(z(9), z(8))
	g.VFMADD231PS(two, z(13), z(8)) // y1
	g.VMOVAPS(z(7), z(10))
	g.VFMADD231PS(four, z(11), z(10)) // y2
	g.VADDPS(z(5), z(9), z(12))
	g.VFMADD231PS(eight, z(13), z(12)) // y3
}

// column addresses six points of a column, stride apart, from R11: the
// first three from R11, the last three from R12 = R11 + 3 stride, which
// column sets.
func (g gen) column(stride reg.Register) func(k int) operand.Mem {
	g.LEAQ(at(reg.R11, 0).Idx(stride, 2), reg.R12)
	g.ADDQ(stride, reg.R12)
	return func(k int) operand.Mem {
		m := at(reg.R11, 0)
		if k >= 3 {
			m = at(reg.R12, 0)
		}
		if k%3 > 0 {
			m = m.Idx(stride, uint8(k%3))
		}
		return m
	}
}

func (g gen) wgInput() {
	g.fn("wgInput16", "func(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32)",
		"sets V = B^T d B for groups groups of 16 channels of one 6 x 6",
		"input tile: point (k, j) of channel c at d[k*rowStride+j*pix+c], of V at",
		"v[(6k+j)*stride+c]. tmp holds 36 x 16 floats.")
	g.MOVQ(g.arg("v"), reg.RBX)
	g.MOVQ(g.arg("stride"), reg.R10)
	g.SHLQ(imm(2), reg.R10)
	g.MOVQ(g.arg("d"), reg.RSI)
	g.MOVQ(g.arg("rowStride"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.MOVQ(g.arg("pix"), reg.R13)
	g.SHLQ(imm(2), reg.R13)
	g.MOVQ(g.arg("groups"), reg.RCX)
	g.MOVQ(g.arg("tmp"), reg.RDI)
	g.consts()
	g.Label("wginloop")
	// Columns: point (k, j) of the tile at SI + k rowStride + j pix, R11
	// walking j.
	g.MOVQ(reg.RSI, reg.R11)
	for j := range 6 {
		g.bt(g.column(reg.R8), func(k int, r reg.VecPhysical) { g.VMOVUPS(r, tmp(k, j)) })
		g.ADDQ(reg.R13, reg.R11)
	}
	// Rows of tmp into v: point 6i+s at BX + (6i+s) stride, R11 walking
	// them.
	g.MOVQ(reg.RBX, reg.R11)
	for i := range 6 {
		g.bt(func(k int) operand.Mem { return tmp(i, k) }, func(_ int, r reg.VecPhysical) {
			g.VMOVUPS(r, at(reg.R11, 0))
			g.ADDQ(reg.R10, reg.R11)
		})
	}
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RBX)
	g.DECQ(reg.RCX)
	g.JNE(lbl("wginloop"))
	g.VZEROUPPER()
	g.RET()
}

func (g gen) wgOutput() {
	g.fn("wgOutput16", "func(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32)",
		"sets Y = A^T m A (+ bias, then max(0, .) if relu is set) for groups",
		"groups of 16 channels of one 4 x 4 output tile, writing its first rows",
		"rows and cols columns: point (k, j) of channel c of m at",
		"m[(6k+j)*mstride+c], pixel (i, j) of out at out[i*rowStride+j*pix+c],",
		"bias[c]. tmp holds 24 x 16 floats.")
	g.MOVQ(g.arg("out"), reg.RBX)
	g.MOVQ(g.arg("rowStride"), reg.R9)
	g.SHLQ(imm(2), reg.R9)
	g.MOVQ(g.arg("pix"), reg.R13)
	g.SHLQ(imm(2), reg.R13)
	g.MOVQ(g.arg("m"), reg.RSI)
	g.MOVQ(g.arg("mstride"), reg.R8)
	g.SHLQ(imm(2), reg.R8)
	g.MOVQ(g.arg("groups"), reg.RCX)
	g.MOVQ(g.arg("bias"), reg.RDX)
	g.MOVQ(g.arg("tmp"), reg.RDI)
	g.consts()
	bias, zero := z(20), z(21)
	g.VPXORD(zero, zero, zero)
	g.Label("wgoutloop")
	g.VMOVUPS(at(reg.RDX, 0), bias)
	// Columns: point (k, j) at SI + (6k + j) mstride; R10 = 6 mstride, R11
	// walking j.
	g.LEAQ(at(reg.R8, 0).Idx(reg.R8, 2), reg.R10)
	g.SHLQ(imm(1), reg.R10)
	g.MOVQ(reg.RSI, reg.R11)
	ys := []reg.VecPhysical{z(6), z(8), z(10), z(12)}
	for j := range 6 {
		g.at(g.column(reg.R10))
		for k, r := range ys {
			g.VMOVUPS(r, tmp(k, j))
		}
		g.ADDQ(reg.R8, reg.R11)
	}
	// Rows 0 ... rows-1 of tmp into out: pixel (i, j) at
	// BX + i rowStride + j pix, R11 walking i and R12 j.
	g.MOVQ(reg.RBX, reg.R11)
	g.MOVQ(g.arg("rows"), reg.R14)
	g.MOVQ(g.arg("cols"), reg.R15)
	g.MOVBLZX(g.arg("relu"), reg.EAX)
	for i := range 4 {
		g.CMPQ(reg.R14, imm(i+1))
		g.JLT(lbl("wgoutnext"))
		g.at(func(k int) operand.Mem { return tmp(i, k) })
		for j, r := range ys {
			skip := fmt.Sprintf("wgout%d%d", i, j)
			g.VADDPS(bias, r, r)
			g.TESTQ(reg.RAX, reg.RAX)
			g.JEQ(lbl(skip))
			g.VMAXPS(r, zero, r) // a NaN passes through
			g.Label(skip)
		}
		g.MOVQ(reg.R11, reg.R12)
		row := fmt.Sprintf("wgrow%d", i)
		for j, r := range ys {
			g.CMPQ(reg.R15, imm(j+1))
			g.JLT(lbl(row))
			g.VMOVUPS(r, at(reg.R12, 0))
			g.ADDQ(reg.R13, reg.R12)
		}
		g.Label(row)
		g.ADDQ(reg.R9, reg.R11)
	}
	g.Label("wgoutnext")
	g.ADDQ(imm(64), reg.RSI)
	g.ADDQ(imm(64), reg.RBX)
	g.ADDQ(imm(64), reg.RDX)
	g.DECQ(reg.RCX)
	g.JNE(lbl("wgoutloop"))
	g.VZEROUPPER()
	g.RET()
}
