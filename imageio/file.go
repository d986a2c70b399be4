package imageio

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes a file through write, to a temporary name in the same
// folder that is renamed to path once complete, so that a reader never sees a
// half-written file and a failed write loses nothing.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	return nil
}
