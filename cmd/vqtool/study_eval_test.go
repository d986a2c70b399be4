package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/study"
)

// An evaluator that shares no code with vqtool's (the PyTorch decoder of
// docs/checkpoints.md, Frechet distance on 14x14 average-pooled pixels in
// numpy, the test images read by numpy from Debian's files) ranks the
// committed studies' runs (docs/study, each run decoded by its codebook
// size's tokenizer, docs/study-v1 and docs/study-long) as the studies' FLD
// does.
func TestCommittedStudyRanksAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes every committed sample file: not under -short")
	}
	var files, tokenizers []string // a sample file, and the tokenizer that decodes it
	var fld []float64
	for _, d := range []string{"../../docs/study", "../../docs/study-v1", "../../docs/study-long"} {
		b, err := os.ReadFile(filepath.Join(d, "results.json"))
		if err != nil {
			t.Logf("no committed study in %s: %v", d, err)
			continue
		}
		var res study.Results
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		byK := map[int]string{} // a report of parts: each codebook size's tokenizer
		for _, p := range res.Parts {
			byK[p.CodebookSize] = filepath.Join(d, p.Tokenizer)
		}
		for _, r := range res.Runs {
			if r.Samples == "" {
				continue
			}
			vq, ok := byK[r.CodebookSize]
			if !ok {
				vq = "../../docs/study-v1/vq" // the first edition's, which study-long shares
			}
			files, tokenizers = append(files, filepath.Join(d, r.Samples)), append(tokenizers, vq)
			fld = append(fld, r.FLDT1)
		}
	}
	test := filepath.Join(imageio.FashionMNISTDir, "t10k-images-idx3-ubyte.gz")
	if _, err := os.Stat(test); err != nil {
		t.Skip("Fashion-MNIST is not installed (Debian: dataset-fashion-mnist):", err)
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("PyTorch is not installed:", err)
	}
	decoder := pythonBlock(t, "checkpoints.md")
	if len(files) < 6 {
		t.Skipf("%d scored runs: too few to rank", len(files))
	}
	script := decoder + `
import gzip, sys
test, args = sys.argv[1], sys.argv[2:]
with gzip.open(test) as f:
    real = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28).astype(np.float64) / 127.5 - 1
def feats(x):  # 14x14 average pooling
    return x.reshape(len(x), 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(x), -1)
def stats(f):
    return f.mean(0), np.cov(f, rowvar=False)
def frechet(a, b):
    (m1, s1), (m2, s2) = a, b
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T   # s1^(1/2)
    e = np.linalg.eigvalsh(r @ s2 @ r)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(e, 0, None)).sum())
ref = stats(feats(real))
for ckpt, path in zip(args[0::2], args[1::2]):
    tok = torch.from_numpy(np.load(path).astype(np.int64))
    with torch.no_grad():
        x = decode(ckpt, tok).numpy()[:, 0]
    print(frechet(stats(feats(x)), ref))
`
	args := []string{"-c", script, test}
	for i, f := range files {
		args = append(args, tokenizers[i], f)
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var pixel []float64
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(line, 64)
		if err != nil {
			t.Fatalf("python said %q", out)
		}
		pixel = append(pixel, v)
	}
	rho := metrics.Spearman(fld, pixel)
	t.Logf("%d runs: Spearman rank correlation of the study's FLD with pixel Frechet distance %.3f", len(fld), rho)
	if rho < 0.8 {
		t.Errorf("the independent evaluator ranks the runs differently: Spearman %.3f, want >= 0.8", rho)
	}
}
