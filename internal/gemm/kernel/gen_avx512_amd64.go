//go:build amd64 && !purego

package kernel

// The AVX-512 assembly and its declarations are written by
// internal/gen/avx512 from plan's tiles; TestGoGeneratedFilesAreCurrent
// checks that the committed files are what it writes.

//go:generate go run ./internal/gen/avx512 -file kernel -out kernel_avx512_amd64.s -stubs asm512_stub_amd64.go -pkg kernel
//go:generate go run ./internal/gen/avx512 -file winograd -out winograd_avx512_amd64.s -pkg kernel
//go:generate go run ./internal/gen/avx512 -file vec -out vec_avx512_amd64.s -pkg kernel
//go:generate go run ./internal/gen/avx512 -file rows -out rows_avx512_amd64.s -pkg kernel
