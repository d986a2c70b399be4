package codebook

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/gemm"
)

// Codebook is a table of K codes of dimension D.
type Codebook struct {
	CodebookSize int // K
	D            int
	// E holds the codes: code k is E[k*D : (k+1)*D]. It may alias a model
	// parameter's storage, so that gradient steps and EMA updates move the
	// same numbers.
	E []float32
	// Normalized keeps every code at unit l2 norm (cosine codebooks).
	Normalized bool

	Decay       float64   // EMA decay of the cluster sizes and sums, e.g. 0.99
	Eps         float64   // Laplace smoothing of the cluster sizes, e.g. 1e-5
	ClusterSize []float32 // EMA cluster sizes N_k: how many vectors code k has drawn, decayed
	Sum         []float32 // EMA sums m_k, [K, D]

	norms []float32 // ||e_k||^2
	et    []float32 // -2 E^T, [D, K]
	dots  []float32 // scratch for the search, [N, K]
}

// CheckSize is the one check of a codebook size K, for the codebook, the
// tokenizer's config and the generator's: 2 to 65,536 codes.
func CheckSize(k int) error {
	if k < 2 || k > 1<<16 {
		return fmt.Errorf("codebook: codebook size %d: want 2 to 65536 codes", k)
	}
	return nil
}

// New returns a codebook with codes drawn from U(-1/K, 1/K) (as the original
// VQ-VAE), EMA decay 0.99 and eps 1e-5.
func New(k, d int, r *rand.Rand) (*Codebook, error) {
	if err := CheckSize(k); err != nil {
		return nil, err
	}
	if d < 1 || d > 4096 {
		return nil, fmt.Errorf("codebook: code dimension %d: want a number in [1, 4096]", d)
	}
	c := &Codebook{CodebookSize: k, D: d, E: make([]float32, k*d), Decay: 0.99, Eps: 1e-5,
		ClusterSize: make([]float32, k), Sum: make([]float32, k*d)}
	for i := range c.E {
		c.E[i] = float32((2*r.Float64() - 1) / float64(k))
	}
	c.resetEMA()
	return c, nil
}

// FromCodes returns the codebook of the k codes of dimension d in e (code i
// is e[i*d : (i+1)*d]), which it keeps: a codebook trained elsewhere, to
// measure and search. Its EMA state is empty; it is not for training.
func FromCodes(e []float32, k, d int) (*Codebook, error) {
	if err := CheckSize(k); err != nil {
		return nil, err
	}
	if d < 1 || d > 4096 {
		return nil, fmt.Errorf("codebook: code dimension %d: want a number in [1, 4096]", d)
	}
	if len(e) != k*d {
		return nil, fmt.Errorf("codebook: %d values for %d codes of dimension %d: want %d", len(e), k, d, k*d)
	}
	for i, v := range e {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("codebook: code %d, component %d is %v: want finite values", i/d, i%d, v)
		}
	}
	return &Codebook{CodebookSize: k, D: d, E: e}, nil
}

// resetEMA sets the cluster sizes to 1 and the sums to the codes, so that the EMA starts
// from the current codes.
func (c *Codebook) resetEMA() {
	for k := range c.ClusterSize {
		c.ClusterSize[k] = 1
	}
	copy(c.Sum, c.E)
}

// Code returns code k.
func (c *Codebook) Code(k int) []float32 { return c.E[k*c.D : (k+1)*c.D] }

// NearestTo writes into dst the index of the code nearest to each of the
// len(dst) vectors in z ([N, D]), and into dist, when not nil, the squared
// distance to it.
func (c *Codebook) NearestTo(dst []int32, dist []float32, z []float32) {
	n, k, d := len(dst), c.CodebookSize, c.D
	if len(z) != n*d || dist != nil && len(dist) != n {
		panic("codebook: NearestTo: length mismatch")
	}
	// dots[i, j] = ||e_j||^2 - 2 z_i . e_j, ||z_i||^2 short of the squared
	// distance: one GEMM with -2 E^T as B and the norms as its bias.
	c.norms = grow(c.norms, k)
	c.et = grow(c.et, d*k)
	for j := range k {
		var s float32
		for t, v := range c.Code(j) {
			s += v * v
			c.et[t*k+j] = -2 * v
		}
		c.norms[j] = s
	}
	c.dots = grow(c.dots, n*k)
	// Chunks of rows: each is one GEMM and an argmin, on its own CPU.
	gemm.ForRows(n, 64, func(lo, hi int) {
		dots := c.dots[lo*k : hi*k]
		gemm.SerialBias(hi-lo, k, d, z[lo*d:], d, c.et, k, c.norms, false, dots, k)
		for i := lo; i < hi; i++ {
			best, bestD := gemm.Argmin(dots[(i-lo)*k : (i-lo+1)*k])
			dst[i] = int32(best)
			if dist != nil {
				var zz float32
				for _, v := range z[i*d : (i+1)*d] {
					zz += v * v
				}
				dist[i] = max(0, bestD+zz)
			}
		}
	})
}

// UpdateEMA moves the codes toward the mean of the vectors z ([N, D])
// assigned to them by idx.
func (c *Codebook) UpdateEMA(z []float32, idx []int32) {
	k, d := c.CodebookSize, c.D
	counts := make([]float32, k)
	sums := make([]float32, k*d)
	for i, j := range idx {
		counts[j]++
		s := sums[int(j)*d : (int(j)+1)*d]
		for t, v := range z[i*d : (i+1)*d] {
			s[t] += v
		}
	}
	a := float32(c.Decay)
	var total float64
	for j := range k {
		c.ClusterSize[j] = a*c.ClusterSize[j] + (1-a)*counts[j]
		total += float64(c.ClusterSize[j])
	}
	for i := range c.Sum {
		c.Sum[i] = a*c.Sum[i] + (1-a)*sums[i]
	}
	for j := range k {
		smoothed := (float64(c.ClusterSize[j]) + c.Eps) / (total + float64(k)*c.Eps) * total
		e, s := c.Code(j), c.Sum[j*d:(j+1)*d]
		for t := range e {
			e[t] = float32(float64(s[t]) / smoothed)
		}
	}
	if c.Normalized {
		c.Normalize()
	}
}

// CountUsage adds the assignments to the EMA cluster sizes without moving
// codes: codebooks trained by gradient use it to find dead codes.
func (c *Codebook) CountUsage(idx []int32) {
	counts := make([]float32, c.CodebookSize)
	for _, j := range idx {
		counts[j]++
	}
	a := float32(c.Decay)
	for j := range counts {
		c.ClusterSize[j] = a*c.ClusterSize[j] + (1-a)*counts[j]
	}
}

// RestartDead re-seeds every code whose EMA cluster size fell under threshold
// with a vector drawn from z ([N, D]), and returns how many it re-seeded.
func (c *Codebook) RestartDead(z []float32, threshold float64, r *rand.Rand) int {
	n := len(z) / c.D
	if n == 0 {
		return 0
	}
	restarted := 0
	for j := range c.CodebookSize {
		if float64(c.ClusterSize[j]) >= threshold {
			continue
		}
		src := z[r.IntN(n)*c.D:]
		e := c.Code(j)
		copy(e, src[:c.D])
		if c.Normalized {
			normalize(e)
		}
		c.ClusterSize[j] = float32(threshold)
		s := c.Sum[j*c.D : (j+1)*c.D]
		for t, v := range e {
			s[t] = v * float32(threshold)
		}
		restarted++
	}
	return restarted
}

// InitKMeans sets the codes by k-means++ seeding on z ([N, D], N >= K)
// followed by iters Lloyd iterations, and restarts the EMA from them.
func (c *Codebook) InitKMeans(z []float32, iters int, r *rand.Rand) error {
	n, d, k := len(z)/c.D, c.D, c.CodebookSize
	if n < k {
		return fmt.Errorf("codebook: k-means over %d vectors: want at least %d (the codebook size)", n, k)
	}
	// k-means++: each new center is drawn with probability proportional to
	// the squared distance to the nearest center so far.
	near := make([]float64, n)
	for i := range near {
		near[i] = math.Inf(1)
	}
	first := r.IntN(n)
	copy(c.Code(0), z[first*d:(first+1)*d])
	for j := 1; j < k; j++ {
		prev := c.Code(j - 1)
		var total float64
		for i := range n {
			var s float64
			for t, v := range z[i*d : (i+1)*d] {
				diff := float64(v - prev[t])
				s += diff * diff
			}
			near[i] = math.Min(near[i], s)
			total += near[i]
		}
		pick := r.IntN(n)
		if total > 0 {
			u := r.Float64() * total
			for i, w := range near {
				if u -= w; u <= 0 {
					pick = i
					break
				}
			}
		}
		copy(c.Code(j), z[pick*d:(pick+1)*d])
	}
	idx := make([]int32, n)
	sums := make([]float64, k*d)
	counts := make([]int, k)
	for range iters {
		c.NearestTo(idx, nil, z)
		clear(sums)
		clear(counts)
		for i, j := range idx {
			counts[j]++
			for t, v := range z[i*d : (i+1)*d] {
				sums[int(j)*d+t] += float64(v)
			}
		}
		for j := range k {
			if counts[j] == 0 {
				continue // keep an empty center where it is
			}
			e := c.Code(j)
			for t := range e {
				e[t] = float32(sums[j*d+t] / float64(counts[j]))
			}
		}
	}
	if c.Normalized {
		c.Normalize()
	}
	c.resetEMA()
	return nil
}

// Normalize scales every code to unit l2 norm.
func (c *Codebook) Normalize() {
	for j := range c.CodebookSize {
		normalize(c.Code(j))
	}
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// Distance returns the distance between codes of the given kind, for DIST2
// target tables.
func (c *Codebook) Distance(kind dist2.VectorKind) (*dist2.Vectors, error) {
	return dist2.NewVectors(c.E, c.D, kind)
}

// Neighbors returns the n codes nearest to code x (excluding x), nearest
// first, and the n farthest, farthest first, with their distances.
func (c *Codebook) Neighbors(x, n int, kind dist2.VectorKind) (near, far []int, nearD, farD []float32, err error) {
	if x < 0 || x >= c.CodebookSize {
		return nil, nil, nil, nil, fmt.Errorf("codebook: token %d: want a code in [0, %d)", x, c.CodebookSize)
	}
	if n < 1 || n > c.CodebookSize-1 {
		return nil, nil, nil, nil, fmt.Errorf("codebook: %d neighbours: want a number in [1, %d]", n, c.CodebookSize-1)
	}
	d, err := c.Distance(kind)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	row := make([]float32, c.CodebookSize)
	d.RowTo(row, x)
	order := make([]int, 0, c.CodebookSize-1)
	for j := range c.CodebookSize {
		if j != x {
			order = append(order, j)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case row[a] < row[b]:
			return -1
		case row[a] > row[b]:
			return 1
		}
		return 0
	})
	near = slices.Clone(order[:n])
	far = slices.Clone(order[len(order)-n:])
	slices.Reverse(far)
	for _, j := range near {
		nearD = append(nearD, row[j])
	}
	for _, j := range far {
		farD = append(farD, row[j])
	}
	return near, far, nearD, farD, nil
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float32, n)
}
