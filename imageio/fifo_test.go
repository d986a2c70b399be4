//go:build unix

package imageio

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeGrayPNGs writes n 8 x 8 gray PNGs into dir.
func writeGrayPNGs(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for j := range img.Pix {
			img.Pix[j] = byte(i*31 + j)
		}
		if err := WritePNG(filepath.Join(dir, string(rune('a'+i))+".png"), img); err != nil {
			t.Fatal(err)
		}
	}
}

// A named pipe named like an image in a data folder is refused, naming it,
// rather than opened: opening it would wait for a writer forever.
func TestFolderWithAFIFOReturns(t *testing.T) {
	dir := t.TempDir()
	writeGrayPNGs(t, dir, 2)
	fifo := filepath.Join(dir, "z.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	idx := filepath.Join(t.TempDir(), "images.idx")
	if err := os.WriteFile(idx, append([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 8}, make([]byte, 64)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() error{
		"folder":     func() error { _, err := Open(dir, Options{}); return err },
		"file":       func() error { _, err := Open(fifo, Options{}); return err },
		"IDX labels": func() error { _, err := Open(idx+","+fifo, Options{}); return err },
		"DecodeFile": func() error { _, err := DecodeFile(fifo); return err },
		"tokens":     func() error { _, err := LoadTokens(fifo); return err },
		"codebook":   func() error { _, _, _, err := LoadMatrix(fifo); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- open() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "z.png is a named pipe") {
				t.Errorf("%s: %v, want an error naming z.png as a named pipe", name, err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s: reading a folder holding a named pipe did not return within a second", name)
		}
	}
}

// A cancelled context stops a folder's reading with an error that wraps
// context.Canceled and says where it stopped.
func TestOpenContextStops(t *testing.T) {
	dir := t.TempDir()
	writeGrayPNGs(t, dir, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := OpenContext(ctx, dir, Options{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after 0 of 3 images") {
		t.Errorf("OpenContext with a cancelled context: %v, want context.Canceled, stopped after 0 of 3 images", err)
	}
	_, err = OpenContext(ctx, "embedded", Options{Limit: 10})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("OpenContext(embedded) with a cancelled context: %v, want context.Canceled", err)
	}
}
