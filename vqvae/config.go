package vqvae

import (
	"fmt"

	"github.com/vqtool/vqtool/codebook"
)

// Config is the architecture and loss of a VQ-VAE.
type Config struct {
	Channels     int     `json:"channels"`      // image channels: 1 (gray) or 3 (RGB)
	Size         int     `json:"size"`          // image height and width in pixels
	Hidden       int     `json:"hidden"`        // channels of the deep layers; the first conv has Hidden/2
	ResBlocks    int     `json:"res_blocks"`    // residual blocks in the encoder and in the decoder
	ResHidden    int     `json:"res_hidden"`    // bottleneck channels of a residual block
	Downsample   int     `json:"downsample"`    // image side / grid side: 4 or 8
	CodebookSize int     `json:"codebook_size"` // K
	CodeDim      int     `json:"code_dim"`      // D
	Beta         float64 `json:"beta"`          // commitment weight, on the encoder term
	EMA          bool    `json:"ema"`           // codes follow an EMA of their vectors (no codebook loss)
	Decay        float64 `json:"decay"`         // EMA decay
	Normalize    bool    `json:"normalize"`     // l2-normalised codes and encoder outputs
	L1           bool    `json:"l1"`            // reconstruction loss: L1 instead of MSE
}

// DefaultConfig is ref-vq: 28 x 28 gray images to a 7 x 7 grid of codes from
// a codebook of 512 codes of dimension 16, EMA decay 0.99.
func DefaultConfig() Config {
	return Config{Channels: 1, Size: 28, Hidden: 128, ResBlocks: 2, ResHidden: 64, Downsample: 4,
		CodebookSize: 512, CodeDim: 16, Beta: 0.25, EMA: true, Decay: 0.99}
}

// Grid returns the side of the token grid.
func (c Config) Grid() int { return c.Size / c.Downsample }

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	sizeErr := codebook.CheckSize(c.CodebookSize)
	switch {
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("vqvae: channels %d: want 1 or 3", c.Channels)
	case c.Downsample != 4 && c.Downsample != 8:
		return fmt.Errorf("vqvae: downsample %d: want 4 or 8", c.Downsample)
	case c.Size < c.Downsample || c.Size%c.Downsample != 0 || c.Size > 1024:
		return fmt.Errorf("vqvae: image size %d: want a multiple of the downsampling %d, at most 1024", c.Size, c.Downsample)
	case c.Hidden < 2 || c.Hidden%2 != 0 || c.Hidden > 4096:
		return fmt.Errorf("vqvae: hidden channels %d: want an even number in [2, 4096]", c.Hidden)
	case c.ResBlocks < 0 || c.ResBlocks > 16:
		return fmt.Errorf("vqvae: residual blocks %d: want 0 to 16", c.ResBlocks)
	case c.ResHidden < 1 || c.ResHidden > 4096:
		return fmt.Errorf("vqvae: residual hidden channels %d: want 1 to 4096", c.ResHidden)
	case sizeErr != nil:
		return sizeErr
	case c.CodeDim < 1 || c.CodeDim > 1024:
		return fmt.Errorf("vqvae: code dimension %d: want 1 to 1024", c.CodeDim)
	case !(c.Beta >= 0):
		return fmt.Errorf("vqvae: beta %v: want a number >= 0", c.Beta)
	case c.EMA && !(c.Decay > 0 && c.Decay < 1):
		return fmt.Errorf("vqvae: EMA decay %v: want a number in (0, 1)", c.Decay)
	}
	return nil
}
