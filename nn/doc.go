// Package nn holds the numeric engine that vqvae and generator share: the
// BLAS choice, fast kernels wrapped as gorgonia ops, layers, optimisers and
// checkpoints.
//
// Build with -tags openblas (and cgo, and libopenblas-dev installed) to run
// every GEMM on OpenBLAS; without the tag the pure-Go gonum BLAS is used.
package nn
