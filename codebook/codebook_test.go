package codebook

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/dist2"
)

func randVecs(r *rand.Rand, n, d int) []float32 {
	z := make([]float32, n*d)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	return z
}

func TestNearestMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	c, _ := New(64, 8, r)
	copy(c.E, randVecs(r, 64, 8))
	z := randVecs(r, 500, 8)
	idx := make([]int32, 500)
	dist := make([]float32, 500)
	c.NearestTo(idx, dist, z)
	for i := range 500 {
		best, bestD := -1, math.Inf(1)
		for k := range 64 {
			var s float64
			for t, v := range c.Code(k) {
				d := float64(z[i*8+t] - v)
				s += d * d
			}
			if s < bestD {
				best, bestD = k, s
			}
		}
		if int(idx[i]) != best || math.Abs(float64(dist[i])-bestD) > 1e-3*bestD+1e-4 {
			t.Fatalf("vector %d: nearest %d at %v, brute force %d at %v", i, idx[i], dist[i], best, bestD)
		}
	}
}

// Three tight clusters: k-means++ finds them, and EMA updates keep codes on
// the cluster means.
func TestKMeansAndEMA(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	centers := [][]float32{{5, 0}, {-5, 0}, {0, 5}}
	z := make([]float32, 0, 600)
	for i := range 300 {
		c := centers[i%3]
		z = append(z, c[0]+float32(r.NormFloat64()*0.1), c[1]+float32(r.NormFloat64()*0.1))
	}
	cb, _ := New(3, 2, r)
	if err := cb.InitKMeans(z, 5, r); err != nil {
		t.Fatal(err)
	}
	for _, c := range centers {
		idx := make([]int32, 1)
		d := make([]float32, 1)
		cb.NearestTo(idx, d, c)
		if d[0] > 0.05 {
			t.Errorf("center %v: nearest code %v at squared distance %v", c, cb.Code(int(idx[0])), d[0])
		}
	}
	cb.Decay = 0.5
	idx := make([]int32, 300)
	for range 20 {
		cb.NearestTo(idx, nil, z)
		cb.UpdateEMA(z, idx)
	}
	for _, c := range centers {
		i := make([]int32, 1)
		d := make([]float32, 1)
		cb.NearestTo(i, d, c)
		if d[0] > 0.01 {
			t.Errorf("after EMA: center %v at squared distance %v from its code", c, d[0])
		}
	}
	if err := cb.InitKMeans(z[:4], 1, r); err == nil {
		t.Error("k-means over 2 vectors for 3 codes: no error")
	}
}

func TestRestartDead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	cb, _ := New(8, 4, r)
	z := randVecs(r, 100, 4)
	idx := make([]int32, 100) // everything goes to code 0
	for range 200 {
		cb.CountUsage(idx)
	}
	n := cb.RestartDead(z, 0.5, r)
	if n != 7 {
		t.Fatalf("restarted %d codes, want the 7 unused ones", n)
	}
	for k := 1; k < 8; k++ {
		found := false
		for i := range 100 {
			if cb.Code(k)[0] == z[i*4] && cb.Code(k)[3] == z[i*4+3] {
				found = true
			}
		}
		if !found {
			t.Errorf("code %d was not re-seeded from the batch", k)
		}
	}
}

func TestUsageStats(t *testing.T) {
	u := NewUsage(4)
	u.Add([]int32{0, 1, 2, 3, 0, 1, 2, 3})
	if s := u.Stats(); s.Used != 4 || math.Abs(s.Perplexity-4) > 1e-9 || s.Dead != 0 || s.Fraction != 1 {
		t.Errorf("uniform: %+v", s)
	}
	u = NewUsage(4)
	u.Add([]int32{2, 2, 2})
	if s := u.Stats(); s.Used != 1 || math.Abs(s.Perplexity-1) > 1e-9 || s.Dead != 3 || s.Fraction != 0.25 {
		t.Errorf("one code: %+v", s)
	}
}

func TestNeighbors(t *testing.T) {
	cb := &Codebook{CodebookSize: 5, D: 1, E: []float32{0, 1, 3, 6, 10}}
	near, far, nd, fd, err := cb.Neighbors(1, 2, dist2.SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	if near[0] != 0 || near[1] != 2 || far[0] != 4 || far[1] != 3 || nd[0] != 1 || fd[0] != 81 {
		t.Errorf("near %v %v far %v %v", near, nd, far, fd)
	}
	if _, _, _, _, err := cb.Neighbors(5, 2, dist2.SquaredL2); err == nil {
		t.Error("token 5 of 5: no error")
	}
}

func TestNewRejectsBadSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, kd := range [][2]int{{1, 8}, {1 << 17, 8}, {512, 0}} {
		if _, err := New(kd[0], kd[1], r); err == nil {
			t.Errorf("New(%d, %d): no error", kd[0], kd[1])
		}
	}
}

// Codes on a line in shuffled order come out sorted along it (either way).
func TestPrincipalOrder(t *testing.T) {
	cb, _ := New(5, 2, rand.New(rand.NewPCG(1, 1)))
	copy(cb.E, []float32{3, 3.1, 0, 0.1, 4, 3.9, 1, 1, 2, 2.1})
	got := cb.PrincipalOrder()
	want := []int{1, 3, 4, 0, 2}
	rev := []int{2, 0, 4, 3, 1}
	if !slices.Equal(got, want) && !slices.Equal(got, rev) {
		t.Errorf("order %v, want %v or its reverse", got, want)
	}
}

func TestSpacingAndMatrix(t *testing.T) {
	// Codes on a line at 0, 1, 3 and 7: nearest squared distances 1, 1, 4, 16.
	d := dist2.Scalar{Values: []float32{0, 1, 3, 7}, Kind: dist2.Squared}
	s := SpacingOf(d)
	if !slices.Equal(s.Nearest, []float32{1, 1, 4, 16}) || s.Mean != 5.5 || s.Median != 4 {
		t.Errorf("spacing %+v, want nearest [1 1 4 16], mean 5.5, median 4", s)
	}
	m := Matrix(d)
	if len(m) != 16 || m[0*4+3] != 49 || m[3*4+0] != 49 || m[2*4+1] != 4 || m[1*4+1] != 0 {
		t.Errorf("matrix %v", m)
	}
}

func TestUsageOrder(t *testing.T) {
	u := NewUsage(5)
	u.Add([]int32{3, 3, 3, 1, 1, 4, 1, 0})
	if got := u.Order(); !slices.Equal(got, []int{1, 3, 0, 4, 2}) {
		t.Errorf("order %v, want [1 3 0 4 2] (ties by code)", got)
	}
}

func TestFromCodes(t *testing.T) {
	e := []float32{0, 0, 1, 0, 0, 3, 5, 5}
	cb, err := FromCodes(e, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	near, far, nd, fd, err := cb.Neighbors(0, 1, dist2.SquaredL2)
	if err != nil || near[0] != 1 || far[0] != 3 || nd[0] != 1 || fd[0] != 50 {
		t.Errorf("Neighbors(0, 1) = %v %v %v %v, %v; want [1] [3] [1] [50]", near, far, nd, fd, err)
	}
	for _, tc := range []struct {
		e    []float32
		k, d int
		want string
	}{
		{e[:6], 4, 2, "6 values for 4 codes"},
		{e, 1, 8, "codebook size 1"},
		{[]float32{0, float32(math.NaN()), 1, 1}, 2, 2, "code 0, component 1 is NaN"},
		{[]float32{0, 0, 1, float32(math.Inf(1))}, 2, 2, "code 1, component 1 is +Inf"},
	} {
		if _, err := FromCodes(tc.e, tc.k, tc.d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromCodes(%v, %d, %d) = %v, want an error saying %q", tc.e, tc.k, tc.d, err, tc.want)
		}
	}
}
