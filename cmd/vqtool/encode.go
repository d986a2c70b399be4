package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/imageio"
)

type encodeOptions struct {
	dataOptions
	Model string
	Out   string
	Shard string
	JSON  bool
}

func (o *encodeOptions) AddFlags(cmd *cobra.Command) {
	o.dataOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.Model, "model", "m", "", "VQ-VAE checkpoint folder")
	f.StringVarP(&o.Out, "out", "o", "", "token file to write: [N, H, W] int32 .npy, labels in NAME.labels.npy")
	f.StringVar(&o.Shard, "shard", "", "encode only shard I of N (I/N, 0-based): images i with i % N == I")
	f.BoolVar(&o.JSON, "json", false, "print the token grids as JSON (for a few images)")
}

func newEncodeCommand() *cobra.Command {
	var opts encodeOptions
	cmd := &cobra.Command{
		Use:   "encode [IMAGE...]",
		Short: "Turn images into token grids",
		Example: `  vqtool encode --model fmnist.vq --data fashion-mnist --split train --out train.npy
  vqtool encode --model fmnist.vq --data fashion-mnist --shard 0/4 --out part0.npy
  vqtool encode --model fmnist.vq shoe.png --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEncode(cmd.Context(), cmd.OutOrStdout(), opts, args)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

// parseShard reads "I/N".
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %q: want I/N with 0 <= I < N", s)
	}
	return i, n, nil
}

// encodeJSON is what encode prints with --json.
type encodeJSON struct {
	Model  string    `json:"model"`
	Grid   [2]int    `json:"grid"`
	Tokens [][][]int `json:"tokens"`
	Labels []int32   `json:"labels,omitempty"`
	Out    string    `json:"out,omitempty"`
}

func runEncode(ctx context.Context, w io.Writer, opts encodeOptions, files []string) error {
	si, sn, err := parseShard(opts.Shard)
	if err != nil {
		return usageError{err}
	}
	if opts.Out == "" && !opts.JSON {
		return usagef("encode needs --out FILE.npy or --json")
	}
	m, info, err := loadVQ(opts.Model)
	if err != nil {
		return err
	}
	d, err := openForModel(opts.dataOptions, info, files)
	if err != nil {
		return err
	}
	if sn > 1 {
		d = shard(d, si, sn)
	}
	gs := m.Config.Grid()
	tokens := &imageio.Tokens{Codes: make([]int32, d.N*gs*gs), N: d.N, H: gs, W: gs, Labels: d.Labels}
	bar := newBar(d.N, "encode")
	const chunk = 1024
	per := d.ImageSize()
	for lo := 0; lo < d.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(chunk, d.N-lo)
		if err := m.EncodeTo(tokens.Codes[lo*gs*gs:(lo+k)*gs*gs], d.Pix[lo*per:(lo+k)*per], k); err != nil {
			return err
		}
		_ = bar.Add(k)
	}
	bar.Finish()
	if opts.Out != "" {
		if err := imageio.SaveTokens(opts.Out, tokens); err != nil {
			return err
		}
		logf("wrote %s: %d token grids of %dx%d from %s", opts.Out, d.N, gs, gs, d.Name)
	}
	if !opts.JSON {
		return nil
	}
	res := encodeJSON{Model: opts.Model, Grid: [2]int{gs, gs}, Labels: tokens.Labels, Out: opts.Out}
	for i := range d.N {
		g := tokens.Grid(i)
		rows := make([][]int, gs)
		for y := range gs {
			rows[y] = make([]int, gs)
			for x := range gs {
				rows[y][x] = int(g[y*gs+x])
			}
		}
		res.Tokens = append(res.Tokens, rows)
	}
	return printJSON(w, res)
}

// shard keeps images i with i % n == k.
func shard(d *imageio.Dataset, k, n int) *imageio.Dataset {
	out := *d
	out.Pix, out.Labels, out.N = nil, nil, 0
	for i := k; i < d.N; i += n {
		out.Pix = append(out.Pix, d.Image(i)...)
		if d.Labels != nil {
			out.Labels = append(out.Labels, d.Labels[i])
		}
		out.N++
	}
	return &out
}
