package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
)

type exploreOptions struct {
	dataOptions
	lossOptions // --tau, --perplexity, --distance
	VQ          string
	Codebook    string // refused: the page shows decoded swaps
	N           int
	Near        int
	Far         int
	Out         string
}

func newExploreCommand() *cobra.Command {
	var o exploreOptions
	cmd := &cobra.Command{
		Use:         "explore",
		Annotations: streamAnnotation,
		Short:       "Write the token explorer: one offline HTML page showing what every token of N images would draw as each of its near and far codes",
		Long: `explore encodes the first --n images of a split and writes one self-contained
HTML page (no server, nothing fetched): click a token of an image to see its
code, its usage in the split, the image decoded with that token replaced by
each of its --near nearest and --far farthest codes (with the codebook
distance and the pixel error of each swap), and the DIST2 target row
p_d(. | code) with a control for tau, which opens at the tau train-gen trains
with for the same --distance, --tau and --perplexity. A codebook view draws
every code in the order of the first principal component; clicking one shows
where it occurs.
The URL fragment selects a view: explorer.html#image=5&token=3,4.`,
		Example: `  vqtool explore --vq fmnist.vq --data fashion-mnist --out explorer.html
  vqtool explore --vq testdata/fmnist-small.vq --n 8 --near 5 --far 5 --distance cosine`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplore(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	defaultToTest(cmd)
	o.lossOptions.addFlags(cmd, targetFlags)
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	hideCodebookFlag(cmd, &o.Codebook)
	f.IntVarP(&o.N, "n", "n", 16, "images in the page")
	f.IntVar(&o.Near, "near", 10, "nearest codes shown for each token")
	f.IntVar(&o.Far, "far", 10, "farthest codes shown for each token")
	f.StringVarP(&o.Out, "out", "o", "explorer.html", "page to write")
	return cmd
}

func runExplore(ctx context.Context, w io.Writer, o exploreOptions) error {
	if o.Codebook != "" {
		return codebookAlone(o.Codebook, "explore", "the tokenizer's encoder and decoder (the page shows images' tokens and their decoded swaps; a code's target row: kernel --codebook)")
	}
	spec, err := o.spec()
	if err != nil {
		return err
	}
	m, info, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	k := m.Config.CodebookSize
	if o.N < 1 || o.Near < 1 || o.Far < 1 || o.Near >= k || o.Far >= k {
		return usagef("--n %d --near %d --far %d: want n >= 1 and near, far in [1, %d)", o.N, o.Near, o.Far, k)
	}
	if o.Out == "" {
		return usagef("--out is empty: want the page's file name")
	}
	// Usage over the whole split (or --limit), the page's images from its start.
	u, d, err := usageOf(m, info, o.dataOptions)
	if err != nil {
		return err
	}
	n := min(o.N, d.N)
	shown := d.Slice(0, n)
	bar := newBar(n, "explore")
	page, err := explore.Build(ctx, m, shown.Pix, n, explore.Options{
		Near: o.Near, Far: o.Far, Distance: kind, Tau: spec.Tau, Perplexity: spec.Perplexity,
		Title:  fmt.Sprintf("vqtool token explorer: %s on %s", filepath.Base(filepath.Clean(o.VQ)), d.Name),
		Labels: shown.Labels, Classes: d.Classes,
		Usage: u, UsageOf: fmt.Sprintf("%s (%d images)", d.Name, d.N),
		Progress: func(done, _ int) { _ = bar.Set(done) },
	})
	bar.Finish()
	if err != nil {
		return lossFlagError(err)
	}
	var size int64
	if err := writeFile(o.Out, func(w io.Writer) error {
		var err error
		size, err = page.WriteTo(w)
		return err
	}); err != nil {
		return err
	}
	logf("wrote %s: %d images, %d near and %d far codes per token, %.1f MB; open it in a browser, e.g. %s#image=0&token=%d,%d",
		o.Out, n, o.Near, o.Far, float64(size)/1e6, o.Out, m.Config.Grid()/2, m.Config.Grid()/2)
	return nil
}
