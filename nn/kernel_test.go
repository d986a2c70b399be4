package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	for i := range t.Float32s() {
		t.Float32s()[i] = float32(r.NormFloat64())
	}
	return t
}

func size(s tensor.Shape) int {
	if s.IsScalar() {
		return 1
	}
	return s.TotalSize()
}

// startBackward begins a backward pass as nn's tape does.
func startBackward(k Kernel, in []*tensor.Dense, out, dOut []float32) {
	if bs, ok := k.(BackwardStarter); ok {
		bs.StartBackward(in, out, dOut)
	}
}

// checkKernel compares Backward with central finite differences of
// L = sum(out * R) for a fixed random R, on up to 60 entries of each input.
func checkKernel(t *testing.T, k Kernel, in []*tensor.Dense, tol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(42, 1))
	shapes := make([]tensor.Shape, len(in))
	for i, x := range in {
		shapes[i] = x.Shape()
	}
	os, err := k.OutShape(shapes)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, size(os))
	weights := make([]float32, len(out))
	for i := range weights {
		weights[i] = float32(r.NormFloat64())
	}
	loss := func() float64 {
		k.Forward(out, in)
		var s float64
		for i, v := range out {
			s += float64(v) * float64(weights[i])
		}
		return s
	}
	loss()
	for i, d := range k.Differentiable(len(in)) {
		if !d {
			continue
		}
		grad := make([]float32, in[i].Shape().TotalSize())
		k.Forward(out, in)
		startBackward(k, in, out, weights)
		k.Backward(i, grad, in, out, weights)
		x := in[i].Float32s()
		central := func(j int, h float32) float64 {
			old := x[j]
			x[j] = old + h
			up := loss()
			x[j] = old - h
			down := loss()
			x[j] = old
			return (up - down) / float64(2*h)
		}
		checked, trials := 0, min(60, len(x))
		for trial := range trials {
			j := trial
			if len(x) > 60 {
				j = r.IntN(len(x))
			}
			fd := central(j, 1e-2)
			if math.Abs(fd-central(j, 2.5e-3)) > tol*math.Max(1, math.Abs(fd)) {
				continue // a kink (ReLU, max) lies within the step: no derivative to compare
			}
			checked++
			if math.Abs(fd-float64(grad[j])) > tol*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: dL/d input %d [%d] = %v, finite difference %v", k.Name(), i, j, grad[j], fd)
			}
		}
		if checked < trials*2/3 {
			t.Errorf("%s: input %d: only %d of %d entries smooth enough to check", k.Name(), i, checked, trials)
		}
		loss()
	}
}

func TestConv2DGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	// Few channels take im2row and col2im; many (spans of 33 to 48 floats)
	// multiply window rows in place, gather them for dw and, at stride 1,
	// convolve dOut with the flipped weights for dx.
	for _, ch := range [][2]int{{3, 4}, {11, 12}, {12, 4}} {
		cin, cout := ch[0], ch[1]
		for _, g := range []Geometry{{4, 2, 1}, {3, 1, 1}, {1, 1, 0}} {
			for _, inRelu := range []bool{false, true} {
				if inRelu && g.K == 1 {
					continue
				}
				k := &Conv2D{Geometry: g, InputGrad: true, InputReLU: inRelu}
				in := []*tensor.Dense{randTensor(r, 2, 6, 6, cin), randTensor(r, g.K*g.K*cin, cout), randTensor(r, cout)}
				checkKernel(t, k, in, 2e-2)
			}
		}
	}
}

func TestConvTranspose2DGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1))
	for _, g := range []Geometry{{4, 2, 1}, {3, 1, 1}} {
		k := &ConvTranspose2D{Geometry: g, InputGrad: true}
		in := []*tensor.Dense{randTensor(r, 2, 3, 3, 3), randTensor(r, 3, g.K*g.K*4), randTensor(r, 4)}
		checkKernel(t, k, in, 2e-2)
	}
}

// A direct loop over the definition.
func naiveConv(x *tensor.Dense, w, bias []float32, g Geometry, cout int) []float32 {
	s := x.Shape()
	b, h, wd, cin := s[0], s[1], s[2], s[3]
	ho, wo := (h+2*g.Pad-g.K)/g.Stride+1, (wd+2*g.Pad-g.K)/g.Stride+1
	xs := x.Float32s()
	out := make([]float32, b*ho*wo*cout)
	for bi := range b {
		for oy := range ho {
			for ox := range wo {
				for co := range cout {
					v := bias[co]
					for ky := range g.K {
						for kx := range g.K {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for ci := range cin {
								v += xs[((bi*h+iy)*wd+ix)*cin+ci] * w[((ky*g.K+kx)*cin+ci)*cout+co]
							}
						}
					}
					out[((bi*ho+oy)*wo+ox)*cout+co] = v
				}
			}
		}
	}
	return out
}

func TestConv2DMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	// Few input channels go through im2row, many through the window rows
	// in place (on AVX-512); 70 output channels leave an edge panel.
	for _, ch := range [][2]int{{5, 6}, {16, 70}} {
		cin, cout := ch[0], ch[1]
		for _, g := range []Geometry{{4, 2, 1}, {3, 1, 1}, {1, 1, 0}, {3, 2, 0}} {
			x, w, b := randTensor(r, 3, 7, 7, cin), randTensor(r, g.K*g.K*cin, cout), randTensor(r, cout)
			k := &Conv2D{Geometry: g}
			s, _ := k.OutShape([]tensor.Shape{x.Shape(), w.Shape(), b.Shape()})
			got := make([]float32, s.TotalSize())
			k.Forward(got, []*tensor.Dense{x, w, b})
			want := naiveConv(x, w.Float32s(), b.Float32s(), g, cout)
			for i := range want {
				// 3x3 stride-1 runs as Winograd's F(4x4, 3x3), whose
				// rounding differs from the direct sum's by up to ~1e-4.
				if math.Abs(float64(got[i]-want[i])) > 3e-4*max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("cin %d, geometry %+v: out[%d] = %v, want %v", cin, g, i, got[i], want[i])
				}
			}
		}
	}
}

// <conv(a), y> = <a, convT(y)> when convT's weights are conv's transposed.
func TestConvTransposeIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 1))
	g := Geometry{4, 2, 1}
	const ca, cb = 3, 5
	a := randTensor(r, 2, 8, 8, ca)
	wc := randTensor(r, g.K*g.K*ca, cb)
	wt := tensor.New(tensor.WithShape(cb, g.K*g.K*ca), tensor.Of(tensor.Float32))
	for i := range g.K * g.K * ca {
		for j := range cb {
			wt.Float32s()[j*g.K*g.K*ca+i] = wc.Float32s()[i*cb+j]
		}
	}
	zb, za := tensor.New(tensor.WithShape(cb), tensor.Of(tensor.Float32)), tensor.New(tensor.WithShape(ca), tensor.Of(tensor.Float32))
	conv := &Conv2D{Geometry: g}
	ca4 := make([]float32, 2*4*4*cb)
	conv.Forward(ca4, []*tensor.Dense{a, wc, zb})
	y := randTensor(r, 2, 4, 4, cb)
	ct := &ConvTranspose2D{Geometry: g}
	ty := make([]float32, 2*8*8*ca)
	ct.Forward(ty, []*tensor.Dense{y, wt, za})
	var lhs, rhs float64
	for i, v := range ca4 {
		lhs += float64(v) * float64(y.Float32s()[i])
	}
	for i, v := range ty {
		rhs += float64(v) * float64(a.Float32s()[i])
	}
	if math.Abs(lhs-rhs) > 1e-3*math.Abs(lhs) {
		t.Errorf("<conv(a), y> = %v, <a, convT(y)> = %v", lhs, rhs)
	}
}

func TestElementwiseGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 1))
	x := randTensor(r, 3, 5)
	for i, v := range x.Float32s() {
		if math.Abs(float64(v)) < 0.05 { // keep away from the kink
			x.Float32s()[i] = 0.5
		}
	}
	checkKernel(t, ReLU{}, []*tensor.Dense{x}, 1e-2)
	checkKernel(t, Add{}, []*tensor.Dense{randTensor(r, 4, 3), randTensor(r, 4, 3)}, 1e-2)
	checkKernel(t, MSE{}, []*tensor.Dense{randTensor(r, 4, 3), randTensor(r, 4, 3)}, 1e-2)
}

func TestL2NormalizeGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	checkKernel(t, L2Normalize{}, []*tensor.Dense{randTensor(r, 5, 4)}, 1e-2)
}

// LayerNorm's parameter gradients are summed by blocks of rows within the
// input gradient's pass, or in a pass of their own when asked for first:
// the same bits in any order, and the column sums of dOut * xhat and of
// dOut, on the vector kernels and off them; a second backward pass with
// another dOut gives what a fresh kernel gives (the sums are not kept from
// the pass before). 200 rows: three whole blocks and a partial one.
func TestLayerNormGradsAnyOrder(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("kernels=%v", on), func(t *testing.T) {
			defer gemm.SetKernelsForTest(on)()
			rng := rand.New(rand.NewPCG(8, 3))
			const n, d = 200, 48
			in := []*tensor.Dense{randTensor(rng, n, d), randTensor(rng, d), randTensor(rng, d)}
			out := make([]float32, n*d)
			grads := func(l *LayerNorm, dOut []float32, order ...int) [3][]float32 {
				var g [3][]float32
				l.StartBackward(in, out, dOut)
				for _, i := range order {
					g[i] = make([]float32, in[i].Shape().TotalSize())
					l.Backward(i, g[i], in, out, dOut)
				}
				return g
			}
			l := &LayerNorm{}
			l.Forward(out, in)
			dOut := randTensor(rng, n, d).Float32s()
			first, last := grads(l, dOut, 0, 1, 2), grads(l, dOut, 2, 1, 0)
			for i := range first {
				if !slices.Equal(first[i], last[i]) {
					t.Fatalf("gradient %d differs with the input gradient first and last", i)
				}
			}
			dg, db := make([]float32, d), make([]float32, d)
			for row := range n {
				for j := range d {
					dg[j] += dOut[row*d+j] * l.xhat[row*d+j]
					db[j] += dOut[row*d+j]
				}
			}
			for j := range d {
				if math.Abs(float64(first[1][j]-dg[j])) > 1e-4 || math.Abs(float64(first[2][j]-db[j])) > 1e-4 {
					t.Fatalf("column %d: gradients %v, %v, want %v, %v", j, first[1][j], first[2][j], dg[j], db[j])
				}
			}
			dOut2 := randTensor(rng, n, d).Float32s()
			fresh := &LayerNorm{}
			fresh.Forward(make([]float32, n*d), in)
			for _, order := range [][]int{{0, 1, 2}, {1, 2, 0}} {
				again, want := grads(l, dOut2, order...), grads(fresh, dOut2, order...)
				for i := range again {
					if !slices.Equal(again[i], want[i]) {
						t.Fatalf("order %v: gradient %d of a second pass differs from a fresh kernel's", order, i)
					}
				}
			}
		})
	}
}

// The bias gradient is summed by the weight gradient's product when that
// comes first, and on its own otherwise: the same bits either way, and its
// own pass's when the product has not run.
func TestMatMulBiasGradEitherOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	// 130 inputs: past the rows of A for which B is read in place, so that
	// the sums come from the packing.
	in := []*tensor.Dense{randTensor(r, 700, 130), randTensor(r, 130, 40), randTensor(r, 40)}
	m := &MatMul{InputGrad: true}
	out := make([]float32, 700*40)
	dOut := randTensor(r, 700, 40).Float32s()
	m.Forward(out, in)
	grads := func(order ...int) (dw, db []float32) {
		dw, db = make([]float32, 130*40), make([]float32, 40)
		m.StartBackward(in, out, dOut)
		for _, i := range order {
			dst := dw
			if i == 2 {
				dst = db
			}
			m.Backward(i, dst, in, out, dOut)
		}
		return dw, db
	}
	dw1, db1 := grads(1, 2)
	dw2, db2 := grads(2, 1)
	_, db3 := grads(2)
	for j := range db1 {
		if db1[j] != db2[j] || db1[j] != db3[j] {
			t.Fatalf("db[%d] = %v (weights first), %v (bias first), %v (bias alone)", j, db1[j], db2[j], db3[j])
		}
	}
	for j := range dw1 {
		if dw1[j] != dw2[j] {
			t.Fatalf("dw[%d] = %v (weights first), %v (bias first)", j, dw1[j], dw2[j])
		}
	}
}

func TestTransformerKernelGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	checkKernel(t, &MatMul{InputGrad: true}, []*tensor.Dense{randTensor(r, 5, 4), randTensor(r, 4, 3), randTensor(r, 3)}, 1e-2)
	checkKernel(t, &LayerNorm{}, []*tensor.Dense{randTensor(r, 4, 6), randTensor(r, 6), randTensor(r, 6)}, 2e-2)
	// Rows of 16 and 21 elements: the vector kernels, and their loops on the tail.
	checkKernel(t, &LayerNorm{}, []*tensor.Dense{randTensor(r, 3, 16), randTensor(r, 16), randTensor(r, 16)}, 2e-2)
	checkKernel(t, &GELU{}, []*tensor.Dense{randTensor(r, 3, 7)}, 1e-2)
	checkKernel(t, &GELU{}, []*tensor.Dense{randTensor(r, 3, 16)}, 1e-2)
	checkKernel(t, &MatMul{InputGrad: true}, []*tensor.Dense{randTensor(r, 3, 4), randTensor(r, 4, 21), randTensor(r, 21)}, 1e-2)
	checkKernel(t, &CausalAttention{Batch: 2, Len: 5, Heads: 2}, []*tensor.Dense{randTensor(r, 10, 3*2*3)}, 2e-2)
	// Heads of 16: forward by rows where the row kernels run (the products
	// elsewhere; the backward takes the products on every path), and 17
	// positions, one past a vector.
	checkKernel(t, &CausalAttention{Batch: 1, Len: 17, Heads: 2}, []*tensor.Dense{randTensor(r, 17, 3*2*16)}, 2e-2)
	checkKernel(t, &CausalAttention{Batch: 2, Len: 13, Heads: 2}, []*tensor.Dense{randTensor(r, 2*13, 3*2*32)}, 2e-2) // the backward's tiles
	emb := &SeqEmbed{Batch: 2, Len: 4, Tokens: []int32{1, 0, 2, 2, 2, 1}, Stride: 3, Classes: []int32{1, 0}}
	checkKernel(t, emb, []*tensor.Dense{randTensor(r, 3, 5), randTensor(r, 2, 5), randTensor(r, 4, 5)}, 1e-2)
}

// Attention on the vector kernels (the forward by rows, the backward by
// tiles) and attention by products agree, forward and backward: at
// ref-gen's shape (49 positions, heads of 32), at lengths below, at and
// past a tile of rows (5, 12, 13, 61; at 13 and 61 the weights' stride is
// set by the tiles), with heads of two column tiles (64), and with heads
// of 16, whose backward takes the products on every path.
func TestAttentionKernelsMatchProducts(t *testing.T) {
	if !gemm.FastRows() {
		t.Skip("no vector kernels on this processor: only the products run")
	}
	r := rand.New(rand.NewPCG(12, 1))
	for _, s := range []struct{ l, heads, d int }{{49, 4, 128}, {5, 2, 64}, {12, 2, 64}, {13, 2, 64}, {61, 1, 64}, {49, 2, 32}} {
		const batch = 3
		qkv := []*tensor.Dense{randTensor(r, batch*s.l, 3*s.d)}
		dOut := randTensor(r, batch*s.l, s.d).Float32s()
		run := func(on bool) (out, grad []float32) {
			defer gemm.SetKernelsForTest(on)()
			a := &CausalAttention{Batch: batch, Len: s.l, Heads: s.heads}
			out, grad = make([]float32, batch*s.l*s.d), make([]float32, batch*s.l*3*s.d)
			a.Forward(out, qkv)
			a.Backward(0, grad, qkv, out, dOut)
			return out, grad
		}
		kOut, kGrad := run(true)
		pOut, pGrad := run(false)
		for i := range kOut {
			if !(math.Abs(float64(kOut[i]-pOut[i])) <= 1e-5) {
				t.Fatalf("%+v: out[%d]: %v on the kernels, %v by products", s, i, kOut[i], pOut[i])
			}
		}
		for i := range kGrad {
			if !(math.Abs(float64(kGrad[i]-pGrad[i])) <= 1e-4) {
				t.Fatalf("%+v: grad[%d]: %v on the kernels, %v by products", s, i, kGrad[i], pGrad[i])
			}
		}
	}
}

// A pass over NaNs (a diverged run) leaves nothing in the scratch that the
// next pass reads: a clean input then gives what a fresh kernel gives, on
// either path.
func TestAttentionScratchDoesNotLeak(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	for _, s := range []struct{ l, heads, d int }{{49, 4, 128}, {49, 2, 16}} {
		clean := []*tensor.Dense{randTensor(r, 2*s.l, 3*s.d)}
		bad := randTensor(r, 2*s.l, 3*s.d)
		for i := range bad.Float32s() {
			bad.Float32s()[i] = float32(math.NaN())
		}
		dOut := randTensor(r, 2*s.l, s.d).Float32s()
		for _, on := range []bool{true, false} {
			restore := gemm.SetKernelsForTest(on)
			run := func(in []*tensor.Dense) (out, grad []float32) {
				a := &CausalAttention{Batch: 2, Len: s.l, Heads: s.heads}
				out, grad = make([]float32, 2*s.l*s.d), make([]float32, 2*s.l*3*s.d)
				a.Forward(out, in)
				a.Backward(0, grad, in, out, dOut)
				return out, grad
			}
			wantOut, wantGrad := run(clean)
			run([]*tensor.Dense{bad})
			gotOut, gotGrad := run(clean)
			restore()
			if !slices.Equal(gotOut, wantOut) || !slices.Equal(gotGrad, wantGrad) {
				t.Fatalf("len %d, %d heads of %d, kernels %v: a pass over NaNs changed the next pass", s.l, s.heads, s.d/s.heads, on)
			}
		}
	}
}

// Output i of causal attention must not change when inputs after i do.
func TestAttentionIsCausal(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 1))
	a := &CausalAttention{Batch: 1, Len: 6, Heads: 2}
	x := randTensor(r, 6, 12)
	out1, out2 := make([]float32, 6*4), make([]float32, 6*4)
	a.Forward(out1, []*tensor.Dense{x})
	for j := 4 * 12; j < 6*12; j++ { // change positions 4 and 5
		x.Float32s()[j] += 3
	}
	a.Forward(out2, []*tensor.Dense{x})
	for i := range 4 * 4 {
		if out1[i] != out2[i] {
			t.Fatalf("output %d changed when later positions did", i)
		}
	}
	if out1[5*4] == out2[5*4] {
		t.Error("the last position ignored its own input")
	}
}

func TestGELUValues(t *testing.T) {
	x := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{-1, 0, 2}))
	out := make([]float32, 3)
	(&GELU{}).Forward(out, []*tensor.Dense{x})
	// The tanh form: gelu(-1) = -0.158808, gelu(2) = 1.954598.
	for i, want := range []float32{-0.158808, 0, 1.954598} {
		if math.Abs(float64(out[i]-want)) > 1e-5 {
			t.Errorf("gelu(%v) = %v, want %v", x.Float32s()[i], out[i], want)
		}
	}
}

func TestFusedReLUGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	c := &Conv2D{Geometry: Geometry{3, 1, 1}, InputGrad: true, ReLU: true}
	checkKernel(t, c, []*tensor.Dense{randTensor(r, 2, 5, 5, 3), randTensor(r, 27, 4), randTensor(r, 4)}, 3e-2)
	ct := &ConvTranspose2D{Geometry: Geometry{4, 2, 1}, InputGrad: true, ReLU: true}
	checkKernel(t, ct, []*tensor.Dense{randTensor(r, 2, 3, 3, 3), randTensor(r, 3, 16*4), randTensor(r, 4)}, 3e-2)
	both := &Conv2D{Geometry: Geometry{3, 1, 1}, InputGrad: true, InputReLU: true, ReLU: true}
	checkKernel(t, both, []*tensor.Dense{randTensor(r, 2, 5, 5, 3), randTensor(r, 27, 4), randTensor(r, 4)}, 3e-2)
}

// A convolution with a fused input ReLU is the plain one on max(0, x).
func TestConv2DInputReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	x, w, bias := randTensor(r, 2, 6, 6, 3), randTensor(r, 27, 4), randTensor(r, 4)
	xr := tensor.New(tensor.WithShape(2, 6, 6, 3), tensor.Of(tensor.Float32))
	for i, v := range x.Float32s() {
		xr.Float32s()[i] = max(v, 0)
	}
	g := Geometry{3, 1, 1}
	got, want := make([]float32, 2*6*6*4), make([]float32, 2*6*6*4)
	(&Conv2D{Geometry: g, InputReLU: true}).Forward(got, []*tensor.Dense{x, w, bias})
	(&Conv2D{Geometry: g}).Forward(want, []*tensor.Dense{xr, w, bias})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := (&Conv2D{Geometry: Geometry{1, 1, 0}, InputReLU: true}).OutShape([]tensor.Shape{{1, 2, 2, 3}, {3, 4}, {4}}); err == nil {
		t.Error("a 1x1 convolution with a fused input ReLU was accepted")
	}
}

// Winograd's F(4x4, 3x3) on maps whose sides are not multiples of four, with
// the fused input and output ReLUs.
func TestWinogradMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	g := Geometry{3, 1, 1}
	for _, s := range [][4]int{{1, 1, 2, 3}, {5, 9, 7, 33}, {8, 8, 16, 64}, {13, 6, 3, 5}} {
		h, w, cin, cout := s[0], s[1], s[2], s[3]
		x, wt, b := randTensor(r, 2, h, w, cin), randTensor(r, 9*cin, cout), randTensor(r, cout)
		xr := tensor.New(tensor.WithShape(2, h, w, cin), tensor.Of(tensor.Float32))
		for i, v := range x.Float32s() {
			xr.Float32s()[i] = max(v, 0)
		}
		want := naiveConv(xr, wt.Float32s(), b.Float32s(), g, cout)
		got := make([]float32, len(want))
		k := &Conv2D{Geometry: g, InputReLU: true, ReLU: true}
		if !k.winogradFits() {
			t.Skip("no AVX-512 kernels: 3x3 convolutions run directly")
		}
		k.Forward(got, []*tensor.Dense{x, wt, b})
		for i := range want {
			if d := math.Abs(float64(got[i] - max(want[i], 0))); d > 3e-4*max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("%v: out[%d] = %v, want %v", s, i, got[i], max(want[i], 0))
			}
		}
	}
}

// transpose against the element-by-element definition, at sizes around
// its four-row blocks; entries it does not own stay.
func TestTranspose(t *testing.T) {
	for rows := 1; rows <= 13; rows++ {
		for _, cols := range []int{1, 5, 16} {
			lds, ldd := cols+3, rows+5
			src := make([]float32, rows*lds)
			for i := range src {
				src[i] = float32(i + 1)
			}
			got := make([]float32, max(cols, rows)*ldd)
			for i := range got {
				got[i] = -1
			}
			want := append([]float32(nil), got...)
			transpose(got, ldd, src, lds, rows, cols)
			for i := range rows {
				for c := range cols {
					want[c*ldd+i] = src[i*lds+c]
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("transpose %dx%d: %v, want %v", rows, cols, got, want)
			}
		}
	}
}

// A bad input shape is an error that names nn and the kernel once, from
// OutShape and from Apply alike.
func TestShapeErrors(t *testing.T) {
	b := NewBuilder()
	x, _ := b.Input("x", 2, 3)
	y, _ := b.Input("y", 3, 2)
	b.Add(x, y)
	_, err := (&Conv2D{Geometry: Geometry{1, 1, 0}, InputReLU: true}).OutShape([]tensor.Shape{{1, 2, 2, 3}, {3, 4}, {4}})
	for _, c := range []struct {
		err  error
		want string
	}{{b.Err(), "nn: add: inputs"}, {err, "nn: relu+conv1x1/s1: a fused input ReLU"}} {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) || strings.Count(c.err.Error(), "nn: ") != 1 {
			t.Errorf("error %v: want one that starts %q and names nn once", c.err, c.want)
		}
	}
}
