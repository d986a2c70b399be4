package dist2

import (
	"fmt"
	"math"
	"slices"

	"github.com/vqtool/vqtool/internal/gemm"
)

// Kind selects the training loss.
type Kind int

const (
	CE     Kind = iota // cross-entropy against the one-hot target
	Smooth             // cross-entropy against (1-eps) onehot + eps/V
	Dist2              // CE + alpha * KL(p_d || p_theta)
)

// ParseKind maps "ce", "smooth" and "dist2" to a Kind.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "ce":
		return CE, nil
	case "smooth":
		return Smooth, nil
	case "dist2":
		return Dist2, nil
	}
	return 0, badSetting("kind", s, "a loss: ce, smooth or dist2")
}

func (k Kind) String() string {
	switch k {
	case CE:
		return "ce"
	case Smooth:
		return "smooth"
	case Dist2:
		return "dist2"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DefaultAlpha is the weight of the KL term in every experiment of the paper.
const DefaultAlpha = 0.1

// Loss computes a training loss and its gradient with respect to logits.
type Loss struct {
	Kind      Kind
	Alpha     float64 // weight of the KL term, for Dist2
	Smoothing float64 // eps, for Smooth
	Table     *Table  // target rows, for Dist2
	// Offset is the vocabulary id of metric token 0: targets in
	// [Offset, Offset+Table.CodebookSize) get the KL term, others plain CE.
	Offset int
}

// Stats summarises a batch of positions.
type Stats struct {
	Loss      float64 // mean loss over counted positions, nats
	NLL       float64 // mean -log p_theta(target), nats
	Positions int     // positions counted (targets >= 0)
}

// checkAlpha checks the weight of the KL term.
func checkAlpha(a float64) error {
	if !(a >= 0) || math.IsInf(a, 1) {
		return badSetting("alpha", a, "a finite number >= 0")
	}
	return nil
}

// checkSmoothing checks the mass of uniform label smoothing.
func checkSmoothing(eps float64) error {
	if !(eps >= 0 && eps < 1) {
		return badSetting("smoothing", eps, "a number in [0, 1)")
	}
	return nil
}

// Validate reports a setting that cannot work with v logits a position.
func (l *Loss) Validate(v int) error {
	switch l.Kind {
	case CE:
	case Smooth:
		if err := checkSmoothing(l.Smoothing); err != nil {
			return err
		}
	case Dist2:
		if err := checkAlpha(l.Alpha); err != nil {
			return err
		}
		if l.Table == nil {
			return fmt.Errorf("dist2: the dist2 loss needs a target table")
		}
		if l.Offset < 0 || l.Offset+l.Table.CodebookSize > v {
			return fmt.Errorf("dist2: metric tokens [%d, %d) do not fit %d logits",
				l.Offset, l.Offset+l.Table.CodebookSize, v)
		}
	default:
		return fmt.Errorf("dist2: unknown loss kind %d", int(l.Kind))
	}
	return nil
}

// GradTo computes the mean loss over the positions whose target is >= 0 and,
// when dst is not nil, writes its gradient with respect to logits into dst.
// logits holds len(targets) rows of V logits, V = len(logits)/len(targets);
// rows with a negative target are ignored and get a zero gradient.
// It panics if the lengths disagree; call Validate first for the settings.
func (l *Loss) GradTo(dst, logits []float32, targets []int32) Stats {
	return l.GradToPart(dst, logits, targets, -1)
}

// GradToPart is GradTo on a part of a batch whose positions with a target
// >= 0 number total: the gradient written is that of the batch's mean loss
// (each row's scaled by 1/total), the Stats those of the part. A caller
// that splits a batch across goroutines then needs no second pass to
// rescale. A negative total is the part's own count, as GradTo.
func (l *Loss) GradToPart(dst, logits []float32, targets []int32, total int) Stats {
	n := len(targets)
	if n == 0 {
		return Stats{}
	}
	if len(logits)%n != 0 || dst != nil && len(dst) != len(logits) {
		panic("dist2: GradTo: length mismatch")
	}
	v := len(logits) / n
	var count int
	for _, t := range targets {
		if int(t) >= v {
			panic("dist2: GradTo: target out of range")
		}
		if t >= 0 {
			count++
		}
	}
	if count == 0 {
		clear(dst)
		return Stats{}
	}
	if total < 0 {
		total = count
	}
	scale := float32(1 / float64(max(total, count)))
	var loss, nll float64
	for i, t := range targets {
		z := logits[i*v : (i+1)*v]
		var g []float32
		if dst != nil {
			g = dst[i*v : (i+1)*v]
		}
		if t < 0 {
			clear(g)
			continue
		}
		li, ni := l.row(g, z, int(t), scale)
		loss += li
		nll += ni
	}
	return Stats{Loss: loss / float64(count), NLL: nll / float64(count), Positions: count}
}

// row handles one position: it returns the loss and the NLL, and writes
// scale * dLoss/dz into g when g is not nil.
func (l *Loss) row(g, z []float32, t int, scale float32) (loss, nll float64) {
	var pd []float32
	var idx []int32
	metric := l.Kind == Dist2 && t >= l.Offset && t < l.Offset+l.Table.CodebookSize
	if metric {
		idx, pd = l.Table.Row(t - l.Offset)
	}

	// Pass 1: the sums the loss needs besides log-sum-exp.
	var zsum, pdz float64
	switch {
	case metric && idx == nil: // dense rows
		zm := z[l.Offset : l.Offset+len(pd)]
		var s float32
		for j, p := range pd {
			s += p * zm[j]
		}
		pdz = float64(s)
	case metric: // the nearest codes of a truncated table
		var s float32
		for j, p := range pd {
			s += p * z[l.Offset+int(idx[j])]
		}
		pdz = float64(s)
	case l.Kind == Smooth:
		for _, zv := range z {
			zsum += float64(zv)
		}
	}

	// Pass 2: log-sum-exp, and softmax(z) in g for pass 3 (the vector
	// kernel's). With p = softmax(z), lse = z[t] - log p[t] wherever p[t]
	// is a normal float, its relative error that of exp; below (a
	// confidently wrong row), p is 1/sum at the max, where exp(z - m) is
	// exactly 1. Without g, the sum in scalar exp32. A NaN logit is NaN
	// only there: the vector kernel's max passes it by (its exp is 0), so
	// training finds NaN weights by the gradient norm instead.
	var lse float64
	if g != nil {
		copy(g, z)
		gemm.SoftmaxPrefix(g, len(g), 1)
		if p := g[t]; p >= 0x1p-100 {
			lse = float64(z[t]) - math.Log(float64(p))
		} else {
			lse = math.NaN() // a NaN max, found nowhere
			if j := slices.Index(z, maxOf(z)); j >= 0 {
				lse = float64(z[j]) - math.Log(float64(g[j]))
			}
		}
	} else {
		m := maxOf(z)
		var s float32
		for _, zv := range z {
			s += exp32(zv - m)
		}
		lse = float64(m) + math.Log(float64(s))
	}
	nll = lse - float64(z[t])

	switch {
	case l.Kind == Smooth:
		eps := l.Smoothing
		loss = (1-eps)*nll + eps*(lse-zsum/float64(len(z)))
	case metric:
		// KL(p_d || p) = sum p_d log p_d - sum p_d (z - lse), with sum p_d = 1.
		loss = nll + l.Alpha*(float64(l.Table.NegEnt[t-l.Offset])-pdz+lse)
	default:
		loss = nll
	}
	if g == nil {
		return loss, nll
	}

	// Pass 3: the gradient, scaled for the batch mean.
	full := metric && idx == nil && l.Offset == 0 && len(pd) == len(z)
	c := scale
	switch {
	case l.Kind == Smooth:
		u := scale * float32(l.Smoothing/float64(len(z)))
		for j := range g {
			g[j] = g[j]*c - u
		}
		g[t] -= scale * float32(1-l.Smoothing)
	case full:
		a := float32(l.Alpha)
		c *= 1 + a
		as := a * scale
		g = g[:len(pd)]
		for j, p := range pd {
			g[j] = g[j]*c - as*p
		}
		g[t] -= scale
	case metric:
		a := float32(l.Alpha)
		c *= 1 + a
		for j := range g {
			g[j] *= c
		}
		as := a * scale
		if idx == nil {
			gm := g[l.Offset : l.Offset+len(pd)]
			for j, p := range pd {
				gm[j] -= as * p
			}
		} else {
			for j, p := range pd {
				g[l.Offset+int(idx[j])] -= as * p
			}
		}
		g[t] -= scale
	default:
		for j := range g {
			g[j] *= c
		}
		g[t] -= scale
	}
	return loss, nll
}

// maxOf returns the largest of x (NaN if one is NaN), len(x) > 0.
func maxOf(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// exp32 returns e^x for x <= 0 with a relative error under 2e-7, faster than
// math.Exp: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7.
func exp32(x float32) float32 {
	if x < -87 {
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	n := float32(int32(x*log2e - 0.5)) // x <= 0: rounds to nearest
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
