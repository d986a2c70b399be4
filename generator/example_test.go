package generator_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
)

// A tiny class-conditional generator trained with DIST2Loss on two grids,
// then sampled: one grid per asked-for class.
func Example() {
	cfg := generator.Config{CodebookSize: 8, Classes: 2, Len: 4, GridH: 2, GridW: 2, Dim: 16, Layers: 1, Heads: 2, MLP: 32}
	m, _ := generator.New(cfg, rand.New(rand.NewPCG(1, 2)))
	data := generator.Tokens{Codes: []int32{1, 2, 3, 4, 5, 6, 7, 0}, Labels: []int32{0, 1}, N: 2, Len: 4}
	// Tokens are points on a line: the DIST2 target of token x favours x-1 and x+1.
	values := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	table, _ := dist2.NewTable(dist2.Scalar{Values: values, Kind: dist2.Squared}, 1, 0)
	loss := &dist2.Loss{Kind: dist2.Dist2, Alpha: 0.1, Table: table}
	tc := generator.DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup = 2, 30, 0
	tr, _ := generator.NewTrainer(m, data, loss, tc)
	first, _ := tr.TrainStep()
	var last generator.StepStats
	for tr.Step < tc.Steps {
		last, _ = tr.TrainStep()
	}
	fmt.Println("the loss fell:", last.Loss < first.Loss)
	grids, _ := m.Sample([]int32{0, 1}, generator.DefaultSampleConfig())
	fmt.Println("sampled", len(grids)/cfg.Len, "grids of", cfg.Len, "tokens")
	// Output:
	// the loss fell: true
	// sampled 2 grids of 4 tokens
}
