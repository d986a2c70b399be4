package generator

import (
	"encoding/json"
	"fmt"

	"github.com/vqtool/vqtool/codebook"
)

// Config is the architecture of a generator.
type Config struct {
	CodebookSize int `json:"codebook_size"` // tokens: the VQ codebook size K
	Classes      int `json:"classes"`       // labels (0: unconditional); id Classes is "no class"
	Len          int `json:"len"`           // tokens per grid (grid height * width)
	GridH        int `json:"grid_h"`
	GridW        int `json:"grid_w"`
	Dim          int `json:"dim"`
	Layers       int `json:"layers"`
	Heads        int `json:"heads"`
	MLP          int `json:"mlp"`
}

// UnmarshalJSON reads a config, and CodebookSize also from "vocab", the key
// older checkpoints hold it under.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config // without this method
	v := struct {
		plain
		Vocab int `json:"vocab"`
	}{plain: plain(*c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Config(v.plain)
	if c.CodebookSize == 0 {
		c.CodebookSize = v.Vocab
	}
	return nil
}

// DefaultConfig is ref-gen for a 7 x 7 grid over 512 codes and 10 classes:
// 6 blocks, width 256, 8 heads, MLP 1024.
func DefaultConfig() Config {
	return Config{CodebookSize: 512, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 256, Layers: 6, Heads: 8, MLP: 1024}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	sizeErr := codebook.CheckSize(c.CodebookSize)
	switch {
	case sizeErr != nil:
		return sizeErr
	case c.Classes < 0 || c.Classes > 1<<16:
		return fmt.Errorf("generator: %d classes: want 0 to %d", c.Classes, 1<<16)
	case c.GridH < 1 || c.GridW < 1 || c.Len != c.GridH*c.GridW:
		return fmt.Errorf("generator: grid %dx%d and length %d: want length = height * width", c.GridH, c.GridW, c.Len)
	case c.Layers < 1 || c.Layers > 64:
		return fmt.Errorf("generator: %d layers: want 1 to 64", c.Layers)
	case c.Heads < 1 || c.Dim%c.Heads != 0:
		return fmt.Errorf("generator: width %d and %d heads: want a width divisible by the heads", c.Dim, c.Heads)
	case c.Dim < 1 || c.Dim > 8192 || c.MLP < 1 || c.MLP > 32768:
		return fmt.Errorf("generator: width %d, MLP %d: out of range", c.Dim, c.MLP)
	}
	return nil
}
