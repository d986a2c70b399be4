package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/memory"
)

type sampleOptions struct {
	Gen         string
	VQ          string
	N           int
	Class       int
	Classes     string
	CFG         float64
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	Out         string
	Tokens      string
	Images      string
	Scale       int
}

func newSampleCommand() *cobra.Command {
	var o sampleOptions
	cmd := &cobra.Command{
		Use:         "sample",
		Annotations: streamAnnotation,
		Short:       "Draw token grids from a generator and decode them into a picture grid",
		Example: `  vqtool sample --gen gen-dist2 --vq fmnist.vq --classes all --n 80 --cfg 2 --out samples.png
  vqtool sample --gen gen-dist2 --vq fmnist.vq --class 7 --n 64 --top-k 50 --tokens s.npy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSample(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Gen, "gen", "", "generator checkpoint folder")
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder (default: the one the generator was trained with)")
	f.IntVarP(&o.N, "n", "n", 64, "grids to draw (with --classes all: in all, split evenly)")
	f.IntVar(&o.Class, "class", -1, "class to draw (-1: no class)")
	f.StringVar(&o.Classes, "classes", "", "all: one row per class")
	f.Float64Var(&o.CFG, "cfg", 1, "classifier-free guidance scale (1: off)")
	f.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature")
	f.IntVar(&o.TopK, "top-k", 0, "keep the k most probable tokens (0: all)")
	f.Float64Var(&o.TopP, "top-p", 1, "keep the smallest set of tokens holding this mass (1: all)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed: the same seed draws the same grids")
	f.StringVarP(&o.Out, "out", "o", "samples.png", "PNG grid to write")
	f.StringVar(&o.Tokens, "tokens", "", "also save the drawn grids and their classes as .npy")
	f.StringVar(&o.Images, "images", "", "also write the decoded samples as RGB (grey repeated): FILE.npz (arr_0 uint8 [N, H, W, 3], arr_1 the int64 classes when there are classes: guided-diffusion's evaluator, which LlamaGen's FID scripts use; - for standard output) or DIR/ (000000.png, ...: clean-fid, torch-fidelity, LlamaGen's create_npz_from_sample_folder; replaced whole)")
	f.IntVar(&o.Scale, "scale", 2, "draw each pixel SCALE times")
	return cmd
}

func runSample(ctx context.Context, w io.Writer, o sampleOptions) error {
	if o.Gen == "" {
		return usagef("--gen: want a generator checkpoint folder written by vqtool train-gen")
	}
	if o.Tokens == "-" {
		return usagef("--tokens -: the grids are written as FILE.npy with FILE.labels.npy and a manifest beside it, several files, not one stream: give a path")
	}
	if o.Images == "-" && o.Out == "-" {
		return usagef("--images - and --out - both want standard output: give one of them a path")
	}
	gen, info, err := generator.Load(o.Gen)
	if err != nil {
		return err
	}
	vq, _, vqPath, err := genVQ(o.Gen, o.VQ, info)
	if err != nil {
		return err
	}
	o.VQ = vqPath
	if err := explore.CheckPair(gen, o.Gen, vq, o.VQ); err != nil {
		return err
	}
	var classes []int32
	var rows []string
	cols := 8
	switch {
	case o.Classes == "all":
		if gen.Config.Classes == 0 {
			return usagef("--classes all: the generator %s is unconditional", o.Gen)
		}
		cols = max(1, o.N/gen.Config.Classes)
		classes = gen.ClassRows(cols)
		for c := range gen.Config.Classes {
			rows = append(rows, imageio.ClassName(info.Classes, c))
		}
	case o.Classes != "":
		return usagef("--classes %q: want all", o.Classes)
	default:
		if o.Class < -1 || o.Class >= gen.Config.Classes {
			return usagef("--class %d: want -1 (none) or a class in [0, %d)", o.Class, gen.Config.Classes)
		}
		for range o.N {
			classes = append(classes, int32(o.Class))
		}
	}
	cfg := generator.SampleConfig{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, CFG: o.CFG, Seed: o.Seed}
	if err := cfg.Validate(gen.Config.CodebookSize); err != nil {
		return usageError{err}
	}
	if err := checkSampleMemory(o, len(classes), cols, rows, vq.Config.Channels, vq.Config.Size); err != nil {
		return err
	}
	bar := newBar(len(classes), "sample")
	tokens, err := gen.SampleMany(classes, cfg, func(n int) error { _ = bar.Set(n); return ctx.Err() })
	bar.Finish()
	if err != nil {
		return err
	}
	if o.Tokens != "" {
		t := &imageio.Tokens{Codes: tokens, N: len(classes), H: gen.Config.GridH, W: gen.Config.GridW, Labels: classes,
			Classes: info.Classes, Tokenizer: info.VQWeights}
		if err := imageio.SaveTokens(o.Tokens, t); err != nil {
			return err
		}
	}
	if o.Images != "" {
		c, sz := vq.Config.Channels, vq.Config.Size
		pix := make([]float32, len(classes)*c*sz*sz)
		if err := vq.DecodeTo(pix, tokens, len(classes)); err != nil {
			return err
		}
		var labels []int32 // arr_1 when the samples have classes
		if gen.Config.Classes > 0 && classes[0] >= 0 {
			labels = classes
		}
		if o.Images == "-" { // one file: the .npz
			err = writeFile("-", func(w io.Writer) error { return imageio.WriteNPZ(w, pix, len(classes), c, sz, sz, labels) })
		} else {
			err = imageio.WriteImages(o.Images, pix, len(classes), c, sz, sz, labels)
		}
		if err != nil {
			return err
		}
	}
	img, err := explore.TokenGrid(vq, tokens, len(classes), cols, rows, o.Scale)
	if err != nil {
		return err
	}
	if err := writePNG(o.Out, img); err != nil {
		return err
	}
	logf("wrote %s: %d samples (cfg %g, temperature %g, top-k %d, top-p %g, seed %d)",
		o.Out, len(classes), o.CFG, o.Temperature, o.TopK, o.TopP, o.Seed)
	return nil
}

// checkSampleMemory refuses, before anything is drawn, n samples whose
// picture grid (and --images) would not fit in --max-memory.
func checkSampleMemory(o sampleOptions, n, cols int, rows []string, c, size int) error {
	need := gridBytes(n, cols, c, size, size, o.Scale, rows)
	if o.Images != "" { // the images again, as RGB float32 and as bytes
		need = memory.Add(need, memory.Mul(n, c, size, size, 4), memory.Mul(n, 3, size, size, 5))
	}
	return checkMemory(need, fmt.Sprintf("%d samples of %dx%d drawn at scale %d", n, size, size, o.Scale),
		"draw fewer with a smaller --n or --scale")
}
