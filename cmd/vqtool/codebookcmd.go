package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

func newCodebookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codebook",
		Short: "Look at a VQ codebook: usage, neighbours, an atlas of every code, export",
	}
	cmd.AddCommand(newCodebookStatsCommand(), newCodebookNeighborsCommand(), newCodebookAtlasCommand(), newCodebookExportCommand())
	return cmd
}

// usageOf encodes a data set and counts the codes.
func usageOf(m *vqvae.Model, info vqvae.Info, o dataOptions) (*codebook.Usage, *imageio.Dataset, error) {
	d, err := openForModel(o, info, nil)
	if err != nil {
		return nil, nil, err
	}
	u, err := m.Usage(d.Pix, d.N)
	return u, d, err
}

type codebookStatsOptions struct {
	dataOptions
	VQ       string
	Distance string
	Plot     string
	JSON     bool
}

// codebookStats is what codebook stats prints with --json.
type codebookStats struct {
	Images int `json:"images"`
	codebook.Stats
	Counts []int64 `json:"counts"`
	codebook.Spacing
	Distance string `json:"distance"`
}

func newCodebookStatsCommand() *cobra.Command {
	var o codebookStatsOptions
	cmd := &cobra.Command{
		Use:     "stats",
		Short:   "Code usage over a data set, dead codes, perplexity, nearest-neighbour distances",
		Example: `  vqtool codebook stats --vq fmnist.vq --data fashion-mnist --split test --plot stats.png`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, o.JSON, map[string]*string{"plot": &o.Plot})
			return runCodebookStats(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	f := cmd.Flags()
	defaultToTest(cmd)
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	f.StringVar(&o.Plot, "plot", "codebook-stats.png", "histograms to write (empty: none)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object; the plot only when --plot is given")
	return cmd
}

func runCodebookStats(_ context.Context, w io.Writer, o codebookStatsOptions) error {
	m, info, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	u, d, err := usageOf(m, info, o.dataOptions)
	if err != nil {
		return err
	}
	dist, err := m.Codebook.Distance(kind)
	if err != nil {
		return err
	}
	k := m.Config.CodebookSize
	res := codebookStats{Images: d.N, Stats: u.Stats(), Counts: u.Counts, Spacing: codebook.SpacingOf(dist), Distance: o.Distance}
	if o.Plot != "" {
		if err := imageio.WriteFile(o.Plot, func(w io.Writer) error {
			return explore.WriteCodebookStats(w, res.Stats, res.Counts, res.Spacing, o.Distance)
		}); err != nil {
			return err
		}
	}
	if o.JSON {
		return printJSON(w, res)
	}
	fprintf(w, "%d images of %s: %d of %d codes used (%.1f%%), %d dead, perplexity %.1f\n",
		d.N, d.Name, res.Used, k, 100*res.Fraction, res.Dead, res.Perplexity)
	fprintf(w, "nearest-neighbour %s distance: mean %.4g, median %.4g\n", o.Distance, res.Mean, res.Median)
	if o.Plot != "" {
		logf("wrote %s", o.Plot)
	}
	return nil
}

type codebookNeighborsOptions struct {
	VQ       string
	Token    int
	K        int
	Distance string
	Out      string
	JSON     bool
}

// neighborsResult is what codebook neighbors prints with --json.
type neighborsResult struct {
	Token     int       `json:"token"`
	Distance  string    `json:"distance"`
	Nearest   []int     `json:"nearest"`
	NearestD  []float32 `json:"nearest_distance"`
	Farthest  []int     `json:"farthest"`
	FarthestD []float32 `json:"farthest_distance"`
}

func newCodebookNeighborsCommand() *cobra.Command {
	var o codebookNeighborsOptions
	cmd := &cobra.Command{
		Use:         "neighbors",
		Annotations: streamAnnotation,
		Short:       "The k nearest and k farthest codes of a code, drawn as grids filled with each code",
		Example:     `  vqtool codebook neighbors --vq fmnist.vq --token 17 --k 10 --out neighbors.png`,
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, o.JSON, map[string]*string{"out": &o.Out})
			return runCodebookNeighbors(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.IntVar(&o.Token, "token", 0, "the code")
	f.IntVar(&o.K, "k", 10, "neighbours on each side")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	f.StringVarP(&o.Out, "out", "o", "neighbors.png", "picture to write: the code, its nearest, its farthest")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object; the picture only when --out is given")
	return cmd
}

func runCodebookNeighbors(_ context.Context, w io.Writer, o codebookNeighborsOptions) error {
	m, _, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	near, far, nd, fd, err := m.Codebook.Neighbors(o.Token, o.K, kind)
	if err != nil {
		return usageError{err}
	}
	res := neighborsResult{Token: o.Token, Distance: o.Distance, Nearest: near, NearestD: nd, Farthest: far, FarthestD: fd}
	if o.Out != "" {
		img, err := explore.NeighbourFigure(m, o.Token, near, far)
		if err != nil {
			return err
		}
		if err := writePNG(o.Out, img); err != nil {
			return err
		}
	}
	if o.JSON {
		return printJSON(w, res)
	}
	fprintf(w, "code %d, %s distance\nnearest:  ", o.Token, o.Distance)
	for i, c := range near {
		fprintf(w, "%d (%.4g)  ", c, nd[i])
	}
	fprintf(w, "\nfarthest: ")
	for i, c := range far {
		fprintf(w, "%d (%.4g)  ", c, fd[i])
	}
	fprintf(w, "\n")
	if o.Out != "" {
		logf("wrote %s", o.Out)
	}
	return nil
}

type codebookAtlasOptions struct {
	dataOptions
	VQ    string
	Order string
	Cols  int
	Out   string
}

func newCodebookAtlasCommand() *cobra.Command {
	var o codebookAtlasOptions
	cmd := &cobra.Command{
		Use:         "atlas",
		Annotations: streamAnnotation,
		Short:       "Draw every code as a grid filled with it, ordered by usage or by a 1-D embedding of the codebook",
		Example: `  vqtool codebook atlas --vq fmnist.vq --order embedding --out atlas.png
  vqtool codebook atlas --vq fmnist.vq --order usage --data fashion-mnist --split test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCodebookAtlas(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	f := cmd.Flags()
	defaultToTest(cmd)
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.StringVar(&o.Order, "order", "embedding", "embedding (first principal component: similar codes sit together), usage (most used first) or index")
	f.IntVar(&o.Cols, "cols", 32, "codes per row")
	f.StringVarP(&o.Out, "out", "o", "atlas.png", "picture to write")
	return cmd
}

func runCodebookAtlas(_ context.Context, w io.Writer, o codebookAtlasOptions) error {
	m, info, err := loadVQ(o.VQ)
	if err != nil {
		return err
	}
	if o.Cols < 1 {
		return usagef("--cols %d: want at least 1", o.Cols)
	}
	k := m.Config.CodebookSize
	var order []int
	switch o.Order {
	case "index":
		order = make([]int, k)
		for i := range order {
			order[i] = i
		}
	case "embedding":
		order = m.Codebook.PrincipalOrder()
	case "usage":
		u, _, err := usageOf(m, info, o.dataOptions)
		if err != nil {
			return err
		}
		order = u.Order()
	default:
		return usagef("--order %q: want embedding, usage or index", o.Order)
	}
	atlas, err := explore.Atlas(m, order, o.Cols)
	if err != nil {
		return err
	}
	if err := writePNG(o.Out, atlas); err != nil {
		return err
	}
	logf("wrote %s: %d codes ordered by %s", o.Out, k, o.Order)
	return nil
}

type codebookExportOptions struct {
	VQ       string
	Out      string
	Distance string
}

func newCodebookExportCommand() *cobra.Command {
	var o codebookExportOptions
	cmd := &cobra.Command{
		Use:     "export",
		Short:   "Write the codebook [K, D] and its distance matrix [K, K] as float32 .npy files",
		Example: `  vqtool codebook export --vq fmnist.vq --out codebook.npy    # also codebook.distances.npy`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCodebookExport(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.StringVarP(&o.Out, "out", "o", "codebook.npy", "codebook file; the distances go to NAME.distances.npy")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	return cmd
}

func runCodebookExport(_ context.Context, w io.Writer, o codebookExportOptions) error {
	m, _, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	k, d := m.Config.CodebookSize, m.Config.CodeDim
	if k > 8192 {
		return usagef("a %d x %d distance matrix is too large to export (%d MiB): the codebook has %d codes", k, k, k*k*4>>20, k)
	}
	if err := imageio.WriteFile(o.Out, func(wr io.Writer) error { return imageio.WriteNPYFloat32(wr, m.Codebook.E, []int{k, d}) }); err != nil {
		return err
	}
	dist, err := m.Codebook.Distance(kind)
	if err != nil {
		return err
	}
	mtx := codebook.Matrix(dist)
	dpath := imageio.LabelsPath(o.Out)
	dpath = dpath[:len(dpath)-len(".labels.npy")] + ".distances.npy"
	if err := imageio.WriteFile(dpath, func(wr io.Writer) error { return imageio.WriteNPYFloat32(wr, mtx, []int{k, k}) }); err != nil {
		return err
	}
	logf("wrote %s [%d, %d] and %s [%d, %d] (%s)", o.Out, k, d, dpath, k, k, o.Distance)
	return nil
}
