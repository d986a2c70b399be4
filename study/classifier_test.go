package study

import (
	"strings"
	"testing"

	"github.com/vqtool/vqtool/imageio"
)

func TestTrainClassifier(t *testing.T) {
	train, err := imageio.Open("embedded", imageio.Options{Split: "train", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	l, acc, err := TrainClassifier(train, nil, ClassifierConfig{Steps: 30, Batch: 32, LR: 2e-3, Seed: 1},
		func(step int, loss float64) { steps = step })
	if err != nil {
		t.Fatal(err)
	}
	// Ten classes: 30 steps learn something on the images they saw.
	if l == nil || steps != 30 || acc < 0.2 || acc > 1 {
		t.Errorf("after %d steps: accuracy %v on the training images", steps, acc)
	}
	unlabelled := *train
	unlabelled.Labels, unlabelled.Classes = nil, nil
	if _, _, err := TrainClassifier(&unlabelled, nil, ClassifierConfig{Steps: 1, Batch: 8, LR: 1e-3}, nil); err == nil || !strings.Contains(err.Error(), "no labels") {
		t.Errorf("unlabelled images: %v", err)
	}
}
