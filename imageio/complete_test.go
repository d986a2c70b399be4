package imageio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vqtool/vqtool/internal/atomicfile"
)

// pairOf makes n 2x2 grids whose tokens and labels are all v.
func pairOf(n int, v int32) *Tokens {
	t := &Tokens{N: n, H: 2, W: 2, Codes: make([]int32, n*4), Labels: make([]int32, n), Classes: []string{"a", "b", "c"}}
	for i := range t.Codes {
		t.Codes[i] = v
	}
	for i := range t.Labels {
		t.Labels[i] = v
	}
	return t
}

// whichPair says which write a token file read back is: "A", "B", or
// "mixed" (tokens of one with labels of the other).
func whichPair(t *Tokens) string {
	switch {
	case slices.Equal(t.Codes, pairOf(t.N, 1).Codes) && slices.Equal(t.Labels, pairOf(t.N, 1).Labels):
		return "A"
	case slices.Equal(t.Codes, pairOf(t.N, 2).Codes) && slices.Equal(t.Labels, pairOf(t.N, 2).Labels):
		return "B"
	}
	return "mixed"
}

// A token file and its labels are one commit: a second write over a first,
// killed before each of its files or stopped by a full disk after any
// number of bytes, reads back as the first, the second, or an
// ErrIncomplete error, never tokens of one with labels of the other.
func TestTokenPairIsOneCommit(t *testing.T) {
	check := func(t *testing.T, what, path string) {
		t.Helper()
		got, err := LoadTokens(path)
		switch {
		case errors.Is(err, ErrIncomplete):
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case whichPair(got) == "mixed":
			t.Errorf("%s: read back tokens %v with labels %v", what, got.Codes[:4], got.Labels)
		}
	}
	for nth := 1; nth <= 4; nth++ { // the pending manifest, tokens, labels, the manifest
		dir := t.TempDir()
		path := filepath.Join(dir, "out", "t.npy")
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := SaveTokens(path, pairOf(5, 1)); err != nil {
			t.Fatal(err)
		}
		killed := filepath.Join(dir, "killed")
		restore := atomicfile.Fault(nth, -1, func() {
			if err := atomicfile.CopyTree(killed, filepath.Dir(path)); err != nil {
				t.Fatal(err)
			}
		})
		err := SaveTokens(path, pairOf(5, 2))
		restore()
		if err == nil {
			t.Fatalf("file %d failed: SaveTokens returned no error", nth)
		}
		check(t, fmt.Sprintf("killed before file %d", nth), filepath.Join(killed, "t.npy"))
		check(t, fmt.Sprintf("failed at file %d", nth), path)
	}
	for limit := int64(0); limit < 600; limit += 37 {
		path := filepath.Join(t.TempDir(), "t.npy")
		if err := SaveTokens(path, pairOf(5, 1)); err != nil {
			t.Fatal(err)
		}
		restore := atomicfile.Fault(0, limit, nil)
		err := SaveTokens(path, pairOf(5, 2))
		restore()
		check(t, fmt.Sprintf("a disk full after %d bytes", limit), path)
		if err == nil {
			if got, _ := LoadTokens(path); got == nil || whichPair(got) != "B" {
				t.Errorf("limit %d: no error, but the second write does not read back", limit)
			}
		}
	}
}

// Two writers at once: the labels of one beside the tokens and manifest of
// the other are refused; files without a manifest (an older vqtool, numpy)
// are read as they are, and the manifest's class names and tokenizer come
// back.
func TestTokenPairManifest(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy")
	ta := pairOf(5, 1)
	ta.Tokenizer = "sha256:00"
	if err := SaveTokens(a, ta); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTokens(a)
	if err != nil || !slices.Equal(got.Classes, ta.Classes) || got.Tokenizer != ta.Tokenizer {
		t.Fatalf("read back %+v, %v: want classes %q and tokenizer %s", got, err, ta.Classes, ta.Tokenizer)
	}
	if err := SaveTokens(b, pairOf(5, 2)); err != nil {
		t.Fatal(err)
	}
	lb, _ := os.ReadFile(LabelsPath(b))
	os.WriteFile(LabelsPath(a), lb, 0o644)
	if _, err := LoadTokens(a); !errors.Is(err, ErrIncomplete) {
		t.Errorf("labels of another write: %v, want ErrIncomplete", err)
	}
	os.Remove(ManifestPath(a))
	if got, err := LoadTokens(a); err != nil || got.N != 5 || got.Classes != nil {
		t.Errorf("files without a manifest: %v, %+v", err, got)
	}
	if err := SaveTokens("-", ta); err == nil {
		t.Error(`SaveTokens("-"): no error`)
	}
}

// llamaGenOf writes n tiny images as a LlamaGen folder under root, as
// shard first of step, every token v ("A" 1, "B" 2) and tokenizer "sha256:v";
// progress as LlamaGenWriter.Write takes it.
func llamaGenOf(root string, n, first, step int, v int32, progress func(int) error) error {
	d := &Dataset{N: n, C: 1, H: 2, W: 2, Pix: make([]float32, n*4), Labels: make([]int32, n), Classes: []string{"a", "b", "c"}}
	for i := range d.Labels {
		d.Labels[i] = v
	}
	lw := LlamaGenWriter{Root: root, Dataset: "set", Size: 2, Grid: 4, Tokenizer: fmt.Sprintf("sha256:%d", v),
		Encode: func(dst []int32, _ []float32, _ int) error {
			for i := range dst {
				dst[i] = v
			}
			return nil
		}}
	return lw.Write(d, first, step, progress)
}

// A LlamaGen folder is committed by its manifests: a re-encode with another
// tokenizer killed before any of its files, stopped by a full disk after any
// number of bytes, or cancelled midway reads back as the first encode, the
// second, or an ErrIncomplete error, never a mixture; a smaller encode
// leaves no stale grids; shards of an unfinished split are refused; a
// folder without manifests (LlamaGen's, an older vqtool's) reads as before.
func TestLlamaGenFolderIsOneCommit(t *testing.T) {
	check := func(t *testing.T, what, root string, n int) {
		t.Helper()
		got, err := LoadLlamaGen(root)
		switch {
		case errors.Is(err, ErrIncomplete):
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case got.N != n || whichPair(got) == "mixed":
			t.Errorf("%s: read back %d grids, tokens %v, labels %v: want %d of one encode", what, got.N, got.Codes, got.Labels, n)
		}
	}
	for nth := 1; nth <= 2+2*8; nth += 3 {
		dir := t.TempDir()
		root := filepath.Join(dir, "out")
		if err := llamaGenOf(root, 8, 0, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		killed := filepath.Join(dir, "killed")
		restore := atomicfile.Fault(nth, -1, func() {
			if err := atomicfile.CopyTree(killed, root); err != nil {
				t.Fatal(err)
			}
		})
		err := llamaGenOf(root, 8, 0, 1, 2, nil)
		restore()
		if err == nil {
			t.Fatalf("file %d failed: Write returned no error", nth)
		}
		check(t, fmt.Sprintf("killed before file %d", nth), killed, 8)
		check(t, fmt.Sprintf("failed at file %d", nth), root, 8)
	}
	for limit := int64(0); limit < 3000; limit += 211 {
		root := filepath.Join(t.TempDir(), "out")
		if err := llamaGenOf(root, 8, 0, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		restore := atomicfile.Fault(0, limit, nil)
		err := llamaGenOf(root, 8, 0, 1, 2, nil)
		restore()
		check(t, fmt.Sprintf("a disk full after %d bytes", limit), root, 8)
		if got, _ := LoadLlamaGen(root); err == nil && (got == nil || whichPair(got) != "B") {
			t.Errorf("limit %d: no error, but the second encode does not read back", limit)
		}
	}

	root := filepath.Join(t.TempDir(), "out")
	if err := llamaGenOf(root, 8, 0, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("cancelled")
	if err := llamaGenOf(root, 8, 0, 1, 2, func(done int) error {
		if done == 3 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Fatalf("cancelled: %v", err)
	}
	check(t, "cancelled after 3 grids", root, 8)
	if err := llamaGenOf(root, 5, 0, 1, 2, nil); err != nil {
		t.Fatal(err)
	}
	got, err := LoadLlamaGen(root)
	if err != nil || got.N != 5 || whichPair(got) != "B" || got.Tokenizer != "sha256:2" || !slices.Equal(got.Classes, []string{"a", "b", "c"}) {
		t.Fatalf("a smaller encode over a larger: %v, %+v", err, got)
	}
	// Shard 1 of 2 of another encode: shard 2's manifest is missing.
	if err := llamaGenOf(root, 6, 0, 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	check(t, "one shard of two", root, 6)
	if _, err := LoadLlamaGen(root); !errors.Is(err, ErrIncomplete) {
		t.Errorf("one shard of two: %v, want ErrIncomplete", err)
	}
	if err := llamaGenOf(root, 6, 1, 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadLlamaGen(root); err != nil || got.N != 6 || whichPair(got) != "A" {
		t.Errorf("both shards: %v, %+v", err, got)
	}
	mans, _ := filepath.Glob(filepath.Join(root, "set2.vqtool-*.json"))
	if len(mans) != 2 {
		t.Fatalf("manifests %v: want two", mans)
	}
	for _, m := range mans {
		os.Remove(m)
	}
	if got, err := LoadLlamaGen(root); err != nil || got.N != 6 {
		t.Errorf("a folder without manifests: %v, %+v", err, got)
	}
}
