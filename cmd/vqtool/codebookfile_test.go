package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// writeHalfNPY writes k x d float16 codes as numpy.save does, the values
// drawn as half-precision bit patterns (normal numbers of magnitude 2^-4 to
// 2^4), and returns them as float64.
func writeHalfNPY(t *testing.T, path string, k, d int, seed uint64) []float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0))
	header := fmt.Sprintf("{'descr': '<f2', 'fortran_order': False, 'shape': (%d, %d), }", k, d)
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(header)))
	b = append(b, header...)
	vals := make([]float64, k*d)
	for i := range vals {
		sign, exp, mant := r.IntN(2), 11+r.IntN(9), r.IntN(1024)
		b = binary.LittleEndian.AppendUint16(b, uint16(sign<<15|exp<<10|mant))
		vals[i] = math.Ldexp(1+float64(mant)/1024, exp-15) * float64(1-2*sign)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return vals
}

// squaredL2Row is the squared l2 distance of every code of e to code x.
func squaredL2Row(e []float64, d, x int) []float64 {
	row := make([]float64, len(e)/d)
	for v := range row {
		for j := range d {
			diff := e[v*d+j] - e[x*d+j]
			row[v] += diff * diff
		}
	}
	return row
}

// checkNeighbors compares the --json of codebook neighbors with the codes
// of e sorted by their distance to res.Token.
func checkNeighbors(t *testing.T, what string, res neighborsResult, e []float64, d int) {
	t.Helper()
	row := squaredL2Row(e, d, res.Token)
	order := make([]int, 0, len(row)-1)
	for v := range row {
		if v != res.Token {
			order = append(order, v)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return row[order[a]] < row[order[b]] })
	close := func(got float32, want float64) bool { return math.Abs(float64(got)-want) <= 1e-4*max(1, want) }
	for i, c := range res.Nearest {
		if want := row[order[i]]; !close(res.NearestD[i], want) || !close(res.NearestD[i], row[c]) {
			t.Errorf("%s: nearest %d is code %d at %g: want %g (code %d at %g)", what, i, c, res.NearestD[i], row[c], order[i], want)
		}
	}
	for i, c := range res.Farthest {
		if want := row[order[len(order)-1-i]]; !close(res.FarthestD[i], want) || !close(res.FarthestD[i], row[c]) {
			t.Errorf("%s: farthest %d is code %d at %g: want %g", what, i, c, res.FarthestD[i], want)
		}
	}
}

func runNeighborsJSON(t *testing.T, o codebookNeighborsOptions) neighborsResult {
	t.Helper()
	var out bytes.Buffer
	o.JSON = true
	if err := runCodebookNeighbors(context.Background(), &out, o); err != nil {
		t.Fatal(err)
	}
	var res neighborsResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// codebook neighbors --codebook lists the neighbours of a code of a float16
// 16,384 x 8 codebook (LlamaGen's size), without the tokenizer.
func TestNeighborsOfACodebookFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.npy")
	e := writeHalfNPY(t, path, 16384, 8, 1)
	res := runNeighborsJSON(t, codebookNeighborsOptions{Codebook: path, Token: 17, K: 5, Distance: "l2"})
	if res.Token != 17 || len(res.Nearest) != 5 || len(res.Farthest) != 5 || res.Distance != "l2" {
		t.Fatalf("got %+v: want 5 nearest and 5 farthest of code 17 under l2", res)
	}
	checkNeighbors(t, "our float16 file", res, e, 8)

	err := runCodebookNeighbors(context.Background(), &bytes.Buffer{}, codebookNeighborsOptions{Codebook: path, Token: 16384, K: 5, Distance: "l2"})
	wantUsage(t, "--token 16384", err, "16384", "[0, 16384)")
	err = runCodebookNeighbors(context.Background(), &bytes.Buffer{}, codebookNeighborsOptions{Codebook: path, VQ: smallVQ, K: 5, Distance: "l2"})
	wantUsage(t, "--vq and --codebook", err, "--vq", "--codebook", "want one of them")
}

// The same codebook saved by numpy (float16, and transposed: Fortran order)
// gives numpy's neighbours.
func TestNeighborsOfANumpyCodebook(t *testing.T) {
	py := needPython(t, "numpy")
	dir := t.TempDir()
	out := runPython(t, py, dir, `
import json, numpy as np
c = np.random.default_rng(3).standard_normal((16384, 8)).astype(np.float16)
np.save("c.npy", c)
np.save("f.npy", np.ascontiguousarray(c.T).T)
print(json.dumps(c.astype(np.float64).ravel().tolist()))
`)
	var e []float64
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	var first neighborsResult
	for i, name := range []string{"c.npy", "f.npy"} {
		res := runNeighborsJSON(t, codebookNeighborsOptions{Codebook: filepath.Join(dir, name), Token: 4000, K: 4, Distance: "l2"})
		checkNeighbors(t, name, res, e, 8)
		if i == 0 {
			first = res
		} else if fmt.Sprint(res) != fmt.Sprint(first) {
			t.Errorf("the Fortran-order file gives %+v, the C-order one %+v", res, first)
		}
	}
}

// codebook stats --codebook measures the distances only; a data flag, and
// the commands that need the tokenizer's networks, refuse the file by
// naming what they need.
func TestCodebookFileStatsAndRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "small.npy")
	e := writeHalfNPY(t, path, 64, 8, 2)
	var out bytes.Buffer
	plot := filepath.Join(dir, "spacing.png")
	if err := runCodebookStats(context.Background(), &out, codebookStatsOptions{Codebook: path, Distance: "l2", Plot: plot, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var res codebookSpacing
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Codes != 64 || res.Dim != 8 || len(res.Nearest) != 64 {
		t.Fatalf("%d codes of dimension %d, %d distances: want 64 of 8", res.Codes, res.Dim, len(res.Nearest))
	}
	for x, got := range res.Nearest {
		row := squaredL2Row(e, 8, x)
		row[x] = math.Inf(1)
		want := math.Inf(1)
		for _, v := range row {
			want = min(want, v)
		}
		if math.Abs(float64(got)-want) > 1e-4*max(1, want) {
			t.Errorf("code %d: nearest other code at %g, want %g", x, got, want)
		}
	}
	if _, err := os.Stat(plot); err != nil {
		t.Errorf("the distance histogram: %v", err)
	}

	for _, c := range []struct {
		args  []string
		parts []string
	}{
		{[]string{"codebook", "stats", "--codebook", path, "--data", "embedded"}, []string{"--codebook", "encoder"}},
		{[]string{"codebook", "neighbors", "--codebook", path, "--out", filepath.Join(dir, "n.png")}, []string{"n.png", "decoder"}},
		{[]string{"codebook", "atlas", "--codebook", path}, []string{"atlas", "decoder"}},
		{[]string{"swap-tokens", "--codebook", path}, []string{"swap-tokens", "encoder and decoder"}},
		{[]string{"explore", "--codebook", path}, []string{"explore", "encoder and decoder", "kernel --codebook"}},
	} {
		wantUsage(t, strings.Join(c.args, " "), execute(t, c.args...), c.parts...)
	}
	// Without --json the list goes to stdout and no picture is written.
	t.Chdir(dir)
	if err := execute(t, "codebook", "neighbors", "--codebook", path, "--token", "3", "--k", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "neighbors.png")); err == nil {
		t.Error("neighbors --codebook wrote the default picture")
	}
}
