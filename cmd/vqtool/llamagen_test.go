package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

// encode --format llamagen, run as two shards into one folder, writes
// LlamaGen's layout: what vqtool reads back equals the .npy encoding, numpy
// reads the shapes and dtypes LlamaGen's extraction writes, and a LlamaGen-
// style loader (written here from its description) trains one step on it.
func TestEncodeLlamaGen(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "fmnist_code_c2i_flip")
	for _, s := range []string{"1/2", "2/2"} {
		o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 9}, Model: smallVQ, Out: root,
			Shard: s, Format: "llamagen", Flip: true, Dataset: "fmnist"}
		if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	flat := filepath.Join(dir, "t.npy")
	o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 9}, Model: smallVQ, Out: flat}
	if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
		t.Fatal(err)
	}
	got, err := imageio.LoadTokens(root)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := imageio.LoadTokens(flat)
	if got.N != 9 || got.H != 7 || !slices.Equal(got.Codes, want.Codes) || !slices.Equal(got.Labels, want.Labels) {
		t.Errorf("read back %d grids of %dx%d: not the .npy encoding", got.N, got.H, got.W)
	}

	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("PyTorch is not installed (Debian: python3-torch python3-numpy):", err)
	}
	script := `
import os, sys, numpy as np, torch
root = sys.argv[1]
codes, labels = root + "/fmnist28_codes", root + "/fmnist28_labels"
n = len(os.listdir(codes))
assert n == 9, n
for i in range(n):
    c, l = np.load(f"{codes}/{i}.npy"), np.load(f"{labels}/{i}.npy")
    assert c.dtype == np.int64 and c.shape == (1, 2, 49), (c.dtype, c.shape)
    assert l.dtype == np.int64 and l.shape == (1,), (l.dtype, l.shape)

class CustomDataset(torch.utils.data.Dataset):  # as LlamaGen's dataset/imagenet.py describes it
    def __init__(self, feature_dir, label_dir):
        self.feature_dir, self.label_dir = feature_dir, label_dir
        self.flip = "flip" in feature_dir
        self.n = len(os.listdir(feature_dir))
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        f = np.load(f"{self.feature_dir}/{i}.npy")
        if self.flip:
            f = f[:, torch.randint(0, f.shape[1], (1,)).item()]
        return torch.from_numpy(f), torch.from_numpy(np.load(f"{self.label_dir}/{i}.npy"))

loader = torch.utils.data.DataLoader(CustomDataset(codes, labels), batch_size=4, shuffle=True)
x, y = next(iter(loader))
x, y = x.reshape(x.shape[0], -1), y.reshape(-1)
emb, head = torch.nn.Embedding(64 + 10, 16), torch.nn.Linear(16, 64)
opt = torch.optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1)
seq = torch.cat([64 + y[:, None], x[:, :-1]], 1)
loss = torch.nn.functional.cross_entropy(head(emb(seq)).reshape(-1, 64), x.reshape(-1))
loss.backward(); opt.step()
print("one step, loss", loss.item())
`
	if out, err := exec.Command(py, "-c", script, root).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

// sample --images writes what the standard evaluators read: an .npz with
// arr_0 uint8 [N, H, W, 3] (grey repeated to RGB) and, for classes, arr_1
// int64 [N] as guided-diffusion's class-conditional sampler writes; or a
// folder of RGB PNGs, as LlamaGen's create_npz_from_sample_folder asserts.
func TestSampleImagesForEvaluators(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if err := execute(t, "train-gen", "--vq", smallVQ, "--data", "embedded", "--limit", "32", "--out", gen, "--steps", "1", "--batch", "8",
		"--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "8"); err != nil {
		t.Fatal(err)
	}
	npz, uncond, pngs := filepath.Join(dir, "s.npz"), filepath.Join(dir, "u.npz"), filepath.Join(dir, "pngs")+"/"
	for _, out := range []string{npz, pngs} {
		if err := execute(t, "sample", "--gen", gen, "--vq", smallVQ, "--n", "6", "--class", "3", "--out", filepath.Join(dir, "grid.png"), "--images", out); err != nil {
			t.Fatal(err)
		}
	}
	if err := execute(t, "sample", "--gen", gen, "--vq", smallVQ, "--n", "6", "--out", filepath.Join(dir, "grid.png"), "--images", uncond); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(pngs + "*.png")
	if len(names) != 6 {
		t.Fatalf("%d PNGs, want 6", len(names))
	}
	b, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 26 || b[25] != 2 { // IHDR colour type 2: RGB, no alpha
		t.Errorf("%s: PNG colour type %d, want 2 (RGB)", names[0], b[25])
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("numpy is not installed:", err)
	}
	out, err := exec.Command(py, "-c", `
import sys, numpy as np
z = np.load(sys.argv[1])
a, l = z["arr_0"], z["arr_1"]
assert a.dtype == np.uint8 and a.shape == (6, 28, 28, 3), (a.dtype, a.shape)
assert (a[..., 0] == a[..., 1]).all() and (a[..., 0] == a[..., 2]).all()
assert l.dtype == np.int64 and l.shape == (6,) and (l == 3).all(), (l.dtype, l)
u = np.load(sys.argv[2])
assert u.files == ["arr_0"], u.files
`, npz, uncond).CombinedOutput()
	if err != nil {
		t.Errorf("numpy: %v\n%s", err, out)
	}
}
