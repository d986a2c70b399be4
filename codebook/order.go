package codebook

import (
	"sort"

	"gonum.org/v1/gonum/mat"
)

// PrincipalOrder returns the codes ordered by their projection on the
// codebook's first principal component, so that similar codes sit together
// (the identity order when the covariance cannot be factorised).
func (cb *Codebook) PrincipalOrder() []int {
	k, d := cb.CodebookSize, cb.D
	mean := make([]float64, d)
	for i := range k {
		for j, v := range cb.Code(i) {
			mean[j] += float64(v) / float64(k)
		}
	}
	cov := mat.NewSymDense(d, nil)
	for i := range k {
		c := cb.Code(i)
		for a := range d {
			for b := a; b < d; b++ {
				cov.SetSym(a, b, cov.At(a, b)+(float64(c[a])-mean[a])*(float64(c[b])-mean[b]))
			}
		}
	}
	var eig mat.EigenSym
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	if !eig.Factorize(cov, true) {
		return order
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := d - 1 // eigenvalues ascend
	proj := make([]float64, k)
	for i := range k {
		for j, v := range cb.Code(i) {
			proj[i] += (float64(v) - mean[j]) * vecs.At(j, top)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return proj[order[a]] < proj[order[b]] })
	return order
}
