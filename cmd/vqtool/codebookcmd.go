package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
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

// codebookUsage is the --codebook flag of the commands that read a codebook
// alone, as kernel and targets export do.
const codebookUsage = "a codebook [K, D] as a float .npy file (numpy.save; float16, 32 or 64) instead of --vq, LlamaGen's say"

// openCodebook reads --distance, then the codebook of --vq (with its
// tokenizer) or of --codebook, a float .npy [K, D] (tokenizer nil).
func openCodebook(vq, file, distance string) (*codebook.Codebook, *vqvae.Model, vqvae.Info, dist2.VectorKind, error) {
	if vq != "" && file != "" {
		return nil, nil, vqvae.Info{}, 0, usagef("--vq %q, --codebook %q: want one of them", vq, file)
	}
	if file == "" {
		m, info, kind, err := loadVQDistance(vq, distance)
		if err != nil {
			return nil, nil, info, 0, err
		}
		return m.Codebook, m, info, kind, nil
	}
	kind, err := dist2.ParseVectorKind(distance)
	if err != nil {
		return nil, nil, vqvae.Info{}, 0, lossFlagError(err)
	}
	e, k, d, err := imageio.LoadMatrix(file)
	if err != nil {
		return nil, nil, vqvae.Info{}, 0, err
	}
	cb, err := codebook.FromCodes(e, k, d)
	if err != nil {
		return nil, nil, vqvae.Info{}, 0, fmt.Errorf("%s: %w", file, err)
	}
	return cb, nil, vqvae.Info{}, kind, nil
}

// hideCodebookFlag defines --codebook, hidden, on a command that needs more
// of a tokenizer than its codebook, so that the flag meets a reason
// (codebookAlone) rather than "unknown flag".
func hideCodebookFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "codebook", "", codebookUsage)
	_ = cmd.Flags().MarkHidden("codebook")
}

// codebookAlone refuses --codebook FILE for a command that needs what of
// the tokenizer.
func codebookAlone(file, command, needs string) error {
	return usagef("--codebook %q: %s needs %s, which a codebook .npy does not hold: want --vq, a tokenizer checkpoint folder (a codebook alone serves codebook neighbors, the distances of codebook stats, kernel and targets export)",
		file, command, needs)
}

type codebookStatsOptions struct {
	dataOptions
	VQ       string
	Codebook string
	Distance string
	Plot     string
	JSON     bool
	// DataGiven is set when a data flag was given: usage over images, which
	// --codebook cannot count.
	DataGiven bool
}

// codebookSpacing is what codebook stats --codebook prints with --json.
type codebookSpacing struct {
	Codebook string `json:"codebook"`
	Codes    int    `json:"codes"`
	Dim      int    `json:"dim"`
	codebook.Spacing
	Distance string `json:"distance"`
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
		Use:   "stats",
		Short: "Code usage over a data set, dead codes, perplexity, nearest-neighbour distances",
		Long: `stats encodes a data set with the tokenizer (--vq) and counts its codes: codes
used, dead, the perplexity of their use; and measures how far each code is from
its nearest other code. Of a codebook alone (--codebook, a float .npy [K, D])
it measures the distances only: counting needs the tokenizer's encoder.`,
		Example: `  vqtool codebook stats --vq fmnist.vq --data fashion-mnist --split test --plot stats.png
  vqtool codebook stats --codebook vq_ds16_c2i_codebook.npy --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, o.JSON, map[string]*string{"plot": &o.Plot})
			for _, name := range []string{"data", "split", "limit", "fit"} {
				o.DataGiven = o.DataGiven || cmd.Flags().Changed(name)
			}
			return runCodebookStats(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	f := cmd.Flags()
	defaultToTest(cmd)
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.StringVar(&o.Codebook, "codebook", "", codebookUsage+"; distances only (usage needs --vq)")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	f.StringVar(&o.Plot, "plot", "codebook-stats.png", "histograms to write (empty: none)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object; the plot only when --plot is given")
	return cmd
}

func runCodebookStats(_ context.Context, w io.Writer, o codebookStatsOptions) error {
	if o.Codebook != "" {
		if o.DataGiven {
			return codebookAlone(o.Codebook, "code usage over --data", "the tokenizer's encoder")
		}
		return runCodebookSpacing(w, o)
	}
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

// runCodebookSpacing is codebook stats of a --codebook file: the
// nearest-neighbour distances.
func runCodebookSpacing(w io.Writer, o codebookStatsOptions) error {
	cb, _, _, kind, err := openCodebook(o.VQ, o.Codebook, o.Distance)
	if err != nil {
		return err
	}
	dist, err := cb.Distance(kind)
	if err != nil {
		return err
	}
	res := codebookSpacing{Codebook: o.Codebook, Codes: cb.CodebookSize, Dim: cb.D, Spacing: codebook.SpacingOf(dist), Distance: o.Distance}
	if o.Plot != "" {
		if err := imageio.WriteFile(o.Plot, func(w io.Writer) error {
			return explore.WriteCodebookStats(w, codebook.Stats{}, nil, res.Spacing, o.Distance)
		}); err != nil {
			return err
		}
	}
	if o.JSON {
		return printJSON(w, res)
	}
	fprintf(w, "%s: %d codes of dimension %d (code usage needs the tokenizer's encoder: --vq)\n", o.Codebook, res.Codes, res.Dim)
	fprintf(w, "nearest-neighbour %s distance: mean %.4g, median %.4g\n", o.Distance, res.Mean, res.Median)
	if o.Plot != "" {
		logf("wrote %s", o.Plot)
	}
	return nil
}

type codebookNeighborsOptions struct {
	VQ       string
	Codebook string
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
		Long: `neighbors lists the --k nearest and --k farthest codes of code --token with
their distances, and draws them through the tokenizer's decoder (--out). Of a
codebook alone (--codebook, a float .npy [K, D]) it lists them without the
picture, which needs the decoder.`,
		Example: `  vqtool codebook neighbors --vq fmnist.vq --token 17 --k 10 --out neighbors.png
  vqtool codebook neighbors --codebook vq_ds16_c2i_codebook.npy --token 17 --k 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			noSideFiles(cmd, o.JSON || o.Codebook != "", map[string]*string{"out": &o.Out})
			return runCodebookNeighbors(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder")
	f.StringVar(&o.Codebook, "codebook", "", codebookUsage+"; the lists only (the picture needs --vq)")
	f.IntVar(&o.Token, "token", 0, "the code")
	f.IntVar(&o.K, "k", 10, "neighbours on each side")
	f.StringVar(&o.Distance, "distance", "l2", distanceUsage)
	f.StringVarP(&o.Out, "out", "o", "neighbors.png", "picture to write: the code, its nearest, its farthest (with --vq)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object; the picture only when --out is given")
	return cmd
}

func runCodebookNeighbors(_ context.Context, w io.Writer, o codebookNeighborsOptions) error {
	if o.Codebook != "" && o.Out != "" {
		return codebookAlone(o.Codebook, "the picture (--out "+o.Out+")", "the tokenizer's decoder")
	}
	cb, m, _, kind, err := openCodebook(o.VQ, o.Codebook, o.Distance)
	if err != nil {
		return err
	}
	near, far, nd, fd, err := cb.Neighbors(o.Token, o.K, kind)
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
	VQ       string
	Codebook string // refused: the atlas draws codes through the decoder
	Order    string
	Cols     int
	Out      string
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
	hideCodebookFlag(cmd, &o.Codebook)
	f.StringVar(&o.Order, "order", "embedding", "embedding (first principal component: similar codes sit together), usage (most used first) or index")
	f.IntVar(&o.Cols, "cols", 32, "codes per row")
	f.StringVarP(&o.Out, "out", "o", "atlas.png", "picture to write")
	return cmd
}

func runCodebookAtlas(_ context.Context, w io.Writer, o codebookAtlasOptions) error {
	if o.Codebook != "" {
		return codebookAlone(o.Codebook, "atlas", "the tokenizer's decoder to draw each code")
	}
	m, info, err := loadVQ(o.VQ)
	if err != nil {
		return err
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
