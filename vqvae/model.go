package vqvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/nn"
)

// resBlock is x + conv1x1(relu(conv3x3(relu(x)))).
type resBlock struct {
	a, b *nn.Conv
}

func (r *resBlock) forward(g *nn.Builder, x *nn.Node) *nn.Node {
	h := r.a.ForwardReLUs(g, x, true)
	return g.Add(x, r.b.Forward(g, h, true))
}

// Model is a VQ-VAE: encoder, codebook and decoder.
type Model struct {
	Config   Config
	Codebook *codebook.Codebook
	codes    *nn.Param // the codebook's storage as a parameter, [K, D]

	encIn  []*nn.Conv // strided convolutions, then a 3x3 one
	encRes []*resBlock
	encOut *nn.Conv // 1x1 to the code dimension

	decIn  *nn.Conv
	decRes []*resBlock
	decUp  []*nn.ConvT

	params []*nn.Param

	// Inference programs by batch size (a power of two up to InferBatch,
	// see programBatch), built on first use: a model holds the buffers of
	// fewer than 2*InferBatch images of each.
	encoders map[int]*encoder
	decoders map[int]*decoder
}

// New returns a model with weights drawn from r.
func New(cfg Config, r *rand.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cb, err := codebook.New(cfg.CodebookSize, cfg.CodeDim, r)
	if err != nil {
		return nil, err
	}
	cb.Decay, cb.Normalized = cfg.Decay, cfg.Normalize
	if cfg.Normalize {
		cb.Normalize()
	}
	m := &Model{Config: cfg, Codebook: cb, encoders: map[int]*encoder{}, decoders: map[int]*decoder{}}
	m.codes = &nn.Param{Name: "quantizer.codes", Trainable: !cfg.EMA,
		Value: nn.NewDense(cb.E, cfg.CodebookSize, cfg.CodeDim)}
	cfg.layers(m,
		func(name string, cin, cout int, g nn.Geometry) *nn.Conv { return nn.NewConv(name, cin, cout, g, r) },
		func(name string, cin, cout int, g nn.Geometry) *nn.ConvT { return nn.NewConvT(name, cin, cout, g, r) })
	for _, c := range m.encIn {
		m.params = append(m.params, c.Params()...)
	}
	for _, b := range m.encRes {
		m.params = append(m.params, append(b.a.Params(), b.b.Params()...)...)
	}
	m.params = append(m.params, m.encOut.Params()...)
	m.params = append(m.params, m.codes)
	m.params = append(m.params, m.decIn.Params()...)
	for _, b := range m.decRes {
		m.params = append(m.params, append(b.a.Params(), b.b.Params()...)...)
	}
	for _, c := range m.decUp {
		m.params = append(m.params, c.Params()...)
	}
	return m, nil
}

// layers makes the convolutions of a model of c into m through conv and
// convT, in the order New draws their weights.
func (c Config) layers(m *Model, conv func(name string, cin, cout int, g nn.Geometry) *nn.Conv,
	convT func(name string, cin, cout int, g nn.Geometry) *nn.ConvT) {
	h, h2 := c.Hidden, c.Hidden/2
	down := nn.Geometry{K: 4, Stride: 2, Pad: 1}
	same := nn.Geometry{K: 3, Stride: 1, Pad: 1}
	point := nn.Geometry{K: 1, Stride: 1}
	m.encIn = append(m.encIn, conv("encoder.conv0", c.Channels, h2, down))
	m.encIn = append(m.encIn, conv("encoder.conv1", h2, h, down))
	if c.Downsample == 8 {
		m.encIn = append(m.encIn, conv("encoder.conv2", h, h, down))
	}
	m.encIn = append(m.encIn, conv(fmt.Sprintf("encoder.conv%d", len(m.encIn)), h, h, same))
	for i := range c.ResBlocks {
		m.encRes = append(m.encRes, &resBlock{
			a: conv(fmt.Sprintf("encoder.res%d.conv0", i), h, c.ResHidden, same),
			b: conv(fmt.Sprintf("encoder.res%d.conv1", i), c.ResHidden, h, point)})
	}
	m.encOut = conv("encoder.out", h, c.CodeDim, point)

	m.decIn = conv("decoder.in", c.CodeDim, h, same)
	for i := range c.ResBlocks {
		m.decRes = append(m.decRes, &resBlock{
			a: conv(fmt.Sprintf("decoder.res%d.conv0", i), h, c.ResHidden, same),
			b: conv(fmt.Sprintf("decoder.res%d.conv1", i), c.ResHidden, h, point)})
	}
	if c.Downsample == 8 {
		m.decUp = append(m.decUp, convT("decoder.up0", h, h, down))
	}
	m.decUp = append(m.decUp, convT(fmt.Sprintf("decoder.up%d", len(m.decUp)), h, h2, down))
	m.decUp = append(m.decUp, convT(fmt.Sprintf("decoder.up%d", len(m.decUp)), h2, c.Channels, down))
}

// Shapes returns the shape of every tensor a checkpoint of a model of c
// holds, by name, without building the model.
func (c Config) Shapes() map[string][]int {
	k, d := c.CodebookSize, c.CodeDim
	shapes := map[string][]int{"quantizer.codes": {k, d}, "codebook.ema_size": {k}, "codebook.ema_sum": {k, d}}
	c.layers(&Model{},
		func(name string, cin, cout int, g nn.Geometry) *nn.Conv {
			nn.ConvShapes(shapes, name, cin, cout, g)
			return nil
		},
		func(name string, cin, cout int, g nn.Geometry) *nn.ConvT {
			nn.ConvTShapes(shapes, name, cin, cout, g)
			return nil
		})
	return shapes
}

// Params lists every parameter, the codebook included.
func (m *Model) Params() []*nn.Param { return m.params }

// NumParams counts the weights.
func (m *Model) NumParams() int { return nn.CountParams(m.params) }

// encode adds the encoder to g: x [B, S, S, C] -> z [B, S/f, S/f, D].
func (m *Model) encode(g *nn.Builder, x *nn.Node) *nn.Node {
	h := x
	for i, c := range m.encIn {
		if i < len(m.encIn)-1 {
			h = c.ForwardReLU(g, h, i > 0)
		} else {
			h = c.Forward(g, h, i > 0)
		}
	}
	for _, b := range m.encRes {
		h = b.forward(g, h)
	}
	z := m.encOut.Forward(g, g.ReLU(h), true)
	if m.Config.Normalize {
		z = g.Apply(nn.L2Normalize{}, z)
	}
	return z
}

// decode adds the decoder to g: codes [B, h, w, D] -> x_hat [B, S, S, C].
func (m *Model) decode(g *nn.Builder, zq *nn.Node, inputGrad bool) *nn.Node {
	h := m.decIn.Forward(g, zq, inputGrad)
	for _, b := range m.decRes {
		h = b.forward(g, h)
	}
	h = g.ReLU(h)
	for i, c := range m.decUp {
		if i < len(m.decUp)-1 {
			h = c.ForwardReLU(g, h, true)
		} else {
			h = c.Forward(g, h, true)
		}
	}
	return h
}

// encoder is an inference program: images to encoder outputs.
type encoder struct {
	prog *nn.Program
	x    *nn.Dense
	z    *nn.Node
}

// decoder is an inference program: code vectors to images.
type decoder struct {
	prog *nn.Program
	zq   *nn.Dense
	out  *nn.Node
}

func (m *Model) encoderFor(batch int) (*encoder, error) {
	if e, ok := m.encoders[batch]; ok {
		return e, nil
	}
	g := nn.NewBuilder()
	s, c := m.Config.Size, m.Config.Channels
	xn, x := g.Input("x", batch, s, s, c)
	z := m.encode(g, xn)
	prog, err := g.Compile(nil)
	if err != nil {
		return nil, err
	}
	e := &encoder{prog: prog, x: x, z: z}
	m.encoders[batch] = e
	return e, nil
}

func (m *Model) decoderFor(batch int) (*decoder, error) {
	if d, ok := m.decoders[batch]; ok {
		return d, nil
	}
	g := nn.NewBuilder()
	gs := m.Config.Grid()
	zn, zq := g.Input("zq", batch, gs, gs, m.Config.CodeDim)
	out := m.decode(g, zn, false)
	prog, err := g.Compile(nil)
	if err != nil {
		return nil, err
	}
	d := &decoder{prog: prog, zq: zq, out: out}
	m.decoders[batch] = d
	return d, nil
}

// InferBatch is the largest batch of the inference programs. Each program
// keeps the activations of its batch: 64 images of 28x28 take tens of MB.
const InferBatch = 64

// programBatch is the batch of the program that runs n images: the least
// power of two >= n, at most InferBatch, so that a few programs serve every
// n (the last, short batch of a long run included) and none wastes more
// than half its rows.
func programBatch(n int) int {
	b := 1
	for b < n && b < InferBatch {
		b *= 2
	}
	return b
}

// ZTo runs the encoder on n channel-major images and writes the encoder
// outputs [n, h, w, D] into dst.
func (m *Model) ZTo(dst, images []float32, n int) error {
	s, c, d := m.Config.Size, m.Config.Channels, m.Config.CodeDim
	gs := m.Config.Grid()
	per, zper := s*s*c, gs*gs*d
	if len(images) < n*per || len(dst) < n*zper {
		panic("vqvae: ZTo: length mismatch")
	}
	batch := programBatch(n)
	e, err := m.encoderFor(batch)
	if err != nil {
		return err
	}
	for lo := 0; lo < n; lo += batch {
		k := min(batch, n-lo)
		x := e.x.Float32s()
		clear(x[k*per:])
		nn.ToNHWC(x, images[lo*per:], k, c, s, s)
		if err := e.prog.Run(); err != nil {
			return fmt.Errorf("vqvae: encode: %w", err)
		}
		copy(dst[lo*zper:(lo+k)*zper], e.z.Value().Data().([]float32))
	}
	return nil
}

// EncodeTo writes the token grids of n channel-major images into dst
// ([n, h, w]).
func (m *Model) EncodeTo(dst []int32, images []float32, n int) error {
	gs, d := m.Config.Grid(), m.Config.CodeDim
	z := make([]float32, min(n, InferBatch)*gs*gs*d)
	per := m.Config.Size * m.Config.Size * m.Config.Channels
	for lo := 0; lo < n; lo += InferBatch {
		k := min(InferBatch, n-lo)
		if err := m.ZTo(z, images[lo*per:], k); err != nil {
			return err
		}
		m.Codebook.NearestTo(dst[lo*gs*gs:(lo+k)*gs*gs], nil, z[:k*gs*gs*d])
	}
	return nil
}

// EncodeChunk is how many images EncodeMany encodes between progress calls.
const EncodeChunk = 1024

// Usage encodes n images and counts how often each code occurs.
func (m *Model) Usage(images []float32, n int) (*codebook.Usage, error) {
	tokens, err := m.EncodeMany(images, n, nil)
	if err != nil {
		return nil, err
	}
	u := codebook.NewUsage(m.Config.CodebookSize)
	u.Add(tokens)
	return u, nil
}

// EncodeMany returns the token grids of n channel-major images, encoding
// them EncodeChunk at a time; progress, if not nil, hears the images encoded
// so far and stops the encoding with its error.
func (m *Model) EncodeMany(images []float32, n int, progress func(done int) error) ([]int32, error) {
	g, per := m.Config.Grid()*m.Config.Grid(), m.Config.Size*m.Config.Size*m.Config.Channels
	if len(images) < n*per {
		return nil, fmt.Errorf("vqvae: %d values for %d images of %d", len(images), n, per)
	}
	dst := make([]int32, n*g)
	for lo := 0; lo < n; lo += EncodeChunk {
		k := min(EncodeChunk, n-lo)
		if err := m.EncodeTo(dst[lo*g:(lo+k)*g], images[lo*per:(lo+k)*per], k); err != nil {
			return nil, err
		}
		if progress != nil {
			if err := progress(lo + k); err != nil {
				return nil, err
			}
		}
	}
	return dst, nil
}

// DecodeTo writes the channel-major images of n token grids into dst.
func (m *Model) DecodeTo(dst []float32, tokens []int32, n int) error {
	gs, d, k := m.Config.Grid(), m.Config.CodeDim, m.Config.CodebookSize
	s, c := m.Config.Size, m.Config.Channels
	per := s * s * c
	batch := programBatch(n)
	dec, err := m.decoderFor(batch)
	if err != nil {
		return err
	}
	for lo := 0; lo < n; lo += batch {
		b := min(batch, n-lo)
		zq := dec.zq.Float32s()
		clear(zq)
		for i, t := range tokens[lo*gs*gs : (lo+b)*gs*gs] {
			if t < 0 || int(t) >= k {
				return fmt.Errorf("vqvae: token %d at grid %d position %d: want a code in [0, %d)", t, lo+i/(gs*gs), i%(gs*gs), k)
			}
			copy(zq[i*d:(i+1)*d], m.Codebook.Code(int(t)))
		}
		if err := dec.prog.Run(); err != nil {
			return fmt.Errorf("vqvae: decode: %w", err)
		}
		nn.ToNCHW(dst[lo*per:], dec.out.Value().Data().([]float32), b, c, s, s)
	}
	return nil
}

// DecodeCodesTo decodes, for each code, a grid filled with that code: the
// picture a code paints when it is everywhere. dst holds len(codes) images.
func (m *Model) DecodeCodesTo(dst []float32, codes []int) error {
	gs := m.Config.Grid()
	grids := make([]int32, len(codes)*gs*gs)
	for i, c := range codes {
		for j := range gs * gs {
			grids[i*gs*gs+j] = int32(c)
		}
	}
	return m.DecodeTo(dst, grids, len(codes))
}
