// Package nn holds the numeric engine that vqvae and generator share: the
// BLAS choice, fast kernels wrapped as gorgonia ops, layers, optimisers and
// checkpoints.
//
// The products run on vqtool's AVX-512 kernels where the processor has them
// and otherwise on the BLAS: package internal/gemm decides, and nn calls only
// it (VQTOOL_NO_AVX512=1 turns the kernels off). The BLAS is OpenBLAS with
// -tags openblas (and cgo, and libopenblas-dev installed), the pure-Go gonum
// BLAS without the tag.
package nn
