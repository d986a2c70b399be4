package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/internal/gemm/kernel"
)

// For cuts a product's rows or columns anywhere on the vector paths (par.For's
// pieces are finer than the split's ranges): there a product computed piece
// by piece has the bits of the product computed whole. (The BLAS of the
// Generic path does not: there For keeps the split's ranges.)
func TestProductPiecesKeepTheBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	// cuts returns the piece boundaries of [0, n): 0, a few random ones, n.
	cuts := func(n int) []int {
		c := []int{0}
		for c[len(c)-1] < n {
			c = append(c, min(n, c[len(c)-1]+1+r.IntN(max(1, n/3))))
		}
		return c
	}
	same := func(t *testing.T, what string, want, got []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
				t.Fatalf("%s: c[%d] = %v in pieces, %v whole", what, i, got[i], want[i])
			}
		}
	}
	for _, p := range kernel.Paths() {
		if p == kernel.Generic {
			continue
		}
		restore := kernel.SetForTest(p)
		for _, s := range [][3]int{{300, 70, 33}, {70, 300, 600}, {130, 45, 1100}, {5, 7, 3}} {
			m, n, k := s[0], s[1], s[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					what := fmt.Sprintf("%v %v tA=%v tB=%v", p, s, ta, tb)
					a, b := fill(m*k), fill(k*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					for _, alpha := range []float32{1, -2} {
						want := make([]float32, m*n)
						Serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, 0, want, n)
						got := make([]float32, m*n)
						c := cuts(m)
						for i := 1; i < len(c); i++ {
							lo, hi := c[i-1], c[i]
							aOff := lo * lda
							if ta {
								aOff = lo
							}
							Serial(ta, tb, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, 0, got[lo*n:], n)
						}
						same(t, what+" rows", want, got)
						got = make([]float32, m*n)
						c = cuts(n)
						for i := 1; i < len(c); i++ {
							lo, hi := c[i-1], c[i]
							bOff := lo
							if tb {
								bOff = lo * ldb
							}
							Serial(ta, tb, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, 0, got[lo:], n)
						}
						same(t, fmt.Sprintf("%s alpha=%v columns", what, alpha), want, got)
					}
				}
			}
			a, b, bias := fill(m*k), fill(k*n), fill(n)
			want, got := make([]float32, m*n), make([]float32, m*n)
			SerialBias(m, n, k, a, k, b, n, bias, true, want, n)
			c := cuts(m)
			for i := 1; i < len(c); i++ {
				lo, hi := c[i-1], c[i]
				SerialBias(hi-lo, n, k, a[lo*k:], k, b, n, bias, true, got[lo*n:], n)
			}
			same(t, fmt.Sprintf("%v %v SerialBias rows", p, s), want, got)
			got = make([]float32, m*n)
			c = cuts(n)
			for i := 1; i < len(c); i++ {
				lo, hi := c[i-1], c[i]
				SerialBias(m, hi-lo, k, a, k, b[lo:], n, bias[lo:hi], true, got[lo:], n)
			}
			same(t, fmt.Sprintf("%v %v SerialBias columns", p, s), want, got)
			var pk Packed
			pk.Pack(b, n, k, n)
			want, got = make([]float32, m*n), make([]float32, m*n)
			pk.SerialBias(m, a, k, bias, true, want, n)
			c = cuts(m)
			for i := 1; i < len(c); i++ {
				lo, hi := c[i-1], c[i]
				pk.SerialBias(hi-lo, a[lo*k:], k, bias, true, got[lo*n:], n)
			}
			same(t, fmt.Sprintf("%v %v Packed rows", p, s), want, got)
		}
		restore()
	}
}

// tiles cuts [0, n) into pieces that start at multiples of the unit and
// cover every item once.
func TestTilesCoverAtMultiples(t *testing.T) {
	serialLoop := func(n, grain int, f func(lo, hi int)) { // the pieces par.For would cut, in order
		pieces := max(min(8, n/grain), 1)
		for i := range pieces {
			f(i*n/pieces, (i+1)*n/pieces)
		}
	}
	for _, c := range [][3]int{{3136, 32, 12}, {1024, 64, 12}, {768, 64, 32}, {5, 32, 12}, {12, 1, 12}, {100, 200, 32}} {
		n, grain, unit := c[0], c[1], c[2]
		next := 0
		tiles(n, grain, unit, serialLoop, func(lo, hi int) {
			if lo != next || lo%unit != 0 || hi <= lo {
				t.Errorf("n %d unit %d: piece [%d, %d) after %d: want a start at %d, a multiple of %d", n, unit, lo, hi, next, next, unit)
			}
			next = hi
		})
		if next != n {
			t.Errorf("n %d unit %d: pieces end at %d", n, unit, next)
		}
	}
}
