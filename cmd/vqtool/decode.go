package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/imageio"
)

type decodeOptions struct {
	Model string
	Out   string
	N     int
	Cols  int
	Scale int
}

func (o *decodeOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Model, "vq", "", "VQ-VAE checkpoint folder")
	hiddenAlias(f, "model", "m", "vq")
	f.StringVarP(&o.Out, "out", "o", "decoded.png", "PNG grid to write")
	f.IntVarP(&o.N, "n", "n", 64, "grids to decode from the start of the file (0: all)")
	f.IntVar(&o.Cols, "cols", 8, "images per row")
	f.IntVar(&o.Scale, "scale", 2, "draw each pixel SCALE times")
}

func newDecodeCommand() *cobra.Command {
	var opts decodeOptions
	cmd := &cobra.Command{
		Use:         "decode TOKENS.npy|DIR",
		Annotations: streamAnnotation,
		Short:       "Turn token grids back into images",
		Long: `decode turns token grids back into images: an [N, H, W] .npy token file
(int64 or int32), or a folder in LlamaGen's layout (encode --format llamagen),
of which it decodes augmentation 0 of each image only (the image, not its
flip).`,
		Example: `  vqtool decode --vq fmnist.vq tokens.npy --out grid.png
  vqtool decode --vq fmnist.vq codes_flip/ --out grid.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecode(cmd.Context(), cmd.OutOrStdout(), opts, args[0])
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

func runDecode(_ context.Context, w io.Writer, opts decodeOptions, path string) error {
	if opts.N < 0 || opts.Cols < 1 || opts.Scale < 1 || opts.Scale > 32 {
		return usagef("--n %d, --cols %d, --scale %d: want n >= 0, cols >= 1, scale in [1, 32]", opts.N, opts.Cols, opts.Scale)
	}
	m, _, err := loadVQ(opts.Model)
	if err != nil {
		return err
	}
	t, err := imageio.LoadTokens(path)
	if err != nil {
		return err
	}
	gs := m.Config.Grid()
	if t.H != gs || t.W != gs {
		return fmt.Errorf("%s holds %dx%d grids: the model %s makes %dx%d", path, t.H, t.W, opts.Model, gs, gs)
	}
	n := t.N
	if opts.N > 0 {
		n = min(n, opts.N)
	}
	if err := checkGrid(n, opts.Cols, m.Config.Channels, m.Config.Size, m.Config.Size, opts.Scale, nil); err != nil {
		return err
	}
	cells, err := explore.Decoded(m, t.Codes[:n*gs*gs], n)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := writePNG(opts.Out, imageio.Grid(cells, imageio.GridOptions{Cols: opts.Cols, Scale: opts.Scale, Pad: 2})); err != nil {
		return err
	}
	logf("wrote %s: %d images decoded from %s", opts.Out, n, path)
	return nil
}
