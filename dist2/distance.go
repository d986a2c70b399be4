package dist2

import (
	"fmt"
	"math"
)

// A Distance is a fixed distance between the K tokens of a metric vocabulary.
type Distance interface {
	// CodebookSize returns K, the number of tokens (the codes of a
	// codebook, or the values of Scalar).
	CodebookSize() int
	// RowTo writes d(v, x) for v = 0..K-1 into dst, which has length K.
	RowTo(dst []float32, x int)
}

// ScalarKind selects the distance between scalar token values.
type ScalarKind int

const (
	Squared  ScalarKind = iota // (v - x)^2, the paper's default for digits
	Absolute                   // |v - x|
)

// Scalar is a distance between tokens that stand for numbers: token i has
// value Values[i].
type Scalar struct {
	Values []float32
	Kind   ScalarKind
}

var _ Distance = Scalar{}

// CodebookSize implements Distance.
func (s Scalar) CodebookSize() int { return len(s.Values) }

// RowTo implements Distance.
func (s Scalar) RowTo(dst []float32, x int) {
	if len(dst) != len(s.Values) {
		panic("dist2: Scalar.RowTo: dst length mismatch")
	}
	xv := s.Values[x]
	for v, val := range s.Values {
		diff := val - xv
		if s.Kind == Absolute {
			dst[v] = float32(math.Abs(float64(diff)))
		} else {
			dst[v] = diff * diff
		}
	}
}

// VectorKind selects the distance between token vectors.
type VectorKind int

const (
	SquaredL2 VectorKind = iota // sum_i (e_v[i] - e_x[i])^2
	MSE                         // mean_i (e_v[i] - e_x[i])^2, the paper's form for VQ codes
	Cosine                      // 1 - cos(e_v, e_x)
)

// String returns the name ParseVectorKind reads: l2, mse or cosine.
func (k VectorKind) String() string {
	switch k {
	case SquaredL2:
		return "l2"
	case MSE:
		return "mse"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("VectorKind(%d)", int(k))
}

// ParseVectorKind maps "l2", "mse" and "cosine" to a VectorKind.
func ParseVectorKind(s string) (VectorKind, error) {
	switch s {
	case "l2", "squared-l2":
		return SquaredL2, nil
	case "mse":
		return MSE, nil
	case "cosine":
		return Cosine, nil
	}
	return 0, badSetting("distance", s, "l2, mse or cosine")
}

// Vectors is a distance between tokens that stand for vectors, such as VQ
// codebook entries. Data holds K vectors of length Dim: token i is
// Data[i*Dim : (i+1)*Dim].
type Vectors struct {
	Data []float32
	Dim  int
	Kind VectorKind

	norms []float32 // lazily computed l2 norms, for Cosine
}

// NewVectors checks the shape of data and returns the distance between its rows.
func NewVectors(data []float32, dim int, kind VectorKind) (*Vectors, error) {
	if dim <= 0 || len(data) == 0 || len(data)%dim != 0 {
		return nil, fmt.Errorf("dist2: %d values do not form vectors of dimension %d", len(data), dim)
	}
	v := &Vectors{Data: data, Dim: dim, Kind: kind}
	if kind == Cosine {
		k := len(data) / dim
		v.norms = make([]float32, k)
		for i := range k {
			var s float64
			for _, e := range data[i*dim : (i+1)*dim] {
				s += float64(e) * float64(e)
			}
			v.norms[i] = float32(math.Sqrt(s))
		}
	}
	return v, nil
}

var _ Distance = (*Vectors)(nil)

// CodebookSize implements Distance.
func (d *Vectors) CodebookSize() int { return len(d.Data) / d.Dim }

// RowTo implements Distance.
func (d *Vectors) RowTo(dst []float32, x int) {
	k, dim := d.CodebookSize(), d.Dim
	if len(dst) != k {
		panic("dist2: Vectors.RowTo: dst length mismatch")
	}
	ex := d.Data[x*dim : (x+1)*dim]
	if d.Kind == Cosine {
		for v := range k {
			ev := d.Data[v*dim : (v+1)*dim]
			var dot float32
			for i, a := range ev {
				dot += a * ex[i]
			}
			s := float32(1)
			if den := d.norms[v] * d.norms[x]; den != 0 {
				s = max(0, 1-dot/den)
			}
			dst[v] = s
		}
		return
	}
	div := float32(1)
	if d.Kind == MSE {
		div = float32(dim)
	}
	for v := range k {
		ev := d.Data[v*dim : (v+1)*dim]
		var s float32
		for i, a := range ev {
			t := a - ex[i]
			s += t * t
		}
		dst[v] = s / div
	}
}

// Func is a distance given by a function of two token indices.
type Func struct {
	k int
	f func(v, x int) float64
}

// NewFunc returns the distance f(v, x) between codebookSize tokens.
func NewFunc(codebookSize int, f func(v, x int) float64) Func { return Func{k: codebookSize, f: f} }

var _ Distance = Func{}

// CodebookSize implements Distance.
func (f Func) CodebookSize() int { return f.k }

// RowTo implements Distance.
func (f Func) RowTo(dst []float32, x int) {
	for v := range dst {
		dst[v] = float32(f.f(v, x))
	}
}

func (k ScalarKind) String() string {
	if k == Absolute {
		return "absolute"
	}
	return "squared"
}

// Dense is a Distance held as its K x K matrix, for a caller that reads
// every row many times (evaluation during training): 4 K^2 bytes, 1 GiB
// at K = 16,384.
type Dense struct {
	k    int
	rows []float32
}

// NewDense computes every row of d once.
func NewDense(d Distance) *Dense {
	if dd, ok := d.(*Dense); ok {
		return dd
	}
	k := d.CodebookSize()
	dd := &Dense{k: k, rows: make([]float32, k*k)}
	for x := range k {
		d.RowTo(dd.rows[x*k:(x+1)*k], x)
	}
	return dd
}

// CodebookSize returns K.
func (d *Dense) CodebookSize() int { return d.k }

// Row returns d(., x), which the caller must not change.
func (d *Dense) Row(x int) []float32 { return d.rows[x*d.k : (x+1)*d.k] }

// RowTo writes d(v, x) for every v into dst.
func (d *Dense) RowTo(dst []float32, x int) { copy(dst[:d.k], d.Row(x)) }
