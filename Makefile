# vqtool is pure Go: its vector kernels are Go assembly (internal/gemm/kernel)
# and the rest runs on gonum's pure-Go BLAS. CGO_ENABLED=0 makes the binary
# static even where a C compiler is installed (the standard library's net
# package would otherwise link libc's resolver).
GO ?= go
export CGO_ENABLED = 0

# The numeric packages, tested again on each lower kernel path.
NUMERIC = ./internal/... ./nn ./codebook ./vqvae ./generator
# Platforms that cross must build.
CROSS = windows/amd64 darwin/arm64 linux/arm64

.PHONY: build test cross test-long bench demo

build:
	$(GO) build -o vqtool ./cmd/vqtool

# After the fastest path: the lower amd64 paths (VQTOOL_CPU names one; one the
# processor lacks falls back to the fastest it has, so this runs anywhere),
# then the arm64 kernels under user-mode emulation when qemu is installed
# (Debian: qemu-user-static).
test: cross
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...
	VQTOOL_CPU=avx2 $(GO) test -short -count=1 $(NUMERIC)
	VQTOOL_CPU=generic $(GO) test -short -count=1 $(NUMERIC)
	@if command -v qemu-aarch64-static >/dev/null; then \
		echo 'GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./internal/gemm/...'; \
		GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./internal/gemm/...; \
	else \
		echo 'test: no qemu-aarch64-static: the arm64 kernels were not run'; \
	fi

# Every package, and the vqtool binary, build for the other platforms; the
# binaries go to a temporary folder that is removed.
cross:
	@set -e; out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	for p in $(CROSS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "cross: $$p"; \
		GOOS=$$os GOARCH=$$arch $(GO) build ./...; \
		GOOS=$$os GOARCH=$$arch $(GO) build -o "$$out/vqtool-$$os-$$arch" ./cmd/vqtool; \
	done

test-long:
	$(GO) test -count=1 -timeout 60m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build
	./vqtool demo --out out
