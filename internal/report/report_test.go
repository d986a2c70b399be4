package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteLinks(t *testing.T) {
	dir := t.TempDir()
	r := Report{Title: "T", Intro: "intro", Sections: []Section{{Heading: "H", Text: "a\n\nb <c>",
		Table: &Table{Header: []string{"x", "y"}, Rows: [][]string{{"1", "2"}}},
		Links: []Link{{Text: "the explorer", Path: "explorer.html"}}}}}
	path, err := r.Write(dir, "report")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(path)
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{`<a href="explorer.html">the explorer</a>`, "<p>a</p>", "<p>b &lt;c&gt;</p>", "<td>2</td>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, want := range []string{"[the explorer](explorer.html)", "| x | y |", "## H"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
