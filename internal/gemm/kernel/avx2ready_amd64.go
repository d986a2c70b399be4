//go:build amd64 && !purego

package kernel

// avx2Ready says the AVX2 path has every kernel, so archPaths may offer it.
const avx2Ready = false
