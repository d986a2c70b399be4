package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRowsMatchLoops(t *testing.T) { eachVectorPath(t, testRowsMatchLoops) }

func testRowsMatchLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, dh := range []int{16, 32, 64} {
		for _, n := range []int{0, 1, 2, 3, 7, 50} {
			stride := 3*dh + 5
			q, k := randSlice(r, dh), randSlice(r, max(n, 1)*stride)
			got, want := make([]float32, n+1), make([]float32, n+1)
			if !DotRows(got, q, k, stride, n, 0.5) {
				t.Fatalf("DotRows refused dh=%d", dh)
			}
			for j := range n {
				var s float32
				for c := range dh {
					s += q[c] * k[j*stride+c]
				}
				want[j] = 0.5 * s
			}
			for j := range want {
				if d := want[j] - got[j]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("DotRows dh=%d n=%d: out[%d] = %v, want %v", dh, n, j, got[j], want[j])
				}
			}
			p := randSlice(r, n)
			out, ref := randSlice(r, dh), make([]float32, dh)
			if !AxpyRows(out, p, k, stride) {
				t.Fatalf("AxpyRows refused dh=%d", dh)
			}
			for j := range n {
				for c := range dh {
					ref[c] += p[j] * k[j*stride+c]
				}
			}
			for c := range ref {
				if d := ref[c] - out[c]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("AxpyRows dh=%d n=%d: out[%d] = %v, want %v", dh, n, c, out[c], ref[c])
				}
			}
		}
	}
	if DotRows(make([]float32, 2), make([]float32, 24), make([]float32, 48), 24, 2, 1) {
		t.Error("DotRows accepted a head size that is not a multiple of 16")
	}
}

func TestArgminMatchesLoop(t *testing.T) { eachVectorPath(t, testArgminMatchesLoop) }

func testArgminMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 7, 16, 48, 512} {
		for trial := range 20 {
			x := randSlice(r, n)
			if trial%4 == 1 && n > 3 { // ties: the first must win
				x[n-1], x[n/2] = -9, -9
			}
			nan := float32(math.NaN())
			switch {
			case trial%4 == 2: // NaNs are never chosen over numbers
				for i := 0; i < n; i += 3 {
					x[i] = nan
				}
			case trial%4 == 3 && n >= 32: // a lane's first element, or all of the first 16
				for i := range 16 {
					x[i] = nan
				}
			}
			want, wantV := 0, x[0]
			for i, v := range x {
				if v < wantV || wantV != wantV {
					want, wantV = i, v
				}
			}
			got, gotV := Argmin(x)
			if got != want || gotV != wantV && !(gotV != gotV && wantV != wantV) {
				t.Fatalf("n=%d trial %d: Argmin = %d (%v), want %d (%v)", n, trial, got, gotV, want, wantV)
			}
		}
	}
}

func TestReLU(t *testing.T) { eachVectorPath(t, testReLU) }

func testReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	for _, n := range []int{0, 5, 16, 37, 256} {
		src := randSlice(r, n)
		dst := make([]float32, n)
		ReLU(dst, src)
		for i, v := range src {
			if dst[i] != max(v, 0) {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], max(v, 0))
			}
		}
		ReLU(src, src) // in place
		for i := range src {
			if src[i] != dst[i] {
				t.Fatalf("n=%d in place: %v, want %v", n, src[i], dst[i])
			}
		}
	}
}

func TestAdd(t *testing.T) { eachVectorPath(t, testAdd) }

func testAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for _, n := range []int{0, 5, 16, 37, 256} {
		a, b := randSlice(r, n), randSlice(r, n)
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		check := func(what string, got []float32) {
			t.Helper()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("n=%d %s: [%d] = %v, want %v", n, what, i, got[i], want[i])
				}
			}
		}
		dst := randSlice(r, n)
		Add(dst, a, b)
		check("dst", dst)
		a2, b2 := append([]float32(nil), a...), append([]float32(nil), b...)
		Add(a2, a2, b)
		check("into a", a2)
		Add(b2, a, b2)
		check("into b", b2)
	}
}

func TestMaskPositive(t *testing.T) { eachVectorPath(t, testMaskPositive) }

func testMaskPositive(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for _, n := range []int{0, 5, 16, 37, 256} {
		src, ref := randSlice(r, n), randSlice(r, n)
		if n > 3 {
			ref[2] = 0 // zero is not positive
		}
		dst := randSlice(r, n)
		MaskPositive(dst, src, ref)
		for i := range src {
			want := float32(0)
			if ref[i] > 0 {
				want = src[i]
			}
			if dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
	}
}
