package study

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/report"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

// cell gathers one metric over the seeds of (size, arm).
func cell(runs []Result, size int, arm string, m metric) metrics.Interval {
	var xs []float64
	for _, r := range runs {
		if !r.Sweep && r.Size == size && r.Arm() == arm {
			if v, ok := m.get(r); ok {
				xs = append(xs, v)
			}
		}
	}
	return metrics.CI95(xs)
}

func fmtIv(iv metrics.Interval) string {
	switch {
	case iv.N == 0:
		return "-"
	case iv.N < 2:
		return fmt.Sprintf("%.3g", iv.Mean)
	}
	return fmt.Sprintf("%.3g [%.3g, %.3g]", iv.Mean, iv.Lo, iv.Hi)
}

func metricByKey(key string) metric {
	for _, m := range studyMetrics {
		if m.key == key {
			return m
		}
	}
	panic("study: no metric " + key)
}

// verdict says in words what the paired comparisons found.
func (res *Results) verdict() string {
	var b strings.Builder
	done := 0
	for _, r := range res.Runs {
		if !r.Sweep {
			done++
		}
	}
	sweep := len(res.Sweep) > 0
	fmt.Fprintf(&b, "%d of %d planned runs are done", len(res.Runs), res.Planned)
	if ch := res.Choice; ch != nil && ch.Swept {
		fmt.Fprintf(&b, "; the sweep chose alpha %s, %s effective neighbours and temperature %s by %s (%.2f)",
			num(ch.Alpha), num(ch.Perplexity), num(ch.Temperature), ch.By, ch.Score)
	} else if sweep {
		b.WriteString("; the sweep is not complete")
	}
	b.WriteString(".\n\n")
	words := map[string]string{"test_nll_bits": "test NLL", "near_copies": "the share of near copies", "fld_t1": "FLD at T=1",
		"fld_novel_t1": "novel FLD at T=1", "class_acc_t1": "class accuracy at T=1",
		"test_nll_bits_last": "test NLL at the end of the budget", "near_copies_last": "near copies at the end of the budget",
		"fld_t1_last": "FLD at T=1 at the end of the budget", "fld_novel_t1_last": "novel FLD at the end of the budget",
		"class_acc_t1_last": "class accuracy at the end of the budget"}
	for _, size := range res.Config.Sizes {
		for _, p := range res.Config.pairs() {
			var said []string
			var none []string
			for _, key := range []string{"test_nll_bits", "near_copies", "fld_t1", "fld_novel_t1", "class_acc_t1", "test_nll_bits_last", "near_copies_last", "fld_t1_last", "fld_novel_t1_last", "class_acc_t1_last"} {
				for _, c := range res.Comparisons {
					if c.Size != size || c.A != p[0] || c.B != p[1] || c.Metric != key {
						continue
					}
					if !c.Detected() {
						none = append(none, words[key])
						continue
					}
					m := metricByKey(key)
					better := (c.MeanDiff < 0) == m.lower
					dir := map[bool]string{true: "better", false: "worse"}[better]
					said = append(said, fmt.Sprintf("%s %s (%+.3g, 95%% CI [%.3g, %.3g], %d seeds)", words[key], dir, c.MeanDiff, c.CI95[0], c.CI95[1], c.NPairs))
				}
			}
			if len(said)+len(none) == 0 {
				continue
			}
			if p[0] == "dist2" {
				fmt.Fprintf(&b, "At %d images, DIST2 against %s: ", size, p[1])
			} else {
				fmt.Fprintf(&b, "At %d images, the ce runs continued with DIST2 against with CE (%s - %s): ", size, p[0], p[1])
			}
			if len(said) > 0 {
				b.WriteString(strings.Join(said, "; "))
				if len(none) > 0 {
					b.WriteString("; ")
				}
			}
			if len(none) > 0 {
				fmt.Fprintf(&b, "no difference detected at this size in %s", strings.Join(none, ", "))
			}
			b.WriteString(".\n\n")
		}
	}
	return b.String()
}

// write renders report.md, report.html and their pictures into dir.
func (res *Results) write(dir string, vq *vqvae.Model, classes []string) error {
	c := res.Config
	fineTune := ""
	if c.FineTune > 0 {
		fineTune = fmt.Sprintf(" The fine-tune arm continues each ce run from its best checkpoint with a fresh optimiser for %gx the size's budget, "+
			"at the same seed, rate and early stopping: with DIST2 at the paper's setting (alpha %s, tau for %s effective neighbours; ce->dist2) "+
			"and, as the control, with CE (ce->ce); its comparison is the paired difference ce->dist2 - ce->ce.",
			c.FineTune, num(dist2.DefaultAlpha), num(dist2.DefaultPerplexity))
	}
	rep := report.Report{
		Title: "vqtool study: does DIST2Loss make better image-token generators?",
		Intro: res.verdict() + fmt.Sprintf("Generators of width %d, %d blocks, trained %g epochs at batch %d within [%d, %d] steps, "+
			"validation NLL every %d steps, best checkpoint kept; %d samples per setting at guidance %g; scores against the %s split. "+
			"Intervals are 95%% t intervals over seeds; a comparison is the paired difference dist2 - other by seed.",
			c.Dim, c.Layers, c.Epochs, c.Batch, c.MinSteps, c.MaxSteps, c.EvalEvery, c.Samples, c.CFG, "test") + fineTune,
	}
	// Tables.
	t := &report.Table{Header: []string{"size", "arm", "runs"}}
	for _, m := range studyMetrics {
		t.Header = append(t.Header, m.label)
	}
	for _, size := range c.Sizes {
		for _, arm := range c.arms() {
			iv := cell(res.Runs, size, arm, studyMetrics[0])
			row := []string{strconv.Itoa(size), arm, strconv.Itoa(iv.N)}
			for _, m := range studyMetrics {
				row = append(row, fmtIv(cell(res.Runs, size, arm, m)))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Results per size and arm (mean [95% interval] over seeds)", Table: t})
	ct := &report.Table{Header: []string{"size", "metric", "a - b", "mean diff", "95% CI", "pairs", "verdict"}}
	for _, cm := range res.Comparisons {
		v := "no difference detected at this size"
		if cm.Detected() {
			v = map[bool]string{true: "a better", false: "a worse"}[(cm.MeanDiff < 0) == metricByKey(cm.Metric).lower]
		}
		ct.Rows = append(ct.Rows, []string{strconv.Itoa(cm.Size), cm.Metric, cm.A + " - " + cm.B, fmt.Sprintf("%.4g", cm.MeanDiff),
			fmt.Sprintf("[%.4g, %.4g]", cm.CI95[0], cm.CI95[1]), strconv.Itoa(cm.NPairs), v})
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Paired differences", Table: ct})
	if len(res.Sweep) > 0 {
		st := &report.Table{Header: []string{"size", "alpha", "perplexity", "temperature", "val NLL", "val FLD", "val novel FLD", "near copies", "class acc"}}
		for _, r := range res.Sweep {
			st.Rows = append(st.Rows, []string{strconv.Itoa(r.Size), num(r.Alpha), num(r.Perplexity), num(r.Temperature),
				fmt.Sprintf("%.3f", r.ValNLL), fmt.Sprintf("%.2f", r.FLD), fmtOpt(r.FLDNovel, "%.2f"), fmt.Sprintf("%.3f", r.NearCopies), fmt.Sprintf("%.3f", r.ClassAcc)})
		}
		text := "The sweep: DIST2 runs of seed 1 at the sweep sizes, scored on the validation split."
		if ch := res.Choice; ch != nil {
			text += fmt.Sprintf(" Chosen: alpha %s, perplexity %s, temperature %s (%s %.2f).", num(ch.Alpha), num(ch.Perplexity), num(ch.Temperature), ch.By, ch.Score)
		}
		rep.Sections = append(rep.Sections, report.Section{Heading: "The DIST2 sweep", Text: text, Table: st})
	}
	// Plots.
	var imgs []report.Image
	for _, p := range []struct{ key, file string }{{"test_nll_bits", "nll.png"}, {"fld_t1", "fld.png"}, {"near_copies", "copies.png"}, {"fld_novel_t1", "fld-novel.png"}} {
		m := metricByKey(p.key)
		pl := report.Plot{Title: m.label + " against training-set size", XLabel: "training images (log scale)", YLabel: m.label, LogX: true}
		for _, arm := range c.arms() {
			s := report.Series{Name: arm, ColorSlot: -1}
			for _, size := range c.Sizes {
				iv := cell(res.Runs, size, arm, m)
				s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(size)), append(s.Y, iv.Mean), append(s.Lo, iv.Lo), append(s.Hi, iv.Hi)
			}
			pl.Series = append(pl.Series, s)
		}
		if err := pl.Write(filepath.Join(dir, p.file)); err != nil {
			return err
		}
		imgs = append(imgs, report.Image{Caption: pl.Title, Path: p.file})
	}
	sc := report.Plot{Title: "Each run: near copies against FLD (T=1)", XLabel: "near copies of training grids", YLabel: "FLD (lower is better)"}
	for i, arm := range c.arms() {
		s := report.Series{Name: arm, Points: true, ColorSlot: i}
		for _, r := range res.Runs {
			if !r.Sweep && r.Arm() == arm {
				s.X, s.Y = append(s.X, r.NearCopies), append(s.Y, r.FLDT1)
			}
		}
		sc.Series = append(sc.Series, s)
	}
	if err := sc.Write(filepath.Join(dir, "copies-fld.png")); err != nil {
		return err
	}
	imgs = append(imgs, report.Image{Caption: sc.Title, Path: "copies-fld.png"})
	for _, size := range c.Sizes[:min(2, len(c.Sizes))] {
		cv := report.Plot{Title: fmt.Sprintf("Validation NLL during training, %d images (seed 1)", size), XLabel: "step (the fine-tune arm's counted on from its start's)", YLabel: "bits per token"}
		for _, r := range res.Runs {
			if !r.Sweep && r.Size == size && r.Seed == 1 {
				s := report.Series{Name: r.Arm(), ColorSlot: slices.Index(c.arms(), r.Arm())}
				if r.Init != "" {
					s.X, s.Y = append(s.X, float64(r.InitStep)), append(s.Y, r.InitValNLL)
				}
				for _, p := range r.Curve {
					s.X, s.Y = append(s.X, float64(r.InitStep+p.Step)), append(s.Y, p.NLL)
				}
				cv.Series = append(cv.Series, s)
			}
		}
		file := fmt.Sprintf("curve-n%d.png", size)
		if err := cv.Write(filepath.Join(dir, file)); err != nil {
			return err
		}
		imgs = append(imgs, report.Image{Caption: cv.Title, Path: file})
	}
	if len(res.Sweep) > 0 && res.Choice != nil {
		sw := report.Plot{Title: fmt.Sprintf("Sweep: validation novel FLD against alpha (T=%s)", num(res.Choice.Temperature)), XLabel: "alpha (log scale)", YLabel: "novel FLD", LogX: true}
		for i, size := range c.SweepSizes {
			for j, p := range c.Perplexities {
				s := report.Series{Name: fmt.Sprintf("%d images, %s neighbours", size, num(p)), ColorSlot: i*len(c.Perplexities) + j}
				for _, r := range res.Sweep {
					if r.Size == size && r.Perplexity == p && r.Temperature == res.Choice.Temperature {
						v := math.NaN()
						if r.FLDNovel != nil {
							v = *r.FLDNovel
						}
						s.X, s.Y = append(s.X, r.Alpha), append(s.Y, v)
					}
				}
				sw.Series = append(sw.Series, s)
			}
		}
		if err := sw.Write(filepath.Join(dir, "sweep.png")); err != nil {
			return err
		}
		imgs = append(imgs, report.Image{Caption: sw.Title, Path: "sweep.png"})
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Plots", Images: imgs})
	// Sample grids: seed 1's best checkpoint, ten per class, a row a class.
	var grids []report.Image
	for _, r := range res.Runs {
		if r.Sweep || r.Seed != 1 || r.Samples == "" {
			continue
		}
		file := filepath.Join("grids", r.Name+".png")
		if err := sampleGrid(filepath.Join(dir, file), filepath.Join(dir, r.Samples), vq, classes); err != nil {
			return err
		}
		grids = append(grids, report.Image{Caption: fmt.Sprintf("%s, %d images, best step %d (T=1)", r.Arm(), r.Size, r.BestStep), Path: file})
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Samples of the best checkpoints (seed 1, T=1; a row a class)", Images: grids})
	_, err := rep.Write(dir, "report")
	return err
}

// sampleGrid draws ten samples of each class from a samples file, a row a
// class, captioned with the class names of the tokenizer's data.
func sampleGrid(path, samples string, vq *vqvae.Model, names []string) error {
	t, err := imageio.LoadTokens(samples)
	if err != nil {
		return err
	}
	var pick []int
	var rows []string
	for cls := range len(names) {
		k := 0
		for i := 0; i < t.N && k < 10; i++ {
			if t.Labels != nil && int(t.Labels[i]) == cls {
				pick = append(pick, i)
				k++
			}
		}
		if k > 0 {
			rows = append(rows, names[cls])
		}
	}
	codes := make([]int32, 0, len(pick)*t.H*t.W)
	for _, i := range pick {
		codes = append(codes, t.Grid(i)...)
	}
	cells, err := explore.Decoded(vq, codes, len(pick))
	if err != nil {
		return err
	}
	if err := mkdirFor(path); err != nil {
		return err
	}
	return imageio.WritePNG(path, imageio.Grid(cells, imageio.GridOptions{Cols: 10, Scale: 2, Pad: 2, RowCaptions: rows}))
}
