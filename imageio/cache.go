package imageio

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TokenCache names the token file that holds a data split encoded by the
// tokenizer whose weights are the file weights: tokens/SPLIT-KEY.npy beside
// them, KEY a digest of the weights and of data (a description of the data
// and how it was read), so that every run on the same tokenizer and data
// shares one encoding and a retrained tokenizer or other data never meets a
// stale one. When that folder cannot be written the file goes into fallback,
// as tokens-SPLIT-KEY.npy.
func TokenCache(weights, split, data, fallback string) (string, error) {
	h := sha256.New()
	f, err := os.Open(weights)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", weights, err)
	}
	fmt.Fprintf(h, "\x00%s", data)
	name := fmt.Sprintf("%s-%x.npy", split, h.Sum(nil)[:6])
	dir := filepath.Join(filepath.Dir(weights), "tokens")
	if err := os.MkdirAll(dir, 0o755); err == nil && writable(dir) {
		return filepath.Join(dir, name), nil
	}
	if err := os.MkdirAll(fallback, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(fallback, "tokens-"+name), nil
}

// writable reports whether a file can be created in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}
