package nn

import (
	"fmt"
	"math"
	"sync"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// CausalAttention is multi-head scaled dot-product attention in which
// position i attends to positions 0..i. Input qkv [B*L, 3D] holds the
// queries, keys and values side by side (head h at columns h*Dh of each);
// output [B*L, D]:
//
//	P = softmax(Q_h K_h^T / sqrt(Dh) + causal mask);  O_h = P V_h
//
// Where the vector kernels run, each head covers its causal half only. The
// forward runs by rows (gemm.FastRows, heads of a multiple of 16): each
// score row an axpy over the transposed keys, then the head's softmax
// (gemm.SoftmaxRows), then each output row an axpy over the values. The
// backward's four products run as micro-kernel tiles (gemm.Tile, heads of a
// multiple of gemm.TileCols), each reading its operands where they lie.
// Elsewhere each head is small products.
type CausalAttention struct {
	Batch, Len, Heads int

	p []float32 // attention weights of the last forward, [B, H, L, stride(L)]
}

var _ Kernel = (*CausalAttention)(nil)

// The tile of gemm.Tile.
const tr, tc = gemm.TileRows, gemm.TileCols

// stride is the row length of a head's weights: L rounded up to whole
// tiles of rows and then of columns, so that a row kernel may write a whole
// number of vectors, a tile of dP whole columns, and a tile of dV or dK
// read the columns of its rows past L (zero) within the row.
func stride(l int) int {
	return (rowsPadded(l) + tc - 1) / tc * tc
}

// rowsPadded is l rounded up to whole tiles of rows: the rows of the
// backward's scratch, so that a tile may read and write its rows past l.
func rowsPadded(l int) int { return (l + tr - 1) / tr * tr }

// tstride is the row length of a transposed matrix written column by
// column: stride(l) plus a vector, so that its columns do not fall into a
// few sets of the L1 cache as rows 256 bytes apart would (a precaution: the
// difference was within the benchmark's noise).
func tstride(l int) int { return stride(l) + 16 }

func (a *CausalAttention) Name() string { return fmt.Sprintf("attention/h%d", a.Heads) }

func (a *CausalAttention) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 || in[0].Dims() != 2 || in[0][0] != a.Batch*a.Len || in[0][1]%(3*a.Heads) != 0 {
		return nil, shapeError(a, "inputs %v: want qkv [%d %d*heads*Dh]", in, a.Batch*a.Len, 3)
	}
	return tensor.Shape{in[0][0], in[0][1] / 3}, nil
}

// head is one (batch, head) pair's view of the inputs, weights and outputs.
type head struct {
	l, dh, ld int       // positions, head size, row stride of q, k, v
	q, k, v   []float32 // row i at [i*ld : i*ld+dh]
	p         []float32 // [l][stride(l)]
}

// head returns head hd of one batch element whose qkv rows are blk, with
// the weights p.
func (a *CausalAttention) head(blk []float32, hd, d int, p []float32) head {
	dh := d / a.Heads
	base := hd * dh
	return head{l: a.Len, dh: dh, ld: 3 * d, q: blk[base:], k: blk[base+d:], v: blk[base+2*d:], p: p}
}

// weights returns the weights of head hd of batch element b.
func (a *CausalAttention) weights(b, hd int) []float32 {
	n := a.Len * stride(a.Len)
	i := b*a.Heads + hd
	return a.p[i*n : (i+1)*n]
}

// Forward and Backward copy each batch element's rows into scratch before
// its heads run, and its results out after: one sequential pass over
// memory, where a head's rows 3D floats apart would wait on memory a cache
// line at a time (twice the time, measured).
func (a *CausalAttention) Forward(out []float32, in []*tensor.Dense) {
	qkv := in[0].Float32s()
	l, h := a.Len, a.Heads
	d := in[0].Shape()[1] / 3
	dh := d / h
	lp := stride(l)
	scale := float32(1 / math.Sqrt(float64(dh)))
	a.p = grow(a.p, a.Batch*h*l*lp)
	fast := gemm.FastRows() && dh%16 == 0
	par.For(a.Batch, 1, func(lo, hi int) {
		sc := scratchPool.Get().(*scratch)
		defer scratchPool.Put(sc)
		blk, kt := sc.get(0, l*3*d), sc.get(1, dh*tstride(l))
		for b := lo; b < hi; b++ {
			copy(blk, qkv[b*l*3*d:(b+1)*l*3*d])
			for hd := range h {
				hv := a.head(blk, hd, d, a.weights(b, hd))
				o := out[b*l*d+hd*dh:]
				if fast {
					hv.forwardRows(o, d, scale, kt)
					continue
				}
				gemm.Serial(false, true, l, l, dh, 1, hv.q, hv.ld, hv.k, hv.ld, 0, hv.p, lp)
				for i := range l {
					gemm.SoftmaxPrefix(hv.p[i*lp:(i+1)*lp], i+1, scale)
				}
				gemm.Serial(false, false, l, dh, l, 1, hv.p, lp, hv.v, hv.ld, 0, o, d)
			}
		}
	})
}

// forwardRows computes the head's weights and its output o (rows ldo
// apart) row by row; kt is scratch of dh * tstride(l).
func (hv head) forwardRows(o []float32, ldo int, scale float32, kt []float32) {
	l, dh, lp, lt := hv.l, hv.dh, stride(hv.l), tstride(hv.l)
	transpose(kt, lt, hv.k, hv.ld, l, dh)
	for i := range l {
		gemm.AxpyRows(hv.p[i*lp:i*lp+(i+16)&^15], hv.q[i*hv.ld:i*hv.ld+dh], kt, lt)
	}
	gemm.SoftmaxRows(hv.p, lp, l, 1, scale)
	for i := range l {
		gemm.AxpyRows(o[i*ldo:i*ldo+dh], hv.p[i*lp:i*lp+i+1], hv.v, hv.ld)
	}
}

// transpose writes the rows x cols matrix src (rows lds apart) into dst as
// cols x rows (rows ldd apart), leaving dst's columns past rows as they are.
func transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	i := 0
	for ; i+4 <= rows; i += 4 { // four rows at a time: four floats side by side in each row of dst
		s0 := src[i*lds : i*lds+cols]
		s1 := src[(i+1)*lds:][:len(s0)]
		s2 := src[(i+2)*lds:][:len(s0)]
		s3 := src[(i+3)*lds:][:len(s0)]
		for c, v := range s0 {
			d := dst[c*ldd+i:][:4]
			d[0], d[1], d[2], d[3] = v, s1[c], s2[c], s3[c]
		}
	}
	for ; i < rows; i++ {
		s := src[i*lds : i*lds+cols]
		for c, v := range s {
			dst[c*ldd+i] = v
		}
	}
}

func (a *CausalAttention) Backward(_ int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	qkv := in[0].Float32s()
	l, h := a.Len, a.Heads
	d := in[0].Shape()[1] / 3
	dh := d / h
	lp := stride(l)
	scale := float32(1 / math.Sqrt(float64(dh)))
	tiles := gemm.FastRows() && dh%tc == 0
	par.For(a.Batch, 1, func(lo, hi int) {
		sc := scratchPool.Get().(*scratch)
		defer scratchPool.Put(sc)
		// blk's rows are read by the tiles of dK, which stop at row l;
		// dob's and ds's past l by the last tiles of dP and dQ, whose rows
		// past l are not kept.
		blk, dob := sc.get(0, l*3*d), sc.get(1, rowsPadded(l)*d)
		ds := sc.get(2, rowsPadded(l)*lp) // dP, then dS, of one head
		vt, edge := sc.get(3, dh*tstride(l)), sc.get(4, tr*tc)
		for b := lo; b < hi; b++ {
			copy(blk, qkv[b*l*3*d:(b+1)*l*3*d])
			copy(dob, dOut[b*l*d:(b+1)*l*d])
			for hd := range h {
				hv := a.head(blk, hd, d, a.weights(b, hd))
				g := a.head(dst[b*l*3*d:], hd, d, nil) // dq, dk, dv where q, k, v are
				do := dob[hd*dh:]
				if tiles {
					hv.backwardTiles(g, do, d, scale, ds, vt, edge)
					continue
				}
				// dV = P^T dO; dP = dO V^T
				gemm.Serial(true, false, l, dh, l, 1, hv.p, lp, do, d, 0, g.v, g.ld)
				gemm.Serial(false, true, l, l, dh, 1, do, d, hv.v, hv.ld, 0, ds, lp)
				gemm.SoftmaxGradRows(hv.p, ds, lp, l, 1, scale)
				// dQ = dS K; dK = dS^T Q
				gemm.Serial(false, false, l, dh, l, 1, ds, lp, hv.k, hv.ld, 0, g.q, g.ld)
				gemm.Serial(true, false, l, dh, l, 1, ds, lp, hv.q, hv.ld, 0, g.k, g.ld)
			}
		}
	})
}

// backwardTiles writes the head's input gradients into g, given the output
// gradient do (rows ldo apart, rowsPadded(l) of them), as micro-kernel
// tiles over the causal half: ds is scratch of rowsPadded(l) * stride(l),
// vt of dh * tstride(l), edge of tr * tc. A tile of rows past l computes
// them in edge and keeps the rows up to l.
func (hv head) backwardTiles(g head, do []float32, ldo int, scale float32, ds, vt, edge []float32) {
	l, dh, lp, lt := hv.l, hv.dh, stride(hv.l), tstride(hv.l)
	transpose(vt, lt, hv.v, hv.ld, l, dh)
	// dP = dO V^T in the column tiles that reach the diagonal, then dS
	// (zero past the diagonal).
	for i0 := 0; i0 < l; i0 += tr {
		for j0 := 0; j0 < min(i0+tr, l); j0 += tc {
			gemm.Tile(false, dh, do[i0*ldo:], ldo, vt[j0:], lt, ds[i0*lp+j0:], lp, false)
		}
	}
	gemm.SoftmaxGradRows(hv.p, ds, lp, l, 1, scale)
	// dQ = dS K: rows i0.. sum over j up to their last row.
	for i0 := 0; i0 < l; i0 += tr {
		rows := min(tr, l-i0)
		for c0 := 0; c0 < dh; c0 += tc {
			tile(false, i0+rows, ds[i0*lp:], lp, hv.k[c0:], hv.ld, g.q[i0*g.ld+c0:], g.ld, rows, edge)
		}
	}
	// dV = P^T dO and dK = dS^T Q: rows j0.. sum over i from j0, their
	// A the columns j0.. of P and dS (column-major, read in place).
	for j0 := 0; j0 < l; j0 += tr {
		rows := min(tr, l-j0)
		for c0 := 0; c0 < dh; c0 += tc {
			tile(true, l-j0, hv.p[j0*lp+j0:], lp, do[j0*ldo+c0:], ldo, g.v[j0*g.ld+c0:], g.ld, rows, edge)
			tile(true, l-j0, ds[j0*lp+j0:], lp, hv.q[j0*hv.ld+c0:], hv.ld, g.k[j0*g.ld+c0:], g.ld, rows, edge)
		}
	}
}

// tile is gemm.Tile into c (rows ldc apart) of which only the first rows
// are kept: through edge (tr * tc) when rows < tr.
func tile(cols bool, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, rows int, edge []float32) {
	if rows == tr {
		gemm.Tile(cols, k, a, lda, b, ldb, c, ldc, false)
		return
	}
	gemm.Tile(cols, k, a, lda, b, ldb, edge, tc, false)
	for i := range rows {
		copy(c[i*ldc:i*ldc+tc], edge[i*tc:(i+1)*tc])
	}
}

func (a *CausalAttention) Differentiable(int) []bool { return []bool{true} }

// scratch is one goroutine's buffers for attention, kept between calls.
type scratch struct{ bufs [5][]float32 }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// get returns buffer i resized to n floats, its contents undefined.
func (s *scratch) get(i, n int) []float32 {
	s.bufs[i] = grow(s.bufs[i], n)
	return s.bufs[i]
}

// AttendTo computes the attention output of one query per row over cached
// keys and values, for every head, as CausalAttention does at position t:
// q [D] for the new position, keys and values [t+1, D] rows 0..t of a cache
// whose rows are stride floats apart; out [D]. scores is scratch of at
// least t+1 (the vector kernel runs when it holds t+1 rounded up to 16).
func AttendTo(out, q, keys, values []float32, t, stride, heads int, scores []float32) {
	d := len(q)
	dh := d / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	n := t + 1
	row := scores[:min(len(scores), (n+15)&^15)]
	for h := range heads {
		// scores = K_h q_h * scale; out_h = V_h^T softmax(scores)
		gemm.DotRows(scores[:n], q[h*dh:(h+1)*dh], keys[h*dh:], stride, n, scale)
		gemm.SoftmaxPrefix(row, n, 1)
		gemm.AxpyRows(out[h*dh:(h+1)*dh], scores[:n], values[h*dh:], stride)
	}
}
