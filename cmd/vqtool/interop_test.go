package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

// needPython returns the Python that runs the interop tests, skipping the
// test when it or one of the modules is missing.
func needPython(t *testing.T, modules string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import "+modules).Run(); err != nil {
		t.Skipf("python3 with %s is not installed (Debian: python3-torch python3-numpy): %v", modules, err)
	}
	return py
}

// pythonBlockWith returns the ```python block of a page in docs/ that holds
// text.
func pythonBlockWith(t *testing.T, page, text string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```python\n(.*?)```").FindAllSubmatch(b, -1) {
		if strings.Contains(string(m[1]), text) {
			return string(m[1])
		}
	}
	t.Fatalf("docs/%s has no python block holding %q", page, text)
	return ""
}

// runPython runs script in dir with args, failing the test with its output.
func runPython(t *testing.T, py, dir, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

// The snippets of docs/pytorch.md and docs/checkpoints.md on token files run
// on what encode writes, with no cast: the loss, cross-entropy and the
// decoder take the tokens as numpy loads them.
func TestTokenFilesInPyTorch(t *testing.T) {
	py := needPython(t, "torch, numpy")
	dir := t.TempDir()
	o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 9}, Model: smallVQ, Out: filepath.Join(dir, "train.npy")}
	if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
		t.Fatal(err)
	}
	to := targetsExportOptions{lossOptions: lossOptions{Distance: "l2", Tau: "auto", Perplexity: 4, TopK: 8}, VQ: smallVQ, Out: filepath.Join(dir, "targets.safetensors")}
	if err := runTargetsExport(context.Background(), &bytes.Buffer{}, to); err != nil {
		t.Fatal(err)
	}
	script := pythonBlock(t, "pytorch.md") + pythonBlockWith(t, "pytorch.md", `np.load("train.npy")`) +
		pythonBlockWith(t, "checkpoints.md", "def decode(") + `
import sys
assert tokens.dtype == torch.int64 and labels.dtype == torch.int64, (tokens.dtype, labels.dtype)
F.cross_entropy(torch.zeros(x.numel(), probs.shape[0]), x.reshape(-1))
F.cross_entropy(torch.zeros(len(labels), 10), labels)
with torch.no_grad():
    images = decode(sys.argv[1], tokens)
assert images.shape == (9, 1, 28, 28), images.shape
`
	runPython(t, py, dir, script, smallVQ)
}

// Token files of int32 (an older vqtool wrote them, or numpy by default on
// some platforms) still train a generator and decode.
func TestInt32TokenFilesStillRead(t *testing.T) {
	dir := t.TempDir()
	o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 16}, Model: smallVQ, Out: filepath.Join(dir, "new.npy")}
	if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
		t.Fatal(err)
	}
	tok, err := imageio.LoadTokens(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.npy")
	if err := imageio.WriteFile(old, func(w io.Writer) error { return imageio.WriteNPY(w, tok.Codes, []int{tok.N, tok.H, tok.W}) }); err != nil {
		t.Fatal(err)
	}
	if err := imageio.WriteFile(imageio.LabelsPath(old), func(w io.Writer) error { return imageio.WriteNPY(w, tok.Labels, []int{tok.N}) }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{old, o.Out} {
		if err := execute(t, "train-gen", "--vq", smallVQ, "--tokens", f, "--held-out", f, "--out", filepath.Join(dir, "g"+filepath.Base(f)),
			"--steps", "1", "--batch", "4", "--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32"); err != nil {
			t.Errorf("train-gen --tokens %s: %v", f, err)
		}
		if err := execute(t, "decode", "--vq", smallVQ, f, "--out", filepath.Join(dir, filepath.Base(f)+".png")); err != nil {
			t.Errorf("decode %s: %v", f, err)
		}
	}
}

// copyDir copies the files of folder src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dst, 0o755)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A generator's config.json names its tokenizer relative to the run folder:
// a project folder moved elsewhere samples when opened from another
// directory; a config.json naming it relative to where train-gen ran still
// works from there; a tokenizer that cannot be found is an error that says
// --vq points at it.
func TestSampleFromAMovedRunFolder(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "project")
	copyDir(t, smallVQ, filepath.Join(project, "tok.vq"))
	t.Chdir(project)
	if err := execute(t, "train-gen", "--vq", "tok.vq", "--tokens", "", "--data", "embedded", "--limit", "16", "--out", filepath.Join("runs", "gen1"),
		"--steps", "1", "--batch", "4", "--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "4"); err != nil {
		t.Fatal(err)
	}
	info, err := generator.ReadInfo(filepath.Join("runs", "gen1"))
	if err != nil {
		t.Fatal(err)
	}
	if info.VQ != "../../tok.vq" {
		t.Errorf("config.json names the tokenizer %q, want ../../tok.vq", info.VQ)
	}
	elsewhere := filepath.Join(root, "elsewhere")
	os.MkdirAll(elsewhere, 0o755)
	t.Chdir(elsewhere)
	moved := filepath.Join(root, "moved")
	if err := os.Rename(project, moved); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join("..", "moved", "runs", "gen1")
	if err := execute(t, "sample", "--gen", gen, "--n", "2", "--out", "s.png"); err != nil {
		t.Errorf("sample from a moved run folder: %v", err)
	}

	// The older form: the path as typed where train-gen ran.
	cfg := filepath.Join(moved, "runs", "gen1", nn.ConfigFile)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(b, []byte(`"vq": "../../tok.vq"`), []byte(`"vq": "tok.vq"`), 1)
	if bytes.Equal(old, b) {
		t.Fatalf("%s does not hold \"vq\": \"../../tok.vq\":\n%s", cfg, b)
	}
	os.WriteFile(cfg, old, 0o644)
	t.Chdir(moved)
	if err := execute(t, "sample", "--gen", filepath.Join("runs", "gen1"), "--n", "2", "--out", filepath.Join(elsewhere, "s.png")); err != nil {
		t.Errorf("sample with a tokenizer named relative to the working directory: %v", err)
	}
	t.Chdir(elsewhere)
	err = execute(t, "sample", "--gen", filepath.Join(moved, "runs", "gen1"), "--n", "2", "--out", "s.png")
	if err == nil || !strings.Contains(err.Error(), "--vq") || !strings.Contains(err.Error(), "tok.vq") {
		t.Errorf("a tokenizer not found: %v, want an error naming tok.vq and --vq", err)
	}
}

// executeLogged runs a command line with stderr captured, as a file
// (terminal false) or a terminal, and returns what it printed there.
func executeLogged(t *testing.T, terminal bool, args ...string) (string, error) {
	t.Helper()
	var log bytes.Buffer
	oldErr, oldTerm := stderr, stderrIsTerminal
	stderr, stderrIsTerminal = &log, func() bool { return terminal }
	defer func() { stderr, stderrIsTerminal = oldErr, oldTerm }()
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&log)
	err := root.ExecuteContext(context.Background())
	global.Quiet = false
	return log.String(), err
}

// With stderr a file, train-gen prints a plain progress line at every
// interval (here every 10 steps: 10 lines for 100 steps), with the step,
// loss, rate and ETA, and the held-out evaluation once one has run; on a
// terminal it draws its bar instead; under --quiet it prints nothing.
func TestProgressLinesInALog(t *testing.T) {
	dir := t.TempDir()
	args := func(out string, extra ...string) []string {
		return append([]string{"train-gen", "--vq", smallVQ, "--data", "embedded", "--limit", "32", "--out", filepath.Join(dir, out),
			"--steps", "100", "--batch", "4", "--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32",
			"--eval-every", "50", "--eval-limit", "4", "--save-every", "100"}, extra...)
	}
	log, err := executeLogged(t, false, args("g1", "--progress-every", "10")...)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "train-gen: ") && strings.Contains(l, "/100 (") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 10 {
		t.Fatalf("%d progress lines, want 10 (one every 10 steps):\n%s", len(lines), log)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "train-gen: "+strconv.Itoa(10*(i+1))+"/100 (") || !strings.Contains(l, "loss ") || !strings.Contains(l, "/s") {
			t.Errorf("line %d: %q: want step %d, the loss and a rate", i, l, 10*(i+1))
		}
		if i < 9 && !strings.Contains(l, "ETA ") {
			t.Errorf("line %d: %q: no ETA", i, l)
		}
		if i >= 5 && !strings.Contains(l, "held-out nll") {
			t.Errorf("line %d: %q: no held-out evaluation after the one at step 50", i, l)
		}
	}

	// A time interval: at least one line, and the last at the end.
	log, err = executeLogged(t, false, args("g2", "--progress-every", "1ms")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "train-gen: 100/100 (100%)") {
		t.Errorf("--progress-every 1ms: no line at the end:\n%s", log)
	}

	log, err = executeLogged(t, true, args("g3")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log, "/100 (") {
		t.Errorf("a terminal got plain progress lines:\n%s", log)
	}
	log, err = executeLogged(t, false, args("g4", "--quiet", "--progress-every", "10")...)
	if err != nil || log != "" {
		t.Errorf("--quiet: %v, printed %q", err, log)
	}
	if _, err := executeLogged(t, false, args("g5", "--progress-every", "0")...); err == nil {
		t.Error("--progress-every 0: no error")
	}
}

// The metadata of a targets file says what each key of docs/pytorch.md
// says: K, k, the perplexity of the untruncated rows (computed here from the
// codebook) and of the rows as written (from the file's probs), for a given
// and a calibrated tau; docs/pytorch.md's targets_metadata reads older
// files' keys as the new ones.
func TestTargetsMetadata(t *testing.T) {
	py := needPython(t, "torch, numpy")
	dir := t.TempDir()
	cb := filepath.Join(dir, "codebook.npy")
	if err := execute(t, "codebook", "export", "--vq", smallVQ, "--out", cb); err != nil {
		t.Fatal(err)
	}
	for _, tau := range []string{"auto", "0.05"} {
		out := filepath.Join(dir, "t-"+tau+".safetensors")
		o := targetsExportOptions{lossOptions: lossOptions{Distance: "l2", Tau: tau, Perplexity: 6, TopK: 8}, Codebook: cb, Out: out}
		if err := runTargetsExport(context.Background(), &bytes.Buffer{}, o); err != nil {
			t.Fatal(err)
		}
		runPython(t, py, dir, pythonBlock(t, "pytorch.md")+`
import sys
m = targets_metadata(sys.argv[1])
for old in ("k", "topk", "perplexity"):
    assert old not in m, m
indices, probs = load_targets(sys.argv[1])
c = np.load(sys.argv[2]).astype(np.float64)
K = c.shape[0]
assert int(m["codebook_size"]) == K and int(m["target_topk"]) == probs.shape[1] == 8, m
d = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
p = torch.softmax(-torch.from_numpy(d) / float(m["tau"]), 1)
full = torch.exp(-(torch.xlogy(p, p)).sum(1)).mean().item()
q = probs.double()
kept = torch.exp(-(torch.xlogy(q, q)).sum(1)).mean().item()
assert abs(float(m["perplexity_full"]) - full) < 1e-4 * full, (m["perplexity_full"], full)
assert abs(float(m["perplexity_kept"]) - kept) < 1e-4 * kept, (m["perplexity_kept"], kept)
assert kept < full
if sys.argv[3] == "auto":
    assert abs(full - 6) < 1e-3, full
`, out, cb, tau)
	}
	old := filepath.Join(dir, "old.safetensors")
	meta := map[string]string{"k": "4", "topk": "2", "perplexity": "1.5", "tau_auto": "true", "tau": "0.1"}
	if err := imageio.WriteTargets(old, imageio.Targets{CodebookSize: 4, TopK: 2, Indices: make([]int32, 8), Probs: make([]float32, 8), Meta: meta}); err != nil {
		t.Fatal(err)
	}
	runPython(t, py, dir, pythonBlock(t, "pytorch.md")+`
import sys
m = targets_metadata(sys.argv[1])
assert m["codebook_size"] == "4" and m["target_topk"] == "2" and m["perplexity_full"] == "1.5", m
`, old)
}

// llamaGenCustomDataset is LlamaGen's CustomDataset (dataset/imagenet.py) as
// it behaves: ImageNet's 1,281,167 files whatever the folder holds, a random
// augmentation when "flip" is in the path.
const llamaGenCustomDataset = `
import os, numpy as np, torch
from torch.utils.data import Dataset

class CustomDataset(Dataset):
    def __init__(self, feature_dir, label_dir):
        self.feature_dir = feature_dir
        self.label_dir = label_dir
        self.flip = 'flip' in self.feature_dir
        self.aug_feature_dir = None
        self.aug_label_dir = None
        self.feature_files = [f"{i}.npy" for i in range(1281167)]
        self.label_files = [f"{i}.npy" for i in range(1281167)]

    def __len__(self):
        return len(self.feature_files)

    def __getitem__(self, idx):
        features = np.load(os.path.join(self.feature_dir, self.feature_files[idx]))
        if self.flip:
            aug_idx = torch.randint(low=0, high=features.shape[1], size=(1,)).item()
            features = features[:, aug_idx]
        labels = np.load(os.path.join(self.label_dir, self.label_files[idx]))
        return torch.from_numpy(features), torch.from_numpy(labels)
`

// The dataset of docs/pytorch.md, over LlamaGen's CustomDataset, reads a
// folder written as the doc says through a shuffled DataLoader: every image
// once, as LlamaGen's GPT takes it. LlamaGen's CustomDataset alone fails there.
func TestLlamaGenDatasetFromTheDocs(t *testing.T) {
	py := needPython(t, "torch, numpy")
	root := filepath.Join(t.TempDir(), "codes_flip")
	o := encodeOptions{dataOptions: dataOptions{Data: "embedded", Split: "test", Limit: 30}, Model: smallVQ, Out: root,
		Format: "llamagen", Flip: true, Dataset: "imagenet"}
	if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
		t.Fatal(err)
	}
	block := pythonBlockWith(t, "pytorch.md", "class CodeFolderDataset")
	script := llamaGenCustomDataset + `
import argparse, sys, textwrap
args = argparse.Namespace(code_path=sys.argv[1], image_size=28)

plain = CustomDataset(f"{args.code_path}/imagenet28_codes", f"{args.code_path}/imagenet28_labels")
assert len(plain) == 1281167
try:
    for _ in torch.utils.data.DataLoader(plain, batch_size=8, shuffle=True):
        pass
    raise SystemExit("LlamaGen's CustomDataset read a 30-image folder through a shuffled loader")
except FileNotFoundError:
    pass

exec(textwrap.dedent(sys.argv[2]))
ds = build_imagenet_code(args)
assert len(ds) == 30, len(ds)
seen = []
for x, y in torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True):
    assert x.dtype == torch.int64 and x.shape[1:] == (1, 49), (x.dtype, x.shape)
    assert y.dtype == torch.int64 and y.shape[1:] == (1,), (y.dtype, y.shape)
    seen += y.reshape(-1).tolist()
assert len(seen) == 30, len(seen)
`
	runPython(t, py, t.TempDir(), script, root, block)
}

// jsonBlock returns the first ```json block of a page in docs/.
func jsonBlock(t *testing.T, page string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("docs/%s has no json block", page)
	}
	var v map[string]any
	if err := json.Unmarshal(m[1], &v); err != nil {
		t.Fatalf("docs/%s: json block: %v", page, err)
	}
	return v
}

// docs/checkpoints.md's generator config.json has the keys train-gen writes,
// and names each in its table; it documents normalize and the attention
// scale.
func TestGeneratorConfigDocumented(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if err := execute(t, "train-gen", "--vq", smallVQ, "--data", "embedded", "--limit", "16", "--out", gen, "--steps", "1", "--batch", "4",
		"--dim", "16", "--layers", "1", "--heads", "2", "--mlp", "32", "--eval-limit", "4"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(gen, nn.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	doc := jsonBlock(t, "checkpoints.md")
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	if !slices.Equal(keys(doc), keys(got)) {
		t.Errorf("documented keys %v, written %v", keys(doc), keys(got))
	}
	for _, k := range []string{"config", "loss", "train", "metrics"} {
		d, _ := doc[k].(map[string]any)
		g, _ := got[k].(map[string]any)
		if !slices.Equal(keys(d), keys(g)) {
			t.Errorf("%s: documented keys %v, written %v", k, keys(d), keys(g))
		}
	}
	text, _ := os.ReadFile(filepath.Join("..", "..", "docs", "checkpoints.md"))
	for _, k := range append(keys(got), "normalize", "sqrt(d / heads)") {
		if !bytes.Contains(text, []byte("`"+k)) && !bytes.Contains(text, []byte(k)) {
			t.Errorf("docs/checkpoints.md does not mention %s", k)
		}
	}
}

// docs/pytorch.md's per-position loss (reduction="none") is zero at
// ignored positions and its mean over the others is dist2_loss, dense and
// top-k.
func TestPerPositionLossInPyTorch(t *testing.T) {
	py := needPython(t, "torch, numpy")
	dir := t.TempDir()
	for _, k := range []int{0, 8} {
		out := filepath.Join(dir, "t"+strconv.Itoa(k)+".safetensors")
		o := targetsExportOptions{lossOptions: lossOptions{Distance: "l2", Tau: "auto", Perplexity: 4, TopK: k}, VQ: smallVQ, Out: out}
		if err := runTargetsExport(context.Background(), &bytes.Buffer{}, o); err != nil {
			t.Fatal(err)
		}
		runPython(t, py, dir, pythonBlock(t, "pytorch.md")+pythonBlockWith(t, "pytorch.md", "def dist2_loss_per_position")+`
import sys
torch.manual_seed(1)
indices, probs = load_targets(sys.argv[1])
K = probs.shape[0]
z = torch.randn(40, K, dtype=torch.float64)
t = torch.randint(0, K, (40,))
t[::7] = -100
per = dist2_loss_per_position(z, t, probs, indices, alpha=0.3)
assert per.shape == (40,) and (per[::7] == 0).all()
mean = per[t != -100].mean().item()
want = dist2_loss(z, t, probs, indices, alpha=0.3).item()
assert abs(mean - want) < 1e-9 * abs(want), (mean, want)
`, out)
	}
}

// train-gen --tokens and decode say, in their help, which augmentation of
// a LlamaGen folder they read.
func TestHelpNamesTheAugmentation(t *testing.T) {
	gen := newTrainGenCommand()
	for _, name := range []string{"tokens", "held-out"} {
		if u := gen.Flags().Lookup(name).Usage; !strings.Contains(u, "augmentation 0") {
			t.Errorf("train-gen --%s: %q does not name the augmentation", name, u)
		}
	}
	if long := newDecodeCommand().Long; !strings.Contains(long, "augmentation 0") {
		t.Errorf("decode's help %q does not name the augmentation", long)
	}
}

// kernel --codebook reads a float16 16,384 x 8 codebook, as LlamaGen's
// (np.save of a transposed tensor: Fortran order), and gives the same row
// as the codebook read in C order.
func TestKernelOnALlamaGenSizedCodebook(t *testing.T) {
	py := needPython(t, "numpy")
	dir := t.TempDir()
	runPython(t, py, dir, `
import numpy as np
c = np.random.default_rng(1).standard_normal((16384, 8)).astype(np.float16)
np.save("c.npy", c)
np.save("f.npy", np.ascontiguousarray(c.T).T)
`)
	var rows [2]kernelResult
	for i, name := range []string{"c.npy", "f.npy"} {
		var out bytes.Buffer
		o := kernelOptions{lossOptions: lossOptions{Tau: "auto", Perplexity: 8, Distance: "l2"}, Codebook: filepath.Join(dir, name), Token: 17, JSON: true}
		if err := runKernel(context.Background(), &out, o); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out.Bytes(), &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	r := rows[0]
	if len(r.P) != 16384 || r.Token != 17 || math.Abs(r.MeanPerplexity-8) > 0.01 || r.Distance != "l2" {
		t.Errorf("row of %d entries, token %d, mean perplexity %v, distance %s", len(r.P), r.Token, r.MeanPerplexity, r.Distance)
	}
	if !slices.Equal(r.P, rows[1].P) {
		t.Error("the Fortran-order codebook gives another row")
	}
	err := runKernel(context.Background(), &bytes.Buffer{}, kernelOptions{lossOptions: lossOptions{Tau: "1", Distance: "l2"}, Codebook: filepath.Join(dir, "c.npy"), Token: 16384})
	wantUsage(t, "--token 16384", err, "--token 16384")
}
