package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/vqvae"
)

type swapOptions struct {
	dataOptions
	VQ       string
	Codebook string // refused: swaps are encoded and decoded
	N        int
	Region   string
	Size     int
	Near     int
	Far      int
	Distance string
	Seed     uint64
	Out      string
	Outline  bool
	Eval     int
	Buckets  int
	Plot     string
	JSON     bool
}

func newSwapCommand() *cobra.Command {
	var o swapOptions
	cmd := &cobra.Command{
		Use:         "swap-tokens",
		Annotations: streamAnnotation,
		Short:       "Replace central tokens by nearby, random and distant codes and decode (the paper's Figure 4)",
		Long: `swap-tokens encodes images, replaces the tokens of a region (each one
independently) by a code drawn from its own --near nearest codes (itself
excluded), uniformly from the codebook, or from its own --far farthest codes,
and decodes each variant: one row per image, columns original, nearby, random,
distant. With --eval N it measures, over N images, the pixel error of each
variant against the unswapped decode, and the pixel error against the
neighbour rank of the replacement, with the rank correlation between codebook
distance and pixel distance.`,
		Example: `  vqtool swap-tokens --vq fmnist.vq --data fashion-mnist --split test --n 8 --out swap.png
  vqtool swap-tokens --vq fmnist.vq --data fashion-mnist --split test --eval 500 --json --plot swap-curve.png
  vqtool swap-tokens --vq fmnist.vq --region 1,1,3,5 --outline --distance cosine`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, o.JSON, map[string]*string{"out": &o.Out, "plot": &o.Plot})
			return runSwap(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	f := cmd.Flags()
	defaultToTest(cmd)
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	hideCodebookFlag(cmd, &o.Codebook)
	f.IntVarP(&o.N, "n", "n", 8, "images in the figure")
	f.StringVar(&o.Region, "region", "center", "tokens to swap: center (--size x --size) or a token rectangle Y0,X0,Y1,X1 (end exclusive)")
	f.IntVar(&o.Size, "region-size", 2, "side of the center region in tokens")
	hiddenAlias(f, "size", "", "region-size")
	f.IntVar(&o.Near, "near", 10, "draw nearby replacements from this many nearest codes")
	f.IntVar(&o.Far, "far", 10, "draw distant replacements from this many farthest codes")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the replacements")
	f.StringVarP(&o.Out, "out", "o", "swap.png", "figure to write (empty: none)")
	f.BoolVar(&o.Outline, "outline", false, "outline the swapped region in red")
	f.IntVar(&o.Eval, "eval", 0, "measure pixel errors over this many images")
	f.IntVar(&o.Buckets, "buckets", 16, "neighbour-rank buckets of the --eval curve")
	f.StringVar(&o.Plot, "plot", "swap-curve.png", "with --eval: plot of pixel error against neighbour rank (empty: none)")
	f.BoolVar(&o.JSON, "json", false, "with --eval: print one JSON object; pictures only when --out or --plot is given")
	return cmd
}

func runSwap(ctx context.Context, w io.Writer, o swapOptions) error {
	if o.Codebook != "" {
		return codebookAlone(o.Codebook, "swap-tokens", "the tokenizer's encoder and decoder (images are encoded, swapped and decoded)")
	}
	m, info, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	gs := m.Config.Grid()
	region, err := vqvae.ParseRegion(o.Region, o.Size, gs)
	if err != nil {
		return usageError{err}
	}
	sw, err := vqvae.NewSwapper(m.Codebook, kind, o.Near, o.Far)
	if err != nil {
		return usageError{err}
	}
	dOpts := o.dataOptions
	dOpts.Limit = max(o.N, o.Eval)
	d, err := openForModel(dOpts, info, nil)
	if err != nil {
		return err
	}
	tokens, err := m.EncodeMany(d.Pix, d.N, nil)
	if err != nil {
		return err
	}
	r := seeds.New(o.Seed, seeds.Pictures)
	if o.Out != "" && o.N > 0 {
		img, err := explore.SwapFigure(m, sw, tokens, min(o.N, d.N), region, o.Outline, r)
		if err != nil {
			return err
		}
		if err := writePNG(o.Out, img); err != nil {
			return err
		}
		if !o.JSON {
			logf("wrote %s: %d images, region rows [%d, %d) columns [%d, %d), %s distance",
				o.Out, min(o.N, d.N), region.Y0, region.Y1, region.X0, region.X1, o.Distance)
		}
	}
	if o.Eval == 0 {
		return nil
	}
	bar := newBar(min(o.Eval, d.N), "swap-tokens eval")
	ev, err := explore.EvalSwaps(ctx, m, sw, tokens, min(o.Eval, d.N), region, o.Buckets, r, func(done int) { _ = bar.Set(done) })
	bar.Finish()
	if err != nil {
		return err
	}
	ev.Distance = o.Distance
	if o.Plot != "" {
		if err := ev.CurvePlot().Write(o.Plot); err != nil {
			return err
		}
	}
	if o.JSON {
		return printJSON(w, ev)
	}
	fprintf(w, "%d images, %s distance: pixel error of the swapped decode against the unswapped one\n", ev.Images, o.Distance)
	fprintf(w, "%-9s %12s %12s %12s %12s %10s\n", "mode", "mse", "psnr dB", "region mse", "region psnr", "code dist")
	for _, s := range ev.Modes {
		fprintf(w, "%-9s %12.5f %12.2f %12.5f %12.2f %10.4g\n", s.Mode, s.MSE, s.PSNR, s.RegionMSE, s.RegionPSNR, s.CodeDistance)
	}
	fprintf(w, "near < random < far in region error for %.1f%% of images; Spearman(code distance, pixel error) = %.3f\n",
		100*ev.Ordered, ev.Spearman)
	if o.Plot != "" {
		logf("wrote %s", o.Plot)
	}
	return nil
}
