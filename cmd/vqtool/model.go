package main

import (
	"errors"
	"fmt"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/vqvae"
)

// modelDataOptions shapes data for a model: the model's image size and
// channels. A --size or --channels that differs from the model's is an
// error naming both, since the model cannot read such images.
func modelDataOptions(o dataOptions, info vqvae.Info) (dataOptions, error) {
	c := info.Config
	if o.Size != 0 && o.Size != c.Size {
		return o, usagef("--size %d: the model reads %dx%d images (leave --size out to use its size)", o.Size, c.Size, c.Size)
	}
	if o.Channels != 0 && o.Channels != c.Channels {
		return o, usagef("--channels %d: the model reads %d-channel images (leave --channels out to use its channels)", o.Channels, c.Channels)
	}
	o.Size, o.Channels = c.Size, c.Channels
	if o.Fit == "" && info.Data.Fit != "" {
		o.Fit = info.Data.Fit
	}
	return o, nil
}

// loadVQ reads a VQ-VAE checkpoint folder.
func loadVQ(path string) (*vqvae.Model, vqvae.Info, error) {
	if path == "" {
		return nil, vqvae.Info{}, usagef("no tokenizer given: want --vq, a checkpoint folder written by vqtool train-vq")
	}
	return vqvae.Load(path)
}

// loadVQDistance reads --distance, then loads --vq: the pair every view of
// the codebook takes.
func loadVQDistance(path, distance string) (*vqvae.Model, vqvae.Info, dist2.VectorKind, error) {
	kind, err := dist2.ParseVectorKind(distance)
	if err != nil {
		return nil, vqvae.Info{}, 0, lossFlagError(err)
	}
	m, info, err := loadVQ(path)
	return m, info, kind, err
}

// sameClasses refuses held-out tokens whose labels name other classes than
// the training tokens' (see imageio.SameClasses), and notes when labelled
// tokens cannot be compared for want of names.
func sameClasses(train, held *imageio.Tokens, trainNames, heldNames []string, trainFile, heldFile string) error {
	if train.Labels == nil || held.Labels == nil {
		return nil
	}
	if trainNames == nil || heldNames == nil {
		logf("note: the class names of %s and %s cannot be compared: an older vqtool or another tool wrote them without names", trainFile, heldFile)
		return nil
	}
	return usage(imageio.SameClasses(trainNames, trainFile, heldNames, heldFile))
}

// openForModel opens --data (or image files given as arguments) at the
// model's size and channels.
func openForModel(o dataOptions, info vqvae.Info, files []string) (*imageio.Dataset, error) {
	o, err := modelDataOptions(o, info)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return o.open()
	}
	fit, err := imageio.ParseFit(o.Fit)
	if err != nil {
		return nil, usageError{err}
	}
	d, err := imageio.OpenFiles(files, imageio.Options{Size: o.Size, Channels: o.Channels, Fit: fit, MaxBytes: maxMemory()})
	return d, budgetError(err, "give fewer files")
}

// genVQ returns the tokenizer of the generator in dir, whose config.json
// is info (see generator.Info.TokenizerPath), checked against the
// fingerprint info records; it returns the path it loaded.
func genVQ(dir, flag string, info generator.Info) (*vqvae.Model, vqvae.Info, string, error) {
	path, err := info.TokenizerPath(dir, flag)
	if err != nil {
		return nil, vqvae.Info{}, "", usageError{err}
	}
	m, vinfo, err := loadVQ(path)
	if err != nil {
		if flag == "" {
			err = fmt.Errorf("%w\nthe generator %s names its tokenizer %q: --vq points at the tokenizer: give --vq, its checkpoint folder written by vqtool train-vq", err, dir, info.VQ)
		}
		return nil, vinfo, path, err
	}
	switch err := info.CheckTokenizer(dir, path); {
	case errors.Is(err, generator.ErrNoFingerprint):
		logf("note: the generator %s records no fingerprint of its tokenizer's weights (an older vqtool wrote it): %s is used unchecked", dir, path)
	case err != nil:
		return nil, vinfo, path, fmt.Errorf("%w: --vq points at the tokenizer: give --vq the folder the generator was trained with", err)
	}
	return m, vinfo, path, nil
}
