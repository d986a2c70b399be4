package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vqtool/vqtool/dist2"
)

var (
	explorerShot = flag.String("explorer-shot", "", "write a screenshot of the explorer with a token selected to this PNG")
	explorerVQ   = flag.String("explorer-vq", "", "the tokenizer the explorer's browser test draws (default: the committed small one)")
	explorerData = flag.String("explorer-data", "embedded", "the data set the explorer's browser test encodes")
)

// browser starts headless Chromium for one test, or skips the test where
// there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium here (Debian: apt-get install chromium): the explorer's browser test needs one")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1500, 1100), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// run runs one browser action with a time limit.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[T](expr))
}

func intList(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%q: not a list of code ids", s)
		}
		out = append(out, n)
	}
	return out
}

// The page vqtool explore writes for the committed small tokenizer, opened
// in headless Chromium with a fragment, shows that token's code and its
// nearest and farthest codes in the codebook's order; clicks change the
// selection; the tau control moves p_d's perplexity as dist2 computes it;
// the page opens at train-gen's tau, and its rows p_d are dist2's.
func TestExplorerInBrowser(t *testing.T) {
	ctx := browser(t)
	vqPath := cmp.Or(*explorerVQ, smallVQ)
	page := filepath.Join(t.TempDir(), "explorer.html")
	o := exploreOptions{dataOptions: dataOptions{Data: *explorerData, Split: "test"}, lossOptions: defaultLossOptions(), VQ: vqPath,
		N: 16, Near: 10, Far: 10, Out: page}
	if err := runExplore(context.Background(), io.Discard, o); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 10e6 {
		t.Errorf("page of %d bytes: want under 10 MB", st.Size())
	}
	body, _ := os.ReadFile(page)
	for _, ref := range []string{`src="http`, `href="http`, `url(http`, "fetch(", "XMLHttpRequest"} {
		if strings.Contains(string(body), ref) {
			t.Errorf("the page holds %q: it must not fetch anything", ref)
		}
	}

	// The library's answer.
	m, info, err := loadVQ(vqPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openForModel(dataOptions{Data: *explorerData, Split: "test", Limit: 16}, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	gs := m.Config.Grid()
	tokens := make([]int32, d.N*gs*gs)
	if err := m.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	codeAt := func(i, y, x int) int { return int(tokens[(i*gs+y)*gs+x]) }

	run(t, ctx, chromedp.Navigate("file://"+page+"#image=5&token=3,4"))
	run(t, ctx, chromedp.Poll[bool](`document.body.dataset.ready === "1" || document.getElementById("error").textContent !== ""`))
	if msg := js[string](t, ctx, `document.getElementById("error").textContent`); msg != "" {
		t.Fatal(msg)
	}
	check := func(i, y, x int) int {
		t.Helper()
		want := codeAt(i, y, x)
		if got := js[string](t, ctx, `document.getElementById("code").textContent`); got != strconv.Itoa(want) {
			t.Fatalf("image %d token (%d,%d): page shows code %s, the tokenizer gives %d", i, y, x, got, want)
		}
		near, far, _, _, err := m.Codebook.Neighbors(want, 10, dist2.SquaredL2)
		if err != nil {
			t.Fatal(err)
		}
		if got := intList(t, js[string](t, ctx, `document.getElementById("neighbours").dataset.codes`)); !slices.Equal(got, near) {
			t.Errorf("code %d: page's near codes %v, codebook neighbors %v", want, got, near)
		}
		if got := intList(t, js[string](t, ctx, `document.getElementById("far").dataset.codes`)); !slices.Equal(got, far) {
			t.Errorf("code %d: page's far codes %v, codebook neighbors %v", want, got, far)
		}
		if n := js[int](t, ctx, `document.querySelectorAll("#neighbours canvas, #far canvas").length`); n != 20 {
			t.Errorf("%d swap pictures: want 20", n)
		}
		return want
	}
	first := check(5, 3, 4)
	t.Logf("page of %.1f MB ready %s ms after the start of loading", float64(st.Size())/1e6,
		js[string](t, ctx, `document.body.dataset.readyMs`))
	if *explorerShot != "" {
		shot := run(t, ctx, chromedp.FullScreenshot(100))
		if err := os.WriteFile(*explorerShot, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Click token (1, 2) of the large view, then image 2 of the gallery.
	clickCell := func(y, x int) {
		t.Helper()
		pos := js[[]float64](t, ctx, fmt.Sprintf(`(() => { const r = document.getElementById("big").getBoundingClientRect(), c = r.width / %d;
			return [r.left + (%d + 0.5) * c, r.top + (%d + 0.5) * c]; })()`, gs, x, y))
		run(t, ctx, chromedp.MouseClickXY(pos[0], pos[1]))
	}
	clickCell(1, 2)
	second := check(5, 1, 2)
	if loc := run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "#image=5&token=1,2") {
		t.Errorf("after a click the address is %s: want the fragment of the new selection", loc)
	}
	run(t, ctx, chromedp.Click(`#gallery canvas[data-image="2"]`))
	check(2, 1, 2)
	t.Logf("codes %d, then %d, then %d", first, second, codeAt(2, 1, 2))

	// The tau control: p_d's perplexity at each tau is dist2's.
	k := m.Config.CodebookSize
	dist, err := m.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		t.Fatal(err)
	}
	code := codeAt(2, 1, 2)
	prev := 0.0
	for _, pos := range []int{200, 450, 600, 800} {
		js[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.getElementById("tau"); e.value = %d; e.dispatchEvent(new Event("input")); return true; })()`, pos))
		tau, err := strconv.ParseFloat(js[string](t, ctx, `document.getElementById("tau-value").dataset.tau`), 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := strconv.ParseFloat(js[string](t, ctx, `document.getElementById("perplexity").dataset.value`), 64)
		if err != nil {
			t.Fatal(err)
		}
		table, err := dist2.NewTable(dist, tau, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, p := table.Row(code)
		var h float64
		for _, v := range p {
			if v > 0 {
				h -= float64(v) * math.Log(float64(v))
			}
		}
		want := math.Exp(h)
		if math.Abs(got-want) > 1e-3*want {
			t.Errorf("tau %.4g: page's perplexity %.5f, dist2's %.5f", tau, got, want)
		}
		if got < prev-1e-9 || got < 1 || got > float64(k) {
			t.Errorf("tau %.4g: perplexity %.4f after %.4f: want it in [1, %d] and growing with tau", tau, got, prev, k)
		}
		prev = got
	}
	if prev < 2 {
		t.Errorf("the largest tau gives perplexity %.3f: the control does not spread the row", prev)
	}

	// The page opens at train-gen's tau, and its p_d is dist2's row.
	_, built, err := buildLoss(defaultLossOptions(), m)
	if err != nil {
		t.Fatal(err)
	}
	if got := js[float64](t, ctx, `JSON.parse(document.getElementById("data").textContent).tau`); got != built.Tau || !built.TauAuto {
		t.Errorf("the page opens at tau %v: train-gen trains at %v (auto %v)", got, built.Tau, built.TauAuto)
	}
	js[bool](t, ctx, `(() => { document.getElementById("tau-default").click(); return true; })()`)
	if got := js[string](t, ctx, `document.getElementById("tau-value").dataset.tau`); got != strconv.FormatFloat(built.Tau, 'g', -1, 64) {
		t.Errorf("train-gen's tau button sets tau %s, want %v", got, built.Tau)
	}
	for _, tau := range []float64{built.Tau, 3 * built.Tau, built.Tau / 5} {
		got := js[[]float64](t, ctx, fmt.Sprintf(`Array.from(target(%d, %s).p)`, code, strconv.FormatFloat(tau, 'g', -1, 64)))
		want, err := dist2.TargetRow(dist, code, tau, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != k {
			t.Fatalf("the page's row has %d entries: want %d", len(got), k)
		}
		for v, w := range want.P {
			// 1e-6 relative; float32 subnormals hold less.
			if g := got[v]; math.Abs(g-float64(w)) > 1e-6*math.Max(g, float64(w))+1e-44 {
				t.Errorf("tau %.4g: the page's p_d(%d | %d) = %g, dist2's %g", tau, v, code, g, w)
			}
		}
	}

	// The codebook view: clicking code c's tile lists where c occurs.
	pos := js[[]float64](t, ctx, `(() => { const D = JSON.parse(document.getElementById("data").textContent), a = document.getElementById("atlas"),
		r = a.getBoundingClientRect(), i = D.order.indexOf(`+strconv.Itoa(first)+`), w = r.width / D.atlas_cols;
		return [r.left + (i % D.atlas_cols + 0.5) * w, r.top + (Math.floor(i / D.atlas_cols) + 0.5) * w]; })()`)
	run(t, ctx, chromedp.MouseClickXY(pos[0], pos[1]))
	var want []string
	for i := range d.N {
		for y := range gs {
			for x := range gs {
				if codeAt(i, y, x) == first {
					want = append(want, fmt.Sprintf("%d:%d,%d", i, y, x))
				}
			}
		}
	}
	if got := js[string](t, ctx, `document.getElementById("occurrences").dataset.cells`); got != strings.Join(want, ";") {
		t.Errorf("code %d occurs at %q in the page, at %q by the tokenizer", first, got, strings.Join(want, ";"))
	}
}

func TestExploreUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "e.html")
	base := exploreOptions{dataOptions: dataOptions{Data: "embedded", Split: "test"}, lossOptions: defaultLossOptions(), VQ: smallVQ,
		N: 2, Near: 3, Far: 3, Out: out}
	for _, c := range []struct {
		edit func(*exploreOptions)
		want string
	}{
		{func(o *exploreOptions) { o.Near = 64 }, "--near 64"},
		{func(o *exploreOptions) { o.N = 0 }, "--n 0"},
		{func(o *exploreOptions) { o.Distance = "banana" }, `--distance "banana": want l2, mse or cosine`},
		{func(o *exploreOptions) { o.Tau = "-1" }, `--tau "-1": want a number > 0, or auto`},
		{func(o *exploreOptions) { o.Perplexity = 64 }, "--perplexity 64: want a number in (1, 64)"},
		{func(o *exploreOptions) { o.VQ = "" }, "--vq"},
		{func(o *exploreOptions) { o.Out = "" }, "--out"},
	} {
		o := base
		c.edit(&o)
		err := runExplore(context.Background(), io.Discard, o)
		if !isUsage(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want a usage error naming %q", o, err, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s", out)
	}
}
