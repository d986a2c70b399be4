package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/internal/gemm/kernel"
)

func TestSgemmSplitMatchesSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range [][3]int{{300, 70, 33}, {70, 300, 33}, {5, 7, 3}} {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := make([]float32, m*k), make([]float32, k*n)
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
				for i := range b {
					b[i] = float32(r.NormFloat64())
				}
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				want, got := make([]float32, m*n), make([]float32, m*n)
				// Reference loop.
				for i := range m {
					for j := range n {
						var s float32
						for p := range k {
							var av, bv float32
							if ta {
								av = a[p*lda+i]
							} else {
								av = a[i*lda+p]
							}
							if tb {
								bv = b[j*ldb+p]
							} else {
								bv = b[p*ldb+j]
							}
							s += av * bv
						}
						want[i*n+j] = s
					}
				}
				Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, got, n)
				for i := range want {
					if d := want[i] - got[i]; d > 1e-3 || d < -1e-3 {
						t.Fatalf("%v tA=%v tB=%v: c[%d] = %v, want %v", s, ta, tb, i, got[i], want[i])
					}
				}
			}
		}
	}
}

var sink float32

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{512} {
		a, bb, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], bb[i] = 1, 1
		}
		b.Run(fmt.Sprintf("split/%d", n), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("serial/%d", n), func(b *testing.B) {
			for b.Loop() {
				Serial(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	sink = 1
}

func TestSgemmBiasOnEitherPath(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, kernels := range kernel.Paths() {
		restore := kernel.SetForTest(kernels)
		for _, s := range [][3]int{{300, 70, 33}, {40, 300, 33}, {5, 7, 3}} {
			m, n, k := s[0], s[1], s[2]
			a, b, bias := make([]float32, m*k), make([]float32, k*n), make([]float32, n)
			for _, x := range [][]float32{a, b, bias} {
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
			}
			want, got := make([]float32, m*n), make([]float32, m*n)
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
			for i := range want {
				want[i] = max(want[i]+bias[i%n], 0)
			}
			SgemmBias(m, n, k, a, k, b, n, bias, true, got, n)
			for i := range want {
				if d := want[i] - got[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("kernels=%v %v: c[%d] = %v, want %v", kernels, s, i, got[i], want[i])
				}
			}
		}
		restore()
	}
}

func TestWeightGradMatchesSgemmAndColSums(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	// in >= out and in < out (the two splits), rows past a block of k, and
	// few inputs (dy read in place).
	for _, s := range [][3]int{{1100, 300, 70}, {1100, 70, 300}, {600, 40, 40}, {50, 20, 33}, {30, 0, 20}} {
		rows, in, out := s[0], s[1], s[2]
		x, dy := make([]float32, rows*in), make([]float32, rows*out)
		for _, v := range [][]float32{x, dy} {
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
		}
		for _, p := range kernel.Paths() {
			restore := kernel.SetForTest(p)
			wantW, wantB := make([]float32, in*out), make([]float32, out)
			Sgemm(true, false, in, out, rows, 1, x, in, dy, out, 0, wantW, out)
			ColSums(wantB, dy, rows, out)
			gotW, gotB := make([]float32, in*out), make([]float32, out)
			for i := range gotB {
				gotB[i] = float32(i) + 0.5 // overwritten, not added to
			}
			WeightGrad(gotW, gotB, x, dy, rows, in, out)
			restore()
			for i := range wantW {
				if math.Float32bits(gotW[i]) != math.Float32bits(wantW[i]) {
					t.Fatalf("%v %v: dw[%d] = %v, want Sgemm's %v", p, s, i, gotW[i], wantW[i])
				}
			}
			for j := range wantB {
				if math.Float32bits(gotB[j]) != math.Float32bits(wantB[j]) {
					t.Fatalf("%v %v: db[%d] = %v, want ColSums's %v", p, s, j, gotB[j], wantB[j])
				}
			}
		}
	}
}

func TestPackedMatchesSgemmBias(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, kernels := range kernel.Paths() {
		restore := kernel.SetForTest(kernels)
		for _, s := range [][3]int{{300, 70, 33}, {64, 300, 257}, {5, 7, 3}} {
			m, n, k := s[0], s[1], s[2]
			a, b, bias := make([]float32, m*k), make([]float32, k*n), make([]float32, n)
			for _, x := range [][]float32{a, b, bias} {
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
			}
			want, got, serial := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
			SgemmBias(m, n, k, a, k, b, n, bias, true, want, n)
			var p Packed
			p.Pack(b, n, k, n)
			p.MulBias(m, a, k, bias, true, got, n)
			p.SerialBias(m, a, k, bias, true, serial, n)
			for i := range want {
				if d := want[i] - got[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("kernels=%v %v: MulBias c[%d] = %v, want %v", kernels, s, i, got[i], want[i])
				}
				if d := want[i] - serial[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("kernels=%v %v: SerialBias c[%d] = %v, want %v", kernels, s, i, serial[i], want[i])
				}
			}
		}
		restore()
	}
}

// The three products of a linear layer of ref-gen at batch 64 (3136 rows):
// forward x W, the input gradient dY W^T and the weight gradient x^T dY, for
// the MLP's two shapes.
func BenchmarkLinear(b *testing.B) {
	const n = 3136
	for _, s := range [][2]int{{256, 1024}, {1024, 256}, {256, 768}, {256, 256}, {256, 512}} {
		in, out := s[0], s[1]
		x, w, dy := make([]float32, n*in), make([]float32, in*out), make([]float32, n*out)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		for i := range w {
			w[i] = float32(i%5) - 2
		}
		for i := range dy {
			dy[i] = float32(i%3) - 1
		}
		dx, dw, y := make([]float32, n*in), make([]float32, in*out), make([]float32, n*out)
		flops := 2 * float64(n*in*out)
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(fmt.Sprintf("forward/%dx%d", in, out), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, n, out, in, 1, x, in, w, out, 0, y, out)
			}
			report(b)
		})
		b.Run(fmt.Sprintf("forward-pieces/%dx%d", in, out), func(b *testing.B) { // as nn.MatMul: pieces claimed as CPUs come free
			for b.Loop() {
				ForRows(n, 32, func(lo, hi int) {
					SerialBias(hi-lo, out, in, x[lo*in:], in, w, out, nil, false, y[lo*out:], out)
				})
			}
			report(b)
		})
		b.Run(fmt.Sprintf("dx/%dx%d", in, out), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, true, n, in, out, 1, dy, out, w, out, 0, dx, in)
			}
			report(b)
		})
		b.Run(fmt.Sprintf("dw/%dx%d", in, out), func(b *testing.B) {
			for b.Loop() {
				Sgemm(true, false, in, out, n, 1, x, in, dy, out, 0, dw, out)
			}
			report(b)
		})
		b.Run(fmt.Sprintf("dw+db/%dx%d", in, out), func(b *testing.B) { // as nn.MatMul: with the bias gradient
			db := make([]float32, out)
			for b.Loop() {
				WeightGrad(dw, db, x, dy, n, in, out)
			}
			report(b)
		})
	}
}
