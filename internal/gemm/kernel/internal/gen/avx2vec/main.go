// Command avx2vec writes the AVX2 vector kernels of package kernel: the
// element-wise passes, the attention rows, argmin and the Winograd
// transforms, with the contracts of their AVX-512 counterparts. A group of
// plan.Group floats is two ymm registers; only Y0-Y15 are used, so the
// code runs on any processor with AVX2 and FMA.
//
//	go run ./internal/gen/avx2vec -out vec_avx2_amd64.s -stubs vec_avx2_stub_amd64.go -pkg kernel
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/token"
	"go/types"
	"log"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"

	"github.com/vqtool/vqtool/internal/gemm/kernel/internal/plan"
)

// groupBytes is one group of floats: two ymm registers.
const groupBytes = 4 * plan.Group

func main() {
	// avo's build package registers its own flags on flag.CommandLine.
	fs := flag.NewFlagSet("avx2vec", flag.ExitOnError)
	out := fs.String("out", "", "assembly output")
	stubs := fs.String("stubs", "", "Go declarations output")
	pkgName := fs.String("pkg", "kernel", "package name")
	fs.Parse(os.Args[1:])
	if *out == "" || *stubs == "" {
		log.Fatal("avx2vec: -out and -stubs are required")
	}
	if plan.Group != 16 {
		log.Fatalf("avx2vec: the kernels take a group as two ymm registers, and plan.Group is %d", plan.Group)
	}

	asm.ConstraintExpr("amd64,!purego")
	dotRows()
	axpyRows()
	argmin16()
	reluCopy()
	addVec()
	maskPositive()
	wgInput16()
	wgOutput16()
	geluForward()
	geluBackward()
	layerNormRow()
	layerNormGradRow()
	colSums()
	sumSquares()
	adamStep()
	softmaxRow()
	softmaxGradRow()

	f, err := asm.Result()
	if err != nil {
		log.Fatal(err)
	}
	if err := pass.Compile.Execute(f); err != nil {
		log.Fatal(err)
	}
	// The header names the command as go:generate runs it, whatever
	// folder the outputs go to, so that a run elsewhere writes the same.
	cfg := printer.Config{
		Argv: []string{"go", "run", "./internal/gen/avx2vec", "-out", filepath.Base(*out), "-stubs", filepath.Base(*stubs), "-pkg", *pkgName},
		Pkg:  *pkgName,
	}
	write(*out, printer.NewGoAsm(cfg), f, true)
	write(*stubs, printer.NewStubs(cfg), f, false)
}

// wide matches the registers and instructions that need AVX-512: the
// allocator could otherwise hand out Y16-Y31, which only EVEX encodes.
var wide = regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b|AVX512`)

func write(name string, p printer.Printer, f *ir.File, isAsm bool) {
	b, err := p.Print(f)
	if err != nil {
		log.Fatal(err)
	}
	if isAsm {
		for i, line := range bytes.Split(b, []byte("\n")) {
			if wide.Match(line) {
				log.Fatalf("avx2vec: line %d needs AVX-512: %s", i+1, line)
			}
		}
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

var (
	asm = build.NewContext()

	// kernelPkg stands for package kernel where a signature names one of
	// its types: AdamConsts, nine float32 fields.
	kernelPkg = func() *types.Package {
		p := types.NewPackage("github.com/vqtool/vqtool/internal/gemm/kernel", "kernel")
		var fields []*types.Var
		for _, n := range []string{"GradScale", "B1", "OneMinusB1", "B2", "OneMinusB2", "Decay", "Step", "RBC2", "Eps"} {
			fields = append(fields, types.NewField(token.NoPos, p, n, types.Typ[types.Float32], false))
		}
		tn := types.NewTypeName(token.NoPos, p, "AdamConsts", nil)
		types.NewNamed(tn, types.NewStruct(fields, nil), nil)
		p.Scope().Insert(tn)
		p.MarkComplete()
		return p
	}()

	labels int
)

// text starts function name with signature sig (Go syntax, in package
// kernel), NOSPLIT and noescape, documented by doc.
func text(name, sig string, doc ...string) {
	asm.Function(name)
	asm.Attributes(attr.NOSPLIT)
	s, err := gotypes.ParseSignatureInPackage(kernelPkg, sig)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	asm.Signature(s)
	asm.Doc(doc...)
	asm.Pragma("noescape")
}

// label returns a fresh label name.
func label(what string) string {
	labels++
	return fmt.Sprintf("%s_%d", what, labels)
}

func param(name string) Mem {
	b, err := asm.Param(name).Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

func ret() Mem {
	b, err := asm.ReturnIndex(0).Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

// load loads the integer or pointer parameter name.
func load(name string) reg.GPVirtual {
	r := asm.GP64()
	asm.MOVQ(param(name), r)
	return r
}

// loadBytes loads the count parameter name times 4: floats to bytes.
func loadBytes(name string) reg.GPVirtual {
	r := load(name)
	asm.SHLQ(U8(2), r)
	return r
}

func at(base reg.Register, disp int) Mem { return Mem{Base: base, Disp: disp} }

func idx(base, index reg.Register, disp int) Mem {
	return Mem{Base: base, Index: index, Scale: 1, Disp: disp}
}

func idxScale(base, index reg.Register, scale uint8, disp int) Mem {
	return Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

func zero() reg.VecVirtual {
	y := asm.YMM()
	asm.VXORPS(y, y, y)
	return y
}

// splat returns a ymm register holding the float32 with the given bits in
// every lane.
func splat(bits uint32) reg.VecVirtual {
	r := asm.GP32()
	asm.MOVL(U32(bits), r)
	y := asm.YMM()
	asm.VMOVD(r, y.AsX())
	asm.VPBROADCASTD(y.AsX(), y)
	return y
}

// done ends a function: VZEROUPPER, so that SSE code after it pays no
// transition, and RET.
func done() {
	asm.VZEROUPPER()
	asm.RET()
}

// loop emits a loop over the nbytes bytes (a register holding a multiple of
// groupBytes, possibly 0) at offset off from 0: body(disp) handles the ymm
// at off+disp. While 32*unroll bytes remain it runs for disp = 0, 32, ...,
// 32*(unroll-1); then one group (disp 0 and 32) at a time.
func loop(off, nbytes reg.Register, unroll int, body func(disp int)) {
	rem := asm.GP64()
	asm.MOVQ(nbytes, rem)
	asm.XORQ(off, off)
	// Each loop tests its count once, at the bottom.
	if unroll > 2 {
		big, small := label("big"), label("group")
		asm.SUBQ(U32(32*unroll), rem)
		asm.JL(LabelRef(small))
		asm.Label(big)
		for k := range unroll {
			body(32 * k)
		}
		asm.ADDQ(U32(32*unroll), off)
		asm.SUBQ(U32(32*unroll), rem)
		asm.JGE(LabelRef(big))
		asm.Label(small)
		asm.ADDQ(U32(32*unroll), rem)
	}
	top, end := label("loop"), label("end")
	asm.TESTQ(rem, rem)
	asm.JEQ(LabelRef(end))
	asm.Label(top)
	body(0)
	body(32)
	asm.ADDQ(U32(groupBytes), off)
	asm.SUBQ(U32(groupBytes), rem)
	asm.JNE(LabelRef(top))
	asm.Label(end)
}

// hsum returns, in the low lane of an xmm register, the sum of the eight
// floats of y; y is overwritten.
func hsum(y reg.VecVirtual) reg.Register {
	t := asm.XMM()
	x := y.AsX()
	asm.VEXTRACTF128(U8(1), y, t)
	asm.VADDPS(t, x, x)
	asm.VPERMILPS(U8(0x4e), x, t)
	asm.VADDPS(t, x, x)
	asm.VPERMILPS(U8(0xb1), x, t)
	asm.VADDSS(t, x, x)
	return x
}

// sum adds the registers of ys into ys[0], pairwise.
func sum(ys []reg.VecVirtual) reg.VecVirtual {
	for len(ys) > 1 {
		h := len(ys) / 2
		for i := range h {
			asm.VADDPS(ys[i+h], ys[i], ys[i])
		}
		ys = ys[:h]
	}
	return ys[0]
}

// constTable broadcasts the n floats at c to 32-byte slots of an aligned
// table on the stack and returns slot i's address: memory operands of the
// arithmetic, so that the constants take no registers.
func constTable(c reg.Register, n int) func(i int) Mem {
	local := asm.AllocLocal(32*n + 32)
	base := asm.GP64()
	asm.LEAQ(local, base)
	asm.ADDQ(U8(31), base)
	asm.ANDQ(I8(-32), base)
	y := asm.YMM()
	for i := range n {
		asm.VBROADCASTSS(at(c, 4*i), y)
		asm.VMOVAPS(y, at(base, 32*i))
	}
	return func(i int) Mem { return at(base, 32*i) }
}

// The comparison predicates of VCMPPS.
const (
	cmpEQ    = 0x00 // ordered, equal
	cmpLT    = 0x01 // ordered, less than
	cmpUnord = 0x03 // either is NaN
	cmpGT    = 0x0e // ordered, greater than
)

func dotRows() {
	text("dotRowsAVX2", "func(q, k *float32, stride, n, dh int, scale float32, out *float32)",
		"dotRowsAVX2 sets out[j] = scale * sum_c q[c] k[j*stride+c] for j < n and",
		"c < dh, a positive multiple of 16: four rows at a time, each summed in",
		"two accumulators and reduced together, then one row at a time.")
	q, k := load("q"), load("k")
	stride := loadBytes("stride")
	n := load("n")
	dh := loadBytes("dh")
	out := load("out")
	scale := asm.YMM()
	asm.VBROADCASTSS(param("scale"), scale)
	off := asm.GP64()
	k1, k2, k3 := asm.GP64(), asm.GP64(), asm.GP64()

	four, one, end := label("four"), label("one"), label("done")
	asm.Label(four)
	asm.CMPQ(n, U8(4))
	asm.JL(LabelRef(one))
	asm.LEAQ(idx(k, stride, 0), k1)
	asm.LEAQ(idxScale(k, stride, 2, 0), k2)
	asm.LEAQ(idxScale(k1, stride, 2, 0), k3)
	var lo, hi [4]reg.VecVirtual
	for r := range 4 {
		lo[r], hi[r] = zero(), zero()
	}
	asm.XORQ(off, off)
	chunk := label("chunk4")
	asm.Label(chunk)
	qa, qb := asm.YMM(), asm.YMM()
	asm.VMOVUPS(idx(q, off, 0), qa)
	asm.VMOVUPS(idx(q, off, 32), qb)
	for r, base := range []reg.Register{k, k1, k2, k3} {
		asm.VFMADD231PS(idx(base, off, 0), qa, lo[r])
		asm.VFMADD231PS(idx(base, off, 32), qb, hi[r])
	}
	asm.ADDQ(U8(groupBytes), off)
	asm.CMPQ(off, dh)
	asm.JL(LabelRef(chunk))
	for r := range 4 {
		asm.VADDPS(hi[r], lo[r], lo[r])
	}
	// Each 128-bit lane of lo[0] becomes the four rows' partial sums.
	asm.VHADDPS(lo[1], lo[0], lo[0])
	asm.VHADDPS(lo[3], lo[2], lo[2])
	asm.VHADDPS(lo[2], lo[0], lo[0])
	t := asm.XMM()
	asm.VEXTRACTF128(U8(1), lo[0], t)
	asm.VADDPS(t, lo[0].AsX(), t)
	asm.VMULPS(scale.AsX(), t, t)
	asm.VMOVUPS(t, at(out, 0))
	asm.ADDQ(U8(16), out)
	asm.LEAQ(idx(k3, stride, 0), k)
	asm.SUBQ(U8(4), n)
	asm.JMP(LabelRef(four))

	asm.Label(one)
	asm.TESTQ(n, n)
	asm.JEQ(LabelRef(end))
	a, b := zero(), zero()
	asm.XORQ(off, off)
	chunk = label("chunk1")
	asm.Label(chunk)
	qa, qb = asm.YMM(), asm.YMM()
	asm.VMOVUPS(idx(q, off, 0), qa)
	asm.VMOVUPS(idx(q, off, 32), qb)
	asm.VFMADD231PS(idx(k, off, 0), qa, a)
	asm.VFMADD231PS(idx(k, off, 32), qb, b)
	asm.ADDQ(U8(groupBytes), off)
	asm.CMPQ(off, dh)
	asm.JL(LabelRef(chunk))
	asm.VADDPS(b, a, a)
	s := hsum(a)
	asm.VMULSS(scale.AsX(), s, s)
	asm.VMOVSS(s, at(out, 0))
	asm.ADDQ(U8(4), out)
	asm.ADDQ(stride, k)
	asm.DECQ(n)
	asm.JMP(LabelRef(one))
	asm.Label(end)
	done()
}

func axpyRows() {
	text("axpyRowsAVX2", "func(p, v *float32, stride, n, dh int, out *float32)",
		"axpyRowsAVX2 sets out[c] = sum_j p[j] v[j*stride+c] for c < dh, a positive",
		"multiple of 16, and j < n: 32 columns at a time while they last, then 16,",
		"each with even and odd rows in separate accumulators.")
	p, v := load("p"), load("v")
	stride := loadBytes("stride")
	n := load("n")
	dh := loadBytes("dh")
	out := load("out")
	col := asm.GP64()
	asm.XORQ(col, col)
	rem := asm.GP64()
	end := label("done")

	block := func(w int) {
		even, odd := make([]reg.VecVirtual, w), make([]reg.VecVirtual, w)
		for i := range w {
			even[i], odd[i] = zero(), zero()
		}
		rp, rv, cnt := asm.GP64(), asm.GP64(), asm.GP64()
		asm.MOVQ(p, rp)
		asm.LEAQ(idx(v, col, 0), rv)
		asm.MOVQ(n, cnt)
		pair, last, store := label("pair"), label("last"), label("store")
		asm.SHRQ(U8(1), cnt)
		asm.JEQ(LabelRef(last))
		asm.Label(pair)
		be, bo := asm.YMM(), asm.YMM()
		asm.VBROADCASTSS(at(rp, 0), be)
		asm.VBROADCASTSS(at(rp, 4), bo)
		for i := range w {
			asm.VFMADD231PS(at(rv, 32*i), be, even[i])
			asm.VFMADD231PS(idx(rv, stride, 32*i), bo, odd[i])
		}
		asm.ADDQ(U8(8), rp)
		asm.LEAQ(idxScale(rv, stride, 2, 0), rv)
		asm.DECQ(cnt)
		asm.JNE(LabelRef(pair))
		asm.Label(last)
		asm.TESTQ(U32(1), n)
		asm.JEQ(LabelRef(store))
		be = asm.YMM()
		asm.VBROADCASTSS(at(rp, 0), be)
		for i := range w {
			asm.VFMADD231PS(at(rv, 32*i), be, even[i])
		}
		asm.Label(store)
		for i := range w {
			asm.VADDPS(odd[i], even[i], even[i])
			asm.VMOVUPS(even[i], idx(out, col, 32*i))
		}
	}

	wide, narrow := label("wide"), label("narrow")
	asm.Label(wide)
	asm.MOVQ(dh, rem)
	asm.SUBQ(col, rem)
	asm.CMPQ(rem, U32(2*groupBytes))
	asm.JL(LabelRef(narrow))
	block(4)
	asm.ADDQ(U32(2*groupBytes), col)
	asm.JMP(LabelRef(wide))
	asm.Label(narrow)
	asm.TESTQ(rem, rem)
	asm.JEQ(LabelRef(end))
	block(2)
	asm.Label(end)
	done()
}

func argmin16() {
	text("argmin16AVX2", "func(x *float32, n int, iota *[16]int32, vals *[16]float32, idx *[16]int32)",
		"argmin16AVX2 sets lane l of vals and idx to the smallest x[i] over",
		"i = l (mod 16), i < n (a positive multiple of 16), and the first i where",
		"it occurs; a NaN is kept only while no number has come. Even and odd",
		"groups go to two sets of lanes, merged at the end.")
	x := load("x")
	n := load("n")
	asm.SHRQ(U8(4), n)
	io := load("iota")
	i0, i1 := asm.YMM(), asm.YMM()
	asm.VMOVDQU(at(io, 0), i0)
	asm.VMOVDQU(at(io, 32), i1)
	c16 := asm.YMM()
	t := asm.GP32()
	asm.MOVL(U32(16), t)
	asm.VMOVD(t, c16.AsX())
	asm.VPBROADCASTD(c16.AsX(), c16)
	step := func() {
		asm.VPADDD(c16, i0, i0)
		asm.VPADDD(c16, i1, i1)
	}

	// ev, ei: values and indices of the even groups; ov, oi: the odd.
	ev := [2]reg.VecVirtual{asm.YMM(), asm.YMM()}
	ei := [2]reg.VecVirtual{asm.YMM(), asm.YMM()}
	ov := [2]reg.VecVirtual{asm.YMM(), asm.YMM()}
	oi := [2]reg.VecVirtual{asm.YMM(), asm.YMM()}
	asm.VMOVUPS(at(x, 0), ev[0])
	asm.VMOVUPS(at(x, 32), ev[1])
	asm.VMOVDQA(i0, ei[0])
	asm.VMOVDQA(i1, ei[1])
	store, merge, pairs, last := label("store"), label("merge"), label("pairs"), label("last")
	asm.ADDQ(U8(groupBytes), x)
	asm.DECQ(n)
	asm.JEQ(LabelRef(store))
	step()
	asm.VMOVUPS(at(x, 0), ov[0])
	asm.VMOVUPS(at(x, 32), ov[1])
	asm.VMOVDQA(i0, oi[0])
	asm.VMOVDQA(i1, oi[1])
	asm.ADDQ(U8(groupBytes), x)
	asm.DECQ(n)
	step()

	// update takes the new values at disp where they are smaller, or
	// where the lane holds a NaN.
	update := func(v, ix [2]reg.VecVirtual, disp int) {
		for h, iv := range []reg.VecVirtual{i0, i1} {
			nv, m, u := asm.YMM(), asm.YMM(), asm.YMM()
			asm.VMOVUPS(at(x, disp+32*h), nv)
			asm.VCMPPS(U8(cmpLT), v[h], nv, m)
			asm.VCMPPS(U8(cmpUnord), v[h], v[h], u)
			asm.VORPS(u, m, m)
			asm.VBLENDVPS(m, nv, v[h], v[h])
			asm.VBLENDVPS(m, iv, ix[h], ix[h])
		}
	}
	asm.Label(pairs)
	asm.CMPQ(n, U8(2))
	asm.JL(LabelRef(last))
	update(ev, ei, 0)
	step()
	update(ov, oi, groupBytes)
	step()
	asm.ADDQ(U32(2*groupBytes), x)
	asm.SUBQ(U8(2), n)
	asm.JMP(LabelRef(pairs))
	asm.Label(last)
	asm.TESTQ(n, n)
	asm.JEQ(LabelRef(merge))
	update(ev, ei, 0)

	// The odd set wins a lane with a smaller value, an equal value at a
	// smaller index, or over a NaN.
	asm.Label(merge)
	for h := range 2 {
		m, e, lt, u := asm.YMM(), asm.YMM(), asm.YMM(), asm.YMM()
		asm.VCMPPS(U8(cmpLT), ev[h], ov[h], m)
		asm.VCMPPS(U8(cmpEQ), ev[h], ov[h], e)
		asm.VPCMPGTD(oi[h], ei[h], lt)
		asm.VANDPS(lt, e, e)
		asm.VORPS(e, m, m)
		asm.VCMPPS(U8(cmpUnord), ev[h], ev[h], u)
		asm.VORPS(u, m, m)
		asm.VBLENDVPS(m, ov[h], ev[h], ev[h])
		asm.VBLENDVPS(m, oi[h], ei[h], ei[h])
	}
	asm.Label(store)
	vals, ix := load("vals"), load("idx")
	asm.VMOVUPS(ev[0], at(vals, 0))
	asm.VMOVUPS(ev[1], at(vals, 32))
	asm.VMOVDQU(ei[0], at(ix, 0))
	asm.VMOVDQU(ei[1], at(ix, 32))
	done()
}

func reluCopy() {
	text("reluCopyAVX2", "func(dst, src *float32, n int)",
		"reluCopyAVX2 sets dst[i] = max(src[i], 0) for i < n, a multiple of 16;",
		"a NaN stays NaN.")
	dst, src := load("dst"), load("src")
	nb := loadBytes("n")
	z := zero()
	off := asm.GP64()
	loop(off, nb, 4, func(d int) {
		y := asm.YMM()
		// VMAXPS gives its second source, src, when either is NaN.
		asm.VMAXPS(idx(src, off, d), z, y)
		asm.VMOVUPS(y, idx(dst, off, d))
	})
	done()
}

func addVec() {
	text("addVecAVX2", "func(dst, a, b *float32, n int)",
		"addVecAVX2 sets dst[i] = a[i] + b[i] for i < n, a multiple of 16; dst",
		"may be a or b.")
	dst, a, b := load("dst"), load("a"), load("b")
	nb := loadBytes("n")
	off := asm.GP64()
	loop(off, nb, 4, func(d int) {
		y := asm.YMM()
		asm.VMOVUPS(idx(a, off, d), y)
		asm.VADDPS(idx(b, off, d), y, y)
		asm.VMOVUPS(y, idx(dst, off, d))
	})
	done()
}

func maskPositive() {
	text("maskPositiveAVX2", "func(dst, src, ref *float32, n int)",
		"maskPositiveAVX2 sets dst[i] = src[i] where ref[i] > 0, else 0, for i < n,",
		"a multiple of 16.")
	dst, src, ref := load("dst"), load("src"), load("ref")
	nb := loadBytes("n")
	z := zero()
	off := asm.GP64()
	loop(off, nb, 4, func(d int) {
		m := asm.YMM()
		asm.VCMPPS(U8(cmpLT), idx(ref, off, d), z, m)
		asm.VANDPS(idx(src, off, d), m, m)
		asm.VMOVUPS(m, idx(dst, off, d))
	})
	done()
}

// Winograd's F(4x4, 3x3) runs on 8 channels at a time, half a group: a
// 6-point transform down the columns of the tile into tmp (36 slots of 32
// bytes), then along the rows of tmp into the destination.

// bt applies B^T to the six points at src and stores the six results at
// dst; c4 and c5 hold 4 and 5.
func bt(src, dst [6]Mem, c4, c5 reg.VecVirtual) {
	var d [6]reg.VecVirtual
	for k := range d {
		d[k] = asm.YMM()
		asm.VMOVUPS(src[k], d[k])
	}
	// 4 d0 - 5 d2 + d4
	asm.VMULPS(c4, d[0], d[0])
	asm.VADDPS(d[4], d[0], d[0])
	asm.VFNMADD231PS(c5, d[2], d[0])
	asm.VMOVUPS(d[0], dst[0])
	// 4 d1 - 5 d3 + d5
	asm.VFMADD231PS(c4, d[1], d[5])
	asm.VFNMADD231PS(c5, d[3], d[5])
	asm.VMOVUPS(d[5], dst[5])
	// (d3 + d4) - 4 (d1 + d2)
	a, b := asm.YMM(), asm.YMM()
	asm.VADDPS(d[2], d[1], a)
	asm.VADDPS(d[4], d[3], b)
	asm.VFNMADD231PS(c4, a, b)
	asm.VMOVUPS(b, dst[1])
	// (d4 - d3) + 4 (d1 - d2)
	a, b = asm.YMM(), asm.YMM()
	asm.VSUBPS(d[2], d[1], a)
	asm.VSUBPS(d[3], d[4], b)
	asm.VFMADD231PS(c4, a, b)
	asm.VMOVUPS(b, dst[2])
	// (d4 - d2) +- 2 (d3 - d1)
	a, b = asm.YMM(), asm.YMM()
	asm.VSUBPS(d[1], d[3], a)
	asm.VADDPS(a, a, a)
	asm.VSUBPS(d[2], d[4], b)
	t := asm.YMM()
	asm.VADDPS(a, b, t)
	asm.VMOVUPS(t, dst[3])
	asm.VSUBPS(a, b, b)
	asm.VMOVUPS(b, dst[4])
}

// at6 applies A^T to the six points at src and returns the four results:
// with a = m1+m2, b = m1-m2, c = m3+m4, e = m3-m4: m0+a+c, b+2e, a+4c,
// b+8e+m5. c4 and c8 hold 4 and 8.
func at6(src [6]Mem, c4, c8 reg.VecVirtual) [4]reg.VecVirtual {
	m1, m3 := asm.YMM(), asm.YMM()
	a, b, c, e := asm.YMM(), asm.YMM(), asm.YMM(), asm.YMM()
	asm.VMOVUPS(src[1], m1)
	asm.VADDPS(src[2], m1, a)
	asm.VSUBPS(src[2], m1, b)
	asm.VMOVUPS(src[3], m3)
	asm.VADDPS(src[4], m3, c)
	asm.VSUBPS(src[4], m3, e)
	y0, y1, y3 := asm.YMM(), asm.YMM(), asm.YMM()
	asm.VADDPS(c, a, y0)
	asm.VADDPS(src[0], y0, y0)
	asm.VADDPS(e, e, y1)
	asm.VADDPS(b, y1, y1)
	asm.VFMADD231PS(c4, c, a)
	asm.VADDPS(src[5], b, y3)
	asm.VFMADD231PS(c8, e, y3)
	return [4]reg.VecVirtual{y0, y1, a, y3}
}

func slot(tmp reg.Register, i int) Mem { return at(tmp, 32*i) }

// six returns the six points p, p+s, ..., p+5s as memory operands, setting
// p3 to p + 3s.
func six(p, s, p3 reg.Register, disp int) [6]Mem {
	asm.LEAQ(idxScale(p, s, 2, 0), p3)
	asm.ADDQ(s, p3)
	return [6]Mem{at(p, disp), idx(p, s, disp), idxScale(p, s, 2, disp), at(p3, disp), idx(p3, s, disp), idxScale(p3, s, 2, disp)}
}

func wgInput16() {
	text("wgInput16AVX2", "func(v *float32, stride int, d *float32, rowStride, pix, groups int, tmp *float32)",
		"wgInput16AVX2 writes V = B^T d B of one 6 x 6 tile of Winograd's",
		"F(4x4, 3x3) for the first 16*groups channels: point (k, j) of the tile,",
		"channel c, is d[k*rowStride+j*pix+c], and point p = 6i+s of V goes to",
		"v[p*stride+c]. tmp holds at least 36*8 floats.")
	v := load("v")
	stride := loadBytes("stride")
	d := load("d")
	row := loadBytes("rowStride")
	pix := loadBytes("pix")
	cnt := load("groups")
	asm.SHLQ(U8(1), cnt)
	tmp := load("tmp")
	c4, c5 := splat(0x40800000), splat(0x40a00000)
	p, p3 := asm.GP64(), asm.GP64()
	top, end := label("half"), label("done")
	asm.TESTQ(cnt, cnt)
	asm.JEQ(LabelRef(end))
	asm.Label(top)
	asm.MOVQ(d, p)
	for j := range 6 {
		src := six(p, row, p3, 0)
		var dst [6]Mem
		for s := range 6 {
			dst[s] = slot(tmp, 6*s+j)
		}
		bt(src, dst, c4, c5)
		asm.ADDQ(pix, p)
	}
	asm.MOVQ(v, p)
	for i := range 6 {
		var src [6]Mem
		for s := range 6 {
			src[s] = slot(tmp, 6*i+s)
		}
		dst := six(p, stride, p3, 0)
		bt(src, dst, c4, c5)
		asm.LEAQ(idxScale(p3, stride, 2, 0), p)
		asm.ADDQ(stride, p)
	}
	asm.ADDQ(U8(32), d)
	asm.ADDQ(U8(32), v)
	asm.DECQ(cnt)
	asm.JNE(LabelRef(top))
	asm.Label(end)
	done()
}

func wgOutput16() {
	text("wgOutput16AVX2", "func(out *float32, rowStride, pix int, m *float32, mstride, groups int, bias *float32, relu bool, rows, cols int, tmp *float32)",
		"wgOutput16AVX2 writes Y = A^T m A + bias, then max(0, .) if relu, of one",
		"4 x 4 output tile for the first 16*groups channels: point p of m,",
		"channel c, is m[p*mstride+c], and pixel (i, j) for i < rows, j < cols",
		"(1 to 4) goes to out[i*rowStride+j*pix+c]. tmp holds at least 36*8",
		"floats.")
	out := load("out")
	row := loadBytes("rowStride")
	pix := loadBytes("pix")
	m := load("m")
	ms := loadBytes("mstride")
	cnt := load("groups")
	asm.SHLQ(U8(1), cnt)
	bias := load("bias")
	tmp := load("tmp")
	c4, c8 := splat(0x40800000), splat(0x41000000)
	// floor is 0 with relu and -Inf without: max(floor, y) is then the
	// activation or y itself, NaN included.
	fl, inf := asm.GP32(), asm.GP32()
	asm.XORL(fl, fl)
	asm.MOVL(U32(0xff800000), inf)
	asm.CMPB(param("relu"), U8(0))
	asm.CMOVLEQ(inf, fl)
	floor := asm.YMM()
	asm.VMOVD(fl, floor.AsX())
	asm.VPBROADCASTD(floor.AsX(), floor)
	ms6 := asm.GP64()
	asm.LEAQ(idxScale(ms, ms, 2, 0), ms6)
	asm.SHLQ(U8(1), ms6)
	p, p3 := asm.GP64(), asm.GP64()
	top, next, end := label("half"), label("next"), label("done")
	asm.TESTQ(cnt, cnt)
	asm.JEQ(LabelRef(end))
	asm.Label(top)
	asm.MOVQ(m, p)
	for j := range 6 {
		src := six(p, ms6, p3, 0)
		y := at6(src, c4, c8)
		for i := range 4 {
			asm.VMOVUPS(y[i], slot(tmp, 6*i+j))
		}
		asm.ADDQ(ms, p)
	}
	b := asm.YMM()
	asm.VMOVUPS(at(bias, 0), b)
	asm.MOVQ(out, p)
	for i := range 4 {
		asm.CMPQ(param("rows"), U8(i+1))
		asm.JLT(LabelRef(next))
		var src [6]Mem
		for s := range 6 {
			src[s] = slot(tmp, 6*i+s)
		}
		y := at6(src, c4, c8)
		for _, r := range y {
			asm.VADDPS(b, r, r)
			asm.VMAXPS(r, floor, r)
		}
		asm.MOVQ(p, p3)
		rowEnd := label("row")
		for j, r := range y {
			asm.CMPQ(param("cols"), U8(j+1))
			asm.JLT(LabelRef(rowEnd))
			asm.VMOVUPS(r, at(p3, 0))
			asm.ADDQ(pix, p3)
		}
		asm.Label(rowEnd)
		asm.ADDQ(row, p)
	}
	asm.Label(next)
	asm.ADDQ(U8(32), m)
	asm.ADDQ(U8(32), out)
	asm.ADDQ(U8(32), bias)
	asm.DECQ(cnt)
	asm.JNE(LabelRef(top))
	asm.Label(end)
	done()
}

// The slots of geluConsts in the table of the GELU kernels.
const (
	gC    = iota // sqrt(2/pi)
	gA           // 0.044715
	gHalf        // 0.5
	gOne         // 1
	gP0          // 135135, the Pade coefficients
	gP1          // 17325
	gP2          // 378
	gQ1          // 62370
	gQ2          // 3150
	gQ3          // 28
	gHi          // 4.97
	gLo          // -4.97
	gMOne        // -1
	g3AC         // 3 * 0.044715 * sqrt(2/pi)
	gN
)

// geluTanh returns u = sqrt(2/pi) (x + 0.044715 x^3) and Tanh(u) (vec.go)
// for x: the [7/6] Pade approximant, divided by a reciprocal estimate and
// one Newton step, within an ulp or two of the division, then +-1 past
// +-4.97. x2 = x^2 is given.
func geluTanh(k func(int) Mem, x, x2 reg.VecVirtual) (u, th reg.VecVirtual) {
	u = asm.YMM()
	asm.VMULPS(k(gA), x2, u)
	asm.VFMADD213PS(x, x, u)
	asm.VMULPS(k(gC), u, u)
	u2, p, q := asm.YMM(), asm.YMM(), asm.YMM()
	asm.VMULPS(u, u, u2)
	asm.VADDPS(k(gP2), u2, p)
	asm.VFMADD213PS(k(gP1), u2, p)
	asm.VFMADD213PS(k(gP0), u2, p)
	asm.VMULPS(u, p, p)
	asm.VMOVAPS(k(gQ3), q)
	asm.VFMADD213PS(k(gQ2), u2, q)
	asm.VFMADD213PS(k(gQ1), u2, q)
	asm.VFMADD213PS(k(gP0), u2, q)
	// th = p/q: r ~ 1/q, y = p r, y += r (p - q y).
	r := asm.YMM()
	th = asm.YMM()
	asm.VRCPPS(q, r)
	asm.VMULPS(r, p, th)
	asm.VFNMADD231PS(th, q, p)
	asm.VFMADD231PS(p, r, th)
	mk := asm.YMM()
	asm.VCMPPS(U8(cmpGT), k(gHi), u, mk)
	asm.VBLENDVPS(mk, k(gOne), th, th)
	asm.VCMPPS(U8(cmpLT), k(gLo), u, mk)
	asm.VBLENDVPS(mk, k(gMOne), th, th)
	return u, th
}

func geluForward() {
	text("geluForwardAVX2", "func(dst, src *float32, n int, c *[14]float32)",
		"geluForwardAVX2 sets dst[i] = 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
		"for x = src[i], i < n (a multiple of 16); c is geluConsts. dst may be src.")
	dst, src := load("dst"), load("src")
	nb := loadBytes("n")
	k := constTable(load("c"), gN)
	off := asm.GP64()
	loop(off, nb, 2, func(d int) {
		x, x2 := asm.YMM(), asm.YMM()
		asm.VMOVUPS(idx(src, off, d), x)
		asm.VMULPS(x, x, x2)
		_, th := geluTanh(k, x, x2)
		h := asm.YMM()
		asm.VMULPS(k(gHalf), x, h)
		asm.VFMADD213PS(h, h, th) // 0.5 x tanh + 0.5 x
		asm.VMOVUPS(th, idx(dst, off, d))
	})
	done()
}

func geluBackward() {
	text("geluBackwardAVX2", "func(dst, dy, x *float32, n int, c *[14]float32)",
		"geluBackwardAVX2 sets dst[i] = dy[i] (0.5 (1 + t) + 0.5 x (1 - t^2) du)",
		"for x = x[i], t = Tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3) and",
		"du = sqrt(2/pi) (1 + 3 0.044715 x^2), i < n (a multiple of 16); c is",
		"geluConsts. dst may be dy.")
	dst, dy, xp := load("dst"), load("dy"), load("x")
	nb := loadBytes("n")
	k := constTable(load("c"), gN)
	off := asm.GP64()
	loop(off, nb, 2, func(d int) {
		x, x2, du := asm.YMM(), asm.YMM(), asm.YMM()
		asm.VMOVUPS(idx(xp, off, d), x)
		asm.VMULPS(x, x, x2)
		asm.VMOVAPS(k(g3AC), du)
		asm.VFMADD213PS(k(gC), x2, du)
		_, th := geluTanh(k, x, x2)
		s := asm.YMM()
		asm.VMOVAPS(k(gOne), s)
		asm.VFNMADD231PS(th, th, s) // 1 - t^2
		asm.VMULPS(k(gHalf), x, x)
		asm.VMULPS(x, s, s)
		asm.VMULPS(du, s, s)
		asm.VFMADD231PS(k(gHalf), th, s)
		asm.VADDPS(k(gHalf), s, s)
		asm.VMULPS(idx(dy, off, d), s, s)
		asm.VMOVUPS(s, idx(dst, off, d))
	})
	done()
}

func layerNormRow() {
	text("layerNormRowAVX2", "func(out, xhat, x, gamma, beta *float32, d int, eps float32) float32",
		"layerNormRowAVX2 sets xhat = (x - mean) rstd and out = xhat gamma + beta",
		"over one row of d floats (a positive multiple of 16), and returns",
		"rstd = 1/sqrt(var + eps).")
	out, xhat, x, gamma, beta := load("out"), load("xhat"), load("x"), load("gamma"), load("beta")
	d := load("d")
	nb := asm.GP64()
	asm.MOVQ(d, nb)
	asm.SHLQ(U8(2), nb)
	off := asm.GP64()
	dF := asm.XMM()
	asm.VXORPS(dF, dF, dF)
	asm.VCVTSI2SSQ(d, dF, dF)

	acc := []reg.VecVirtual{zero(), zero(), zero(), zero()}
	loop(off, nb, 4, func(disp int) {
		a := acc[disp/32%4]
		asm.VADDPS(idx(x, off, disp), a, a)
	})
	s := hsum(sum(acc))
	asm.VDIVSS(dF, s, s)
	mean := asm.YMM()
	asm.VBROADCASTSS(s, mean)

	acc = []reg.VecVirtual{zero(), zero(), zero(), zero()}
	loop(off, nb, 4, func(disp int) {
		a, t := acc[disp/32%4], asm.YMM()
		asm.VMOVUPS(idx(x, off, disp), t)
		asm.VSUBPS(mean, t, t)
		asm.VFMADD231PS(t, t, a)
	})
	s = hsum(sum(acc))
	asm.VDIVSS(dF, s, s)
	asm.VADDSS(param("eps"), s, s)
	asm.VSQRTSS(s, s, s)
	r := asm.GP32()
	asm.MOVL(U32(0x3f800000), r)
	one := asm.XMM()
	asm.VMOVD(r, one)
	asm.VDIVSS(s, one, one)
	asm.VMOVSS(one, ret())
	rstd := asm.YMM()
	asm.VBROADCASTSS(one, rstd)

	loop(off, nb, 2, func(disp int) {
		t, g := asm.YMM(), asm.YMM()
		asm.VMOVUPS(idx(x, off, disp), t)
		asm.VSUBPS(mean, t, t)
		asm.VMULPS(rstd, t, t)
		asm.VMOVUPS(t, idx(xhat, off, disp))
		asm.VMOVUPS(idx(gamma, off, disp), g)
		asm.VFMADD213PS(idx(beta, off, disp), g, t)
		asm.VMOVUPS(t, idx(out, off, disp))
	})
	done()
}

func layerNormGradRow() {
	text("layerNormGradRowAVX2", "func(dx, dy, xhat, gamma *float32, d int, rstd float32)",
		"layerNormGradRowAVX2 sets dx = rstd (dy gamma - mean(dy gamma) -",
		"xhat mean(dy gamma xhat)) over one row of d floats (a positive multiple",
		"of 16).")
	dx, dy, xhat, gamma := load("dx"), load("dy"), load("xhat"), load("gamma")
	d := load("d")
	nb := asm.GP64()
	asm.MOVQ(d, nb)
	asm.SHLQ(U8(2), nb)
	off := asm.GP64()
	dF := asm.XMM()
	asm.VXORPS(dF, dF, dF)
	asm.VCVTSI2SSQ(d, dF, dF)

	s1 := []reg.VecVirtual{zero(), zero(), zero(), zero()}
	s2 := []reg.VecVirtual{zero(), zero(), zero(), zero()}
	loop(off, nb, 4, func(disp int) {
		i, t := disp/32%4, asm.YMM()
		asm.VMOVUPS(idx(dy, off, disp), t)
		asm.VMULPS(idx(gamma, off, disp), t, t)
		asm.VADDPS(t, s1[i], s1[i])
		asm.VFMADD231PS(idx(xhat, off, disp), t, s2[i])
	})
	m1, m2 := asm.YMM(), asm.YMM()
	s := hsum(sum(s1))
	asm.VDIVSS(dF, s, s)
	asm.VBROADCASTSS(s, m1)
	s = hsum(sum(s2))
	asm.VDIVSS(dF, s, s)
	asm.VBROADCASTSS(s, m2)
	rstd := asm.YMM()
	asm.VBROADCASTSS(param("rstd"), rstd)

	loop(off, nb, 2, func(disp int) {
		t := asm.YMM()
		asm.VMOVUPS(idx(dy, off, disp), t)
		asm.VMULPS(idx(gamma, off, disp), t, t)
		asm.VSUBPS(m1, t, t)
		asm.VFNMADD231PS(idx(xhat, off, disp), m2, t)
		asm.VMULPS(rstd, t, t)
		asm.VMOVUPS(t, idx(dx, off, disp))
	})
	done()
}

func colSums() {
	text("colSumsAVX2", "func(dst, a, b *float32, rows, n, ld int)",
		"colSumsAVX2 adds to dst[j] a[r*ld+j], times b[r*ld+j] unless b is nil,",
		"for r < rows in order and j < n (a multiple of 16): each column's sum is",
		"the loop's, bit for bit. Blocks of 64, 32 and 16 columns stay in",
		"registers over all the rows.")
	dst, a, b := load("dst"), load("a"), load("b")
	rows := load("rows")
	nb, ld := loadBytes("n"), loadBytes("ld")
	col, rem := asm.GP64(), asm.GP64()
	asm.XORQ(col, col)
	end := label("done")
	asm.TESTQ(rows, rows)
	asm.JLE(LabelRef(end))

	block := func(w int, dot bool) {
		acc := make([]reg.VecVirtual, w)
		for i := range w {
			acc[i] = asm.YMM()
			asm.VMOVUPS(idx(dst, col, 32*i), acc[i])
		}
		ra, rb, r := asm.GP64(), asm.GP64(), asm.GP64()
		asm.LEAQ(idx(a, col, 0), ra)
		if dot {
			asm.LEAQ(idx(b, col, 0), rb)
		}
		asm.MOVQ(rows, r)
		top := label("rows")
		asm.Label(top)
		for i := range w {
			if dot {
				// The product rounded, then the sum: no FMA, as the loop.
				t := asm.YMM()
				asm.VMOVUPS(at(ra, 32*i), t)
				asm.VMULPS(at(rb, 32*i), t, t)
				asm.VADDPS(t, acc[i], acc[i])
			} else {
				asm.VADDPS(at(ra, 32*i), acc[i], acc[i])
			}
		}
		asm.ADDQ(ld, ra)
		if dot {
			asm.ADDQ(ld, rb)
		}
		asm.DECQ(r)
		asm.JNE(LabelRef(top))
		for i := range w {
			asm.VMOVUPS(acc[i], idx(dst, col, 32*i))
		}
		asm.ADDQ(U32(32*w), col)
	}
	remaining := func() {
		asm.MOVQ(nb, rem)
		asm.SUBQ(col, rem)
	}

	dotLabel := label("dot")
	asm.TESTQ(b, b)
	asm.JNE(LabelRef(dotLabel))
	for _, dot := range []bool{false, true} {
		if dot {
			asm.Label(dotLabel)
		}
		w8, w4, w2 := label("w8"), label("w4"), label("w2")
		asm.Label(w8)
		remaining()
		asm.CMPQ(rem, U32(256))
		asm.JL(LabelRef(w4))
		block(8, dot)
		asm.JMP(LabelRef(w8))
		asm.Label(w4)
		asm.CMPQ(rem, U32(128))
		asm.JL(LabelRef(w2))
		block(4, dot)
		remaining()
		asm.Label(w2)
		asm.TESTQ(rem, rem)
		asm.JEQ(LabelRef(end))
		block(2, dot)
		asm.JMP(LabelRef(end))
	}
	asm.Label(end)
	done()
}

func sumSquares() {
	text("sumSquaresAVX2", "func(x *float32, n int) float64",
		"sumSquaresAVX2 returns the sum of x[i]^2 for i < n (a positive multiple",
		"of 16), in float64: each square is exact, and a NaN or an infinity",
		"reaches the sum.")
	x := load("x")
	nb := loadBytes("n")
	acc := make([]reg.VecVirtual, 8)
	for i := range acc {
		acc[i] = asm.YMM()
		asm.VXORPD(acc[i], acc[i], acc[i])
	}
	off := asm.GP64()
	loop(off, nb, 4, func(d int) {
		for h := range 2 {
			t := asm.YMM()
			a := acc[(2*d/32+h)%8]
			asm.VCVTPS2PD(idx(x, off, d+16*h), t)
			asm.VFMADD231PD(t, t, a)
		}
	})
	for len(acc) > 1 {
		h := len(acc) / 2
		for i := range h {
			asm.VADDPD(acc[i+h], acc[i], acc[i])
		}
		acc = acc[:h]
	}
	t := asm.XMM()
	s := acc[0].AsX()
	asm.VEXTRACTF128(U8(1), acc[0], t)
	asm.VADDPD(t, s, s)
	asm.VPERMILPD(U8(1), s, t)
	asm.VADDSD(t, s, s)
	asm.VMOVSD(s, ret())
	done()
}

func adamStep() {
	text("adamStepAVX2", "func(w, grad, m, v *float32, n int, c *AdamConsts)",
		"adamStepAVX2 applies one AdamW step to i < n (a multiple of 16), with",
		"g = grad[i] c.GradScale: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,",
		"w = w decay - step m / (sqrt(v) rbc2 + eps); the square root and the",
		"division are the exact instructions.")
	w, grad, m, v := load("w"), load("grad"), load("m"), load("v")
	nb := loadBytes("n")
	c := load("c")
	var k [9]reg.VecVirtual // AdamConsts's fields, in order
	for i := range k {
		k[i] = asm.YMM()
		asm.VBROADCASTSS(at(c, 4*i), k[i])
	}
	gs, b1, omb1, b2, omb2, decay, step, rbc2, eps := k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8]
	off := asm.GP64()
	loop(off, nb, 2, func(d int) {
		g, mm, vv, t := asm.YMM(), asm.YMM(), asm.YMM(), asm.YMM()
		asm.VMULPS(idx(grad, off, d), gs, g)
		asm.VMULPS(idx(m, off, d), b1, mm)
		asm.VFMADD231PS(omb1, g, mm)
		asm.VMULPS(idx(v, off, d), b2, vv)
		asm.VMULPS(g, g, t)
		asm.VFMADD231PS(omb2, t, vv)
		asm.VMOVUPS(mm, idx(m, off, d))
		asm.VMOVUPS(vv, idx(v, off, d))
		asm.VSQRTPS(vv, t)
		asm.VFMADD213PS(eps, rbc2, t)
		asm.VDIVPS(t, mm, mm)
		ww := asm.YMM()
		asm.VMULPS(idx(w, off, d), decay, ww)
		asm.VFNMADD231PS(step, mm, ww)
		asm.VMOVUPS(ww, idx(w, off, d))
	})
	done()
}

// The slots of expConsts in the table of softmaxRow.
const (
	eLog2e = 0
	eLn2Hi = 1
	eLn2Lo = 2
	eC2    = 3 // 1/2, then 1/6, ..., 1/5040 in slots 4 to 8
	eOne   = 9
	eMin   = 10 // -110
	eN     = 11
)

func softmaxRow() {
	text("softmaxRowAVX2", "func(row *float32, width int, scale float32, c *[11]float32)",
		"softmaxRowAVX2 sets row[j] = exp(scale (row[j] - max)) / sum for",
		"j < width (a positive multiple of 16); entries of -Inf become 0. c is",
		"expConsts: log2(e), ln2 in two parts, the Taylor coefficients 1/2 to",
		"1/5040, 1 and the clamp -110; 2^n for n below -126 is taken as 0.")
	row := load("row")
	nb := loadBytes("width")
	c := load("c")
	k := constTable(c, eN)
	off := asm.GP64()

	mx := []reg.VecVirtual{asm.YMM(), asm.YMM()}
	asm.VMOVUPS(at(row, 0), mx[0])
	asm.VMOVUPS(at(row, 32), mx[1])
	loop(off, nb, 4, func(d int) {
		a := mx[d/32%2]
		asm.VMAXPS(idx(row, off, d), a, a)
	})
	x, t := mx[0].AsX(), asm.XMM()
	asm.VMAXPS(mx[1], mx[0], mx[0])
	asm.VEXTRACTF128(U8(1), mx[0], t)
	asm.VMAXPS(t, x, x)
	asm.VPERMILPS(U8(0x4e), x, t)
	asm.VMAXPS(t, x, x)
	asm.VPERMILPS(U8(0xb1), x, t)
	asm.VMAXSS(t, x, x)
	mxY := asm.YMM()
	asm.VBROADCASTSS(x, mxY)
	scale := asm.YMM()
	asm.VBROADCASTSS(param("scale"), scale)
	bias := asm.YMM() // the exponent bias, 127
	asm.VPCMPEQD(bias, bias, bias)
	asm.VPSRLD(U8(25), bias, bias)
	z := zero()

	sums := []reg.VecVirtual{zero(), zero()}
	loop(off, nb, 2, func(d int) {
		// x = max(scale (row - max), -110) = n ln2 + r, |r| <= ln2/2;
		// e^x = 2^n e^r, 2^n built in the exponent field (0 when
		// n + 127 <= 0) and e^r by its Taylor series to r^7.
		x, n, p, e := asm.YMM(), asm.YMM(), asm.YMM(), asm.YMM()
		asm.VMOVUPS(idx(row, off, d), x)
		asm.VSUBPS(mxY, x, x)
		asm.VMULPS(scale, x, x)
		asm.VMAXPS(k(eMin), x, x)
		asm.VMULPS(k(eLog2e), x, n)
		asm.VROUNDPS(U8(0), n, n)
		asm.VFNMADD231PS(k(eLn2Hi), n, x)
		asm.VFNMADD231PS(k(eLn2Lo), n, x)
		asm.VMOVAPS(k(eC2+5), p)
		for i := 4; i >= 0; i-- {
			asm.VFMADD213PS(k(eC2+i), x, p)
		}
		asm.VFMADD213PS(k(eOne), x, p)
		asm.VFMADD213PS(k(eOne), x, p)
		asm.VCVTPS2DQ(n, e)
		asm.VPADDD(bias, e, e)
		asm.VPMAXSD(z, e, e)
		asm.VPSLLD(U8(23), e, e)
		asm.VMULPS(e, p, p)
		asm.VMOVUPS(p, idx(row, off, d))
		s := sums[d/32]
		asm.VADDPS(p, s, s)
	})
	s := hsum(sum(sums))
	inv := asm.XMM()
	asm.VMOVSS(at(c, 4*eOne), inv)
	asm.VDIVSS(s, inv, inv)
	invY := asm.YMM()
	asm.VBROADCASTSS(inv, invY)
	loop(off, nb, 4, func(d int) {
		t := asm.YMM()
		asm.VMULPS(idx(row, off, d), invY, t)
		asm.VMOVUPS(t, idx(row, off, d))
	})
	done()
}

func softmaxGradRow() {
	text("softmaxGradRowAVX2", "func(p, ds *float32, width int, scale float32)",
		"softmaxGradRowAVX2 sets ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale for",
		"j < width (a positive multiple of 16).")
	p, ds := load("p"), load("ds")
	nb := loadBytes("width")
	off := asm.GP64()
	acc := []reg.VecVirtual{zero(), zero(), zero(), zero()}
	loop(off, nb, 4, func(d int) {
		t := asm.YMM()
		asm.VMOVUPS(idx(p, off, d), t)
		asm.VFMADD231PS(idx(ds, off, d), t, acc[d/32%4])
	})
	s := hsum(sum(acc))
	sy, scale := asm.YMM(), asm.YMM()
	asm.VBROADCASTSS(s, sy)
	asm.VBROADCASTSS(param("scale"), scale)
	loop(off, nb, 4, func(d int) {
		t := asm.YMM()
		asm.VMOVUPS(idx(ds, off, d), t)
		asm.VSUBPS(sy, t, t)
		asm.VMULPS(idx(p, off, d), t, t)
		asm.VMULPS(scale, t, t)
		asm.VMOVUPS(t, idx(ds, off, d))
	})
	done()
}
