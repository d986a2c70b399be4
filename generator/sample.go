package generator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
	"github.com/vqtool/vqtool/nn"
)

// SampleConfig sets how tokens are drawn.
type SampleConfig struct {
	Temperature float64 `json:"temperature"` // divides the logits; 1 samples the model as trained
	TopK        int     `json:"top_k"`       // keep the k most probable tokens (0: all)
	TopP        float64 `json:"top_p"`       // keep the smallest set holding this much mass (1: all)
	CFG         float64 `json:"cfg"`         // guidance scale s: logits = uncond + s (cond - uncond); 1 is off
	Seed        uint64  `json:"seed"`
	// NoCache recomputes every position from scratch at each step, through the
	// training graph, instead of using the KV cache: slow, for checking.
	NoCache bool `json:"no_cache,omitempty"`
}

// DefaultSampleConfig samples at temperature 1 with no truncation or guidance.
func DefaultSampleConfig() SampleConfig {
	return SampleConfig{Temperature: 1, TopP: 1, CFG: 1, Seed: 1}
}

// Validate reports the first setting that cannot work for a codebook of
// codebookSize codes.
func (s SampleConfig) Validate(codebookSize int) error {
	switch {
	case !(s.Temperature > 0) || math.IsInf(s.Temperature, 1):
		return fmt.Errorf("generator: temperature %v: want a number > 0", s.Temperature)
	case s.TopK < 0 || s.TopK > codebookSize:
		return fmt.Errorf("generator: top-k %d: want 0 (off) to %d", s.TopK, codebookSize)
	case !(s.TopP > 0 && s.TopP <= 1):
		return fmt.Errorf("generator: top-p %v: want a number in (0, 1]", s.TopP)
	case !(s.CFG >= 0) || math.IsInf(s.CFG, 1):
		return fmt.Errorf("generator: guidance scale %v: want a number >= 0", s.CFG)
	}
	return nil
}

// Sample draws one grid for each class in classes (a class of -1, or any
// class for an unconditional model, means "no class") and returns the
// grids, [len(classes), Len].
func (m *Model) Sample(classes []int32, cfg SampleConfig) ([]int32, error) {
	return m.sample(classes, nil, 0, cfg)
}

// Complete finishes grids from their first given tokens: grid i keeps
// prefixes[i*Len : i*Len+given] and draws the rest, class classes[i] (as
// Sample), and the whole grids are returned. It is the prefix attack of
// training-data extraction: a model that completes training grids to
// themselves has memorised them.
func (m *Model) Complete(classes, prefixes []int32, given int, cfg SampleConfig) ([]int32, error) {
	c := m.Config
	if given < 0 || given > c.Len || len(prefixes) != len(classes)*c.Len {
		return nil, fmt.Errorf("generator: %d given tokens of %d grids in %d tokens: want 0 to %d tokens of grids of %d", given, len(classes), len(prefixes), c.Len, c.Len)
	}
	for i := range classes {
		for j, v := range prefixes[i*c.Len : i*c.Len+given] {
			if v < 0 || int(v) >= c.CodebookSize {
				return nil, fmt.Errorf("generator: token %d of prefix %d is %d: want a code in [0, %d)", j, i, v, c.CodebookSize)
			}
		}
	}
	return m.sample(classes, prefixes, given, cfg)
}

// sample is Sample with the first given tokens of each grid taken from
// prefixes instead of drawn.
func (m *Model) sample(classes, prefixes []int32, given int, cfg SampleConfig) ([]int32, error) {
	c := m.Config
	if err := cfg.Validate(c.CodebookSize); err != nil {
		return nil, err
	}
	n := len(classes)
	cls := make([]int32, n)
	for i, l := range classes {
		switch {
		case c.Classes == 0 || l < 0:
			cls[i] = int32(c.Classes)
		case int(l) >= c.Classes:
			return nil, fmt.Errorf("generator: class %d: want a class in [0, %d) or -1", l, c.Classes)
		default:
			cls[i] = l
		}
	}
	guided := cfg.CFG != 1 && c.Classes > 0
	rows := n
	if guided {
		rows = 2 * n // conditional rows, then the same grids without their class
		cls = append(cls, make([]int32, n)...)
		for i := n; i < rows; i++ {
			cls[i] = int32(c.Classes)
		}
	}
	rngs := make([]*rand.Rand, n)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	}
	out := make([]int32, n*c.Len)
	var step func(t int, tokens []int32, logits bool) ([]float32, error)
	if cfg.NoCache {
		step = m.fullStep(rows, cls)
	} else {
		step = m.cachedStep(rows, cls)
	}
	tokens := make([]int32, rows*c.Len) // the grids so far, guided rows mirrored
	var mixed []float32                 // guided logits: uncond + s (cond - uncond)
	if guided {
		mixed = make([]float32, n*c.CodebookSize)
	}
	k := c.CodebookSize
	drawers := sync.Pool{New: func() any { return newDrawer(k) }} // one a piece, kept from position to position
	for t := range c.Len {
		drawn := t >= given
		all, err := step(t, tokens, drawn) // the logits only where a token is drawn
		if err != nil {
			return nil, err
		}
		par.For(n, 8, func(lo, hi int) {
			var d *drawer
			if drawn {
				d = drawers.Get().(*drawer)
				defer drawers.Put(d)
			}
			for i := lo; i < hi; i++ {
				var tok int
				if drawn {
					l := all[i*k : (i+1)*k]
					if guided {
						u, s := all[(n+i)*k:(n+i+1)*k], float32(cfg.CFG)
						l = mixed[i*k : (i+1)*k]
						for v, z := range all[i*k : (i+1)*k] {
							l[v] = u[v] + s*(z-u[v])
						}
					}
					tok = d.draw(l, cfg, rngs[i])
				} else {
					tok = int(prefixes[i*c.Len+t])
				}
				out[i*c.Len+t] = int32(tok)
				tokens[i*c.Len+t] = int32(tok)
				if guided {
					tokens[(n+i)*c.Len+t] = int32(tok)
				}
			}
		})
	}
	return out, nil
}

// drawer is one goroutine's scratch for drawing tokens from a codebook of
// len(p) codes.
type drawer struct {
	p     []float32 // the probabilities
	order []int
	ones  []float32 // a block of ones: block sums of p by gemm.DotRows
	sums  []float32 // those block sums
}

// drawBlock is the block of probabilities that draw's walk sums at once.
const drawBlock = 64

func newDrawer(k int) *drawer {
	ones := make([]float32, drawBlock)
	for i := range ones {
		ones[i] = 1
	}
	return &drawer{p: make([]float32, k), order: make([]int, k), ones: ones, sums: make([]float32, k/drawBlock)}
}

// draw samples a token from logits with temperature, top-k and top-p. Top-k
// 1 is greedy: the first largest logit.
func (d *drawer) draw(logits []float32, cfg SampleConfig, r *rand.Rand) int {
	p := d.p
	if cfg.TopK == 1 {
		return argmax(p, logits)
	}
	copy(p, logits)
	gemm.SoftmaxPrefix(p, len(p), float32(1/cfg.Temperature))
	if cfg.TopK > 0 && cfg.TopK < len(p) && cfg.TopP >= 1 {
		keepTop(p, d.order, cfg.TopK)
	} else if cfg.TopK > 0 || cfg.TopP < 1 {
		order := d.order
		for v := range order {
			order[v] = v
		}
		sort.Slice(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		keep := len(order)
		if cfg.TopK > 0 {
			keep = cfg.TopK
		}
		if cfg.TopP < 1 {
			var acc float64
			for j, v := range order[:keep] {
				acc += float64(p[v])
				if acc >= cfg.TopP {
					keep = j + 1
					break
				}
			}
		}
		for _, v := range order[keep:] {
			p[v] = 0
		}
	}
	return d.pick(r.Float64())
}

// pick returns the token at share u in [0, 1) of the mass of p: it finds
// the block by the block sums, then the token within it.
func (d *drawer) pick(u float64) int {
	p := d.p
	nb := len(p) / drawBlock
	sums := d.sums[:nb]
	if nb > 0 {
		gemm.DotRows(sums, d.ones, p, drawBlock, nb, 1)
	}
	var total float64
	for _, s := range sums {
		total += float64(s)
	}
	for _, pv := range p[nb*drawBlock:] {
		total += float64(pv)
	}
	u *= total
	from := 0
	for b, s := range sums {
		if u < float64(s) {
			break
		}
		u -= float64(s)
		from = (b + 1) * drawBlock
	}
	for v := from; v < len(p); v++ {
		if u -= float64(p[v]); u < 0 { // u was not negative before: p[v] > 0
			return v
		}
	}
	last := len(p) - 1 // u ran past the end by rounding: the last token with mass
	for last > 0 && p[last] == 0 {
		last--
	}
	return last
}

var minusOne = []float32{-1}

// argmax returns the index of the first largest element of x, with
// scratch (len(x)) for -x.
func argmax(scratch, x []float32) int {
	neg := scratch[:len(x)]
	gemm.AxpyRows(neg, minusOne, x, len(x)) // neg = -1 * x, in the vector kernel
	i, _ := gemm.Argmin(neg)
	return i
}

// keepTop zeroes all of p but its k largest (ties to the lower token), by a
// min-heap of k in heap (len(p) ints): K log k, not the K log K of sorting
// a codebook of 16,384 for every token.
func keepTop(p []float32, heap []int, k int) {
	below := func(a, b int) bool { return p[a] < p[b] || p[a] == p[b] && a > b } // a ranks below b
	h := heap[:0]
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && below(h[l], h[m]) {
				m = l
			}
			if r := l + 1; r < len(h) && below(h[r], h[m]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for v := range p {
		switch {
		case len(h) < k:
			h = append(h, v)
			for i := len(h) - 1; i > 0 && below(h[i], h[(i-1)/2]); i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
		case below(h[0], v):
			h[0] = v
			down(0)
		}
	}
	slices.Sort(h) // the kept tokens in order: p as a sort would leave it
	next := 0
	for v := range p {
		if next < len(h) && h[next] == v {
			next++
			continue
		}
		p[v] = 0
	}
}

// fullStep returns a step function that runs the whole forward graph on the
// grids so far and reads the logits at position t (all of them, whether
// asked for or not: it is the check of cachedStep).
func (m *Model) fullStep(rows int, cls []int32) func(int, []int32, bool) ([]float32, error) {
	c := m.Config
	out := make([]float32, rows*c.CodebookSize)
	return func(t int, tokens []int32, _ bool) ([]float32, error) {
		gr, err := m.inferenceFor(rows)
		if err != nil {
			return nil, err
		}
		copy(gr.embed.Tokens, tokens)
		copy(gr.embed.Classes, cls)
		if err := gr.prog.Run(); err != nil {
			return nil, err
		}
		all := gr.logitsOf()
		for r := range rows {
			copy(out[r*c.CodebookSize:(r+1)*c.CodebookSize], all[(r*c.Len+t)*c.CodebookSize:])
		}
		return out, nil
	}
}

// cachedStep returns a step function that feeds one position at a time
// through the blocks, keeping each layer's keys and values, and returns the
// logits at that position when asked (a given token needs only its keys and
// values: the output layer, V wide, is most of a step at a large codebook).
func (m *Model) cachedStep(rows int, cls []int32) func(int, []int32, bool) ([]float32, error) {
	c := m.Config
	d := c.Dim
	x := make([]float32, rows*d)
	a := make([]float32, rows*d)
	qkv := make([]float32, rows*3*d)
	att := make([]float32, rows*d)
	proj := make([]float32, rows*d)
	hid := make([]float32, rows*c.MLP)
	act := make([]float32, rows*c.MLP)
	logits := make([]float32, rows*c.CodebookSize)
	keys := make([][]float32, c.Layers) // [rows, Len, D] per layer
	vals := make([][]float32, c.Layers)
	for l := range keys {
		keys[l] = make([]float32, rows*c.Len*d)
		vals[l] = make([]float32, rows*c.Len*d)
	}
	ln := &nn.LayerNorm{}
	gelu := &nn.GELU{}
	// The weights do not change while sampling: pack each once.
	packed := map[*nn.Param]*gemm.Packed{}
	linear := func(out, in []float32, w, b *nn.Param) {
		pw := packed[w]
		if pw == nil {
			s := w.Value.Shape()
			pw = new(gemm.Packed)
			pw.Pack(w.Data(), s[1], s[0], s[1])
			packed[w] = pw
		}
		pw.MulBias(rows, in, w.Value.Shape()[0], b.Data(), false, out, w.Value.Shape()[1])
	}
	norm := func(out, in []float32, g, b *nn.Param) {
		ln.Forward(out, []*nn.Dense{nn.NewDense(in, rows, d), g.Value, b.Value})
	}
	tok, clsEmb, pos := m.tok.Data(), m.cls.Data(), m.pos.Data()
	return func(t int, tokens []int32, wantLogits bool) ([]float32, error) {
		p := pos[t*d : (t+1)*d]
		for r := range rows {
			var e []float32
			if t == 0 {
				e = clsEmb[int(cls[r])*d : (int(cls[r])+1)*d]
			} else {
				v := int(tokens[r*c.Len+t-1])
				e = tok[v*d : (v+1)*d]
			}
			xr := x[r*d : (r+1)*d]
			for j := range xr {
				xr[j] = e[j] + p[j]
			}
		}
		for l, b := range m.blocks {
			norm(a, x, b.ln1g, b.ln1b)
			linear(qkv, a, b.wqkv, b.bqkv)
			par.For(rows, 4, func(lo, hi int) {
				scores := make([]float32, (c.Len+15)&^15) // a whole number of vectors
				for r := lo; r < hi; r++ {
					kc := keys[l][r*c.Len*d:]
					vc := vals[l][r*c.Len*d:]
					row := qkv[r*3*d : (r+1)*3*d]
					copy(kc[t*d:(t+1)*d], row[d:2*d])
					copy(vc[t*d:(t+1)*d], row[2*d:])
					nn.AttendTo(att[r*d:(r+1)*d], row[:d], kc, vc, t, d, c.Heads, scores)
				}
			})
			linear(proj, att, b.wo, b.bo)
			for i, v := range proj {
				x[i] += v
			}
			norm(a, x, b.ln2g, b.ln2b)
			linear(hid, a, b.w1, b.b1)
			gelu.Forward(act, []*nn.Dense{nn.NewDense(hid, rows, c.MLP)})
			linear(proj, act, b.w2, b.b2)
			for i, v := range proj {
				x[i] += v
			}
		}
		if !wantLogits {
			return nil, nil
		}
		norm(a, x, m.lnfg, m.lnfb)
		linear(logits, a, m.head, m.headb)
		return logits, nil
	}
}

// EvenClasses returns n class ids that cycle through the model's classes
// (0, 1, ..., Classes-1, 0, ...), or n times -1 for an unconditional model.
func (m *Model) EvenClasses(n int) []int32 {
	cls := make([]int32, n)
	for i := range cls {
		cls[i] = -1
		if m.Config.Classes > 0 {
			cls[i] = int32(i % m.Config.Classes)
		}
	}
	return cls
}

// ClassRows lists the classes of a grid of samples with one row of per
// samples for each class, in order; for an unconditional model, per rows of
// per samples of no class (-1).
func (m *Model) ClassRows(per int) []int32 {
	if m.Config.Classes == 0 {
		return slices.Repeat([]int32{-1}, per*per)
	}
	cls := make([]int32, 0, per*m.Config.Classes)
	for c := range m.Config.Classes {
		cls = append(cls, slices.Repeat([]int32{int32(c)}, per)...)
	}
	return cls
}

// SampleChunk is how many grids SampleMany draws at a time.
const SampleChunk = 250

// SampleMany is Sample over many classes, SampleChunk grids at a time (chunk
// c seeded with cfg.Seed + c*SampleChunk, so a draw does not depend on how
// it is split), calling done after each chunk with the grids drawn so far
// (done may be nil) and stopping early when done returns an error.
func (m *Model) SampleMany(classes []int32, cfg SampleConfig, done func(n int) error) ([]int32, error) {
	out := make([]int32, 0, len(classes)*m.Config.Len)
	for lo := 0; lo < len(classes); lo += SampleChunk {
		hi := min(len(classes), lo+SampleChunk)
		part := cfg
		part.Seed = cfg.Seed + uint64(lo)
		t, err := m.Sample(classes[lo:hi], part)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
		if done != nil {
			if err := done(hi); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
