package main

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxReadmeLines bounds README.md: it is the first page a user reads, and the
// measurements and references live in docs/.
const maxReadmeLines = 260

// docLinkRE matches inline links and images, [text](target) and
// ![alt](target), with an optional "title". The text may span lines.
var docLinkRE = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)

// docCodeSpanRE matches inline code, whose brackets are not links.
var docCodeSpanRE = regexp.MustCompile("`+[^`]*`+")

// The README and every page in docs/ link only to files that exist, relative
// to the page that links, and the README stays short. The test only reads the
// checkout.
func TestDocLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{filepath.Join(root, "README.md")}, pages...)
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, page)
		name = filepath.ToSlash(name)
		for _, link := range docLinks(text) {
			target, ok := docLinkTarget(link)
			if !ok {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), filepath.FromSlash(target))); err != nil {
				t.Errorf("%s: link %q: no such file or folder %s", name, link,
					filepath.ToSlash(filepath.Join(filepath.Dir(name), target)))
			}
		}
	}

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(strings.TrimSuffix(string(readme), "\n"), "\n")); n > maxReadmeLines {
		t.Errorf("README.md has %d lines: want at most %d (details belong in docs/)", n, maxReadmeLines)
	}
}

// The extraction finds links and images, also across lines, and leaves out
// code, outside links and anchors on the page.
func TestDocLinksExtraction(t *testing.T) {
	page := "See [the method](docs/method.md#tau) and ![a figure](docs/swap.png \"Swaps\").\n" +
		"A [link that\nwraps](docs/study.md), [web](https://example.com/x.md), [mail](mailto:a@b.c),\n" +
		"[anchor](#install), `[not](code.md)` and [spaced](<docs/a%20b.md>).\n" +
		"\n" +
		"    vqtool x --out [a](indented.md)\n" +
		"\n" +
		"```python\n" +
		"x = y[0](fenced.md)\n" +
		"```\n"
	var got []string
	for _, link := range docLinks([]byte(page)) {
		if target, ok := docLinkTarget(link); ok {
			got = append(got, target)
		}
	}
	want := []string{"docs/method.md", "docs/swap.png", "docs/study.md", "docs/a b.md"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("links found:\ngot  %q\nwant %q", got, want)
	}
}

// docLinks returns the targets of the inline links and images of a Markdown
// page, leaving out fenced and indented code blocks and inline code.
func docLinks(page []byte) []string {
	var prose strings.Builder
	var fence string // the fence that opened the current code block, if any
	blank := true    // the previous line was blank (an indented block may start)
	indented := false
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		case strings.HasPrefix(trimmed, "```"), strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
			continue
		}
		isBlank := strings.TrimSpace(line) == ""
		if !isBlank && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")) && (blank || indented) {
			indented = true
			blank = false
			continue
		}
		if !isBlank {
			indented = false
		}
		blank = isBlank
		prose.WriteString(docCodeSpanRE.ReplaceAllString(line, ""))
		prose.WriteByte('\n')
	}
	var links []string
	for _, m := range docLinkRE.FindAllStringSubmatch(prose.String(), -1) {
		links = append(links, m[1])
	}
	return links
}

// docLinkTarget returns the file a link points to, without its #fragment,
// and false for links that leave the checkout (a scheme such as http: or
// mailto:) or stay on the page (#anchor).
func docLinkTarget(link string) (string, bool) {
	if strings.HasPrefix(link, "#") {
		return "", false
	}
	if u, err := url.Parse(link); err == nil && u.Scheme != "" {
		return "", false
	}
	target, _, _ := strings.Cut(link, "#")
	target, _, _ = strings.Cut(target, "?")
	if unescaped, err := url.PathUnescape(target); err == nil {
		target = unescaped
	}
	return target, target != ""
}
