package generator

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vqtool/vqtool/nn"
)

// block is one pre-LayerNorm transformer block.
type block struct {
	ln1g, ln1b, wqkv, bqkv, wo, bo *nn.Param
	ln2g, ln2b, w1, b1, w2, b2     *nn.Param
}

// Model is the generator's weights.
type Model struct {
	Config Config

	tok, cls, pos *nn.Param
	blocks        []*block
	lnfg, lnfb    *nn.Param
	head, headb   *nn.Param

	params []*nn.Param
	graphs map[int]*graph // inference graphs by batch size
}

// New returns a model initialised as GPT-2: weights N(0, 0.02), residual
// projections N(0, 0.02/sqrt(2 layers)), biases 0, LayerNorm scales 1.
func New(cfg Config, r *rand.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg}
	normal := func(name string, std float64, shape ...int) *nn.Param {
		p := nn.NewParam(name, shape...)
		for i := range p.Data() {
			p.Data()[i] = float32(r.NormFloat64() * std)
		}
		m.params = append(m.params, p)
		return p
	}
	constant := func(name string, v float32, shape ...int) *nn.Param {
		p := nn.NewParam(name, shape...)
		for i := range p.Data() {
			p.Data()[i] = v
		}
		m.params = append(m.params, p)
		return p
	}
	cfg.layout(m, normal, constant)
	return m, nil
}

// layout makes the parameters of a model of c into m, in the order New
// draws them: through normal those drawn from N(0, std), through constant
// those set to v.
func (c Config) layout(m *Model, normal func(name string, std float64, shape ...int) *nn.Param,
	constant func(name string, v float32, shape ...int) *nn.Param) {
	d := c.Dim
	resid := 0.02 / math.Sqrt(2*float64(c.Layers))
	m.tok = normal("embed.tokens", 0.02, c.CodebookSize, d)
	m.cls = normal("embed.classes", 0.02, c.Classes+1, d)
	m.pos = normal("embed.positions", 0.02, c.Len, d)
	for i := range c.Layers {
		p := fmt.Sprintf("blocks.%d.", i)
		m.blocks = append(m.blocks, &block{
			ln1g: constant(p+"ln1.weight", 1, d), ln1b: constant(p+"ln1.bias", 0, d),
			wqkv: normal(p+"attn.qkv.weight", 0.02, d, 3*d), bqkv: constant(p+"attn.qkv.bias", 0, 3*d),
			wo: normal(p+"attn.out.weight", resid, d, d), bo: constant(p+"attn.out.bias", 0, d),
			ln2g: constant(p+"ln2.weight", 1, d), ln2b: constant(p+"ln2.bias", 0, d),
			w1: normal(p+"mlp.fc.weight", 0.02, d, c.MLP), b1: constant(p+"mlp.fc.bias", 0, c.MLP),
			w2: normal(p+"mlp.proj.weight", resid, c.MLP, d), b2: constant(p+"mlp.proj.bias", 0, d),
		})
	}
	m.lnfg, m.lnfb = constant("ln_f.weight", 1, d), constant("ln_f.bias", 0, d)
	m.head = normal("head.weight", 0.02, d, c.CodebookSize)
	m.headb = constant("head.bias", 0, c.CodebookSize)
}

// Shapes returns the shape of every tensor a checkpoint of a model of c
// holds, by name, without building the model.
func (c Config) Shapes() map[string][]int {
	shapes := map[string][]int{}
	add := func(name string, shape []int) *nn.Param {
		shapes[name] = shape
		return nil
	}
	c.layout(&Model{},
		func(name string, _ float64, shape ...int) *nn.Param { return add(name, shape) },
		func(name string, _ float32, shape ...int) *nn.Param { return add(name, shape) })
	return shapes
}

// Params lists every parameter.
func (m *Model) Params() []*nn.Param { return m.params }

// NumParams counts the weights.
func (m *Model) NumParams() int { return nn.CountParams(m.params) }

// noDecay reports the parameters AdamW leaves undecayed: biases and
// LayerNorm weights (the vectors).
func noDecay(p *nn.Param) bool { return p.Value.Dims() < 2 }

// graph is a forward pass over a batch, built once and run many times.
type graph struct {
	prog   *nn.Program
	embed  *nn.SeqEmbed
	logits *nn.Node
	loss   *nn.TokenLoss // nil for an inference graph
}

// build adds the forward pass for batch sequences to g and returns the
// logits node [batch*Len, CodebookSize].
func (m *Model) build(g *nn.Builder, batch int) (*nn.SeqEmbed, *nn.Node) {
	c := m.Config
	emb := &nn.SeqEmbed{Batch: batch, Len: c.Len, Stride: c.Len,
		Tokens: make([]int32, batch*c.Len), Classes: make([]int32, batch)}
	x := g.Apply(emb, g.Use(m.tok), g.Use(m.cls), g.Use(m.pos))
	for _, b := range m.blocks {
		a := g.Apply(&nn.LayerNorm{}, x, g.Use(b.ln1g), g.Use(b.ln1b))
		qkv := g.Apply(&nn.MatMul{InputGrad: true}, a, g.Use(b.wqkv), g.Use(b.bqkv))
		att := g.Apply(&nn.CausalAttention{Batch: batch, Len: c.Len, Heads: c.Heads}, qkv)
		x = g.Add(x, g.Apply(&nn.MatMul{InputGrad: true}, att, g.Use(b.wo), g.Use(b.bo)))
		h := g.Apply(&nn.LayerNorm{}, x, g.Use(b.ln2g), g.Use(b.ln2b))
		h = g.Apply(&nn.GELU{}, g.Apply(&nn.MatMul{InputGrad: true}, h, g.Use(b.w1), g.Use(b.b1)))
		x = g.Add(x, g.Apply(&nn.MatMul{InputGrad: true}, h, g.Use(b.w2), g.Use(b.b2)))
	}
	f := g.Apply(&nn.LayerNorm{}, x, g.Use(m.lnfg), g.Use(m.lnfb))
	return emb, g.Apply(&nn.MatMul{InputGrad: true}, f, g.Use(m.head), g.Use(m.headb))
}

// inference returns a forward-only graph for batch sequences.
func (m *Model) inference(batch int) (*graph, error) {
	g := nn.NewBuilder()
	emb, logits := m.build(g, batch)
	prog, err := g.Compile(nil)
	if err != nil {
		return nil, err
	}
	return &graph{prog: prog, embed: emb, logits: logits}, nil
}

// logitsOf returns the logits of the last run.
func (gr *graph) logitsOf() []float32 { return gr.logits.Value().Data().([]float32) }
