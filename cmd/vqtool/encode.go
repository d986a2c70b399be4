package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

type encodeOptions struct {
	dataOptions
	Model   string
	Out     string
	Shard   string
	Format  string
	Flip    bool
	Dataset string
	JSON    bool
}

func (o *encodeOptions) AddFlags(cmd *cobra.Command) {
	o.dataOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Model, "vq", "", "VQ-VAE checkpoint folder")
	hiddenAlias(f, "model", "m", "vq")
	f.StringVarP(&o.Out, "out", "o", "", "token file to write: [N, H, W] int64 .npy, labels in NAME.labels.npy")
	f.StringVar(&o.Shard, "shard", "", "encode only shard I of N (I/N, 1-based): images I-1, I-1+N, ... (as LlamaGen's DDP extraction)")
	f.StringVar(&o.Format, "format", "npy", "npy: one [N, H, W] int64 file; llamagen: --out is a folder in LlamaGen's layout ({i}.npy per image)")
	f.BoolVar(&o.Flip, "flip", false, "llamagen: also encode each image's horizontal flip as augmentation 1")
	f.StringVar(&o.Dataset, "dataset-name", "", "llamagen: the {dataset} of the folder names (default: the data set's name)")
	f.BoolVar(&o.JSON, "json", false, "print the token grids as JSON (for a few images)")
}

func newEncodeCommand() *cobra.Command {
	var opts encodeOptions
	cmd := &cobra.Command{
		Use:   "encode [IMAGE...]",
		Short: "Turn images into token grids",
		Example: `  vqtool encode --vq fmnist.vq --data fashion-mnist --split train --out train.npy
  vqtool encode --vq fmnist.vq --data fashion-mnist --shard 1/4 --out part1.npy
  vqtool encode --vq fmnist.vq --data fashion-mnist --format llamagen --flip --out codes/
  vqtool encode --vq fmnist.vq shoe.png --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEncode(cmd.Context(), cmd.OutOrStdout(), opts, args)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

// parseShard reads "I/N" (1-based), returning the 0-based shard index.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	sh, err := study.ParseShard(s)
	if err != nil {
		return 0, 0, usagef("--shard %q: want I/N with 1 <= I <= N", s)
	}
	return sh.I - 1, sh.N, nil
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
	if opts.Format != "" && opts.Format != "npy" && opts.Format != "llamagen" {
		return usagef("--format %q: want npy or llamagen", opts.Format)
	}
	if opts.Format == "llamagen" && (opts.Out == "" || opts.JSON) {
		return usagef("--format llamagen writes a folder: want --out DIR and no --json")
	}
	m, info, err := loadVQ(opts.Model)
	if err != nil {
		return err
	}
	d, err := openForModel(opts.dataOptions, info, files)
	if err != nil {
		return err
	}
	if opts.Format == "llamagen" {
		return encodeLlamaGen(ctx, opts, m, d, si, sn)
	}
	if sn > 1 {
		d = d.Shard(si, sn)
	}
	gs := m.Config.Grid()
	codes, err := encodeWithBar(ctx, m, d, "encode")
	if err != nil {
		return err
	}
	tokens := &imageio.Tokens{Codes: codes, N: d.N, H: gs, W: gs, Labels: d.Labels, Classes: d.Classes}
	if opts.Out != "" {
		if tokens.Tokenizer, err = nn.Fingerprint(filepath.Join(opts.Model, nn.ModelFile)); err != nil {
			return err
		}
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

// encodeWithBar encodes d's images, its progress on a bar.
func encodeWithBar(ctx context.Context, m *vqvae.Model, d *imageio.Dataset, what string) ([]int32, error) {
	bar := newBar(d.N, what)
	defer bar.Finish()
	return m.EncodeMany(d.Pix, d.N, func(n int) error { _ = bar.Set(n); return ctx.Err() })
}

// encodeLlamaGen writes the images of shard si of sn in LlamaGen's layout:
// image i as {i}.npy, augmentation 0 the image and 1 its flip (--flip).
func encodeLlamaGen(ctx context.Context, opts encodeOptions, m *vqvae.Model, d *imageio.Dataset, si, sn int) error {
	name := opts.Dataset
	if name == "" {
		name = strings.NewReplacer("/", "_", ",", "_", ".", "_").Replace(filepath.Base(d.Name))
	}
	sum, err := nn.Fingerprint(filepath.Join(opts.Model, nn.ModelFile))
	if err != nil {
		return err
	}
	lw := imageio.LlamaGenWriter{Root: opts.Out, Dataset: name, Size: m.Config.Size, Flip: opts.Flip,
		Grid: m.Config.Grid() * m.Config.Grid(), Tokenizer: sum, Encode: m.EncodeTo}
	bar := newBar((d.N-si+sn-1)/sn, "encode")
	err = lw.Write(d, si, sn, func(n int) error { _ = bar.Set(n); return ctx.Err() })
	bar.Finish()
	if err != nil {
		return err
	}
	codes, _ := imageio.LlamaGenDirs(opts.Out, name, m.Config.Size)
	logf("wrote %s: grids %d, %d+%d, ... of %d in LlamaGen's layout (%s)", opts.Out, si, si, sn, d.N, codes)
	return nil
}
