package vqvae

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.Hidden, c.ResHidden, c.CodebookSize, c.CodeDim, c.ResBlocks = 16, 8, 16, 4, 1
	return c
}

func tinyData(t testing.TB, n int) Images {
	t.Helper()
	d, err := imageio.Open("embedded", imageio.Options{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	return Images{Pix: d.Pix, N: d.N, C: d.C, H: d.H, W: d.W}
}

// The commitment weight multiplies the encoder term: dL/dz = 2 beta (z - e)/n,
// and the codebook term moves the codes: dL/de = 2 (e - z)/n.
func TestBetaIsOnTheEncoderTerm(t *testing.T) {
	cb := &codebook.Codebook{CodebookSize: 2, D: 2, E: []float32{0, 0, 10, 10}}
	q := &quantizer{cb: cb}
	z := nn.NewDense([]float32{1, 2}, 1, 1, 1, 2)
	e := nn.NewDense(cb.E, 2, 2)
	out := make([]float32, 2)
	q.Forward(out, []*nn.Dense{z, e})
	if q.idx[0] != 0 || out[0] != 0 || out[1] != 0 {
		t.Fatalf("quantized to code %d %v, want code 0", q.idx[0], out)
	}
	l := &vqLoss{q: q, beta: 0.25, codebook: 1}
	var loss [1]float32
	l.Forward(loss[:], []*nn.Dense{z, e})
	// mean over 2 elements of (z - e)^2 = (1 + 4)/2, times (1 + beta).
	if want := float32(1.25 * 2.5); math.Abs(float64(loss[0]-want)) > 1e-6 {
		t.Errorf("loss %v, want %v", loss[0], want)
	}
	dz, de := make([]float32, 2), make([]float32, 4)
	l.Backward(0, dz, []*nn.Dense{z, e}, loss[:], []float32{1})
	l.Backward(1, de, []*nn.Dense{z, e}, loss[:], []float32{1})
	for i, want := range []float32{2 * 0.25 * 1 / 2, 2 * 0.25 * 2 / 2} {
		if math.Abs(float64(dz[i]-want)) > 1e-6 {
			t.Errorf("dL/dz[%d] = %v, want beta-weighted %v", i, dz[i], want)
		}
	}
	for i, want := range []float32{-1, -2, 0, 0} {
		if math.Abs(float64(de[i]-want)) > 1e-6 {
			t.Errorf("dL/de[%d] = %v, want %v (unweighted codebook term)", i, de[i], want)
		}
	}
	ema := &vqLoss{q: q, beta: 0.25, codebook: 0}
	if d := ema.Differentiable(2); d[1] {
		t.Error("EMA codebook: the codes get a gradient")
	}
}

func TestResumeMatchesStraightRun(t *testing.T) {
	data := tinyData(t, 96)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup, tc.Seed = 16, 10, 2, 3
	for _, ema := range []bool{true, false} {
		cfg := tinyConfig()
		cfg.EMA = ema
		straight, _ := New(cfg, rand.New(rand.NewPCG(5, 5)))
		tr, err := NewTrainer(straight, data, tc)
		if err != nil {
			t.Fatal(err)
		}
		for range tc.Steps {
			if _, err := tr.TrainStep(); err != nil {
				t.Fatal(err)
			}
		}
		split, _ := New(cfg, rand.New(rand.NewPCG(5, 5)))
		tr2, _ := NewTrainer(split, data, tc)
		for range 7 { // past an epoch boundary (96 images / 16 = 6 steps)
			if _, err := tr2.TrainStep(); err != nil {
				t.Fatal(err)
			}
		}
		dir := t.TempDir()
		if err := tr2.SaveCheckpoint(dir, Info{}); err != nil {
			t.Fatal(err)
		}
		tr3, _, err := Resume(dir, data)
		if err != nil {
			t.Fatal(err)
		}
		for range tc.Steps - 7 {
			if _, err := tr3.TrainStep(); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range straight.Params() {
			q := tr3.Model.Params()[i]
			for j, v := range p.Data() {
				if math.Abs(float64(v-q.Data()[j])) > 1e-5*math.Max(1, math.Abs(float64(v))) {
					t.Fatalf("ema=%v: %s[%d]: straight %v, resumed %v", ema, p.Name, j, v, q.Data()[j])
				}
			}
		}
	}
}

func TestSaveLoadEncodeDecode(t *testing.T) {
	data := tinyData(t, 40)
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 2)))
	dir := filepath.Join(t.TempDir(), "m.vq")
	if err := m.Save(dir, Info{Data: DataInfo{Name: "embedded"}}); err != nil {
		t.Fatal(err)
	}
	back, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Data.Name != "embedded" || back.Config != m.Config {
		t.Errorf("info %+v", info)
	}
	a, b := make([]int32, 40*49), make([]int32, 40*49)
	if err := m.EncodeTo(a, data.Pix, 40); err != nil {
		t.Fatal(err)
	}
	back.EncodeTo(b, data.Pix, 40)
	for i := range a {
		if a[i] != b[i] || a[i] < 0 || int(a[i]) >= 16 {
			t.Fatalf("token %d: %d vs %d after reload", i, a[i], b[i])
		}
	}
	img := make([]float32, 40*28*28)
	if err := back.DecodeTo(img, a, 40); err != nil {
		t.Fatal(err)
	}
	a[3] = 99
	if err := back.DecodeTo(img, a, 40); err == nil || !strings.Contains(err.Error(), "token 99") {
		t.Errorf("bad token: error %v", err)
	}
	// A checkpoint whose weights do not fit its config.
	cfg := tinyConfig()
	cfg.Hidden = 32
	other, _ := New(cfg, rand.New(rand.NewPCG(1, 2)))
	other.Save(filepath.Join(t.TempDir(), "o.vq"), Info{})
	os.Rename(filepath.Join(t.TempDir(), "o.vq", nn.ModelFile), filepath.Join(dir, nn.ModelFile))
	odir := filepath.Join(t.TempDir(), "x.vq")
	other.Save(odir, Info{})
	os.WriteFile(filepath.Join(odir, nn.ConfigFile), mustRead(t, filepath.Join(dir, nn.ConfigFile)), 0o644)
	if _, _, err := Load(odir); err == nil || !strings.Contains(err.Error(), "want [") {
		t.Errorf("mismatched weights: error %v, want one naming the expected shape", err)
	}
	if _, _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a VQ-VAE checkpoint") {
		t.Errorf("empty folder: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainingReducesLoss(t *testing.T) {
	data := tinyData(t, 256)
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 3)))
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup, tc.LR = 32, 150, 10, 3e-3
	tr, err := NewTrainer(m, data, tc)
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := m.Evaluate(data)
	for range tc.Steps {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	after, _, _ := m.Evaluate(data)
	if !(after.PSNR > before.PSNR+3) || after.Used < 8 {
		t.Errorf("PSNR %.2f -> %.2f dB, codes used %d of 16", before.PSNR, after.PSNR, after.Used)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Channels = 2 },
		func(c *Config) { c.Downsample = 3 },
		func(c *Config) { c.Size = 30 },
		func(c *Config) { c.CodebookSize = 1 },
		func(c *Config) { c.Decay = 1 },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	m, _ := New(DefaultConfig(), rand.New(rand.NewPCG(1, 1)))
	if _, err := NewTrainer(m, Images{N: 10, C: 3, H: 28, W: 28, Pix: make([]float32, 10*3*28*28)}, DefaultTrainConfig()); err == nil {
		t.Error("RGB images for a gray model: no error")
	}
}

// RGB images at 32 x 32 with 8x downsampling: shapes through training,
// encoding and decoding.
func TestRGBModel(t *testing.T) {
	cfg := tinyConfig()
	cfg.Channels, cfg.Size, cfg.Downsample = 3, 32, 8
	m, err := New(cfg, rand.New(rand.NewPCG(1, 4)))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 4))
	data := Images{Pix: make([]float32, 20*3*32*32), N: 20, C: 3, H: 32, W: 32}
	for i := range data.Pix {
		data.Pix[i] = float32(2*r.Float64() - 1)
	}
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.KMeans = 4, 3, false
	tr, err := NewTrainer(m, data, tc)
	if err != nil {
		t.Fatal(err)
	}
	for range tc.Steps {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	tokens := make([]int32, 20*4*4)
	if err := m.EncodeTo(tokens, data.Pix, 20); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(data.Pix))
	if err := m.DecodeTo(out, tokens, 20); err != nil {
		t.Fatal(err)
	}
	if e, _, err := m.Evaluate(data); err != nil || !(e.MSE > 0) || e.Total != 20*16 {
		t.Errorf("evaluate: %+v, %v", e, err)
	}
}

func TestNaNStopsTraining(t *testing.T) {
	data := tinyData(t, 32)
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 5)))
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps = 16, 5
	tr, _ := NewTrainer(m, data, tc)
	if _, err := tr.TrainStep(); err != nil {
		t.Fatal(err)
	}
	m.Params()[0].Data()[0] = float32(math.NaN())
	_, err := tr.TrainStep()
	if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "step 2") {
		t.Errorf("error %v, want ErrNotFinite naming step 2", err)
	}
}

// EncodeMany is EncodeTo in chunks, telling progress after each.
func TestEncodeMany(t *testing.T) {
	n := EncodeChunk + 40
	data := tinyData(t, n)
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 2)))
	want := make([]int32, n*49)
	if err := m.EncodeTo(want, data.Pix, n); err != nil {
		t.Fatal(err)
	}
	var seen []int
	got, err := m.EncodeMany(data.Pix, n, func(done int) error { seen = append(seen, done); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || !slices.Equal(seen, []int{EncodeChunk, n}) {
		t.Errorf("progress %v (want [%d %d]); grids equal: %v", seen, EncodeChunk, n, slices.Equal(got, want))
	}
	stop := errors.New("stop")
	if _, err := m.EncodeMany(data.Pix, n, func(int) error { return stop }); err != stop {
		t.Errorf("a progress error: %v, want it back", err)
	}
	if _, err := m.EncodeMany(data.Pix[:10], n, nil); err == nil {
		t.Error("too few pixels: no error")
	}
}

func TestUsageCountsTheEncodedCodes(t *testing.T) {
	data := tinyData(t, 30)
	m, _ := New(tinyConfig(), rand.New(rand.NewPCG(1, 2)))
	g := m.Config.Grid() * m.Config.Grid()
	tokens := make([]int32, 30*g)
	if err := m.EncodeTo(tokens, data.Pix, 30); err != nil {
		t.Fatal(err)
	}
	want := make([]int64, m.Config.CodebookSize)
	for _, c := range tokens {
		want[c]++
	}
	u, err := m.Usage(data.Pix, 30)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Counts, want) {
		t.Errorf("counts %v, want %v", u.Counts, want)
	}
	if _, err := m.Usage(data.Pix[:10], 30); err == nil {
		t.Error("too few pixels: no error")
	}
}

// The DIST2 targets of a tokenizer's loss follow its codebook: the nearest
// code of each code (itself excluded) gets the most target mass after it.
func TestLossTargetsFollowTheCodebook(t *testing.T) {
	m, err := New(tinyConfig(), rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	l, b, err := m.Loss(dist2.Spec{Kind: "dist2", Alpha: 0.1, Tau: 0.5, Distance: "l2"})
	if err != nil {
		t.Fatal(err)
	}
	k := m.Config.CodebookSize
	if l.Table == nil || l.Table.CodebookSize != k || b.Tau != 0.5 {
		t.Fatalf("table %v, built %+v: want a dense %d-code table at tau 0.5", l.Table, b, k)
	}
	d, err := m.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float32, k)
	for c := range k {
		_, p := l.Table.Row(c)
		d.RowTo(row, c)
		near := -1
		for j, dj := range row {
			if j != c && (near < 0 || dj < row[near]) {
				near = j
			}
		}
		for j := range k {
			if j != c && j != near && p[j] > p[near] {
				t.Fatalf("code %d: target mass %v on code %d, more than %v on its nearest code %d", c, p[j], j, p[near], near)
			}
		}
	}
	if l, _, err := m.Loss(dist2.Spec{Kind: "ce"}); err != nil || l.Table != nil {
		t.Errorf("CE: table %v, %v; want none", l.Table, err)
	}
}
