package study

import (
	"fmt"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/metrics"
)

// ClassifierConfig sets how the LeNet that scores samples is trained.
type ClassifierConfig struct {
	Steps, Batch int
	LR           float64
	Seed         uint64
}

// TrainClassifier fits a LeNet to the labelled square images of train and
// returns it with its accuracy on held (on train when held is nil).
// progress, when not nil, hears each step and its loss.
func TrainClassifier(train, held *imageio.Dataset, c ClassifierConfig, progress func(step int, loss float64)) (*metrics.LeNet, float64, error) {
	if train.Labels == nil {
		return nil, 0, fmt.Errorf("study: %s has no labels: the classifier needs labelled images (a named set, a folder of class folders, or IDX files IMAGES,LABELS)", train.Name)
	}
	if len(train.Classes) < 2 {
		return nil, 0, fmt.Errorf("study: the labels of %s name %d class: the classifier needs 2 or more", train.Name, len(train.Classes))
	}
	if train.H != train.W {
		return nil, 0, fmt.Errorf("study: images of %dx%d: the classifier wants square images", train.W, train.H)
	}
	l, err := metrics.NewLeNet(train.C, train.H, len(train.Classes), seeds.New(c.Seed, seeds.ClassifierWeights))
	if err != nil {
		return nil, 0, err
	}
	if progress == nil {
		progress = func(int, float64) {}
	}
	if _, err := l.Train(train.Pix, train.Labels, c.Steps, c.Batch, c.LR, c.Seed, progress); err != nil {
		return nil, 0, err
	}
	if held == nil {
		held = train
	}
	acc, err := l.Accuracy(held.Pix, held.Labels)
	return l, acc, err
}
