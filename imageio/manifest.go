package imageio

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vqtool/vqtool/internal/atomicfile"
)

// An output of several files (a token file and its labels, a LlamaGen
// folder) is committed by a manifest beside it: written first with Complete
// false, then the files, then again with Complete true and the digests of
// what was written. A reader that finds a manifest requires it complete and
// its digests those of the files, so that a write killed midway, a full
// disk, or two writers at once are refused rather than read as a smaller or
// mixed set. Files without a manifest (older vqtool, numpy, LlamaGen) are
// read as they are.

// ErrIncomplete reports an output whose manifest says it was not finished,
// or whose files are not those it records.
var ErrIncomplete = errors.New("incomplete")

// manifestKind is the "kind" of every manifest.
const manifestKind = "vqtool.tokens"

// A Manifest describes the token output it commits.
type Manifest struct {
	Kind     string `json:"kind"`
	Complete bool   `json:"complete"` // false while the files are being written
	Grids    int    `json:"grids"`    // all of them, of every shard
	Grid     [2]int `json:"grid"`     // H, W
	Labels   bool   `json:"labels"`
	// Classes names the labels' classes (label l is Classes[l]), nil when
	// unknown.
	Classes []string `json:"classes,omitempty"`
	// Tokenizer fingerprints the weights that made the tokens ("sha256:"
	// and the hex digest of its model.safetensors), "" when unknown.
	Tokenizer string `json:"tokenizer,omitempty"`
	// Files holds the sha256 of each file by its name beside the manifest
	// (a token file and its labels).
	Files map[string]string `json:"files,omitempty"`
	// Shard is "I/N" in a LlamaGen folder: this manifest's files are grids
	// I-1, I-1+N, ...; Augmentations the grids a file; Digest the sha256 of
	// those files in order, each codes file then its labels file.
	Shard         string `json:"shard,omitempty"`
	Augmentations int    `json:"augmentations,omitempty"`
	Digest        string `json:"digest,omitempty"`
}

// ManifestPath returns the manifest of a token file: tokens.npy ->
// tokens.manifest.json.
func ManifestPath(path string) string {
	return strings.TrimSuffix(path, ".npy") + ".manifest.json"
}

// writeManifest writes m to path atomically.
func writeManifest(path string, m *Manifest) error {
	m.Kind = manifestKind
	if err := atomicfile.WriteJSON(path, m); err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	return nil
}

// readManifest reads the manifest at path: nil when there is none.
func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("imageio: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("imageio: %s: %w", path, err)
	}
	if m.Kind != manifestKind {
		return nil, fmt.Errorf("imageio: %s: kind %q: want %q", path, m.Kind, manifestKind)
	}
	return &m, nil
}

// writeHashed writes a file as WriteFile does and returns the sha256 of
// what it wrote.
func writeHashed(path string, write func(w io.Writer) error) (string, error) {
	h := sha256.New()
	err := WriteFile(path, func(w io.Writer) error { return write(io.MultiWriter(w, h)) })
	return hexSum(h), err
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// checkFile compares the digest of the file name (beside manifest) with the
// one the manifest records.
func (m *Manifest) checkFile(manifest, name, sum string) error {
	want, ok := m.Files[filepath.Base(name)]
	switch {
	case !ok:
		return fmt.Errorf("imageio: %s: %w: %s lists no %s (an interrupted or concurrent write): write it again, or delete %s to read the files unchecked",
			name, ErrIncomplete, manifest, filepath.Base(name), manifest)
	case want != sum:
		return fmt.Errorf("imageio: %s: %w: not the file %s records (an interrupted or concurrent write, or a file changed since): write it again, or delete %s to read it unchecked",
			name, ErrIncomplete, manifest, manifest)
	}
	return nil
}

// unfinished is the error of a manifest that says its output was not
// finished.
func unfinished(what, manifest string) error {
	return fmt.Errorf("imageio: %s: %w: %s says its writing did not finish (killed, or a write failed): write it again", what, ErrIncomplete, manifest)
}

// SameClasses reports a label that names one class in a and another in b
// (the tokens of a folder of class folders, encoded from a folder that lacks
// one of them), naming both sets and the label; nil when either is unknown.
// One set may name classes beyond the other's.
func SameClasses(a []string, aName string, b []string, bName string) error {
	for l := range min(len(a), len(b)) {
		if a[l] != b[l] {
			return fmt.Errorf("imageio: label %d is class %q in %s but %q in %s (classes %q and %q): encode both from folders with the same class folders",
				l, a[l], aName, b[l], bName, a, b)
		}
	}
	return nil
}
