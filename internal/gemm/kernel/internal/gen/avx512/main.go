// Command avx512 writes package kernel's AVX-512 assembly with avo: -file
// names one of its assembly files (kernel, winograd, vec, rows), -out is
// where that file goes, and -stubs, when given, where the Go declarations of
// all the AVX-512 functions go (one stub file for the four assembly files).
// Package kernel's gen_avx512_amd64.go runs it once per file.
//
// The functions use physical registers only, each chosen by hand, so avo's
// register allocator has nothing to do and the instruction sequences are
// the ones written here.
package main

import (
	"flag"
	"go/token"
	"go/types"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"
)

// files lists the assembly files by their -file name, in the order their
// functions appear in the stub file.
var files = []struct {
	name  string
	build func(gen)
}{
	{"kernel", products},
	{"winograd", winograd},
	{"vec", vectors},
	{"rows", rows},
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("avx512: ")
	// Our own flag set: importing avo's build package defines its flags on
	// flag.CommandLine.
	fs := flag.NewFlagSet("avx512", flag.ExitOnError)
	which := fs.String("file", "", "the assembly file to write: kernel, winograd, vec or rows")
	out := fs.String("out", "", "the assembly output")
	stubs := fs.String("stubs", "", "the Go declarations of every AVX-512 function (optional)")
	pkg := fs.String("pkg", "kernel", "the package name")
	fs.Parse(os.Args[1:])
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	checkPlan()

	cfg := printer.Config{Argv: argv(), Pkg: *pkg}
	found := false
	for _, f := range files {
		if f.name == *which {
			write(*out, printer.NewGoAsm(cfg), f.build)
			found = true
		}
	}
	if !found {
		log.Fatalf("-file %q: not one of kernel, winograd, vec, rows", *which)
	}
	if *stubs != "" {
		write(*stubs, printer.NewStubs(cfg), func(g gen) {
			for _, f := range files {
				f.build(g)
			}
		})
	}
}

// argv is the command line written into each file's header: the
// go:generate line's, whatever folder -out and -stubs name, so that
// writing elsewhere (to compare) gives the same bytes.
func argv() []string {
	args := []string{"go", "run", "./internal/gen/avx512"}
	for i := 1; i < len(os.Args); i++ {
		a := os.Args[i]
		args = append(args, a)
		if (a == "-out" || a == "-stubs") && i+1 < len(os.Args) {
			i++
			args = append(args, filepath.Base(os.Args[i]))
		}
	}
	return args
}

// write builds a file of functions with fill, compiles it and prints it to
// path with p.
func write(path string, p printer.Printer, fill func(gen)) {
	ctx := build.NewContext()
	ctx.ConstraintExpr("amd64,!purego")
	fill(gen{ctx})
	f, err := ctx.Result()
	if err != nil {
		build.LogError(log.Default(), err, 0)
		os.Exit(1)
	}
	if err := pass.Compile.Execute(f); err != nil {
		log.Fatal(err)
	}
	b, err := p.Print(f)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// gen adds functions and instructions to one file.
type gen struct{ *build.Context }

// kernelPkg stands for package kernel when signatures are parsed: it holds
// the one named type they use, so the generator need not load the package
// (which does not type-check without the stubs it writes).
var kernelPkg = func() *types.Package {
	p := types.NewPackage("github.com/vqtool/vqtool/internal/gemm/kernel", "kernel")
	var fields []*types.Var
	for _, name := range adamFields {
		fields = append(fields, types.NewField(token.NoPos, p, name, types.Typ[types.Float32], false))
	}
	tn := types.NewTypeName(token.NoPos, p, "AdamConsts", nil)
	types.NewNamed(tn, types.NewStruct(fields, nil), nil)
	p.Scope().Insert(tn)
	return p
}()

// fn starts the function name (without its AVX512 suffix) with Go
// signature sig, documented by doc: text that goes on from the function's
// name, wrapped anew; every one is NOSPLIT with no frame, and noescape: the
// kernels keep no pointer.
func (g gen) fn(name, sig string, doc ...string) {
	s, err := gotypes.ParseSignatureInPackage(kernelPkg, sig)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	name += "AVX512"
	g.Function(name)
	g.Attributes(attr.NOSPLIT)
	g.Signature(s)
	g.Doc(wrap(name+" "+strings.Join(doc, " "), 76)...)
	g.Pragma("noescape")
}

// wrap breaks text into lines of at most width bytes, at spaces, but not
// next to an operator or the x of "12 x 32".
func wrap(text string, width int) []string {
	glued := func(w string) bool { return len(w) == 1 && strings.Contains("+-*/=<>x", w) }
	var lines []string
	line, prev := "", ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width && !glued(prev) && !glued(w) {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
		prev = w
	}
	return append(lines, line)
}

// arg is the address of the current function's argument name.
func (g gen) arg(name string) operand.Mem {
	return addr(g.Param(name))
}

// ret is the address of the current function's result.
func (g gen) ret() operand.Mem {
	return addr(g.ReturnIndex(0))
}

func addr(c gotypes.Component) operand.Mem {
	b, err := c.Resolve()
	if err != nil {
		log.Fatal(err)
	}
	return b.Addr
}

// lbl refers to the label l, placed by Label(l).
func lbl(l string) operand.LabelRef { return operand.LabelRef(l) }

// z is the zmm register Z(i), y and x its lower halves.
func z(i int) reg.VecPhysical { return zmm[i] }
func y(i int) reg.Register    { return zmm[i].AsY() }
func x(i int) reg.Register    { return zmm[i].AsX() }

var zmm = [32]reg.VecPhysical{
	reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
	reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
	reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
	reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
}

// at is the memory operand disp(base), and at(base, disp).Idx(index, s)
// adds an index.
func at(base reg.Register, disp int) operand.Mem {
	return operand.Mem{Base: base, Disp: disp}
}

// imm is the immediate v: a byte when it fits in one, for the
// instructions that take only imm8 (the assembler picks the encoding of the
// others from the value).
func imm(v int) operand.Constant {
	if 0 <= v && v <= 0xff {
		return operand.U8(v)
	}
	return operand.U32(v)
}

// fatalf stops the generator: the plan asks for what it cannot write.
func fatalf(format string, args ...any) {
	log.Fatalf(format, args...)
}
