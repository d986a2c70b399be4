package main

import (
	"strings"
	"testing"
)

// The WORD encodings against words an independent assembler (LLVM's
// llvm-mc -triple=aarch64 -show-encoding) gave for the same instructions.
func TestEncodings(t *testing.T) {
	for _, c := range []struct {
		emit func(a *asm)
		want string
	}{
		{func(a *asm) { a.fadd(1, 2, 3) }, "0x4e23d441"},
		{func(a *asm) { a.fsub(1, 2, 3) }, "0x4ea3d441"},
		{func(a *asm) { a.fmul(1, 2, 3) }, "0x6e23dc41"},
		{func(a *asm) { a.fdiv(1, 2, 3) }, "0x6e23fc41"},
		{func(a *asm) { a.fmax(1, 2, 3) }, "0x4e23f441"},
		{func(a *asm) { a.fmin(1, 2, 3) }, "0x4ea3f441"},
		{func(a *asm) { a.fcmgt(1, 2, 3) }, "0x6ea3e441"},
		{func(a *asm) { a.fcmeq(1, 2, 3) }, "0x4e23e441"},
		{func(a *asm) { a.fcmgtz(1, 2) }, "0x4ea0c841"},
		{func(a *asm) { a.faddp(1, 2, 3) }, "0x6e23d441"},
		{func(a *asm) { a.fmlaE(1, 2, 3, 0) }, "0x4f831041"},
		{func(a *asm) { a.fmlaE(1, 2, 19, 3) }, "0x4fb31841"},
		{func(a *asm) { a.fmulE(1, 2, 3, 0) }, "0x4f839041"},
		{func(a *asm) { a.fmulE(1, 2, 19, 2) }, "0x4f939841"},
		{func(a *asm) { a.fmlsE(1, 2, 3, 0) }, "0x4f835041"},
		{func(a *asm) { a.fsqrt(1, 2) }, "0x6ea1f841"},
		{func(a *asm) { a.fneg(1, 2) }, "0x6ea0f841"},
		{func(a *asm) { a.fcvtl(1, 2) }, "0x0e617841"},
		{func(a *asm) { a.fcvtl2(1, 2) }, "0x4e617841"},
		{func(a *asm) { a.faddD(1, 2, 3) }, "0x4e63d441"},
		{func(a *asm) { a.faddpD(1, 2) }, "0x7e70d841"},
		{func(a *asm) { a.fcvtns(1, 2) }, "0x4e21a841"},
		{func(a *asm) { a.scvtf(1, 2) }, "0x4e21d841"},
		{func(a *asm) { a.fmaxp(1, 2, 3) }, "0x6e23f441"},
		{func(a *asm) { a.sshr(1, 2, 1) }, "0x4f3f0441"},
		{func(a *asm) { a.sshr(1, 2, 31) }, "0x4f210441"},
		{func(a *asm) { a.sshr(1, 2, 32) }, "0x4f200441"},
	} {
		var a asm
		c.emit(&a)
		if got := a.b.String(); !strings.Contains(got, "WORD $"+c.want+" ") {
			t.Errorf("%s: want WORD $%s", strings.TrimSpace(got), c.want)
		}
	}
}
