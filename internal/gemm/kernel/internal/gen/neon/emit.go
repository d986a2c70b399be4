package main

import (
	"bytes"
	"fmt"
)

// The emitter: a buffer of Go arm64 assembly text, with helpers for the
// registers, labels and function headers, and encoders for the NEON
// instructions Go's assembler has no mnemonic for (floating-point vector
// arithmetic, by-element forms, conversions, SSHR). Those go out as WORD
// directives, commented with the instruction in Arm's syntax (destination
// first); the instructions Go does know (VLD1, VST1, VLD1R, VFMLA, VEOR,
// VMOV, VDUP, VADD, VSUB, VSHL, VAND, VBIT, FLDPQ, FSTPQ, ...) are written
// as text.

// V is a vector register, V0-V31; F is the same register as a scalar or
// q register in Go's syntax.
type V int

func (v V) S4() string  { return fmt.Sprintf("V%d.S4", int(v)) }
func (v V) B16() string { return fmt.Sprintf("V%d.B16", int(v)) }
func (v V) D2() string  { return fmt.Sprintf("V%d.D2", int(v)) }
func (v V) F() string   { return fmt.Sprintf("F%d", int(v)) }

// list is a register list of n consecutive vector registers from v, as
// VLD1 and VST1 take them.
func list(v V, n int) string {
	s := "["
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += V(int(v) + i).S4()
	}
	return s + "]"
}

// pair is the register pair FLDPQ and FSTPQ take: v and v+1.
func pair(v V) string { return fmt.Sprintf("(F%d, F%d)", int(v), int(v)+1) }

type asm struct {
	b      bytes.Buffer
	stubs  bytes.Buffer
	prefix string // of the current function's labels
}

func (a *asm) op(format string, args ...any) {
	fmt.Fprintf(&a.b, "\t"+format+"\n", args...)
}

func (a *asm) comment(s string) { fmt.Fprintf(&a.b, "\t// %s\n", s) }

// label places label l of the current function.
func (a *asm) label(l string) { fmt.Fprintf(&a.b, "%s%s:\n", a.prefix, l) }

// to names label l of the current function in a branch.
func (a *asm) to(l string) string { return a.prefix + l }

// text starts function name+"NEON" with Go signature sig (parameters and
// results, as in the declaration) and doc comment lines doc; args is the
// size of its arguments and results in bytes. The kernels are leaves with
// no frame.
func (a *asm) text(name, sig string, args int, doc ...string) {
	a.prefix = name
	fmt.Fprintf(&a.b, "\n// func %sNEON%s\n", name, sig)
	for _, d := range doc {
		if d == "" {
			fmt.Fprintf(&a.b, "//\n")
		} else {
			fmt.Fprintf(&a.b, "// %s\n", d)
		}
	}
	fmt.Fprintf(&a.b, "TEXT ·%sNEON(SB), NOSPLIT, $0-%d\n", name, args)
	fmt.Fprintf(&a.stubs, "\n")
	for _, d := range doc {
		if d == "" {
			fmt.Fprintf(&a.stubs, "//\n")
		} else {
			fmt.Fprintf(&a.stubs, "// %s\n", d)
		}
	}
	if len(doc) > 0 {
		fmt.Fprintf(&a.stubs, "//\n")
	}
	fmt.Fprintf(&a.stubs, "//go:noescape\nfunc %sNEON%s\n", name, sig)
}

func (a *asm) word(enc uint32, inst string) {
	a.op("WORD $0x%08x // %s", enc, inst)
}

// Encodings, from the Arm A64 instruction set: the base word with every
// register field zero, for the four single-precision lanes of a q register
// (Q = 1, sz = 0) unless the name says otherwise.
const (
	encFADD    = 0x4e20d400 // FADD Vd.4S, Vn.4S, Vm.4S
	encFSUB    = 0x4ea0d400 // FSUB
	encFMUL    = 0x6e20dc00 // FMUL
	encFDIV    = 0x6e20fc00 // FDIV
	encFMAX    = 0x4e20f400 // FMAX
	encFMIN    = 0x4ea0f400 // FMIN
	encFCMGT   = 0x6ea0e400 // FCMGT Vd.4S, Vn.4S, Vm.4S: Vn > Vm
	encFCMEQ   = 0x4e20e400 // FCMEQ Vd.4S, Vn.4S, Vm.4S: Vn == Vm (false where either is NaN)
	encFADDP   = 0x6e20d400 // FADDP, pairwise
	encFMLS    = 0x4ea0cc00 // FMLS Vd.4S, Vn.4S, Vm.4S: Vd -= Vn Vm
	encFMLAe   = 0x4f801000 // FMLA Vd.4S, Vn.4S, Vm.S[i]
	encFMLSe   = 0x4f805000 // FMLS Vd.4S, Vn.4S, Vm.S[i]
	encFMULe   = 0x4f809000 // FMUL Vd.4S, Vn.4S, Vm.S[i]
	encFCMGTz  = 0x4ea0c800 // FCMGT Vd.4S, Vn.4S, #0.0
	encFSQRT   = 0x6ea1f800 // FSQRT Vd.4S, Vn.4S
	encFNEG    = 0x6ea0f800 // FNEG
	encFCVTNS  = 0x4e21a800 // FCVTNS Vd.4S, Vn.4S: to int32, nearest, ties to even
	encSCVTF   = 0x4e21d800 // SCVTF Vd.4S, Vn.4S
	encFCVTL   = 0x0e617800 // FCVTL Vd.2D, Vn.2S
	encFCVTL2  = 0x4e617800 // FCVTL2 Vd.2D, Vn.4S
	encFADDd   = 0x4e60d400 // FADD Vd.2D, Vn.2D, Vm.2D
	encFADDPd  = 0x7e70d800 // FADDP Dd, Vn.2D
	encFMAXPs  = 0x6e20f400 // FMAXP Vd.4S, Vn.4S, Vm.4S
	encFMLAd   = 0x4e60cc00 // FMLA Vd.2D, Vn.2D, Vm.2D
	encFMLAvec = 0x4e20cc00 // FMLA Vd.4S, Vn.4S, Vm.4S
	encSSHR    = 0x4f000400 // SSHR Vd.4S, Vn.4S, #shift: immh:immb = 64 - shift
)

var names3 = map[uint32]string{
	encFADD: "FADD", encFSUB: "FSUB", encFMUL: "FMUL", encFDIV: "FDIV",
	encFMAX: "FMAX", encFMIN: "FMIN", encFCMGT: "FCMGT", encFCMEQ: "FCMEQ", encFADDP: "FADDP",
	encFMLS: "FMLS", encFMAXPs: "FMAXP", encFMLAvec: "FMLA",
}

// three writes a three-register instruction on .4S lanes: d = n op m.
func (a *asm) three(enc uint32, d, n, m V) {
	a.word(enc|uint32(m)<<16|uint32(n)<<5|uint32(d), fmt.Sprintf("%s V%d.4S, V%d.4S, V%d.4S", names3[enc], d, n, m))
}

func (a *asm) fadd(d, n, m V)  { a.three(encFADD, d, n, m) }
func (a *asm) fsub(d, n, m V)  { a.three(encFSUB, d, n, m) }
func (a *asm) fmul(d, n, m V)  { a.three(encFMUL, d, n, m) }
func (a *asm) fdiv(d, n, m V)  { a.three(encFDIV, d, n, m) }
func (a *asm) fmax(d, n, m V)  { a.three(encFMAX, d, n, m) }
func (a *asm) fmin(d, n, m V)  { a.three(encFMIN, d, n, m) }
func (a *asm) fcmgt(d, n, m V) { a.three(encFCMGT, d, n, m) }
func (a *asm) fcmeq(d, n, m V) { a.three(encFCMEQ, d, n, m) }
func (a *asm) faddp(d, n, m V) { a.three(encFADDP, d, n, m) }
func (a *asm) fmls(d, n, m V)  { a.three(encFMLS, d, n, m) }
func (a *asm) fmaxp(d, n, m V) { a.three(encFMAXPs, d, n, m) }

// fmla is d += n m, in Go's own mnemonic (operands reversed).
func (a *asm) fmla(d, n, m V) { a.op("VFMLA %s, %s, %s", m.S4(), n.S4(), d.S4()) }

// byElement writes d op= n m[i], lane i of m (the by-element form; m is
// any of V0-V31 for single precision).
func (a *asm) byElement(enc uint32, name string, d, n, m V, i int) {
	w := enc | uint32(i&1)<<21 | uint32(m)<<16 | uint32(i>>1)<<11 | uint32(n)<<5 | uint32(d)
	a.word(w, fmt.Sprintf("%s V%d.4S, V%d.4S, V%d.S[%d]", name, d, n, m, i))
}

func (a *asm) fmlaE(d, n, m V, i int) { a.byElement(encFMLAe, "FMLA", d, n, m, i) }
func (a *asm) fmlsE(d, n, m V, i int) { a.byElement(encFMLSe, "FMLS", d, n, m, i) }
func (a *asm) fmulE(d, n, m V, i int) { a.byElement(encFMULe, "FMUL", d, n, m, i) }

// two writes a two-register instruction: d = op n.
func (a *asm) two(enc uint32, inst string, d, n V) {
	a.word(enc|uint32(n)<<5|uint32(d), fmt.Sprintf(inst, d, n))
}

func (a *asm) fcmgtz(d, n V) { a.two(encFCMGTz, "FCMGT V%d.4S, V%d.4S, #0.0", d, n) }
func (a *asm) fsqrt(d, n V)  { a.two(encFSQRT, "FSQRT V%d.4S, V%d.4S", d, n) }
func (a *asm) fneg(d, n V)   { a.two(encFNEG, "FNEG V%d.4S, V%d.4S", d, n) }
func (a *asm) fcvtns(d, n V) { a.two(encFCVTNS, "FCVTNS V%d.4S, V%d.4S", d, n) }
func (a *asm) scvtf(d, n V)  { a.two(encSCVTF, "SCVTF V%d.4S, V%d.4S", d, n) }
func (a *asm) fcvtl(d, n V)  { a.two(encFCVTL, "FCVTL V%d.2D, V%d.2S", d, n) }
func (a *asm) fcvtl2(d, n V) { a.two(encFCVTL2, "FCVTL2 V%d.2D, V%d.4S", d, n) }
func (a *asm) faddpD(d, n V) { a.two(encFADDPd, "FADDP D%d, V%d.2D", d, n) }

func (a *asm) faddD(d, n, m V) {
	a.word(encFADDd|uint32(m)<<16|uint32(n)<<5|uint32(d), fmt.Sprintf("FADD V%d.2D, V%d.2D, V%d.2D", d, n, m))
}

// sshr is the arithmetic shift right of the four int32 lanes of n by
// shift, 1 to 32, into d (Go's assembler has VUSHR only).
func (a *asm) sshr(d, n V, shift int) {
	if shift < 1 || shift > 32 {
		panic("sshr: shift out of range")
	}
	a.word(encSSHR|uint32(64-shift)<<16|uint32(n)<<5|uint32(d), fmt.Sprintf("SSHR V%d.4S, V%d.4S, #%d", d, n, shift))
}

func (a *asm) fmlaD(d, n, m V) { a.op("VFMLA %s, %s, %s", m.D2(), n.D2(), d.D2()) }

// zero clears v.
func (a *asm) zero(v V) { a.op("VEOR %s, %s, %s", v.B16(), v.B16(), v.B16()) }

// mov copies n to d.
func (a *asm) mov(d, n V) { a.op("VMOV %s, %s", n.B16(), d.B16()) }

// hsum leaves the sum of the four lanes of v in lane 0 of d (and the
// other lanes).
func (a *asm) hsum(d, v V) {
	a.faddp(d, v, v)
	a.faddp(d, d, d)
}
