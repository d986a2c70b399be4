package generator

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/vqtool/vqtool/nn"
)

// InitRef records the trained generator a run started from (train-gen
// --init): where it was and a fingerprint of its weights, so that a chain of
// runs can be followed and a changed start found.
type InitRef struct {
	Path    string `json:"path"`
	Weights string `json:"weights"` // "sha256:" and the hex digest of its model.safetensors
	Step    int    `json:"step"`    // the step it had reached
}

// Architecture returns the fields of c that a start's weights fix, by
// train-gen's flag names.
func (c Config) Architecture() map[string]int {
	return map[string]int{"dim": c.Dim, "layers": c.Layers, "heads": c.Heads, "mlp": c.MLP}
}

// LoadInit loads the generator saved in dir as the start of a new run whose
// data fix want's CodebookSize, Classes, GridH and GridW: a start that disagrees
// is an error naming both values. given holds the architecture fields
// (Config.Architecture's names) the caller set explicitly, which must equal
// the start's; the others are taken from it.
func LoadInit(dir string, want Config, given map[string]int) (*Model, InitRef, error) {
	m, info, err := Load(dir)
	if err != nil {
		return nil, InitRef{}, err
	}
	c := m.Config
	switch {
	case c.CodebookSize != want.CodebookSize:
		return nil, InitRef{}, fmt.Errorf("generator: start %s predicts %d codes: the tokenizer has %d", dir, c.CodebookSize, want.CodebookSize)
	case c.GridH != want.GridH || c.GridW != want.GridW:
		return nil, InitRef{}, fmt.Errorf("generator: start %s draws %dx%d grids: the tokens are %dx%d", dir, c.GridH, c.GridW, want.GridH, want.GridW)
	case c.Classes != want.Classes:
		return nil, InitRef{}, fmt.Errorf("generator: start %s has %d classes: the data has %d", dir, c.Classes, want.Classes)
	}
	have := c.Architecture()
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if v := given[name]; v != have[name] {
			return nil, InitRef{}, fmt.Errorf("generator: %s %d: the start %s has %s %d (leave it out to take the start's)", name, v, dir, name, have[name])
		}
	}
	sum, err := fingerprint(filepath.Join(dir, nn.ModelFile))
	if err != nil {
		return nil, InitRef{}, err
	}
	return m, InitRef{Path: dir, Weights: sum, Step: info.Step}, nil
}

// fingerprint returns "sha256:" and the hex digest of the file.
func fingerprint(file string) (string, error) {
	sum, err := nn.Fingerprint(file)
	if err != nil {
		return "", fmt.Errorf("generator: %w", err)
	}
	return sum, nil
}
