package report

import (
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vqtool/vqtool/internal/atomicfile"
)

// Series is one line of a plot: Y[i] at X[i], with an interval [Lo[i],
// Hi[i]] drawn as a bar when Lo and Hi are given and finite. NaN points are
// left out.
type Series struct {
	Name      string
	X, Y      []float64
	Lo, Hi    []float64
	Points    bool // draw markers only (a scatter), no line
	ColorSlot int  // plotutil colour index; -1 takes the series' own index
}

// Plot is a figure of series against one x axis.
type Plot struct {
	Title, XLabel, YLabel string
	LogX                  bool
	Series                []Series
}

// Color returns the colour of slot i, as Plot draws it.
func Color(i int) color.Color { return plotutil.Color(i) }

// Write draws the plot as a PNG at path (6 x 4 inches).
func (p Plot) Write(path string) error {
	pl := plot.New()
	pl.Title.Text, pl.X.Label.Text, pl.Y.Label.Text = p.Title, p.XLabel, p.YLabel
	if p.LogX && p.spansPositive() {
		pl.X.Scale = plot.LogScale{}
		pl.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	for i, s := range p.Series {
		slot := s.ColorSlot
		if slot < 0 {
			slot = i
		}
		var pts plotter.XYs
		var errs plotter.YErrors
		for j := range s.X {
			if math.IsNaN(s.X[j]) || math.IsNaN(s.Y[j]) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
			var e struct{ Low, High float64 }
			if s.Lo != nil && s.Hi != nil && !math.IsNaN(s.Lo[j]) && !math.IsNaN(s.Hi[j]) {
				e.Low, e.High = s.Y[j]-s.Lo[j], s.Hi[j]-s.Y[j]
			}
			errs = append(errs, e)
		}
		if len(pts) == 0 {
			continue
		}
		if s.Points {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Color = plotutil.Color(slot)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(3)
			pl.Add(sc)
			pl.Legend.Add(s.Name, sc)
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color, line.Dashes = plotutil.Color(slot), plotutil.Dashes(slot)
		pl.Add(line)
		pl.Legend.Add(s.Name, line)
		if s.Lo != nil {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{pts, errs})
			if err != nil {
				return err
			}
			eb.Color = plotutil.Color(slot)
			pl.Add(eb)
		}
	}
	pl.Add(plotter.NewGrid())
	wt, err := pl.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { _, err := wt.WriteTo(w); return err })
}

// spansPositive reports whether the plot's x values hold two different
// positive numbers and nothing else, which a log axis needs.
func (p Plot) spansPositive() bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range p.Series {
		for j, x := range s.X {
			if math.IsNaN(s.Y[j]) || math.IsNaN(x) {
				continue
			}
			if x <= 0 {
				return false
			}
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo < hi
}
