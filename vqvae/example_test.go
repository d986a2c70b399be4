package vqvae_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/vqtool/vqtool/vqvae"
)

// A tokenizer turns each 28x28 image into a 7x7 grid of codes and back.
func Example() {
	cfg := vqvae.DefaultConfig()
	cfg.Hidden, cfg.ResHidden, cfg.CodebookSize, cfg.CodeDim = 16, 16, 32, 4
	m, _ := vqvae.New(cfg, rand.New(rand.NewPCG(1, 2)))
	r := rand.New(rand.NewPCG(3, 4))
	images := make([]float32, 2*28*28) // two gray images in [-1, 1], channel-major
	for i := range images {
		images[i] = 2*r.Float32() - 1
	}
	g := m.Config.Grid()
	tokens := make([]int32, 2*g*g)
	if err := m.EncodeTo(tokens, images, 2); err != nil {
		fmt.Println(err)
	}
	decoded := make([]float32, len(images))
	if err := m.DecodeTo(decoded, tokens, 2); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%d images -> %d grids of %dx%d codes -> %d pixels\n", 2, len(tokens)/(g*g), g, g, len(decoded))
	// Output:
	// 2 images -> 2 grids of 7x7 codes -> 1568 pixels
}
