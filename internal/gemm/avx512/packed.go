package avx512

// PackedB is a k x n matrix B stored as the kernels read it: panels of 32
// columns, each k rows of 32 contiguous floats, the last panel zero-padded.
// Packing a matrix that many products share (weights at inference) once
// saves repacking it in every product, and its panels stay contiguous in
// memory however wide B is.
type PackedB struct {
	K, N int
	Data []float32
}

// Pack packs the row-major k x n matrix b (rows ldb apart) into p, reusing
// p.Data's memory when it is large enough.
func (p *PackedB) Pack(b []float32, ldb, k, n int) {
	panels := (n + nr - 1) / nr
	size := panels * k * nr
	if cap(p.Data) < size {
		p.Data = make([]float32, size)
	}
	p.K, p.N, p.Data = k, n, p.Data[:size]
	for jp := range panels {
		panel := p.Data[jp*k*nr : (jp+1)*k*nr]
		cols := min(nr, n-jp*nr)
		for r := range k {
			dst := panel[r*nr : (r+1)*nr]
			copy(dst, b[r*ldb+jp*nr:r*ldb+jp*nr+cols])
			clear(dst[cols:])
		}
	}
}

// SgemmPacked computes columns [j0, j1) of C = A B + bias (bias added to
// every row; nil for none), then max(C, 0) if relu is set, for row-major A
// m x p.K and the packed B, on one goroutine. j0 must be a multiple of 32.
func SgemmPacked(m int, a []float32, lda int, p *PackedB, j0, j1 int, bias []float32, relu bool, c []float32, ldc int) {
	if m == 0 || j1 <= j0 {
		return
	}
	if j0%nr != 0 {
		panic("avx512: packed product starting inside a panel")
	}
	k := p.K
	if k == 0 {
		for i := range m {
			row := c[i*ldc+j0 : i*ldc+j1]
			clear(row)
			if bias != nil {
				copy(row, bias[j0:j1])
			}
			if relu {
				for j, v := range row {
					row[j] = max(v, 0)
				}
			}
		}
		return
	}
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		add := pc > 0
		var bb []float32
		if pc == 0 && bias != nil {
			bb = bias
		}
		rl := relu && pc+kb == k
		for ir := 0; ir < m; ir += mr {
			rows := min(mr, m-ir)
			kernel, ap, ld := kernelRows, (*float32)(nil), lda
			if rows < mr {
				packA(buf.a[:], false, a, lda, ir, rows, pc, kb)
				kernel, ap, ld = kernelCols, &buf.a[0], mr
			} else {
				ap = &a[ir*lda+pc]
			}
			for j := j0; j < j1; j += nr {
				cols := min(nr, j1-j)
				bp := &p.Data[(j/nr)*k*nr+pc*nr]
				off := ir*ldc + j
				if rows == mr && cols == nr {
					var bj *float32
					if bb != nil {
						bj = &bb[j]
					}
					kernel(kb, ap, ld, bp, nr, &c[off], ldc, 1, add, bj, rl)
					continue
				}
				kernel(kb, ap, ld, bp, nr, &buf.tile[0], nr, 1, false, nil, false)
				var bj []float32
				if bb != nil {
					bj = bb[j : j+cols]
				}
				finishTile(c[off:], ldc, &buf.tile, rows, cols, add, bj, rl)
			}
		}
	}
}
