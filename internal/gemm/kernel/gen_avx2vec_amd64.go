//go:build amd64 && !purego

package kernel

// The AVX2 vector kernels are written by a Go program with avo; the
// declarations stub comes with them.

//go:generate go run ./internal/gen/avx2vec -out vec_avx2_amd64.s -stubs vec_avx2_stub_amd64.go -pkg kernel
