package codebook_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
)

// Four codes on a line: each vector goes to its nearest code, and code 1's
// neighbours come nearest first.
func Example() {
	cb, _ := codebook.New(4, 2, rand.New(rand.NewPCG(1, 1)))
	copy(cb.E, []float32{0, 0, 1, 0, 3, 0, 10, 0})
	z := []float32{0.2, 0, 2.9, 0.1, 9, 1}
	idx := make([]int32, 3)
	cb.NearestTo(idx, nil, z)
	fmt.Println("nearest codes:", idx)
	near, far, _, _, _ := cb.Neighbors(1, 2, dist2.SquaredL2)
	fmt.Println("code 1: nearest", near, "farthest", far)
	// Output:
	// nearest codes: [0 2 3]
	// code 1: nearest [0 2] farthest [3 2]
}
