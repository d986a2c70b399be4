package study

import (
	"cmp"
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

// sortByX orders a line's points by x: parts may come in any order.
func sortByX(s *report.Series) {
	idx := make([]int, len(s.X))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.X[a], s.X[b]) })
	for _, f := range []*[]float64{&s.X, &s.Y, &s.Lo, &s.Hi} {
		if len(*f) != len(idx) {
			continue
		}
		v := make([]float64, len(idx))
		for i, j := range idx {
			v[i] = (*f)[j]
		}
		*f = v
	}
}

// armWords names an arm in the verdict's sentences.
func armWords(arm string) string {
	switch arm {
	case "dist2":
		return "DIST2"
	case corruptLoss:
		return "token corruption"
	case corruptDist2:
		return "DIST2 with token corruption"
	case "smooth":
		return "label smoothing"
	case "ce":
		return "CE"
	}
	return arm
}

// where names a cell: its training-set size, and its codebook size when
// the report has several.
func (res *Results) where(k, size int) string {
	if len(res.Parts) > 0 {
		return fmt.Sprintf("K = %d, %d images", k, size)
	}
	return fmt.Sprintf("%d images", size)
}

// missing counts the planned runs not done, by cell.
func (res *Results) missing() []string {
	var out []string
	for _, p := range res.parts {
		done := map[string]bool{}
		for _, r := range p.runs {
			done[r.Name] = true
		}
		type cell struct {
			size  int
			sweep bool
		}
		var cells []cell
		count := map[cell][2]int{} // missing, planned
		for _, r := range p.Config.Plan() {
			c := cell{r.Size, r.Sweep}
			if _, seen := count[c]; !seen {
				cells = append(cells, c)
			}
			n := count[c]
			n[1]++
			if !done[r.Name] {
				n[0]++
			}
			count[c] = n
		}
		for _, c := range cells {
			if n := count[c]; n[0] > 0 {
				what := res.where(p.CodebookSize, c.size)
				if c.sweep {
					what = "the sweep at " + what
				}
				out = append(out, fmt.Sprintf("%s, %d of %d", what, n[0], n[1]))
			}
		}
	}
	return out
}

// verdict says in words what the paired comparisons found.
func (res *Results) verdict() string {
	var b strings.Builder
	sweep := len(res.Sweep) > 0
	fmt.Fprintf(&b, "%d of %d planned runs are done", len(res.Runs), res.Planned)
	if missing := res.missing(); len(missing) > 0 {
		fmt.Fprintf(&b, " (missing: %s)", strings.Join(missing, "; "))
	}
	var ceiling []string
	for _, r := range res.Runs {
		if r.Patience > 0 && !r.Converged && !r.Sweep && r.Init == "" {
			ceiling = append(ceiling, r.Name)
		}
	}
	if len(ceiling) > 0 {
		fmt.Fprintf(&b, "; stopped by their ceiling, not converged: %s", strings.Join(ceiling, ", "))
	}
	if ch := res.Choice; ch != nil && ch.Swept {
		fmt.Fprintf(&b, "; the sweep chose alpha %s, %s effective neighbours and temperature %s by %s (%.2f)",
			num(ch.Alpha), num(ch.Perplexity), num(ch.Temperature), ch.By, ch.Score)
	} else if sweep {
		b.WriteString("; the sweep is not complete")
	}
	b.WriteString(".\n\n")
	words := map[string]string{"test_nll_bits": "test NLL", "near_copies": "the share of near copies", "fld_t1": "FLD at T=1",
		"fld_novel_t1": "novel FLD at T=1", "class_acc_t1": "class accuracy at T=1", "c_t": "C_T (below 0: copying)",
		"extraction_t1": "prefix extraction at T=1", "extraction_greedy": "greedy prefix extraction",
		"test_nll_bits_last": "test NLL at the end of the budget", "near_copies_last": "near copies at the end of the budget",
		"fld_t1_last": "FLD at T=1 at the end of the budget", "fld_novel_t1_last": "novel FLD at the end of the budget",
		"class_acc_t1_last": "class accuracy at the end of the budget"}
	keys := []string{"test_nll_bits", "near_copies", "fld_t1", "fld_novel_t1", "class_acc_t1", "c_t", "extraction_t1", "extraction_greedy",
		"test_nll_bits_last", "near_copies_last", "fld_t1_last", "fld_novel_t1_last", "class_acc_t1_last"}
	for _, p := range res.parts {
		for _, size := range p.Config.Sizes {
			for _, pair := range p.Config.pairs() {
				var said, none []string
				for _, key := range keys {
					for _, c := range res.Comparisons {
						if c.CodebookSize != p.CodebookSize || c.Size != size || c.A != pair[0] || c.B != pair[1] || c.Metric != key {
							continue
						}
						if !c.Detected() {
							none = append(none, words[key])
							continue
						}
						m := metricByKey(key)
						dir := m.direction(c.MeanDiff)
						said = append(said, fmt.Sprintf("%s %s (%+.3g, 95%% CI [%.3g, %.3g], %d seeds)", words[key], dir, c.MeanDiff, c.CI95[0], c.CI95[1], c.NPairs))
					}
				}
				if len(said)+len(none) == 0 {
					continue
				}
				if strings.HasPrefix(pair[0], fineTuneFrom+"->") {
					fmt.Fprintf(&b, "At %s, the ce runs continued with DIST2 against with CE (%s - %s): ", res.where(p.CodebookSize, size), pair[0], pair[1])
				} else {
					fmt.Fprintf(&b, "At %s, %s against %s: ", res.where(p.CodebookSize, size), armWords(pair[0]), armWords(pair[1]))
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
	}
	return b.String()
}

// design says how the runs of part p trained.
func (p part) design() string {
	c := p.Config
	var b strings.Builder
	fmt.Fprintf(&b, "Generators of width %d, %d blocks, trained %g epochs at batch %d within [%d, %d] steps, "+
		"validation NLL every %d steps, best checkpoint kept", c.Dim, c.Layers, c.Epochs, c.Batch, c.MinSteps, c.MaxSteps, c.EvalEvery)
	if c.Patience > 0 {
		fmt.Fprintf(&b, ", stopped once %d measurements in a row miss the best (a run stopped by its budget is not converged)", c.Patience)
	}
	fmt.Fprintf(&b, "; %d samples per setting at guidance %g; scores against the test split.", c.Samples, c.CFG)
	if slices.ContainsFunc(c.Losses, corrupts) {
		fmt.Fprintf(&b, " Token corruption replaces each input token by a uniform random code with probability %g, the target unchanged.", c.Corrupt)
	}
	if len(c.ExtractionGiven) > 0 && c.ExtractionGrids > 0 {
		fmt.Fprintf(&b, " Prefix extraction gives %v tokens and the class of %d training grids and counts completions at >= %g%% token agreement.",
			c.ExtractionGiven, c.ExtractionGrids, 100*metrics.NearCopyThreshold)
	}
	if c.FineTune > 0 {
		fmt.Fprintf(&b, " The fine-tune arm continues each ce run from its best checkpoint with a fresh optimiser for %gx the size's budget, "+
			"at the same seed, rate and early stopping: with DIST2 at the paper's setting (alpha %s, tau for %s effective neighbours; ce->dist2) "+
			"and, as the control, with CE (ce->ce); its comparison is the paired difference ce->dist2 - ce->ce.",
			c.FineTune, num(dist2.DefaultAlpha), num(dist2.DefaultPerplexity))
	}
	return b.String()
}

// write renders report.md, report.html and their pictures into dir.
func (res *Results) write(dir string) error {
	multi := len(res.Parts) > 0
	intro := res.verdict()
	for _, p := range res.parts {
		if multi {
			intro += fmt.Sprintf("Part K = %d, sizes %v (%s): ", p.CodebookSize, p.Config.Sizes, strings.Join(p.Folders, ", "))
		}
		intro += p.design() + "\n\n"
	}
	intro += "Intervals are 95% t intervals over seeds; a comparison is the paired difference a - b by seed."
	rep := report.Report{Title: "vqtool study: does DIST2Loss make better image-token generators?", Intro: intro}
	// Tables.
	t := &report.Table{Header: []string{"K", "size", "arm", "runs"}}
	for _, m := range studyMetrics {
		t.Header = append(t.Header, m.label)
	}
	for _, p := range res.parts {
		for _, size := range p.Config.Sizes {
			for _, arm := range p.Config.arms() {
				iv := cell(p.runs, size, arm, studyMetrics[0])
				row := []string{strconv.Itoa(p.CodebookSize), strconv.Itoa(size), arm, strconv.Itoa(iv.N)}
				for _, m := range studyMetrics {
					row = append(row, fmtIv(cell(p.runs, size, arm, m)))
				}
				t.Rows = append(t.Rows, row)
			}
		}
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Results per codebook size K, size and arm (mean [95% interval] over seeds)", Table: t})
	ct := &report.Table{Header: []string{"K", "size", "metric", "a - b", "mean diff", "95% CI", "pairs", "verdict"}}
	for _, cm := range res.Comparisons {
		v := "no difference detected at this size"
		if cm.Detected() {
			v = "a " + metricByKey(cm.Metric).direction(cm.MeanDiff)
		}
		ct.Rows = append(ct.Rows, []string{strconv.Itoa(cm.CodebookSize), strconv.Itoa(cm.Size), cm.Metric, cm.A + " - " + cm.B, fmt.Sprintf("%.4g", cm.MeanDiff),
			fmt.Sprintf("[%.4g, %.4g]", cm.CI95[0], cm.CI95[1]), strconv.Itoa(cm.NPairs), v})
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Paired differences", Table: ct})
	c := res.Config
	if len(res.Sweep) > 0 {
		st := &report.Table{Header: []string{"K", "size", "alpha", "perplexity", "temperature", "val NLL", "val FLD", "val novel FLD", "near copies", "class acc"}}
		for _, r := range res.Sweep {
			st.Rows = append(st.Rows, []string{strconv.Itoa(r.CodebookSize), strconv.Itoa(r.Size), num(r.Alpha), num(r.Perplexity), num(r.Temperature),
				fmt.Sprintf("%.3f", r.ValNLL), fmt.Sprintf("%.2f", r.FLD), fmtOpt(r.FLDNovel, "%.2f"), fmt.Sprintf("%.3f", r.NearCopies), fmt.Sprintf("%.3f", r.ClassAcc)})
		}
		text := "The sweep: DIST2 runs of seed 1 at the sweep sizes, scored on the validation split."
		if multi {
			text += " The choice is the first part's; each other part chose its own, in its own folder's report."
		}
		if ch := res.Choice; ch != nil {
			text += fmt.Sprintf(" Chosen: alpha %s, perplexity %s, temperature %s (%s %.2f).", num(ch.Alpha), num(ch.Perplexity), num(ch.Temperature), ch.By, ch.Score)
		}
		rep.Sections = append(rep.Sections, report.Section{Heading: "The DIST2 sweep", Text: text, Table: st})
	}
	// Plots: a line per codebook size and arm, over the sizes of its parts.
	type line struct {
		k   int
		arm string
	}
	var lines []line
	for _, p := range res.parts {
		for _, arm := range p.Config.arms() {
			if l := (line{p.CodebookSize, arm}); !slices.Contains(lines, l) {
				lines = append(lines, l)
			}
		}
	}
	name := func(l line) string {
		if multi {
			return fmt.Sprintf("%s, K=%d", l.arm, l.k)
		}
		return l.arm
	}
	var imgs []report.Image
	for _, pl := range []struct{ key, file string }{{"test_nll_bits", "nll.png"}, {"fld_t1", "fld.png"}, {"near_copies", "copies.png"}, {"fld_novel_t1", "fld-novel.png"}} {
		m := metricByKey(pl.key)
		plot := report.Plot{Title: m.label + " against training-set size", XLabel: "training images (log scale)", YLabel: m.label, LogX: true}
		for _, l := range lines {
			s := report.Series{Name: name(l), ColorSlot: -1}
			for _, p := range res.parts {
				if p.CodebookSize != l.k || !slices.Contains(p.Config.arms(), l.arm) {
					continue
				}
				for _, size := range p.Config.Sizes {
					iv := cell(p.runs, size, l.arm, m)
					s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(size)), append(s.Y, iv.Mean), append(s.Lo, iv.Lo), append(s.Hi, iv.Hi)
				}
			}
			sortByX(&s)
			plot.Series = append(plot.Series, s)
		}
		if err := plot.Write(filepath.Join(dir, pl.file)); err != nil {
			return err
		}
		imgs = append(imgs, report.Image{Caption: plot.Title, Path: pl.file})
	}
	sc := report.Plot{Title: "Each run: near copies against FLD (T=1)", XLabel: "near copies of training grids", YLabel: "FLD (lower is better)"}
	for i, l := range lines {
		s := report.Series{Name: name(l), Points: true, ColorSlot: i}
		for _, p := range res.parts {
			for _, r := range p.runs {
				if p.CodebookSize == l.k && !r.Sweep && r.Arm() == l.arm {
					s.X, s.Y = append(s.X, r.NearCopies), append(s.Y, r.FLDT1)
				}
			}
		}
		sc.Series = append(sc.Series, s)
	}
	if err := sc.Write(filepath.Join(dir, "copies-fld.png")); err != nil {
		return err
	}
	imgs = append(imgs, report.Image{Caption: sc.Title, Path: "copies-fld.png"})
	for _, p := range res.parts {
		arms := p.Config.arms()
		for _, size := range p.Config.Sizes[:min(2, len(p.Config.Sizes))] {
			title, file := fmt.Sprintf("Validation NLL during training, %d images (seed 1)", size), fmt.Sprintf("curve-n%d.png", size)
			if multi {
				title, file = fmt.Sprintf("Validation NLL during training, K = %d, %d images (seed 1)", p.CodebookSize, size), fmt.Sprintf("curve-k%d-n%d.png", p.CodebookSize, size)
			}
			cv := report.Plot{Title: title, XLabel: "step (the fine-tune arm's counted on from its start's)", YLabel: "bits per token"}
			for _, r := range p.runs {
				if !r.Sweep && r.Size == size && r.Seed == 1 {
					s := report.Series{Name: r.Arm(), ColorSlot: slices.Index(arms, r.Arm())}
					if r.Init != "" {
						s.X, s.Y = append(s.X, float64(r.InitStep)), append(s.Y, r.InitValNLL)
					}
					for _, pt := range r.Curve {
						s.X, s.Y = append(s.X, float64(r.InitStep+pt.Step)), append(s.Y, pt.NLL)
					}
					cv.Series = append(cv.Series, s)
				}
			}
			if err := cv.Write(filepath.Join(dir, file)); err != nil {
				return err
			}
			imgs = append(imgs, report.Image{Caption: cv.Title, Path: file})
		}
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
	for _, p := range res.parts {
		for _, r := range p.runs {
			if r.Sweep || r.Seed != 1 || r.Samples == "" {
				continue
			}
			file := filepath.Join("grids", r.Name+".png")
			if err := sampleGrid(filepath.Join(dir, file), filepath.Join(dir, r.Samples), p.tok.VQ, p.tok.Classes); err != nil {
				return err
			}
			grids = append(grids, report.Image{Caption: fmt.Sprintf("%s, %s, best step %d (T=1)", r.Arm(), res.where(p.CodebookSize, r.Size), r.BestStep), Path: file})
		}
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
