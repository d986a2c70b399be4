// Package nn holds the numeric engine that vqvae and generator share: the
// BLAS choice, fast kernels wrapped as gorgonia ops, layers, optimisers and
// checkpoints.
//
// The products run on vqtool's vector kernels (AVX-512, AVX2 or NEON, as the
// processor has them) and otherwise on gonum's pure-Go BLAS: package
// internal/gemm decides, and nn calls only it (VQTOOL_CPU=avx2 or generic
// forces a lower path). There is no cgo and no system BLAS.
package nn
