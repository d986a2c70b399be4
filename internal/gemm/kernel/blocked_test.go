package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// reference is the textbook triple loop.
func reference(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if tA {
					av = a[p*lda+i]
				}
				if tB {
					bv = b[j*ldb+p]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
		}
	}
}

func TestBlockedMatchesReference(t *testing.T) { eachVectorPath(t, testBlockedMatchesReference) }

func testBlockedMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	// Shapes that exercise full and edge tiles and every blocking loop:
	// m past mc, n past nc, k past kc, and sizes under one tile; edges of
	// rows at and past half a tile (kernelColsHalf: 64 and 18 end in 4 and
	// 6 rows, 19 in 7).
	shapes := [][3]int{{1, 1, 1}, {12, 32, 1}, {13, 33, 7}, {11, 31, 300}, {200, 70, 513}, {25, 1100, 40}, {64, 16, 128}, {18, 40, 50}, {19, 40, 50}, {5, 7, 0}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					alpha, beta := ab[0], ab[1]
					// Leading dimensions wider than the matrices.
					lda, ldb, ldc := k+3, n+2, n+5
					if ta {
						lda = m + 3
					}
					if tb {
						ldb = k + 2
					}
					a := randSlice(r, max(m, k)*lda)
					b := randSlice(r, max(n, k)*ldb)
					c0 := randSlice(r, m*ldc)
					want := append([]float32(nil), c0...)
					got := append([]float32(nil), c0...)
					reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
					Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
					for i := range m {
						for j := range ldc {
							w, g := want[i*ldc+j], got[i*ldc+j]
							if d := w - g; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
								t.Fatalf("%v tA=%v tB=%v alpha=%v beta=%v: c[%d,%d] = %v, want %v", s, ta, tb, alpha, beta, i, j, g, w)
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmSumsMatchesReference(t *testing.T) { eachVectorPath(t, testSgemmSumsMatchesReference) }

func testSgemmSumsMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	// B packed over several blocks of rows and columns (m past directRows,
	// k past skc, n past snc), read in place (few rows of A), and empty.
	for _, s := range [][3]int{{100, 530, 1100}, {97, 40, 513}, {12, 33, 70}, {200, 20, 0}} {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			lda, ldb, ldc := k+3, n+2, n+1
			if ta {
				lda = m + 3
			}
			a, b := randSlice(r, max(m, k)*lda), randSlice(r, max(k, 1)*ldb)
			want, got := make([]float32, m*ldc), make([]float32, m*ldc)
			reference(ta, false, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
			sums := randSlice(r, n) // added to, from where they stand
			wantSums := append([]float32(nil), sums...)
			for j := range n {
				for p := range k {
					wantSums[j] += b[p*ldb+j]
				}
			}
			SgemmSums(ta, m, n, k, 1, a, lda, b, ldb, 0, got, ldc, sums)
			for i := range got {
				if d := want[i] - got[i]; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
					t.Fatalf("%v tA=%v: c[%d] = %v, want %v", s, ta, i, got[i], want[i])
				}
			}
			for j := range n {
				// Rows added in order, as ColSums adds them: the same bits.
				if sums[j] != wantSums[j] {
					t.Fatalf("%v tA=%v: sums[%d] = %v, want %v", s, ta, j, sums[j], wantSums[j])
				}
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func BenchmarkBlocked(b *testing.B) {
	if !enabled {
		b.Skip("no micro-kernel on this processor")
	}
	for _, s := range [][3]int{{512, 512, 512}, {1568, 64, 1152}, {1568, 128, 1024}, {1152, 64, 3136}, {3136, 1152, 64}, {32, 768, 256}, {32, 1024, 256}, {96, 128, 1152}, {96, 64, 1152}, {96, 128, 1024}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = 1
		}
		for i := range bb {
			bb[i] = 1
		}
		flops := 2 * float64(m*n*k)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestSgemmBiasMatchesReference(t *testing.T) { eachVectorPath(t, testSgemmBiasMatchesReference) }

func testSgemmBiasMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, s := range [][3]int{{12, 32, 5}, {13, 33, 7}, {200, 70, 513}, {64, 16, 128}, {30, 40, 0}} {
		m, n, k := s[0], s[1], s[2]
		for _, relu := range []bool{false, true} {
			lda, ldb, ldc := k+1, n+3, n+2
			a, b := randSlice(r, m*lda), randSlice(r, max(k, 1)*ldb)
			bias := randSlice(r, n)
			if k > 0 {
				a[0] = float32(math.NaN()) // row 0 of C is NaN, through the ReLU too
			}
			want, got := randSlice(r, m*ldc), randSlice(r, m*ldc)
			copy(want, got)
			reference(false, false, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
			biasReLU(want, m, n, ldc, bias, relu)
			SgemmBias(m, n, k, a, lda, b, ldb, bias, relu, got, ldc)
			for i := range got {
				if want[i] != want[i] {
					if got[i] == got[i] {
						t.Fatalf("%v relu=%v: c[%d] = %v, want NaN", s, relu, i, got[i])
					}
					continue
				}
				if d := want[i] - got[i]; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
					t.Fatalf("%v relu=%v: c[%d] = %v, want %v", s, relu, i, got[i], want[i])
				}
			}
		}
	}
}

func TestSgemmPackedMatchesReference(t *testing.T) {
	eachVectorPath(t, testSgemmPackedMatchesReference)
}

func testSgemmPackedMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for _, s := range [][3]int{{12, 32, 5}, {13, 70, 7}, {64, 100, 513}, {5, 16, 0}} {
		m, n, k := s[0], s[1], s[2]
		lda, ldb, ldc := k+1, n+3, n+2
		a, b := randSlice(r, m*lda), randSlice(r, max(k, 1)*ldb)
		bias := randSlice(r, n)
		var p PackedB
		p.Pack(b, ldb, k, n)
		for _, relu := range []bool{false, true} {
			want, got := randSlice(r, m*ldc), randSlice(r, m*ldc)
			copy(want, got)
			reference(false, false, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
			biasReLU(want, m, n, ldc, bias, relu)
			// Two column ranges, split at a panel boundary.
			split := min(32, n)
			SgemmPacked(m, a, lda, &p, 0, split, bias, relu, got, ldc)
			SgemmPacked(m, a, lda, &p, split, n, bias, relu, got, ldc)
			for i := range got {
				if d := want[i] - got[i]; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
					t.Fatalf("%v relu=%v: c[%d] = %v, want %v", s, relu, i, got[i], want[i])
				}
			}
		}
	}
}

func TestSgemmIndirectMatchesReference(t *testing.T) {
	eachVectorPath(t, testSgemmIndirectMatchesReference)
}

func testSgemmIndirectMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	src := randSlice(r, 20000)
	for _, s := range [][4]int{{1, 64, 1, 5}, {6, 128, 3, 7}, {7, 16, 2, 33}, {50, 100, 3, 384}} {
		m, n, segs, span := s[0], s[1], s[2], s[3]
		k := segs * span
		// A's rows gathered from random places in src, and the same rows as a matrix.
		rows := make([]*float32, m*segs)
		a := make([]float32, m*k)
		for i := range m {
			for g := range segs {
				at := r.IntN(len(src) - span)
				rows[i*segs+g] = &src[at]
				copy(a[i*k+g*span:], src[at:at+span])
			}
		}
		b, bias := randSlice(r, k*n), randSlice(r, n)
		var p PackedB
		p.PackWide(b, n, k, n)
		for _, relu := range []bool{false, true} {
			ldc := n + 3
			want, got := randSlice(r, m*ldc), randSlice(r, m*ldc)
			copy(want, got)
			reference(false, false, m, n, k, 1, a, k, b, n, 0, want, ldc)
			biasReLU(want, m, n, ldc, bias, relu)
			SgemmIndirect(m, rows, segs, span, &p, bias, relu, got, ldc)
			for i := range got {
				if d := want[i] - got[i]; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
					t.Fatalf("%v relu=%v: c[%d] = %v, want %v", s, relu, i, got[i], want[i])
				}
			}
		}
	}
}

// biasReLU adds bias to each of the m rows of c (ldc apart), then takes
// max(., 0) if relu is set: what the fused products do after A B.
func biasReLU(c []float32, m, n, ldc int, bias []float32, relu bool) {
	for i := range m {
		for j := range n {
			v := c[i*ldc+j] + bias[j]
			if relu {
				v = max(v, 0)
			}
			c[i*ldc+j] = v
		}
	}
}

func TestSgemmGatherMatchesReference(t *testing.T) {
	eachVectorPath(t, testSgemmGatherMatchesReference)
}

func testSgemmGatherMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	src := randSlice(r, 30000)
	for _, s := range [][3]int{{12, 32, 1}, {40, 64, 300}, {384, 70, 600}, {5, 16, 3}} {
		m, n, k := s[0], s[1], s[2]
		cols := make([]*float32, k)
		a := make([]float32, m*k) // A as a matrix: column p from cols[p]
		for p := range k {
			at := r.IntN(len(src) - m - mr)
			cols[p] = &src[at]
			for i := range m {
				a[i*k+p] = src[at+i]
			}
		}
		ldb, ldc := n+1, n+2
		b := randSlice(r, k*ldb)
		want, got := randSlice(r, m*ldc), randSlice(r, m*ldc)
		copy(want, got)
		reference(false, false, m, n, k, 1, a, k, b, ldb, 0, want, ldc)
		// Two row ranges, split at a panel boundary.
		split := min(m, 2*mr)
		var pb PackedB
		pb.Pack(b, ldb, k, n)
		SgemmGather(0, split, cols, &pb, got, ldc)
		SgemmGather(split, m, cols, &pb, got, ldc)
		for i := range got {
			if d := want[i] - got[i]; d > 1e-3*float32(k+1) || d < -1e-3*float32(k+1) {
				t.Fatalf("%v: c[%d] = %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}

// packRow lays out the blocks as its loop does, and writes nothing else.
func TestPackRowMatchesLoop(t *testing.T) { eachVectorPath(t, testPackRowMatchesLoop) }

func testPackRowMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, blocks := range []int{1, 2, 5} {
		const stride = 3 * nr // floats from one block to the next in dst
		src := make([]float32, blocks*nr+7)
		for i := range src {
			src[i] = r.Float32()
		}
		got, want := make([]float32, blocks*stride), make([]float32, blocks*stride)
		for i := range got {
			got[i], want[i] = -1, -1
		}
		packRow(&got[0], &src[0], blocks, stride*4)
		packRowLoop(want, src, blocks, stride)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%d blocks: dst[%d] = %v, want %v", blocks, i, got[i], want[i])
			}
		}
	}
}

func TestPackTransMatchesLoop(t *testing.T) {
	if !haveTrans {
		t.Skip("no packTrans in this build")
	}
	eachVectorPath(t, testPackTransMatchesLoop)
}

func testPackTransMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 4))
	for _, kb := range []int{8, 64, 512} {
		ldb := kb + 5 // rows of B, floats apart
		b := make([]float32, nr*ldb)
		for i := range b {
			b[i] = r.Float32()
		}
		got, want := make([]float32, kb*nr+3), make([]float32, kb*nr+3)
		for i := range got {
			got[i], want[i] = -1, -1
		}
		packTrans(&got[0], &b[0], 4*ldb, kb)
		packTransLoop(want, b, ldb, kb, nr)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("kb %d: dst[%d] = %v, want %v", kb, i, got[i], want[i])
			}
		}
	}
}

func TestTileMatchesReference(t *testing.T) {
	eachVectorPath(t, testTileMatchesReference)
	defer SetForTest(Generic)()
	c := make([]float32, mr*nr)
	if Tile(false, 1, make([]float32, mr), 1, make([]float32, nr), nr, c, nr, false) {
		t.Error("Tile ran on the Generic path")
	}
}

func testTileMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, k := range []int{0, 1, 13, 49} {
		for _, cols := range []bool{false, true} {
			for _, add := range []bool{false, true} {
				lda, ldb, ldc := max(k, mr)+3, nr+5, nr+2
				a, b := randSlice(r, max(k, mr)*lda), randSlice(r, max(k, 1)*ldb)
				want, got := randSlice(r, mr*ldc), randSlice(r, mr*ldc)
				copy(want, got)
				beta := float32(0)
				if add {
					beta = 1
				}
				reference(cols, false, mr, nr, k, 1, a, lda, b, ldb, beta, want, ldc)
				if !Tile(cols, k, a, lda, b, ldb, got, ldc, add) {
					t.Fatal("Tile refused on a vector path")
				}
				for i := range got {
					if d := got[i] - want[i]; !(d <= 1e-4 && d >= -1e-4) {
						t.Fatalf("k %d, cols %v, add %v: c[%d] = %v, want %v", k, cols, add, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// packAT over a layer's input as a weight gradient packs it (k = 3,136
// rows, in blocks of skc): GB/s of the operand read.
func BenchmarkPackAT(b *testing.B) {
	for _, m := range []int{256, 1024} {
		const k = 3136
		x := make([]float32, m*k)
		dst := make([]float32, (m+mr-1)/mr*panelStride(skc))
		b.Run(fmt.Sprintf("%dx%d", k, m), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for p := 0; p < k; p += skc {
					packAT(dst, x, m, m, p, min(skc, k-p))
				}
			}
			b.ReportMetric(float64(4*m*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// Packing W^T (1024 x 256, as a layer's input gradient packs it) in
// 32-column panels of 256 rows: packTrans against its loop.
func BenchmarkPackTrans(b *testing.B) {
	if !haveTrans || !enabled {
		b.Skip("no packTrans in this build")
	}
	const rows, kb = 1024, 256
	w := make([]float32, rows*kb)
	dst := make([]float32, nr*kb)
	b.Run("1024x256/kernel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for j := 0; j < rows; j += nr {
				packTrans(&dst[0], &w[j*kb], 4*kb, kb)
			}
		}
		b.ReportMetric(float64(4*rows*kb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("1024x256/loop", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for j := 0; j < rows; j += nr {
				packTransLoop(dst, w[j*kb:], kb, kb, nr)
			}
		}
		b.ReportMetric(float64(4*rows*kb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}
