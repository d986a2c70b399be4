package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecLengths cover the empty, the all-tail, the all-kernel and the mixed
// cases of the multiple-of-16 split.
var vecLengths = []int{0, 1, 15, 16, 17, 48, 100, 1024}

func closeTo(got, want, tol float32) bool {
	d := got - want
	return d <= tol && d >= -tol || got != got && want != want
}

func TestTanh(t *testing.T) {
	for x := float32(-8); x <= 8; x += 0.001 {
		if d := math.Abs(float64(Tanh(x)) - math.Tanh(float64(x))); !(d <= 1e-4) {
			t.Fatalf("Tanh(%v) = %v, want %v", x, Tanh(x), math.Tanh(float64(x)))
		}
	}
}

func TestGELUMatchesLoopAndErf(t *testing.T) { eachVectorPath(t, testGELUMatchesLoopAndErf) }

func testGELUMatchesLoopAndErf(t *testing.T) {
	vector := path
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range vecLengths {
		x := randSlice(r, n)
		for i := range x {
			x[i] *= 4 // reach the clamped tails of tanh
		}
		if n > 3 {
			x[0], x[1], x[2] = 30, -30, float32(math.NaN())
		}
		dy := randSlice(r, n)
		kOut, lOut := make([]float32, n), make([]float32, n)
		kGrad, lGrad := make([]float32, n), make([]float32, n)
		func() {
			defer SetForTest(vector)()
			GELU(kOut, x)
			GELUGrad(kGrad, dy, x)
		}()
		func() {
			defer SetForTest(Generic)()
			GELU(lOut, x)
			GELUGrad(lGrad, dy, x)
		}()
		for i, v := range x {
			if !closeTo(kOut[i], lOut[i], 1e-6*(1+abs(v))) || !closeTo(kGrad[i], lGrad[i], 1e-5*(1+abs(dy[i]))) {
				t.Fatalf("n=%d x=%v: kernel (%v, %v), loop (%v, %v)", n, v, kOut[i], kGrad[i], lOut[i], lGrad[i])
			}
			if v != v {
				continue
			}
			// GELU is x Phi(x) to within the tanh approximation (3e-4 here).
			phi := 0.5 * (1 + math.Erf(float64(v)/math.Sqrt2))
			if d := math.Abs(float64(lOut[i]) - float64(v)*phi); !(d <= 1e-3) {
				t.Fatalf("GELU(%v) = %v, want %v", v, lOut[i], float64(v)*phi)
			}
		}
	}
}

func TestGELUGradMatchesFiniteDifference(t *testing.T) {
	for _, on := range Paths() {
		restore := SetForTest(on)
		x := make([]float32, 32)
		for i := range x {
			x[i] = -6 + 12*float32(i)/31
		}
		ones := make([]float32, 32)
		for i := range ones {
			ones[i] = 1
		}
		grad := make([]float32, 32)
		GELUGrad(grad, ones, x)
		for i, v := range x {
			const h = 1e-3
			var hi, lo [1]float32
			GELU(hi[:], []float32{v + h})
			GELU(lo[:], []float32{v - h})
			fd := (float64(hi[0]) - float64(lo[0])) / (2 * h)
			if !(math.Abs(fd-float64(grad[i])) <= 2e-3) {
				t.Fatalf("path %v: GELU'(%v) = %v, finite difference %v", path, v, grad[i], fd)
			}
		}
		restore()
	}
}

func TestLayerNormRowsMatchLoops(t *testing.T) { eachVectorPath(t, testLayerNormRowsMatchLoops) }

func testLayerNormRowsMatchLoops(t *testing.T) {
	vector := path
	r := rand.New(rand.NewPCG(4, 4))
	for _, d := range []int{1, 16, 17, 64, 256} {
		x, g, b, dy := randSlice(r, d), randSlice(r, d), randSlice(r, d), randSlice(r, d)
		for i := range x {
			x[i] = 3 + 2*x[i] // a mean and a spread to remove
		}
		var outs, xhats, dxs [2][]float32
		var rstds [2]float32
		for k, on := range []Path{vector, Generic} {
			restore := SetForTest(on)
			outs[k], xhats[k], dxs[k] = make([]float32, d), make([]float32, d), make([]float32, d)
			rstds[k] = LayerNormRow(outs[k], xhats[k], x, g, b, 1e-5)
			LayerNormGradRow(dxs[k], dy, xhats[k], g, rstds[k])
			restore()
		}
		if !closeTo(rstds[0], rstds[1], 1e-5*rstds[1]) {
			t.Fatalf("d=%d: rstd %v (kernel), %v (loop)", d, rstds[0], rstds[1])
		}
		for j := range d {
			if !closeTo(outs[0][j], outs[1][j], 1e-5) || !closeTo(xhats[0][j], xhats[1][j], 1e-5) || !closeTo(dxs[0][j], dxs[1][j], 1e-4) {
				t.Fatalf("d=%d [%d]: kernel (%v %v %v), loop (%v %v %v)", d, j,
					outs[0][j], xhats[0][j], dxs[0][j], outs[1][j], xhats[1][j], dxs[1][j])
			}
		}
		if d > 1 { // a normalised row has mean 0 and variance 1/(1 + eps rstd^2)
			var m, v float64
			for _, e := range xhats[1] {
				m += float64(e)
				v += float64(e) * float64(e)
			}
			if !(math.Abs(m/float64(d)) <= 1e-5 && math.Abs(v/float64(d)-1) <= 1e-3) {
				t.Fatalf("d=%d: xhat mean %v, variance %v: want 0, 1", d, m/float64(d), v/float64(d))
			}
		}
	}
}

// Layer norm's input gradient against a central difference of
// sum(dy * LayerNormRow(x)).
func TestLayerNormGradRowMatchesFiniteDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	const d = 32
	x, g, b, dy := randSlice(r, d), randSlice(r, d), randSlice(r, d), randSlice(r, d)
	loss := func(x []float32) float64 {
		out, xhat := make([]float32, d), make([]float32, d)
		LayerNormRow(out, xhat, x, g, b, 1e-5)
		var s float64
		for j := range out {
			s += float64(out[j]) * float64(dy[j])
		}
		return s
	}
	for _, on := range Paths() {
		restore := SetForTest(on)
		out, xhat, dx := make([]float32, d), make([]float32, d), make([]float32, d)
		rstd := LayerNormRow(out, xhat, x, g, b, 1e-5)
		LayerNormGradRow(dx, dy, xhat, g, rstd)
		for j := range d {
			const h = 1e-2
			xp := append([]float32(nil), x...)
			xp[j] += h
			xm := append([]float32(nil), x...)
			xm[j] -= h
			fd := (loss(xp) - loss(xm)) / (2 * h)
			if !(math.Abs(fd-float64(dx[j])) <= 2e-2*(1+math.Abs(fd))) {
				t.Fatalf("path %v: dx[%d] = %v, finite difference %v", path, j, dx[j], fd)
			}
		}
		restore()
	}
}

func TestColSumsMatchLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range vecLengths {
		for _, rows := range []int{0, 1, 3, 50} {
			ld := n + 5
			a, b := randSlice(r, max(rows*ld, 1)), randSlice(r, max(rows*ld, 1))
			want, wantDot := make([]float32, n), make([]float32, n)
			for j := range n {
				for r := range rows {
					want[j] += a[r*ld+j]
					wantDot[j] += a[r*ld+j] * b[r*ld+j]
				}
			}
			for _, on := range Paths() {
				restore := SetForTest(on)
				got, gotDot := randSlice(r, n), randSlice(r, n) // overwritten, not added to
				ColSums(got, a, rows, ld)
				ColDots(gotDot, a, b, rows, ld)
				restore()
				for j := range n {
					// Rows are added in order, as the loop does: the same bits.
					if got[j] != want[j] || gotDot[j] != wantDot[j] {
						t.Fatalf("n=%d rows=%d kernels %v: [%d] = %v, %v; want %v, %v", n, rows, on, j, got[j], gotDot[j], want[j], wantDot[j])
					}
				}
			}
		}
	}
}

func TestSumSquares(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range vecLengths {
		x := randSlice(r, n)
		var want float64
		for _, v := range x {
			want += float64(v) * float64(v)
		}
		for _, on := range Paths() {
			restore := SetForTest(on)
			got := SumSquares(x)
			if !(math.Abs(got-want) <= 1e-12*(1+want)) {
				t.Fatalf("n=%d kernels %v: %v, want %v", n, on, got, want)
			}
			if n > 20 {
				for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1)), math.MaxFloat32} {
					y := append([]float32(nil), x...)
					y[n-20] = bad
					s := SumSquares(y)
					if bad == math.MaxFloat32 && (math.IsInf(s, 0) || s < 1e76) || bad != math.MaxFloat32 && !math.IsNaN(s) && !math.IsInf(s, 1) {
						t.Fatalf("n=%d kernels %v: with %v the sum is %v", n, on, bad, s)
					}
				}
			}
			restore()
		}
	}
}

// AdamStep against the update written out in float64 (PyTorch's AdamW).
func TestAdamStepMatchesFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range vecLengths {
		w0, g := randSlice(r, n), randSlice(r, n)
		m0, v0 := randSlice(r, n), randSlice(r, n)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		const lr, wd, b1, b2, eps, clip, steps = 1e-2, 0.05, 0.9, 0.999, 1e-8, 0.5, 3
		bc1, bc2 := 1-math.Pow(b1, steps), 1-math.Pow(b2, steps)
		c := AdamConsts{GradScale: clip, B1: b1, OneMinusB1: 1 - b1, B2: b2, OneMinusB2: 1 - b2,
			Decay: 1 - lr*wd, Step: float32(lr / bc1), RBC2: float32(1 / math.Sqrt(bc2)), Eps: eps}
		for _, on := range Paths() {
			restore := SetForTest(on)
			w, m, v := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
			AdamStep(w, g, m, v, &c)
			restore()
			for i := range n {
				gi := float64(g[i]) * clip
				mi := b1*float64(m0[i]) + (1-b1)*gi
				vi := b2*float64(v0[i]) + (1-b2)*gi*gi
				wi := float64(w0[i])*(1-lr*wd) - lr*(mi/bc1)/(math.Sqrt(vi/bc2)+eps)
				if !(math.Abs(float64(m[i])-mi) <= 1e-6 && math.Abs(float64(v[i])-vi) <= 1e-6 && math.Abs(float64(w[i])-wi) <= 1e-5) {
					t.Fatalf("n=%d kernels %v [%d]: (w m v) = (%v %v %v), want (%v %v %v)", n, on, i, w[i], m[i], v[i], wi, mi, vi)
				}
			}
		}
	}
}

func abs(x float32) float32 { return max(x, -x) }

func BenchmarkVec(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 3136 * 1024 // one MLP activation of ref-gen at batch 64
	x, y, z, w := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
	gbps := func(b *testing.B, streams int) {
		b.ReportMetric(float64(streams*4*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	}
	b.Run("gelu", func(b *testing.B) {
		for b.Loop() {
			GELU(y, x)
		}
		gbps(b, 2)
	})
	b.Run("gelu-grad", func(b *testing.B) {
		for b.Loop() {
			GELUGrad(z, y, x)
		}
		gbps(b, 3)
	})
	b.Run("layernorm-256", func(b *testing.B) {
		g, bb := randSlice(r, 256), randSlice(r, 256)
		for b.Loop() {
			for i := 0; i < n; i += 256 {
				LayerNormRow(y[i:i+256], z[i:i+256], x[i:i+256], g, bb, 1e-5)
			}
		}
		gbps(b, 3)
	})
	b.Run("layernorm-grad-256", func(b *testing.B) {
		g := randSlice(r, 256)
		for b.Loop() {
			for i := 0; i < n; i += 256 {
				LayerNormGradRow(w[i:i+256], y[i:i+256], z[i:i+256], g, 1.5)
			}
		}
		gbps(b, 3)
	})
	b.Run("colsums-1024", func(b *testing.B) {
		dst := make([]float32, 1024)
		for b.Loop() {
			ColSums(dst, x, n/1024, 1024)
		}
		gbps(b, 1)
	})
	b.Run("sumsquares", func(b *testing.B) {
		for b.Loop() {
			SumSquares(x)
		}
		gbps(b, 1)
	})
	b.Run("adam", func(b *testing.B) {
		c := AdamConsts{GradScale: 1, B1: 0.9, OneMinusB1: 0.1, B2: 0.999, OneMinusB2: 0.001, Decay: 1, Step: 1e-3, RBC2: 1, Eps: 1e-8}
		v := make([]float32, n)
		for b.Loop() {
			AdamStep(w, x, z, v, &c)
		}
		gbps(b, 7)
	})
}

func TestExp(t *testing.T) {
	for x := float32(-87); x <= 88; x += 0.01 {
		got, want := float64(Exp(x)), math.Exp(float64(x))
		if math.Abs(got-want) > 2e-7*want {
			t.Fatalf("Exp(%v) = %v, want %v", x, got, want)
		}
	}
	if Exp(-100) != 0 {
		t.Error("Exp(-100) != 0")
	}
}

// SoftmaxPrefix against the softmax computed in float64, with the kernel
// and with its loop: the prefix sums to 1, the rest is exactly 0.
func TestSoftmaxPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	for _, width := range []int{1, 5, 16, 49, 64} {
		for n := 1; n <= width; n++ {
			x := randSlice(r, width)
			for i := range x {
				x[i] *= 20 // differences past exp's underflow
			}
			const scale = 0.17
			want := make([]float64, n)
			m := math.Inf(-1)
			for _, v := range x[:n] {
				m = math.Max(m, float64(v))
			}
			var s float64
			for j := range n {
				want[j] = math.Exp(float64(scale) * (float64(x[j]) - m))
				s += want[j]
			}
			for _, on := range Paths() {
				restore := SetForTest(on)
				got := append([]float32(nil), x...)
				SoftmaxPrefix(got, n, scale)
				restore()
				for j, v := range got {
					if j >= n {
						if v != 0 {
							t.Fatalf("width %d n %d kernels %v: row[%d] = %v past the prefix", width, n, on, j, v)
						}
						continue
					}
					if !(math.Abs(float64(v)-want[j]/s) <= 1e-6) {
						t.Fatalf("width %d n %d kernels %v: row[%d] = %v, want %v", width, n, on, j, v, want[j]/s)
					}
				}
			}
		}
	}
}

// SoftmaxRows gives SoftmaxPrefix's bits row by row, on every path: rows
// whose tails hold NaN beforehand, first rows of 1 and of 14 entries, and
// rows too short for the kernel's whole vectors (its loop then).
func TestSoftmaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for _, s := range []struct{ ld, rows, n0 int }{{64, 49, 1}, {32, 19, 14}, {12, 11, 1}} {
		p := randSlice(r, s.rows*s.ld)
		for i := range s.rows {
			p[i*s.ld+s.ld-1] = float32(math.NaN())
		}
		for _, on := range Paths() {
			restore := SetForTest(on)
			got, want := append([]float32(nil), p...), append([]float32(nil), p...)
			SoftmaxRows(got, s.ld, s.rows, s.n0, 0.3)
			for i := range s.rows {
				SoftmaxPrefix(want[i*s.ld:(i+1)*s.ld], s.n0+i, 0.3)
			}
			restore()
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v kernels %v: p[%d] = %v, SoftmaxPrefix gives %v", s, on, i, got[i], want[i])
				}
			}
		}
	}
}

// SoftmaxGradRows gives SoftmaxGrad's bits row by row, on every path,
// whatever ds held past each row's prefix (NaN here).
func TestSoftmaxGradRows(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, s := range []struct{ ld, rows, n0 int }{{64, 49, 1}, {32, 19, 14}, {12, 11, 1}} {
		p := make([]float32, s.rows*s.ld)
		for i := range s.rows {
			x := randSlice(r, s.ld)
			SoftmaxPrefix(x, s.n0+i, 1)
			copy(p[i*s.ld:], x)
		}
		ds := randSlice(r, s.rows*s.ld)
		for i := range s.rows {
			ds[i*s.ld+s.ld-1] = float32(math.NaN())
		}
		for _, on := range Paths() {
			restore := SetForTest(on)
			got, want := append([]float32(nil), ds...), append([]float32(nil), ds...)
			SoftmaxGradRows(p, got, s.ld, s.rows, s.n0, 0.3)
			for i := range s.rows {
				SoftmaxGrad(p[i*s.ld:(i+1)*s.ld], want[i*s.ld:(i+1)*s.ld], s.n0+i, 0.3)
			}
			restore()
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v kernels %v: ds[%d] = %v, SoftmaxGrad gives %v", s, on, i, got[i], want[i])
				}
			}
		}
	}
}

// SoftmaxGrad against the softmax's Jacobian written out in float64:
// d/dx_j sum_k w_k softmax(scale x)_k = scale p_j (w_j - sum_k p_k w_k).
func TestSoftmaxGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for _, width := range []int{7, 16, 64} {
		for _, n := range []int{1, 5, width} {
			if n > width {
				continue
			}
			x, w := randSlice(r, width), randSlice(r, width)
			const scale = 0.3
			p := append([]float32(nil), x...)
			SoftmaxPrefix(p, n, scale)
			var pw float64
			for k := range n {
				pw += float64(p[k]) * float64(w[k])
			}
			for _, on := range Paths() {
				restore := SetForTest(on)
				ds := append([]float32(nil), w...)
				for j := n; j < width; j++ {
					ds[j] = float32(math.NaN()) // past n: anything, even a NaN
				}
				SoftmaxGrad(p, ds, n, scale)
				restore()
				for j := range width {
					want := 0.0
					if j < n {
						want = scale * float64(p[j]) * (float64(w[j]) - pw)
					}
					if !(math.Abs(float64(ds[j])-want) <= 1e-6) { // a NaN fails too
						t.Fatalf("width %d n %d kernels %v: ds[%d] = %v, want %v", width, n, on, j, ds[j], want)
					}
				}
			}
		}
	}
}

// eachVectorPath runs test once on each vector path this processor has,
// as a subtest named by the path; it skips when there is none.
func eachVectorPath(t *testing.T, test func(t *testing.T)) {
	paths := Paths()
	if len(paths) == 1 {
		t.Skip("no vector path on this processor")
	}
	for _, p := range paths[:len(paths)-1] {
		t.Run(string(p), func(t *testing.T) {
			defer SetForTest(p)()
			test(t)
		})
	}
}

// The weights of a head at ref-gen's shape (49 rows of 64), by SoftmaxRows
// and by SoftmaxPrefix a row at a time: heads a second.
func BenchmarkSoftmaxRows(b *testing.B) {
	p := make([]float32, 49*64)
	for i := range p {
		p[i] = float32(i%13) * 0.1
	}
	b.Run("L=49/rows", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			SoftmaxRows(p, 64, 49, 1, 0.17)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heads/s")
	})
	b.Run("L=49/prefix", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range 49 {
				SoftmaxPrefix(p[i*64:(i+1)*64], i+1, 0.17)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heads/s")
	})
}
