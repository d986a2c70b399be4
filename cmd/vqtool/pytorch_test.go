package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
)

// pythonBlock returns the first ```python block of a page in docs/: the
// code users copy is the code tested.
func pythonBlock(t *testing.T, page string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("docs/%s has no python block", page)
	}
	return string(m[1])
}

// The PyTorch loss of docs/pytorch.md, fed a table written by `targets
// export`, gives the loss and gradient of dist2's fused kernel: dense and
// top-k tables, and ce and smooth too.
func TestLossMatchesPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("PyTorch is not installed (Debian: python3-torch python3-numpy):", err)
	}
	dir := t.TempDir()
	vq, _, err := loadVQ(smallVQ)
	if err != nil {
		t.Fatal(err)
	}
	k := vq.Codebook.CodebookSize
	const n = 37
	r := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, n*k)
	for i := range logits {
		logits[i] = float32(3 * r.NormFloat64())
	}
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(r.IntN(k))
		if i%9 == 4 {
			targets[i] = -100 // ignored
		}
	}
	write := func(name string, f func(io.Writer) error) string {
		p := filepath.Join(dir, name)
		if err := imageio.WriteFile(p, f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("logits.npy", func(w io.Writer) error { return imageio.WriteNPYFloat32(w, logits, []int{n, k}) })
	write("targets.npy", func(w io.Writer) error { return imageio.WriteNPY(w, targets, []int{n}) })

	cases := []struct {
		name string
		spec dist2.Spec
	}{
		{"dense", dist2.Spec{Kind: "dist2", Alpha: 0.3, Tau: 0.2, Distance: "l2", TargetTopK: 0}},
		{"topk", dist2.Spec{Kind: "dist2", Alpha: 0.7, Tau: 0.5, Distance: "l2", TargetTopK: 8}},
		{"ce", dist2.Spec{Kind: "ce"}},
		{"smooth", dist2.Spec{Kind: "smooth", Smoothing: 0.1}},
	}
	for _, c := range cases {
		table := filepath.Join(dir, c.name+".safetensors")
		if c.spec.Kind == "dist2" {
			o := targetsExportOptions{lossOptions: lossOptions{Distance: "l2", Tau: "auto", TopK: c.spec.TargetTopK}, VQ: smallVQ, Out: table}
			o.Tau = map[float64]string{0.2: "0.2", 0.5: "0.5"}[c.spec.Tau]
			if err := runTargetsExport(context.Background(), &bytes.Buffer{}, o); err != nil {
				t.Fatal(err)
			}
		}
		loss, _, err := vq.Loss(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		grad := make([]float32, len(logits))
		goTargets := make([]int32, n)
		for i, v := range targets {
			goTargets[i] = max(v, -1)
		}
		want := loss.GradTo(grad, logits, goTargets).Loss

		script := pythonBlock(t, "pytorch.md") + `
import sys
d = sys.argv[1]
z = torch.from_numpy(np.load(d + "/logits.npy")).double().requires_grad_(True)
t = torch.from_numpy(np.load(d + "/targets.npy")).long()
kind, alpha, smoothing = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
indices, probs = (None, None)
if kind == "dist2":
    indices, probs = load_targets(sys.argv[5])
loss = dist2_loss(z, t, probs, indices, alpha=alpha, kind=kind, smoothing=smoothing)
loss.backward()
np.save(d + "/loss.npy", np.array([loss.item()], dtype=np.float32))
np.save(d + "/grad.npy", z.grad.float().numpy())
`
		out, err := exec.Command(py, "-c", script, dir, c.spec.Kind, ftoa(c.spec.Alpha), ftoa(c.spec.Smoothing), table).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: python: %v\n%s", c.name, err, out)
		}
		gotLoss := readFloats(t, filepath.Join(dir, "loss.npy"))[0]
		gotGrad := readFloats(t, filepath.Join(dir, "grad.npy"))
		if rel := math.Abs(float64(gotLoss)-want) / math.Abs(want); rel > 1e-5 {
			t.Errorf("%s: PyTorch loss %.7g, dist2 %.7g (relative difference %.2g)", c.name, gotLoss, want, rel)
		}
		var worst, scale float64
		for i := range grad {
			worst = math.Max(worst, math.Abs(float64(gotGrad[i]-grad[i])))
			scale = math.Max(scale, math.Abs(float64(grad[i])))
		}
		if worst > 1e-5*scale {
			t.Errorf("%s: gradients differ by %.3g (largest entry %.3g)", c.name, worst, scale)
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func readFloats(t *testing.T, path string) []float32 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, _, err := imageio.ReadFloatNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
