package imageio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/nlpodyssey/safetensors"
)

// Targets is a table of DIST2 target rows as a file holds it: dense,
// Probs [K, K] with entry v of row x p_d(v | x), or top-k, Indices [K, TopK]
// (nearest first) and Probs [K, TopK] renormalised over those entries.
type Targets struct {
	CodebookSize int       // K
	TopK         int       // entries a row: K for a dense table
	Indices      []int32   // nil for a dense table
	Probs        []float32 // row-major
	Meta         map[string]string
}

// WriteTargets writes t as safetensors: "probs" float32 and, for a top-k
// table, "indices" int64, with t.Meta as the file's metadata.
func WriteTargets(path string, t Targets) error {
	if len(t.Probs) != t.CodebookSize*t.TopK || (t.Indices != nil && len(t.Indices) != t.CodebookSize*t.TopK) {
		return fmt.Errorf("imageio: targets of %d rows of %d: got %d probabilities and %d indices", t.CodebookSize, t.TopK, len(t.Probs), len(t.Indices))
	}
	shape := []uint64{uint64(t.CodebookSize), uint64(t.TopK)}
	probs := make([]byte, 4*len(t.Probs))
	for i, v := range t.Probs {
		binary.LittleEndian.PutUint32(probs[4*i:], math.Float32bits(v))
	}
	pv, err := safetensors.NewTensorView(safetensors.F32, shape, probs)
	if err != nil {
		return fmt.Errorf("imageio: %s: %w", path, err)
	}
	views := map[string]safetensors.TensorView{"probs": pv}
	if t.Indices != nil {
		idx := make([]byte, 8*len(t.Indices))
		for i, v := range t.Indices {
			binary.LittleEndian.PutUint64(idx[8*i:], uint64(int64(v)))
		}
		iv, err := safetensors.NewTensorView(safetensors.I64, shape, idx)
		if err != nil {
			return fmt.Errorf("imageio: %s: %w", path, err)
		}
		views["indices"] = iv
	}
	return WriteFile(path, func(w io.Writer) error { return safetensors.SerializeToWriter(views, t.Meta, w) })
}
