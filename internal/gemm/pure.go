//go:build !(openblas && cgo)

package gemm

func coreTypeEnv() (string, bool) { return "", false }
