package kernel

// PackedB is a k x n matrix B stored as the kernels read it: panels of 32
// columns, each k rows of 32 contiguous floats, the last panel zero-padded.
// Packing a matrix that many products share (weights at inference) once
// saves repacking it in every product, and its panels stay contiguous in
// memory however wide B is.
type PackedB struct {
	K, N  int
	Width int // columns per panel: 32 for SgemmPacked, 64 for SgemmIndirect
	Data  []float32
}

// Pack packs the row-major k x n matrix b (rows ldb apart) into p for
// SgemmPacked, reusing p.Data's memory when it is large enough.
func (p *PackedB) Pack(b []float32, ldb, k, n int) { p.pack(b, ldb, k, n, nr) }

// PackWide packs b into p for SgemmIndirect.
func (p *PackedB) PackWide(b []float32, ldb, k, n int) { p.pack(b, ldb, k, n, wn) }

func (p *PackedB) pack(b []float32, ldb, k, n, width int) {
	panels := (n + width - 1) / width
	size := panels * k * width
	if cap(p.Data) < size {
		p.Data = make([]float32, size)
	}
	p.K, p.N, p.Width, p.Data = k, n, width, p.Data[:size]
	for jp := range panels {
		panel := p.Data[jp*k*width : (jp+1)*k*width]
		cols := min(width, n-jp*width)
		for r := range k {
			dst := panel[r*width : (r+1)*width]
			copy(dst, b[r*ldb+jp*width:r*ldb+jp*width+cols])
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
	if j0%nr != 0 || p.Width != nr {
		panic("avx512: packed product starting inside a panel, or on a wide packing")
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
				packA(buf.a[:], a, lda, ir, rows, pc, kb)
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
				finishTile(c[off:], ldc, buf.tile[:], nr, rows, cols, add, bj, rl)
			}
		}
	}
}

// SgemmIndirect computes C = A B + bias (bias added to every row; nil for
// none), then max(C, 0) if relu is set, for a B packed by PackWide and an A
// whose rows lie in pieces: row r is the concatenation of segs runs of span
// contiguous floats, run s starting at rows[r*segs+s][0] (p.K = segs*span).
// A convolution passes the window rows of a padded image, so that no patch
// is copied. It runs on the calling goroutine.
func SgemmIndirect(m int, rows []*float32, segs, span int, p *PackedB, bias []float32, relu bool, c []float32, ldc int) {
	if p.Width != wn || p.K != segs*span {
		panic("avx512: indirect product on a packing of the wrong width or depth")
	}
	n := p.N
	if m == 0 || n == 0 {
		return
	}
	_ = rows[m*segs-1]
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	for s := range segs {
		add := s > 0
		var bb []float32
		if s == 0 && bias != nil {
			bb = bias
		}
		rl := relu && s == segs-1
		for ir := 0; ir < m; ir += wr {
			rs := min(wr, m-ir)
			var rp [wr]*float32
			for i := range rp { // rows past m repeat the last one; their results are dropped
				rp[i] = rows[(ir+min(i, rs-1))*segs+s]
			}
			for j := 0; j < n; j += wn {
				cols := min(wn, n-j)
				bp := &p.Data[(j/wn)*p.K*wn+s*span*wn]
				off := ir*ldc + j
				var bj []float32
				if bb != nil {
					bj = bb[j : j+cols]
				}
				if rs == wr && cols == wn {
					var bias0 *float32
					if bj != nil {
						bias0 = &bj[0]
					}
					kernelIndirect(span, &rp, bp, &c[off], ldc, add, bias0, rl)
					continue
				}
				kernelIndirect(span, &rp, bp, &buf.wide[0], wn, false, nil, false)
				finishTile(c[off:], ldc, buf.wide[:], wn, rs, cols, add, bj, rl)
			}
		}
	}
}

// SgemmGather computes rows [i0, i1) of C = A B for B packed by Pack
// (p.K x p.N) and an A (m x p.K) whose column q is the m contiguous floats
// at cols[q]: a convolution's weight gradient, A being the window rows of
// the padded image. i0 must be a multiple of 12, and the memory behind
// every cols[q] must hold 12 floats past m (the last panel reads them and
// drops the results). It runs on the calling goroutine.
func SgemmGather(i0, i1 int, cols []*float32, p *PackedB, c []float32, ldc int) {
	k, n := p.K, p.N
	if i1 <= i0 || n == 0 {
		return
	}
	if i0%mr != 0 || p.Width != nr {
		panic("avx512: gathered product starting inside a panel, or on a wide packing")
	}
	if k == 0 {
		for i := i0; i < i1; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	_ = cols[k-1]
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		add := pc > 0
		for ir := i0; ir < i1; ir += mr {
			rows := min(mr, i1-ir)
			for j := 0; j < n; j += nr {
				width := min(nr, n-j)
				bp := &p.Data[(j/nr)*k*nr+pc*nr]
				off := ir*ldc + j
				if rows == mr && width == nr {
					kernelGather(kb, &cols[pc], ir*4, bp, &c[off], ldc, add)
					continue
				}
				kernelGather(kb, &cols[pc], ir*4, bp, &buf.tile[0], nr, false)
				finishTile(c[off:], ldc, buf.tile[:], nr, rows, width, add, nil, false)
			}
		}
	}
}
