package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/vqvae"
)

type reconstructOptions struct {
	dataOptions
	Model string
	Out   string
	N     int
	JSON  bool
}

func newReconstructCommand() *cobra.Command {
	var opts reconstructOptions
	cmd := &cobra.Command{
		Use:         "reconstruct",
		Annotations: streamAnnotation,
		Short:       "Measure reconstruction error and codebook usage over a whole split, and draw originals beside reconstructions",
		Example:     `  vqtool reconstruct --vq fmnist.vq --data fashion-mnist --split test --out recon.png --json`,
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, opts.JSON, map[string]*string{"out": &opts.Out})
			return runReconstruct(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.dataOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.Lookup("split").DefValue = "test"
	defaultToTest(cmd)
	f.StringVar(&opts.Model, "vq", "", "VQ-VAE checkpoint folder")
	hiddenAlias(f, "model", "m", "vq")
	f.StringVarP(&opts.Out, "out", "o", "recon.png", "PNG to write: originals above reconstructions")
	f.IntVarP(&opts.N, "n", "n", 16, "images to draw")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object; the picture only when --out is given")
	return cmd
}

// reconResult is what reconstruct prints with --json.
type reconResult struct {
	Images int `json:"images"`
	vqvae.Eval
	CodebookSize int `json:"codebook_size"`
}

func runReconstruct(_ context.Context, w io.Writer, opts reconstructOptions) error {
	if opts.Out != "" && opts.N < 1 {
		return usagef("--n %d: want at least 1 image to draw", opts.N)
	}
	m, info, err := loadVQ(opts.Model)
	if err != nil {
		return err
	}
	d, err := openForModel(opts.dataOptions, info, nil)
	if err != nil {
		return err
	}
	if opts.Out != "" {
		n, c := min(opts.N, d.N), m.Config
		if err := checkGrid(2*n, n, c.Channels, c.Size, c.Size, 2, []string{"input", "recon"}); err != nil {
			return err
		}
	}
	ev, _, err := m.Evaluate(toImages(d))
	if err != nil {
		return err
	}
	if opts.Out != "" {
		if err := writeReconGrid(opts.Out, m, d, opts.N); err != nil {
			return err
		}
	}
	res := reconResult{Images: d.N, Eval: ev, CodebookSize: m.Config.CodebookSize}
	if opts.JSON {
		return printJSON(w, res)
	}
	fprintf(w, "%d images of %s: psnr %.2f dB, mse %.5f, codes used %d/%d (%.1f%%), perplexity %.1f, dead %d\n",
		d.N, d.Name, ev.PSNR, ev.MSE, ev.Used, res.CodebookSize, 100*ev.Fraction, ev.Perplexity, ev.Dead)
	if opts.Out != "" {
		logf("wrote %s", opts.Out)
	}
	return nil
}
