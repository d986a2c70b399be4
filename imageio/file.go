package imageio

import (
	"fmt"
	"io"

	"github.com/vqtool/vqtool/internal/atomicfile"
)

// WriteFile writes a file through write, to a temporary name in the same
// folder that is renamed to path once complete, so that a reader never sees a
// half-written file and a failed write loses nothing.
func WriteFile(path string, write func(w io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	return nil
}
