// Package plan is the one description the kernels' generators and the
// drivers share: the tile of each product kernel and the width of a vector
// group. Each generator (internal/gen/...) writes one path's assembly from
// it; package kernel's drivers block their loops by it.
package plan

const (
	// MR x NR is the tile of C that kernelRows, kernelCols and
	// kernelGather compute: on AVX-512 24 zmm accumulators, on AVX2 four
	// 6 x 16 pieces of 12 ymm accumulators, on NEON pieces of q registers.
	MR = 12
	NR = 32

	// WR x WN is the tile of kernelIndirect.
	WR = 6
	WN = 64

	// Group is how many floats the vector kernels take at a time (one zmm,
	// two ymm, four q registers); their lengths are multiples of it.
	Group = 16
)
