package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/nn"
)

// LeNet is a small convolutional classifier whose penultimate activations
// serve as image features for Frechet and kernel distances, in place of
// Inception features that cannot be had offline ("Frechet LeNet distance"):
//
//	conv3x3(C->16) relu, conv4x4/2(16->32) relu, conv4x4/2(32->64) relu,
//	flatten, linear(->Features) relu  [features], linear(->Classes)
type LeNet struct {
	Channels, Size, Classes int
	Features                int

	convs    []*nn.Conv
	fc, out  *linear
	params   []*nn.Param
	programs map[int]*lenetProgram
}

// lenetFeatures is the width of the feature layer.
const lenetFeatures = 128

type linear struct{ w, b *nn.Param }

func newLinear(name string, in, out int, r *rand.Rand) *linear {
	bound := 1 / math.Sqrt(float64(in))
	return &linear{w: nn.NewParam(name+".weight", in, out).Uniform(r, bound), b: nn.NewParam(name+".bias", out).Uniform(r, bound)}
}

// NewLeNet returns a classifier for size x size images (size divisible by 4).
func NewLeNet(channels, size, classes int, r *rand.Rand) (*LeNet, error) {
	if size%4 != 0 || size < 8 || classes < 2 || (channels != 1 && channels != 3) {
		return nil, fmt.Errorf("metrics: classifier for %d channels, %d pixels, %d classes: want 1 or 3 channels, a size divisible by 4, 2+ classes",
			channels, size, classes)
	}
	l := &LeNet{Channels: channels, Size: size, Classes: classes, Features: lenetFeatures, programs: map[int]*lenetProgram{}}
	l.layout(func(name string, cin, cout int, g nn.Geometry) *nn.Conv { return nn.NewConv(name, cin, cout, g, r) },
		func(name string, in, out int) *linear { return newLinear(name, in, out, r) })
	for _, c := range l.convs {
		l.params = append(l.params, c.Params()...)
	}
	l.params = append(l.params, l.fc.w, l.fc.b, l.out.w, l.out.b)
	return l, nil
}

// layout makes the layers of l, whose Channels, Size, Classes and Features
// are set, through conv and lin, in the order NewLeNet draws their weights.
func (l *LeNet) layout(conv func(name string, cin, cout int, g nn.Geometry) *nn.Conv, lin func(name string, in, out int) *linear) {
	l.convs = []*nn.Conv{
		conv("conv0", l.Channels, 16, nn.Geometry{K: 3, Stride: 1, Pad: 1}),
		conv("conv1", 16, 32, nn.Geometry{K: 4, Stride: 2, Pad: 1}),
		conv("conv2", 32, 64, nn.Geometry{K: 4, Stride: 2, Pad: 1}),
	}
	flat := (l.Size / 4) * (l.Size / 4) * 64
	l.fc = lin("fc", flat, l.Features)
	l.out = lin("out", l.Features, l.Classes)
}

// lenetShapes returns the shape of every tensor of a saved classifier of
// info, by name, without building it.
func lenetShapes(info *lenetInfo) map[string][]int {
	shapes := map[string][]int{}
	l := &LeNet{Channels: info.Channels, Size: info.Size, Classes: info.Classes, Features: lenetFeatures}
	l.layout(func(name string, cin, cout int, g nn.Geometry) *nn.Conv {
		nn.ConvShapes(shapes, name, cin, cout, g)
		return nil
	}, func(name string, in, out int) *linear {
		shapes[name+".weight"], shapes[name+".bias"] = []int{in, out}, []int{out}
		return nil
	})
	return shapes
}

// Params lists the weights.
func (l *LeNet) Params() []*nn.Param { return l.params }

type lenetProgram struct {
	prog     *nn.Program
	x        *nn.Dense
	features *nn.Node
	logits   *nn.Node
}

// build adds the network for batch images to g.
func (l *LeNet) build(g *nn.Builder, batch int) (x *nn.Dense, features, logits *nn.Node) {
	xn, x := g.Input("x", batch, l.Size, l.Size, l.Channels)
	h := xn
	for i, c := range l.convs {
		h = g.ReLU(c.Forward(g, h, i > 0))
	}
	h = g.Apply(nn.Reshape{Shape: []int{batch, (l.Size / 4) * (l.Size / 4) * 64}}, h)
	features = g.ReLU(g.Apply(&nn.MatMul{InputGrad: true}, h, g.Use(l.fc.w), g.Use(l.fc.b)))
	logits = g.Apply(&nn.MatMul{InputGrad: true}, features, g.Use(l.out.w), g.Use(l.out.b))
	return x, features, logits
}

func (l *LeNet) program(batch int) (*lenetProgram, error) {
	if p, ok := l.programs[batch]; ok {
		return p, nil
	}
	g := nn.NewBuilder()
	x, f, logits := l.build(g, batch)
	prog, err := g.Compile(nil)
	if err != nil {
		return nil, err
	}
	p := &lenetProgram{prog: prog, x: x, features: f, logits: logits}
	l.programs[batch] = p
	return p, nil
}

// Run computes the features [n, Features] and the predicted classes of n
// channel-major images in [-1, 1].
func (l *LeNet) Run(images []float32, n int) (features []float32, predicted []int32, err error) {
	per := l.Channels * l.Size * l.Size
	if n < 0 || len(images) < n*per {
		return nil, nil, fmt.Errorf("metrics: %d floats for %d images of %d", len(images), n, per)
	}
	if n == 0 {
		return nil, nil, nil
	}
	b := runBatch(n)
	p, err := l.program(b)
	if err != nil {
		return nil, nil, err
	}
	features = make([]float32, n*l.Features)
	predicted = make([]int32, n)
	for lo := 0; lo < n; lo += b {
		k := min(b, n-lo)
		x := p.x.Float32s()
		clear(x[k*per:])
		nn.ToNHWC(x, images[lo*per:], k, l.Channels, l.Size, l.Size)
		if err := p.prog.Run(); err != nil {
			return nil, nil, err
		}
		copy(features[lo*l.Features:], p.features.Value().Data().([]float32)[:k*l.Features])
		logits := p.logits.Value().Data().([]float32)
		for i := range k {
			row := logits[i*l.Classes : (i+1)*l.Classes]
			best := 0
			for c, v := range row {
				if v > row[best] {
					best = c
				}
			}
			predicted[lo+i] = int32(best)
		}
	}
	return features, predicted, nil
}

// maxRunBatch is the largest batch Run's programs take.
const maxRunBatch = 256

// runBatch is the batch of the program that runs n images: the least power
// of two >= n, at most maxRunBatch, so that a few cached programs serve
// every n.
func runBatch(n int) int {
	b := 1
	for b < n && b < maxRunBatch {
		b *= 2
	}
	return b
}

// FewImagesError is a training set smaller than one batch.
type FewImagesError struct{ Images, Batch int }

func (e *FewImagesError) Error() string {
	return fmt.Sprintf("metrics: %d labelled images for batches of %d: want at least %d images, or batches of at most %d",
		e.Images, e.Batch, e.Batch, max(e.Images, 1))
}

// Train fits the classifier with Adam and cross-entropy on labelled
// channel-major images, for steps of batch images, and returns the loss of
// the last step.
func (l *LeNet) Train(images []float32, labels []int32, steps, batch int, lr float64, seed uint64, onStep func(step int, loss float64)) (float64, error) {
	n, per := len(labels), l.Channels*l.Size*l.Size
	switch {
	case batch < 1:
		return 0, fmt.Errorf("metrics: batch %d: want at least 1 image a step", batch)
	case steps < 1:
		return 0, fmt.Errorf("metrics: %d steps: want at least 1", steps)
	case len(images) != n*per:
		return 0, fmt.Errorf("metrics: %d floats for %d labelled images of %d", len(images), n, per)
	case n < batch:
		return 0, &FewImagesError{Images: n, Batch: batch}
	}
	for i, c := range labels {
		if c < 0 || int(c) >= l.Classes {
			return 0, fmt.Errorf("metrics: label %d of image %d: want a class in [0, %d)", c, i, l.Classes)
		}
	}
	g := nn.NewBuilder()
	x, _, logits := l.build(g, batch)
	loss := &nn.TokenLoss{Loss: &dist2.Loss{Kind: dist2.CE}, Targets: make([]int32, batch)}
	prog, err := g.Compile(g.Apply(loss, logits))
	if err != nil {
		return 0, err
	}
	opt := nn.NewAdam(0)
	sched := nn.Schedule{Peak: lr, Warmup: min(100, steps/10), Total: steps, MinRatio: 0.05}
	r := seeds.New(seed, seeds.ClassifierTraining)
	perm := r.Perm(n)
	pos := 0
	grads := make([][]float32, len(prog.Params))
	var last float64
	for step := range steps {
		xs := x.Float32s()
		for i := range batch {
			if pos == n {
				perm, pos = r.Perm(n), 0
			}
			j := perm[pos]
			pos++
			nn.ToNHWC(xs[i*per:], images[j*per:(j+1)*per], 1, l.Channels, l.Size, l.Size)
			loss.Targets[i] = labels[j]
		}
		if err := prog.Run(); err != nil {
			return 0, err
		}
		last = float64(prog.LossValue())
		if math.IsNaN(last) {
			return 0, fmt.Errorf("metrics: classifier loss is NaN at step %d", step+1)
		}
		for i := range grads {
			grads[i] = prog.Grad(i)
		}
		opt.Update(prog.Params, grads, sched.At(step))
		if onStep != nil {
			onStep(step+1, last)
		}
	}
	return last, nil
}

// lenetInfo is the config.json of a saved classifier.
type lenetInfo struct {
	Kind     string  `json:"kind"`
	Version  int     `json:"version"`
	Channels int     `json:"channels"`
	Size     int     `json:"size"`
	Classes  int     `json:"classes"`
	Data     string  `json:"data"`
	Accuracy float64 `json:"test_accuracy"`
}

const lenetKind = "vqtool.lenet"

var lenetFormat = nn.Format[lenetInfo, *LeNet]{Kind: lenetKind, What: "a classifier written by vqtool train-classifier", Pkg: "metrics",
	New: func(i *lenetInfo) (*LeNet, error) {
		return NewLeNet(i.Channels, i.Size, i.Classes, rand.New(rand.NewPCG(0, 0)))
	},
	Shapes: lenetShapes,
	Stamp: func(i *lenetInfo, l *LeNet) {
		i.Kind, i.Version, i.Channels, i.Size, i.Classes = lenetKind, nn.Version, l.Channels, l.Size, l.Classes
	},
	Put:     func(l *LeNet, c *nn.Checkpoint) { c.PutParams(l.params) },
	Restore: func(l *LeNet, c *nn.Checkpoint) error { return c.RestoreParams(l.params) },
}

// Save writes config.json and model.safetensors into dir.
func (l *LeNet) Save(dir, data string, accuracy float64) error {
	return lenetFormat.Save(dir, l, lenetInfo{Data: data, Accuracy: accuracy})
}

// LoadLeNet reads a classifier saved by Save, and its test accuracy.
func LoadLeNet(dir string) (*LeNet, float64, error) {
	l, info, err := lenetFormat.Load(dir)
	return l, info.Accuracy, err
}

// Accuracy returns the fraction of images whose predicted class is their label.
func (l *LeNet) Accuracy(images []float32, labels []int32) (float64, error) {
	_, pred, err := l.Run(images, len(labels))
	if err != nil {
		return 0, err
	}
	hit := 0
	for i, p := range pred {
		if p == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(labels)), nil
}
