package main

import (
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

// modelDataOptions opens data shaped for a model: the model's image size and
// channels unless the flags say otherwise.
func modelDataOptions(o dataOptions, info vqvae.Info) dataOptions {
	if o.Size == 0 {
		o.Size = info.Config.Size
	}
	if o.Channels == 0 {
		o.Channels = info.Config.Channels
	}
	if o.Fit == "" && info.Data.Fit != "" {
		o.Fit = info.Data.Fit
	}
	return o
}

// loadVQ reads a VQ-VAE checkpoint folder.
func loadVQ(path string) (*vqvae.Model, vqvae.Info, error) {
	if path == "" {
		return nil, vqvae.Info{}, usagef("--model: want a checkpoint folder written by vqtool train-vq")
	}
	return vqvae.Load(path)
}

// openForModel opens --data (or image files given as arguments) at the
// model's size and channels.
func openForModel(o dataOptions, info vqvae.Info, files []string) (*imageio.Dataset, error) {
	o = modelDataOptions(o, info)
	if len(files) == 0 {
		return o.open()
	}
	fit, err := imageio.ParseFit(o.Fit)
	if err != nil {
		return nil, usageError{err}
	}
	var all *imageio.Dataset
	for _, f := range files {
		d, err := imageio.Open(f, imageio.Options{Size: o.Size, Channels: o.Channels, Fit: fit})
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = d
			all.Name = f
			continue
		}
		all.Pix = append(all.Pix, d.Pix...)
		all.N += d.N
	}
	all.Labels, all.Classes = nil, nil
	return all, nil
}
