package imageio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One tokenizer and one data description share a cache file; other weights
// or other data get another.
func TestTokenCache(t *testing.T) {
	dir := t.TempDir()
	weights := filepath.Join(dir, "m.vq", "model.safetensors")
	if err := os.MkdirAll(filepath.Dir(weights), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(weights, []byte("weights 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	fallback := filepath.Join(dir, "run")
	a, err := TokenCache(weights, "train", `"embedded" 0`, fallback)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, filepath.Join(dir, "m.vq", "tokens", "train-")) || filepath.Ext(a) != ".npy" {
		t.Errorf("cache %s: want m.vq/tokens/train-KEY.npy", a)
	}
	if b, _ := TokenCache(weights, "train", `"embedded" 0`, fallback); b != a {
		t.Errorf("the same tokenizer and data: %s, then %s", a, b)
	}
	if b, _ := TokenCache(weights, "train", `"embedded" 100`, fallback); b == a {
		t.Error("other data shares the cache file")
	}
	if err := os.WriteFile(weights, []byte("weights 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := TokenCache(weights, "train", `"embedded" 0`, fallback); b == a {
		t.Error("a retrained tokenizer shares the cache file")
	}
	if _, err := TokenCache(filepath.Join(dir, "none", "model.safetensors"), "train", "", fallback); err == nil {
		t.Error("missing weights: no error")
	}
}
