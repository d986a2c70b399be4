// Package seeds names vqtool's random streams. Every draw comes from a PCG
// made of a run's seed and a stream number, so that one seed repeats a run
// and two uses of the same seed never share draws. The numbers are part of
// the reproducibility contract: changing one changes every run that uses it.
//
// The order of epoch e of a training run is the one other stream: the
// permutation drawn from the PCG (seed, e).
package seeds

import "math/rand/v2"

const (
	// TokenizerWeights draws a new VQ-VAE's initial weights.
	TokenizerWeights uint64 = 0x3e1
	// TokenizerTraining draws the k-means initialisation of the codebook
	// and the batch vectors that re-seed dead codes.
	TokenizerTraining uint64 = 0x5eed
	// GeneratorWeights draws a new generator's initial weights.
	GeneratorWeights uint64 = 0x6e4
	// ClassDropout draws which examples of a generator's training step go
	// without their class.
	ClassDropout uint64 = 0xc1a55
	// ClassifierWeights draws the initial weights of the study's LeNet.
	ClassifierWeights uint64 = 0x1e
	// ClassifierTraining draws the order a LeNet is trained in.
	ClassifierTraining uint64 = 0x1e7
	// KIDSubsets draws the subsets KID averages over.
	KIDSubsets uint64 = 0x61d
	// Pictures draws what a figure shows: the images of a swap figure and
	// the positions swapped in them.
	Pictures uint64 = 0x5a9
)

// New returns the generator of stream for seed.
func New(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
