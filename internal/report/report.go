// Package report writes pages of text, tables and pictures as one HTML file
// (pictures embedded) and Markdown beside it, and the plots they show.
package report

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vqtool/vqtool/internal/atomicfile"
)

// A Report is a page of sections, each with text, a table and pictures,
// written as HTML with the pictures embedded and as Markdown beside them.
type Report struct {
	Title    string
	Intro    string
	Sections []Section
}

type Section struct {
	Heading string
	Text    string
	Table   *Table
	Images  []Image
	Links   []Link
}

// Link points at a file beside the report, such as a page to open.
type Link struct {
	Text string
	Path string // relative to the report's folder
}

type Table struct {
	Header []string
	Rows   [][]string
}

type Image struct {
	Caption string
	Path    string // relative to the report's folder
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"paras": func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n\n") },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222 }
table { border-collapse: collapse; margin: 1em 0 } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right }
th { background: #f3f3f3 } td:first-child, th:first-child { text-align: left }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top } figcaption { font-size: 90%; color: #555 }
img { image-rendering: pixelated; max-width: 100% } code { background: #f3f3f3; padding: 0 3px }
</style></head><body>
<h1>{{.Title}}</h1>
{{range paras .Intro}}<p>{{.}}</p>{{end}}
{{range .Sections}}<h2>{{.Heading}}</h2>
{{range paras .Text}}<p>{{.}}</p>{{end}}
{{with .Table}}<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{range .Images}}<figure><img src="{{.Path}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
{{range .Links}}<p><a href="{{.Path}}">{{.Text}}</a></p>{{end}}
{{end}}</body></html>
`))

// Write renders the report as dir/name.html (pictures embedded) and
// dir/name.md (pictures linked).
func (r Report) Write(dir, name string) (string, error) {
	embedded := r
	embedded.Sections = make([]Section, len(r.Sections))
	for i, s := range r.Sections {
		s.Images = append([]Image(nil), s.Images...)
		for j, img := range s.Images {
			b, err := os.ReadFile(filepath.Join(dir, img.Path))
			if err != nil {
				return "", fmt.Errorf("report: %w", err)
			}
			s.Images[j].Path = "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
		}
		embedded.Sections[i] = s
	}
	htmlPath := filepath.Join(dir, name+".html")
	err := atomicfile.Write(htmlPath, func(w io.Writer) error {
		return reportHTML.Execute(w, struct {
			Report
			Sections []reportSectionURL
		}{embedded, urlSections(embedded.Sections)})
	})
	if err != nil {
		return "", err
	}
	return htmlPath, atomicfile.Write(filepath.Join(dir, name+".md"), func(w io.Writer) error {
		fmt.Fprintf(w, "# %s\n\n%s\n", r.Title, r.Intro)
		for _, s := range r.Sections {
			fmt.Fprintf(w, "\n## %s\n\n%s\n", s.Heading, s.Text)
			if t := s.Table; t != nil {
				fmt.Fprintf(w, "\n| %s |\n|%s\n", strings.Join(t.Header, " | "), strings.Repeat("---|", len(t.Header)))
				for _, row := range t.Rows {
					fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
				}
			}
			for _, img := range s.Images {
				fmt.Fprintf(w, "\n![%s](%s)\n", img.Caption, img.Path)
			}
			for _, l := range s.Links {
				fmt.Fprintf(w, "\n[%s](%s)\n", l.Text, l.Path)
			}
		}
		return nil
	})
}

// reportSectionURL is a section whose image sources are trusted data URLs.
type reportSectionURL struct {
	Heading string
	Text    string
	Table   *Table
	Images  []reportImageURL
	Links   []Link
}

type reportImageURL struct {
	Caption string
	Path    template.URL
}

func urlSections(ss []Section) []reportSectionURL {
	out := make([]reportSectionURL, len(ss))
	for i, s := range ss {
		out[i] = reportSectionURL{Heading: s.Heading, Text: s.Text, Table: s.Table, Links: s.Links}
		for _, img := range s.Images {
			out[i].Images = append(out[i].Images, reportImageURL{Caption: img.Caption, Path: template.URL(img.Path)})
		}
	}
	return out
}
