# vqtool is pure Go: its vector kernels are Go assembly (internal/gemm/kernel)
# and the rest runs on gonum's pure-Go BLAS. CGO_ENABLED=0 makes the binary
# static even where a C compiler is installed (the standard library's net
# package would otherwise link libc's resolver).
GO ?= go
export CGO_ENABLED = 0

# The numeric packages, tested again on each lower kernel path.
NUMERIC = ./internal/... ./nn ./codebook ./vqvae ./generator ./metrics ./dist2 ./study
# Platforms that cross must build.
CROSS = windows/amd64 darwin/arm64 linux/arm64

.PHONY: build test cross test-long bench demo study

build:
	$(GO) build -o vqtool ./cmd/vqtool

# After the fastest path: the lower amd64 paths (VQTOOL_CPU names one; one the
# processor lacks falls back to the fastest it has, so this runs anywhere),
# the commands end to end on plain Go too (gonum's code paths differ from the
# kernels', and a failure may show only there),
# then the arm64 kernels under user-mode emulation when qemu is installed
# (Debian: qemu-user-static).
test: cross
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...
	VQTOOL_CPU=avx2 $(GO) test -short -count=1 $(NUMERIC)
	VQTOOL_CPU=generic $(GO) test -short -count=1 $(NUMERIC)
	VQTOOL_CPU=generic $(GO) test -short -count=1 ./cmd/vqtool
	@if command -v qemu-aarch64-static >/dev/null; then \
		echo 'GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./internal/gemm/... ./nn'; \
		GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./internal/gemm/... ./nn; \
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

# The study's second edition (docs/study.md): one part per codebook size and
# budget, each an ordinary study folder that resumes where it stopped, then
# one report over them. Every run is early-stopped (patience 3 measurements
# of 100 steps) under a ceiling that the runs of <= 10,000 images must not
# reach; the full pool trains a fixed 1,000 steps. About 3 h 40 min on 2 quiet
# vCPUs of a Xeon with AVX-512 (docs/study.md, "Cost").
STUDY = docs/study
STUDY_RUN = ./vqtool experiment --data fashion-mnist --seeds 3 --alphas 0.1 --perplexities 8 --temperatures 1 \
	--eval-every 100 --patience 3 --finetune 0 --corrupt 0.1 --extraction-given 1,7,14,24 --extraction-grids 1000 \
	-n 1000 --top-k 50 --cfg 1.5 --jobs 2
STUDY_LONG = --epochs 200 --min-steps 2000

study: build
	$(STUDY_RUN) $(STUDY_LONG) --max-steps 6000 --vq $(STUDY)/vq-K512 --codebook-size 512 --out $(STUDY)/parts/k512 \
		--sizes 500,2000 --losses ce,corrupt,dist2,smooth,dist2+corrupt
	$(STUDY_RUN) $(STUDY_LONG) --max-steps 6000 --vq $(STUDY)/vq-K16384 --codebook-size 16384 --out $(STUDY)/parts/k16384 \
		--sizes 500,2000 --losses ce,corrupt,dist2
	$(STUDY_RUN) $(STUDY_LONG) --max-steps 10000 --vq $(STUDY)/vq-K512 --codebook-size 512 --out $(STUDY)/parts/k512-n10000 \
		--sizes 10000 --losses ce,corrupt,dist2
	$(STUDY_RUN) --epochs 1 --min-steps 1000 --max-steps 1000 --vq $(STUDY)/vq-K512 --codebook-size 512 --out $(STUDY)/parts/k512-pool \
		--sizes 60000 --losses ce,corrupt,dist2
	./vqtool experiment report --out $(STUDY) $(STUDY)/parts/k512 $(STUDY)/parts/k16384 $(STUDY)/parts/k512-n10000 $(STUDY)/parts/k512-pool
