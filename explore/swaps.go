package explore

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/report"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

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

// SwapEval is the measurement of token swaps: what swap-tokens --eval
// --json prints.
type SwapEval struct {
	Images   int             `json:"images"`
	Region   vqvae.Region    `json:"region"`
	Distance string          `json:"distance"`
	Modes    []SwapModeStats `json:"modes"`
	Ordered  float64         `json:"ordered_fraction"` // images with near < random < far region error
	Curve    []SwapBucket    `json:"rank_curve"`
	Spearman float64         `json:"spearman_code_vs_pixel"`
}

// SwapFigure draws one row per image of n: its decode with the region
// swapped in each mode (vqvae.SwapModes), the region outlined if asked.
func SwapFigure(m *vqvae.Model, sw *vqvae.Swapper, tokens []int32, n int, region vqvae.Region, outline bool, r *rand.Rand) (image.Image, error) {
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
	cells, err := Decoded(m, grids, n*len(vqvae.SwapModes))
	if err != nil {
		return nil, err
	}
	opt := imageio.GridOptions{Cols: len(vqvae.SwapModes), Scale: 3, Pad: 3}
	for _, mode := range vqvae.SwapModes {
		opt.ColCaptions = append(opt.ColCaptions, mode.String())
	}
	if outline {
		f := m.Config.Downsample
		opt.Outline = []image.Rectangle{image.Rect(region.X0*f, region.Y0*f, region.X1*f, region.Y1*f)}
	}
	return imageio.Grid(cells, opt), nil
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

// EvalSwaps measures swaps in region over the first n grids of tokens: the
// pixel error of each mode's decode against the unswapped decode, and the
// rank curve, the region error when every swapped token moves to a code
// whose neighbour rank lies in one of buckets equal ranges. progress, if not
// nil, hears the images done so far.
func EvalSwaps(ctx context.Context, m *vqvae.Model, sw *vqvae.Swapper, tokens []int32, n int, region vqvae.Region, buckets int, r *rand.Rand, progress func(done int)) (SwapEval, error) {
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
			if errs[vqvae.Near] < errs[vqvae.Random] && errs[vqvae.Random] < errs[vqvae.Far] {
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
		if progress != nil {
			progress(lo + nb)
		}
	}
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

// CurvePlot draws the rank curve: region pixel error against neighbour rank.
func (ev SwapEval) CurvePlot() report.Plot {
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
	}
}
