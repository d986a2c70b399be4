package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// meanCov returns the mean and covariance (n-1 normalised) of n rows of
// dimension d.
func meanCov(x []float32, n, d int) ([]float64, *mat.SymDense) {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	centered := mat.NewDense(n, d, nil)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			centered.Set(i, j, float64(v)-mean[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(max(1, n-1)), centered.T())
	return mean, cov
}

// sqrtSym returns the symmetric square root of a positive semi-definite
// matrix by its eigendecomposition (negative eigenvalues from rounding are
// taken as 0).
func sqrtSym(a *mat.SymDense) (*mat.SymDense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return nil, fmt.Errorf("metrics: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, v := range vals {
		s := math.Sqrt(math.Max(v, 0))
		for i := range d {
			scaled.Set(i, j, vecs.At(i, j)*s)
		}
	}
	var out mat.Dense
	out.Mul(scaled, vecs.T())
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (out.At(i, j)+out.At(j, i))/2)
		}
	}
	return sym, nil
}

// eigenvalues returns the eigenvalues of a, in ascending order. It asks
// for the eigenvectors too: gonum's values-only path (Dsterf, v0.17.0)
// panics, "insufficient length of a", on a matrix whose tridiagonal form
// holds a block of two or more entries under about 1e-122, which a
// covariance product of rank-deficient features does (dead features of a
// few samples: entries of 1e-318 seen); the path with vectors (Dsteqr)
// scales the same blocks correctly.
func eigenvalues(a *mat.SymDense) ([]float64, error) {
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return nil, fmt.Errorf("metrics: eigendecomposition failed")
	}
	return eig.Values(nil), nil
}

// Frechet returns the Frechet distance between Gaussians fitted to two sets
// of feature rows (na and nb rows of dimension d):
//
//	|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)
func Frechet(a []float32, na int, b []float32, nb int, d int) (float64, error) {
	if na < 2 || nb < 2 || len(a) < na*d || len(b) < nb*d {
		return 0, fmt.Errorf("metrics: Frechet distance of %d and %d samples: want at least 2 each", na, nb)
	}
	ma, sa := meanCov(a, na, d)
	mb, sb := meanCov(b, nb, d)
	var dm float64
	for i := range ma {
		dm += (ma[i] - mb[i]) * (ma[i] - mb[i])
	}
	root, err := sqrtSym(sa)
	if err != nil {
		return 0, err
	}
	var m mat.Dense
	m.Mul(root, sb)
	m.Mul(&m, root)
	ms := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			ms.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	vals, err := eigenvalues(ms)
	if err != nil {
		return 0, err
	}
	var trRoot float64
	for _, v := range vals {
		trRoot += math.Sqrt(math.Max(v, 0))
	}
	return dm + mat.Trace(sa) + mat.Trace(sb) - 2*trRoot, nil
}

// KID returns the kernel distance of Binkowski et al.: the unbiased MMD^2
// with the kernel k(x, y) = (x.y/d + 1)^3, averaged over subsets of size
// subset drawn without replacement, with its standard deviation.
func KID(a []float32, na int, b []float32, nb int, d, subsets, subset int, r *rand.Rand) (mean, std float64, err error) {
	m := min(subset, na, nb)
	if m < 2 || subsets < 1 {
		return 0, 0, fmt.Errorf("metrics: KID over subsets of %d: want at least 2 samples per set", m)
	}
	// Kernel sums through Gram matrices: k(x, y) = (x.y/d + 1)^3.
	sumKernel := func(x, y []float32, skipDiag bool) float64 {
		g := make([]float32, m*m)
		gemm.Sgemm(false, true, m, m, d, 1/float32(d), x, d, y, d, 0, g, m)
		var s float64
		for i := range m {
			for j, v := range g[i*m : (i+1)*m] {
				if skipDiag && i == j {
					continue
				}
				t := float64(v) + 1
				s += t * t * t
			}
		}
		return s
	}
	vals := make([]float64, subsets)
	xs, ys := make([]float32, m*d), make([]float32, m*d)
	for s := range subsets {
		for i, j := range r.Perm(na)[:m] {
			copy(xs[i*d:(i+1)*d], a[j*d:(j+1)*d])
		}
		for i, j := range r.Perm(nb)[:m] {
			copy(ys[i*d:(i+1)*d], b[j*d:(j+1)*d])
		}
		fm := float64(m)
		vals[s] = sumKernel(xs, xs, true)/(fm*(fm-1)) + sumKernel(ys, ys, true)/(fm*(fm-1)) - 2*sumKernel(xs, ys, false)/(fm*fm)
	}
	mean, std = MeanStd(vals)
	return mean, std, nil
}

// sqDistances returns the squared distances between rows of a and rows of b.
func sqDistances(a []float32, na int, b []float32, nb int, d int) []float32 {
	out := make([]float32, na*nb)
	gemm.Sgemm(false, true, na, nb, d, -2, a, d, b, d, 0, out, nb)
	normA, normB := rowNorms(a, na, d), rowNorms(b, nb, d)
	par.For(na, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := out[i*nb : (i+1)*nb]
			for j := range row {
				row[j] = max(0, row[j]+normA[i]+normB[j])
			}
		}
	})
	return out
}

func rowNorms(x []float32, n, d int) []float32 {
	out := make([]float32, n)
	for i := range n {
		for _, v := range x[i*d : (i+1)*d] {
			out[i] += v * v
		}
	}
	return out
}

// kthRadii returns, for each row, the squared distance to its k-th nearest
// other row.
func kthRadii(x []float32, n, d, k int) []float32 {
	dist := sqDistances(x, n, x, n, d)
	radii := make([]float32, n)
	par.For(n, 16, func(lo, hi int) {
		row := make([]float32, n)
		for i := lo; i < hi; i++ {
			copy(row, dist[i*n:(i+1)*n])
			sort.Slice(row, func(a, b int) bool { return row[a] < row[b] })
			radii[i] = row[min(k, n-1)] // row[0] is the point itself
		}
	})
	return radii
}

// PrecisionRecall returns the k-nearest-neighbour precision and recall of
// Kynkaanniemi et al. (2019): precision is the fraction of fake rows inside
// some real row's k-NN ball; recall the fraction of real rows inside some
// fake row's ball.
func PrecisionRecall(real []float32, nr int, fake []float32, nf int, d, k int) (precision, recall float64) {
	rr := kthRadii(real, nr, d, k)
	fr := kthRadii(fake, nf, d, k)
	cross := sqDistances(fake, nf, real, nr, d) // [nf, nr]
	var p, rc int
	for i := range nf {
		for j := range nr {
			if cross[i*nr+j] <= rr[j] {
				p++
				break
			}
		}
	}
	for j := range nr {
		for i := range nf {
			if cross[i*nr+j] <= fr[i] {
				rc++
				break
			}
		}
	}
	return float64(p) / float64(nf), float64(rc) / float64(nr)
}
