package generator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

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
	var step func(t int, tokens []int32) ([]float32, error)
	if cfg.NoCache {
		step = m.fullStep(rows, cls)
	} else {
		step = m.cachedStep(rows, cls)
	}
	tokens := make([]int32, rows*c.Len) // the grids so far, guided rows mirrored
	logits := make([]float32, n*c.CodebookSize)
	for t := range c.Len {
		all, err := step(t, tokens)
		if err != nil {
			return nil, err
		}
		for i := range n {
			l := logits[i*c.CodebookSize : (i+1)*c.CodebookSize]
			copy(l, all[i*c.CodebookSize:(i+1)*c.CodebookSize])
			if guided {
				u := all[(n+i)*c.CodebookSize : (n+i+1)*c.CodebookSize]
				s := float32(cfg.CFG)
				for v := range l {
					l[v] = u[v] + s*(l[v]-u[v])
				}
			}
		}
		par.For(n, 8, func(lo, hi int) {
			p := make([]float64, c.CodebookSize)
			order := make([]int, c.CodebookSize)
			for i := lo; i < hi; i++ {
				var tok int
				if t < given {
					tok = int(prefixes[i*c.Len+t])
				} else {
					tok = draw(p, order, logits[i*c.CodebookSize:(i+1)*c.CodebookSize], cfg, rngs[i])
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

// draw samples a token from logits with temperature, top-k and top-p.
func draw(p []float64, order []int, logits []float32, cfg SampleConfig, r *rand.Rand) int {
	m := math.Inf(-1)
	for _, z := range logits {
		m = math.Max(m, float64(z))
	}
	var sum float64
	for v, z := range logits {
		p[v] = math.Exp((float64(z) - m) / cfg.Temperature)
		sum += p[v]
	}
	if cfg.TopK > 0 && cfg.TopK < len(p) && cfg.TopP >= 1 {
		sum = keepTop(p, order, cfg.TopK)
	} else if cfg.TopK > 0 || cfg.TopP < 1 {
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
				acc += p[v] / sum
				if acc >= cfg.TopP {
					keep = j + 1
					break
				}
			}
		}
		for _, v := range order[keep:] {
			sum -= p[v]
			p[v] = 0
		}
	}
	u := r.Float64() * sum
	last := 0
	for v, pv := range p {
		if pv == 0 {
			continue
		}
		last = v
		if u -= pv; u < 0 {
			return v
		}
	}
	return last
}

// keepTop zeroes all of p but its k largest (ties to the lower token) and
// returns their sum, by a min-heap of k in heap (len(p) ints): K log k,
// not the K log K of sorting a codebook of 16,384 for every token.
func keepTop(p []float64, heap []int, k int) float64 {
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
	slices.Sort(h) // the kept tokens in order: their sum, and p, as a sort would leave them
	var sum float64
	next := 0
	for v := range p {
		if next < len(h) && h[next] == v {
			sum += p[v]
			next++
			continue
		}
		p[v] = 0
	}
	return sum
}

// fullStep returns a step function that runs the whole forward graph on the
// grids so far and reads the logits at position t.
func (m *Model) fullStep(rows int, cls []int32) func(int, []int32) ([]float32, error) {
	c := m.Config
	out := make([]float32, rows*c.CodebookSize)
	return func(t int, tokens []int32) ([]float32, error) {
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
// through the blocks, keeping each layer's keys and values.
func (m *Model) cachedStep(rows int, cls []int32) func(int, []int32) ([]float32, error) {
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
	return func(t int, tokens []int32) ([]float32, error) {
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
