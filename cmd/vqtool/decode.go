package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/memory"
)

type decodeOptions struct {
	Model  string
	Out    string
	Images string
	N      int
	Cols   int
	Scale  int
}

func (o *decodeOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Model, "vq", "", "VQ-VAE checkpoint folder")
	hiddenAlias(f, "model", "m", "vq")
	f.StringVarP(&o.Out, "out", "o", "decoded.png", "PNG grid to write (with --images: only when given)")
	f.StringVar(&o.Images, "images", "", "write the decoded images as RGB (grey repeated), as sample --images does: FILE.npz (arr_0 uint8 [N, H, W, 3], arr_1 the labels of the token file when it has them) or DIR/ (000000.png, ...), e.g. for reconstruction FID")
	f.IntVarP(&o.N, "n", "n", 64, "grids to decode from the start of the file (0: all; with --images all by default)")
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
flip). It draws them as a PNG grid (--out) or writes them for the standard
evaluators (--images FILE.npz or DIR/: every grid unless --n is given, and
the grid only when --out is given).`,
		Example: `  vqtool decode --vq fmnist.vq tokens.npy --out grid.png
  vqtool decode --vq fmnist.vq codes_flip/ --out grid.png
  vqtool decode --vq fmnist.vq test-tokens.npy --images recon.npz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Images != "" {
				if !cmd.Flags().Changed("n") {
					opts.N = 0
				}
				if !cmd.Flags().Changed("out") {
					opts.Out = ""
				}
			}
			return runDecode(cmd.Context(), cmd.OutOrStdout(), opts, args[0])
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

func runDecode(_ context.Context, w io.Writer, opts decodeOptions, path string) error {
	if opts.Out == "" && opts.Images == "" {
		return usagef("--out and --images are empty: want a PNG grid, an .npz or a folder to write")
	}
	if opts.Images != "" && !strings.HasSuffix(opts.Images, ".npz") && !strings.HasSuffix(opts.Images, "/") {
		return usagef("--images %q: want a FILE.npz or a folder DIR/", opts.Images)
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
	t = t.Head(opts.N)
	n, c, sz := t.N, m.Config.Channels, m.Config.Size
	if opts.Out != "" {
		if err := checkGrid(n, opts.Cols, c, sz, sz, opts.Scale, nil); err != nil {
			return err
		}
	}
	if opts.Images != "" { // the images as float32, again as RGB float32, and as bytes
		need := memory.Add(memory.Mul(n, c, sz, sz, 4), memory.Mul(n, 3, sz, sz, 5))
		if err := checkMemory(need, fmt.Sprintf("%d images of %dx%d to write", n, sz, sz), "write fewer with --n"); err != nil {
			return err
		}
	}
	pix := make([]float32, n*c*sz*sz)
	if err := m.DecodeTo(pix, t.Codes, n); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if opts.Images != "" {
		labels := t.Labels
		if slices.Contains(labels, -1) { // unconditional samples have no classes
			labels = nil
		}
		if err := imageio.WriteImages(opts.Images, pix, n, c, sz, sz, labels); err != nil {
			return err
		}
		logf("wrote %s: %d images decoded from %s", opts.Images, n, path)
	}
	if opts.Out != "" {
		cells := imageio.ToImages(pix, n, c, sz, sz)
		if err := writePNG(opts.Out, imageio.Grid(cells, imageio.GridOptions{Cols: opts.Cols, Scale: opts.Scale, Pad: 2})); err != nil {
			return err
		}
		logf("wrote %s: %d images decoded from %s", opts.Out, n, path)
	}
	return nil
}
