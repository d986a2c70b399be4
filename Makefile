# Builds vqtool on OpenBLAS when the library is installed (Debian:
# libopenblas-dev), on the pure-Go BLAS otherwise.
GO   ?= go
TAGS ?= $(shell (ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ') && echo openblas)
# One owner of parallelism: goroutines split the work, each GEMM runs on one thread.
export OPENBLAS_NUM_THREADS ?= 1
# Debian's OpenBLAS 0.3.21 mistakes AVX-512 processors for a Prescott (SSE3): name the
# AVX2 kernels when the machine has not set a core type. vqtool itself does the same at start.
export OPENBLAS_CORETYPE ?= Haswell

.PHONY: build test test-long bench demo

build:
	$(GO) build -tags "$(TAGS)" -o vqtool ./cmd/vqtool

# The numeric packages run twice: on the AVX-512 kernels (where the processor
# has them) and on the BLAS and Go loops they replace.
test:
	$(GO) vet -tags "$(TAGS)" ./...
	$(GO) test -tags "$(TAGS)" -short -count=1 ./...
	VQTOOL_NO_AVX512=1 $(GO) test -tags "$(TAGS)" -short -count=1 ./internal/... ./nn ./codebook ./vqvae ./generator

test-long:
	$(GO) test -tags "$(TAGS)" -count=1 -timeout 60m ./...

bench:
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchmem ./...

demo: build
	./vqtool demo --out out
