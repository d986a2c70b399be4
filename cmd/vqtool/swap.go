package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/report"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

type swapOptions struct {
	dataOptions
	VQ       string
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
	f.IntVarP(&o.N, "n", "n", 8, "images in the figure")
	f.StringVar(&o.Region, "region", "center", "tokens to swap: center (--size x --size) or a token rectangle Y0,X0,Y1,X1 (end exclusive)")
	f.IntVar(&o.Size, "region-size", 2, "side of the center region in tokens")
	hiddenAlias(f, "size", "", "region-size")
	f.IntVar(&o.Near, "near", 10, "draw nearby replacements from this many nearest codes")
	f.IntVar(&o.Far, "far", 10, "draw distant replacements from this many farthest codes")
	f.StringVar(&o.Distance, "distance", "l2", "codebook distance: l2, mse or cosine")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the replacements")
	f.StringVarP(&o.Out, "out", "o", "swap.png", "figure to write (empty: none)")
	f.BoolVar(&o.Outline, "outline", false, "outline the swapped region in red")
	f.IntVar(&o.Eval, "eval", 0, "measure pixel errors over this many images")
	f.IntVar(&o.Buckets, "buckets", 16, "neighbour-rank buckets of the --eval curve")
	f.StringVar(&o.Plot, "plot", "swap-curve.png", "with --eval: plot of pixel error against neighbour rank (empty: none)")
	f.BoolVar(&o.JSON, "json", false, "with --eval: print one JSON object; pictures only when --out or --plot is given")
	return cmd
}

func parseRegion(s string, size, grid int) (vqvae.Region, error) {
	var r vqvae.Region
	if s == "center" {
		r = vqvae.CenterRegion(grid, size)
	} else {
		parts := strings.Split(s, ",")
		if len(parts) != 4 {
			return r, fmt.Errorf("--region %q: want center or Y0,X0,Y1,X1", s)
		}
		v := make([]int, 4)
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return r, fmt.Errorf("--region %q: %q is not an integer", s, p)
			}
			v[i] = n
		}
		r = vqvae.Region{Y0: v[0], X0: v[1], Y1: v[2], X1: v[3]}
	}
	return r, r.Check(grid)
}

// SwapModeStats is the pixel error of one mode against the unswapped decode.
type SwapModeStats struct {
	Mode         string  `json:"mode"`
	MSE          float64 `json:"mse"`
	MSEStd       float64 `json:"mse_std"`
	PSNR         float64 `json:"psnr"`
	PSNRStd      float64 `json:"psnr_std"`
	RegionMSE    float64 `json:"region_mse"`
	RegionMSEStd float64 `json:"region_mse_std"`
	RegionPSNR   float64 `json:"region_psnr"`
	CodeDistance float64 `json:"code_distance"` // mean codebook distance old -> new
}

// SwapBucket is one point of the rank curve.
type SwapBucket struct {
	RankLo       int     `json:"rank_lo"` // 0: the nearest other code
	RankHi       int     `json:"rank_hi"`
	CodeDistance float64 `json:"code_distance"`
	RegionMSE    float64 `json:"region_mse"`
	RegionMSEStd float64 `json:"region_mse_std"`
}

// SwapEval is what swap-tokens --eval --json prints.
type SwapEval struct {
	Images   int             `json:"images"`
	Region   vqvae.Region    `json:"region"`
	Distance string          `json:"distance"`
	Modes    []SwapModeStats `json:"modes"`
	Ordered  float64         `json:"ordered_fraction"` // images with near < random < far region error
	Curve    []SwapBucket    `json:"rank_curve"`
	Spearman float64         `json:"spearman_code_vs_pixel"`
}

func runSwap(ctx context.Context, w io.Writer, o swapOptions) error {
	m, info, kind, err := loadVQDistance(o.VQ, o.Distance)
	if err != nil {
		return err
	}
	gs := m.Config.Grid()
	region, err := parseRegion(o.Region, o.Size, gs)
	if err != nil {
		return usageError{err}
	}
	sw, err := vqvae.NewSwapper(m.Codebook, kind, o.Near, o.Far)
	if err != nil {
		return usageError{err}
	}
	if o.N < 0 || o.Eval < 0 || o.Buckets < 1 {
		return usagef("--n %d --eval %d --buckets %d: want n, eval >= 0 and buckets >= 1", o.N, o.Eval, o.Buckets)
	}
	dOpts := o.dataOptions
	dOpts.Limit = max(o.N, o.Eval)
	d, err := openForModel(dOpts, info, nil)
	if err != nil {
		return err
	}
	tokens := make([]int32, d.N*gs*gs)
	if err := m.EncodeTo(tokens, d.Pix, d.N); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x5a9))
	if o.Out != "" && o.N > 0 {
		if err := swapFigure(o.Out, m, sw, tokens, min(o.N, d.N), region, o.Outline, r); err != nil {
			return err
		}
		if !o.JSON {
			fprintf(w, "wrote %s: %d images, region rows [%d, %d) columns [%d, %d), %s distance\n",
				o.Out, min(o.N, d.N), region.Y0, region.Y1, region.X0, region.X1, o.Distance)
		}
	}
	if o.Eval == 0 {
		return nil
	}
	ev, err := swapEval(ctx, m, sw, tokens, min(o.Eval, d.N), region, o.Buckets, r)
	if err != nil {
		return err
	}
	ev.Distance = o.Distance
	if o.Plot != "" {
		if err := plotSwapCurve(o.Plot, ev); err != nil {
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
		fprintf(w, "wrote %s\n", o.Plot)
	}
	return nil
}

// swapFigure draws one row per image: the decode of each mode.
func swapFigure(path string, m *vqvae.Model, sw *vqvae.Swapper, tokens []int32, n int, region vqvae.Region, outline bool, r *rand.Rand) error {
	gs := m.Config.Grid()
	per := gs * gs
	grids := make([]int32, 0, n*len(vqvae.SwapModes)*per)
	buf := make([]int32, per)
	for i := range n {
		for _, mode := range vqvae.SwapModes {
			sw.Swap(buf, tokens[i*per:(i+1)*per], gs, region, mode, r)
			grids = append(grids, buf...)
		}
	}
	total := n * len(vqvae.SwapModes)
	c, s := m.Config.Channels, m.Config.Size
	pix := make([]float32, total*c*s*s)
	if err := m.DecodeTo(pix, grids, total); err != nil {
		return err
	}
	cells := make([]image.Image, total)
	for i := range cells {
		cells[i] = imageio.ToImage(pix[i*c*s*s:(i+1)*c*s*s], c, s, s)
	}
	opt := imageio.GridOptions{Cols: len(vqvae.SwapModes), Scale: 3, Pad: 3}
	for _, mode := range vqvae.SwapModes {
		opt.ColCaptions = append(opt.ColCaptions, mode.String())
	}
	if outline {
		f := m.Config.Downsample
		opt.Outline = []image.Rectangle{image.Rect(region.X0*f, region.Y0*f, region.X1*f, region.Y1*f)}
	}
	return writePNG(path, imageio.Grid(cells, opt))
}

// regionMSE returns the squared error of a and b over all pixels and inside
// the pixel rectangle of region.
func regionMSE(a, b []float32, c, s, f int, region vqvae.Region) (all, inside float64) {
	var n int
	for ch := range c {
		for y := range s {
			for x := range s {
				i := (ch*s+y)*s + x
				d := float64(a[i] - b[i])
				all += d * d
				if y >= region.Y0*f && y < region.Y1*f && x >= region.X0*f && x < region.X1*f {
					inside += d * d
					n++
				}
			}
		}
	}
	return all / float64(c*s*s), inside / float64(n)
}

func swapEval(ctx context.Context, m *vqvae.Model, sw *vqvae.Swapper, tokens []int32, n int, region vqvae.Region, buckets int, r *rand.Rand) (SwapEval, error) {
	gs := m.Config.Grid()
	per := gs * gs
	c, s, f := m.Config.Channels, m.Config.Size, m.Config.Downsample
	img := c * s * s
	k := m.Config.CodebookSize
	buckets = min(buckets, k-1)
	variants := len(vqvae.SwapModes) + buckets
	ev := SwapEval{Images: n, Region: region}
	all := make([][]float64, len(vqvae.SwapModes))
	inside := make([][]float64, len(vqvae.SwapModes))
	codeD := make([]float64, len(vqvae.SwapModes))
	curveD := make([]float64, buckets)
	curveE := make([][]float64, buckets)
	var xs, ys []float64
	ordered := 0
	const chunk = 32
	grids := make([]int32, chunk*variants*per)
	pix := make([]float32, chunk*variants*img)
	bar := newBar(n, "swap-tokens eval")
	for lo := 0; lo < n; lo += chunk {
		if err := ctx.Err(); err != nil {
			return ev, err
		}
		nb := min(chunk, n-lo)
		bucketD := make([]float64, nb*buckets)
		for i := range nb {
			src := tokens[(lo+i)*per : (lo+i+1)*per]
			for v, mode := range vqvae.SwapModes {
				dst := grids[(i*variants+v)*per : (i*variants+v+1)*per]
				sw.Swap(dst, src, gs, region, mode, r)
				for y := region.Y0; y < region.Y1; y++ {
					for x := region.X0; x < region.X1; x++ {
						codeD[v] += float64(sw.Distance(src[y*gs+x], dst[y*gs+x])) / float64(region.Tokens()*n)
					}
				}
			}
			for b := range buckets {
				rlo, rhi := b*(k-1)/buckets, (b+1)*(k-1)/buckets
				dst := grids[(i*variants+len(vqvae.SwapModes)+b)*per : (i*variants+len(vqvae.SwapModes)+b+1)*per]
				bucketD[i*buckets+b] = sw.SwapRank(dst, src, gs, region, rlo, rhi, r)
			}
		}
		if err := m.DecodeTo(pix, grids[:nb*variants*per], nb*variants); err != nil {
			return ev, err
		}
		for i := range nb {
			base := pix[(i*variants)*img : (i*variants+1)*img]
			var errs [4]float64
			for v := range vqvae.SwapModes {
				a, in := regionMSE(pix[(i*variants+v)*img:(i*variants+v+1)*img], base, c, s, f, region)
				all[v] = append(all[v], a)
				inside[v] = append(inside[v], in)
				errs[v] = in
			}
			if errs[Near] < errs[RandomMode] && errs[RandomMode] < errs[FarMode] {
				ordered++
			}
			for b := range buckets {
				v := len(vqvae.SwapModes) + b
				_, in := regionMSE(pix[(i*variants+v)*img:(i*variants+v+1)*img], base, c, s, f, region)
				curveE[b] = append(curveE[b], in)
				curveD[b] += bucketD[i*buckets+b] / float64(n)
				xs = append(xs, bucketD[i*buckets+b])
				ys = append(ys, in)
			}
		}
		_ = bar.Add(nb)
	}
	bar.Finish()
	for v, mode := range vqvae.SwapModes {
		st := SwapModeStats{Mode: mode.String(), CodeDistance: codeD[v]}
		st.MSE, st.MSEStd = metrics.MeanStd(all[v])
		st.RegionMSE, st.RegionMSEStd = metrics.MeanStd(inside[v])
		psnrs := make([]float64, len(all[v]))
		for i, e := range all[v] {
			psnrs[i] = math.Min(vqvae.PSNR(e), 99)
		}
		st.PSNR, st.PSNRStd = metrics.MeanStd(psnrs)
		st.RegionPSNR = math.Min(vqvae.PSNR(st.RegionMSE), 99)
		ev.Modes = append(ev.Modes, st)
	}
	for b := range buckets {
		mse, sd := metrics.MeanStd(curveE[b])
		ev.Curve = append(ev.Curve, SwapBucket{RankLo: b * (k - 1) / buckets, RankHi: (b + 1) * (k - 1) / buckets,
			CodeDistance: curveD[b], RegionMSE: mse, RegionMSEStd: sd})
	}
	ev.Ordered = float64(ordered) / float64(n)
	ev.Spearman = metrics.Spearman(xs, ys)
	return ev, nil
}

// Indices of the modes in SwapModes.
const (
	Near       = int(vqvae.Near)
	RandomMode = int(vqvae.Random)
	FarMode    = int(vqvae.Far)
)

// plotSwapCurve draws region pixel error against neighbour rank.
func plotSwapCurve(path string, ev SwapEval) error {
	series := report.Series{Name: "region MSE ± std", ColorSlot: 0}
	for _, b := range ev.Curve {
		x := float64(b.RankLo+b.RankHi) / 2
		series.X, series.Y = append(series.X, x), append(series.Y, b.RegionMSE)
		series.Lo, series.Hi = append(series.Lo, b.RegionMSE-b.RegionMSEStd), append(series.Hi, b.RegionMSE+b.RegionMSEStd)
	}
	return report.Plot{
		Title:  fmt.Sprintf("Token swaps: pixel error vs neighbour rank (Spearman %.2f)", ev.Spearman),
		XLabel: "neighbour rank of the replacement code (0 = nearest)",
		YLabel: "pixel MSE inside the swapped region",
		Series: []report.Series{series},
	}.Write(path)
}
