package dist2

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Table holds the target rows p_d(. | x) for every token x of a metric
// vocabulary, dense or truncated to the top-k entries of each row.
type Table struct {
	CodebookSize int     // K: tokens in the metric vocabulary (the codes of a codebook)
	Tau          float64 // temperature, on the distance's scale
	TopK         int     // entries kept per row; equal to K for a dense table

	// Idx[x*TopK+j] is the token of entry j of row x, nearest first.
	// Nil for a dense table, whose entry v is token v.
	Idx []int32
	// P[x*TopK+j] is p_d(token of entry j | x); each row sums to 1.
	P []float32
	// NegEnt[x] = sum_v p_d(v|x) log p_d(v|x), the row's negative entropy in nats.
	NegEnt []float32
	// Dropped[x] is the mass of row x that truncation to the top-k removed
	// before renormalising; all zero for a dense table.
	Dropped []float32
}

// Dense reports whether the table keeps every entry of each row.
func (t *Table) Dense() bool { return t.Idx == nil }

// Row returns the entries of row x. idx is nil for a dense table.
func (t *Table) Row(x int) (idx []int32, p []float32) {
	p = t.P[x*t.TopK : (x+1)*t.TopK]
	if t.Idx != nil {
		idx = t.Idx[x*t.TopK : (x+1)*t.TopK]
	}
	return idx, p
}

// Bytes returns the memory held by the table's slices: O(K * TopK).
func (t *Table) Bytes() int {
	return 4 * (len(t.Idx) + len(t.P) + len(t.NegEnt) + len(t.Dropped))
}

// DroppedMass returns the mean and the largest mass over rows that truncation
// to the top-k removed.
func (t *Table) DroppedMass() (mean, max float64) {
	for _, d := range t.Dropped {
		mean += float64(d)
		max = math.Max(max, float64(d))
	}
	if len(t.Dropped) > 0 {
		mean /= float64(len(t.Dropped))
	}
	return mean, max
}

// MeanPerplexity returns the mean over rows of exp(entropy), the effective
// number of neighbours a target spreads over.
func (t *Table) MeanPerplexity() float64 {
	var s float64
	for _, ne := range t.NegEnt {
		s += math.Exp(-float64(ne))
	}
	return s / float64(len(t.NegEnt))
}

// NewTable builds p_d rows from d at temperature tau. topk <= 0 gives a dense
// table; otherwise each row keeps its min(topk, K) most probable entries,
// renormalised, nearest first.
func NewTable(d Distance, tau float64, topk int) (*Table, error) {
	k := d.CodebookSize()
	if k < 1 {
		return nil, fmt.Errorf("dist2: vocabulary of %d tokens: want at least 1", k)
	}
	if err := checkTau(tau, false); err != nil {
		return nil, err
	}
	dense := topk <= 0
	if dense || topk > k {
		topk = k
	}
	t := &Table{
		CodebookSize: k, Tau: tau, TopK: topk,
		P:       make([]float32, k*topk),
		NegEnt:  make([]float32, k),
		Dropped: make([]float32, k),
	}
	if !dense {
		t.Idx = make([]int32, k*topk)
	}
	var firstErr error
	var mu sync.Mutex
	parallelRows(k, func(lo, hi int) {
		dist := make([]float32, k)
		p := make([]float64, k)
		order := make([]int32, topk)
		for x := lo; x < hi; x++ {
			d.RowTo(dist, x)
			if err := checkRow(dist, x); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			row := t.P[x*topk : (x+1)*topk]
			if dense {
				softmaxNeg(p, dist, tau)
				for v, pv := range p {
					row[v] = float32(pv)
				}
			} else {
				idx := t.Idx[x*topk : (x+1)*topk]
				top := order[:topk]
				smallestTo(top, dist)
				// The normaliser over all K entries; beyond negligible, an
				// entry's term (< e^-50 of the nearest one's) is skipped.
				minD := float64(dist[top[0]])
				cut, m, inv := float32(minD+negligible*tau), float32(minD), float32(1/tau)
				var z, kept float64
				for _, dv := range dist {
					if dv < cut {
						z += float64(exp32(-(dv - m) * inv)) // the mass outside the top-k needs no more digits
					}
				}
				for j, v := range top {
					e := math.Exp(-(float64(dist[v]) - minD) / tau)
					p[j] = e
					kept += e
					idx[j] = v
				}
				t.Dropped[x] = float32(math.Max(0, 1-kept/z))
				for j := range top {
					row[j] = float32(p[j] / kept)
				}
			}
			var ne float64
			for _, pv := range row {
				if pv > 0 {
					ne += float64(pv) * math.Log(float64(pv))
				}
			}
			t.NegEnt[x] = float32(ne)
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return t, nil
}

func checkRow(dist []float32, x int) error {
	for v, dv := range dist {
		if math.IsNaN(float64(dv)) || math.IsInf(float64(dv), 0) || dv < 0 {
			return fmt.Errorf("dist2: d(%d, %d) = %v: want a finite number >= 0", v, x, dv)
		}
	}
	return nil
}

// negligible is the distance, in units of tau, beyond which a term of a
// row's normaliser is left out: e^-50 of the nearest entry's.
const negligible = 50

// softmaxNeg writes softmax(-dist/tau) into p, in float64.
func softmaxNeg(p []float64, dist []float32, tau float64) {
	minD := math.Inf(1)
	for _, dv := range dist {
		minD = math.Min(minD, float64(dv))
	}
	var s float64
	for v, dv := range dist {
		e := math.Exp(-(float64(dv) - minD) / tau)
		p[v] = e
		s += e
	}
	for v := range p {
		p[v] /= s
	}
}

// smallestTo fills dst with the indices of the len(dst) smallest keys,
// nearest first, ties broken by index. It keeps a max-heap of the best so
// far, so that most keys cost one comparison with its root.
func smallestTo(dst []int32, key []float32) {
	n := len(dst)
	worse := func(a, b int32) bool { return key[a] > key[b] || key[a] == key[b] && a > b }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && worse(dst[c+1], dst[c]) {
				c++
			}
			if !worse(dst[c], dst[i]) {
				return
			}
			dst[i], dst[c] = dst[c], dst[i]
			i = c
		}
	}
	for v := range n {
		dst[v] = int32(v)
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	for v := n; v < len(key); v++ {
		if key[v] < key[dst[0]] { // a later index never wins a tie
			dst[0] = int32(v)
			down(0)
		}
	}
	slices.SortFunc(dst, func(a, b int32) int {
		if c := cmp.Compare(key[a], key[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// parallelRows calls f on contiguous ranges of [0, n), one per CPU.
func parallelRows(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// DefaultPerplexity is the number of effective neighbours auto tau aims for
// when no perplexity is given (see ResolveTau).
const DefaultPerplexity = 8

// maxCalibrationRows bounds the rows Calibrate reads: beyond it, evenly spaced
// rows stand for the whole vocabulary.
const maxCalibrationRows = 1024

// Calibrate returns the tau at which the mean over target tokens x of
// exp(H(p_d(. | x))) equals perplexity (the t-SNE calibration, applied with one
// global tau). For K above 1,024 the mean is taken over 1,024 evenly spaced
// rows. It also returns the perplexity reached.
func Calibrate(d Distance, perplexity float64) (tau, got float64, err error) {
	k := d.CodebookSize()
	if k < 2 {
		return 0, 0, fmt.Errorf("dist2: the codebook has %d code: no distance-aware target exists (that needs 2 or more codes), so there is no tau to calibrate", k)
	}
	if !(perplexity > 1) || perplexity >= float64(k) {
		return 0, 0, badSetting("perplexity", perplexity, fmt.Sprintf("a number in (1, %d) for %d tokens", k, k))
	}
	n := min(k, maxCalibrationRows)
	rows := make([][]float32, n)
	var scale float64 // mean of the positive distances, a starting point
	var count int
	for i := range rows {
		x := i * k / n
		rows[i] = make([]float32, k)
		d.RowTo(rows[i], x)
		if err := checkRow(rows[i], x); err != nil {
			return 0, 0, err
		}
		minD := float32(math.Inf(1))
		for _, dv := range rows[i] {
			minD = min(minD, dv)
		}
		for v, dv := range rows[i] {
			rows[i][v] = dv - minD // shift so exp never underflows at the row's nearest
			if dv > minD {
				scale += float64(dv - minD)
				count++
			}
		}
	}
	if count == 0 {
		return 0, 0, fmt.Errorf("dist2: every distance is zero: no tau gives perplexity %v", perplexity)
	}
	scale /= float64(count)
	ppl := func(tau float64) float64 {
		var total float64
		var mu sync.Mutex
		parallelRows(n, func(lo, hi int) {
			var s float64
			for _, row := range rows[lo:hi] {
				s += math.Exp(rowEntropy(row, tau))
			}
			mu.Lock()
			total += s
			mu.Unlock()
		})
		return total / float64(n)
	}
	lo, hi := math.Log(scale*1e-6), math.Log(scale*1e6)
	pLo, pHi := ppl(math.Exp(lo)), ppl(math.Exp(hi))
	if perplexity < pLo || perplexity > pHi {
		return 0, 0, badSetting("perplexity", perplexity, fmt.Sprintf("one that tau reaches: tau in [%.3g, %.3g] gives [%.4g, %.4g]",
			math.Exp(lo), math.Exp(hi), pLo, pHi))
	}
	for range 100 {
		mid := (lo + hi) / 2
		got = ppl(math.Exp(mid))
		if math.Abs(got-perplexity) <= 1e-5*perplexity {
			return math.Exp(mid), got, nil
		}
		if got < perplexity {
			lo = mid
		} else {
			hi = mid
		}
	}
	tau = math.Exp((lo + hi) / 2)
	return tau, ppl(tau), nil
}

// FullPerplexity returns the mean over target tokens x of exp(H(p_d(. | x)))
// for the untruncated rows softmax(-d(., x)/tau), over every row for K up to
// 1,024 and over 1,024 evenly spaced rows above (as Calibrate measures it).
func FullPerplexity(d Distance, tau float64) (float64, error) {
	if err := checkTau(tau, false); err != nil {
		return 0, err
	}
	k := d.CodebookSize()
	n := min(k, maxCalibrationRows)
	row := make([]float32, k)
	var total float64
	for i := range n {
		x := i * k / n
		d.RowTo(row, x)
		if err := checkRow(row, x); err != nil {
			return 0, err
		}
		minD := slices.Min(row)
		for v := range row {
			row[v] -= minD
		}
		total += math.Exp(rowEntropy(row, tau))
	}
	return total / float64(n), nil
}

// rowEntropy returns the entropy in nats of softmax(-dist/tau), for a row
// whose smallest entry is 0.
func rowEntropy(dist []float32, tau float64) float64 {
	// H = log Z + E[d]/tau with Z = sum exp(-d/tau).
	var z, ed float64
	for _, dv := range dist {
		a := float64(dv) / tau
		e := math.Exp(-a)
		z += e
		ed += e * a
	}
	return math.Log(z) + ed/z
}
