package main

import (
	"io"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

// The decoder of docs/checkpoints.md, built in PyTorch from a vqtool
// checkpoint, decodes tokens as vqtool does, within one grey level.
func TestDecoderInPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("PyTorch is not installed (Debian: python3-torch python3-numpy):", err)
	}
	vq, _, err := loadVQ(smallVQ)
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&dataOptions{Data: "embedded", Split: "test", Limit: 12}).open()
	if err != nil {
		t.Fatal(err)
	}
	g := vq.Config.Grid()
	tokens := make([]int32, d.N*g*g)
	if err := vq.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	s, c := vq.Config.Size, vq.Config.Channels
	pix := make([]float32, d.N*c*s*s)
	if err := vq.DecodeTo(pix, tokens, d.N); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := imageio.SaveTokens(filepath.Join(dir, "t.npy"), &imageio.Tokens{Codes: tokens, N: d.N, H: g, W: g}); err != nil {
		t.Fatal(err)
	}
	if err := imageio.WriteFile(filepath.Join(dir, "go.npy"), func(w io.Writer) error {
		return imageio.WriteNPYFloat32(w, pix, []int{d.N, c, s, s})
	}); err != nil {
		t.Fatal(err)
	}
	script := pythonBlock(t, "checkpoints.md") + `
import sys
d, ckpt = sys.argv[1], sys.argv[2]
tok = torch.from_numpy(np.load(d + "/t.npy"))  # int64 as written: no cast
with torch.no_grad():
    x = decode(ckpt, tok).numpy()
ref = np.load(d + "/go.npy")
assert x.shape == ref.shape, (x.shape, ref.shape)
grey = lambda v: np.clip(np.round((v + 1) * 127.5), 0, 255)
worst = np.abs(grey(x) - grey(ref)).max()
print("largest grey-level difference", worst, "largest value difference", np.abs(x - ref).max())
assert worst <= 1, worst
`
	if out, err := exec.Command(py, "-c", script, dir, smallVQ).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	} else {
		t.Log(string(out))
	}
}
