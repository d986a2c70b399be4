#!/bin/sh
# loadtest.sh times a train-gen run of the demo's generator on a quiet machine
# and beside two busy loops at nice 19 (which the scheduler gives about 1.5%
# of the processor), alternated, and prints each time and the ratio of the
# medians. The issue's target: the loaded runs at most 10% slower. For the
# loops alone, without train-gen: BenchmarkForUnderLoad in this package.
#
#	internal/par/loadtest.sh                      # 60 steps, 3 rounds
#	STEPS=30 ROUNDS=5 internal/par/loadtest.sh
#	VQTOOL=./vqtool internal/par/loadtest.sh      # a binary already built
#
# Without VQTOOL it builds cmd/vqtool as the Makefile does. The busy loops
# are killed when the script ends, however it ends.
set -eu

steps=${STEPS:-60}
rounds=${ROUNDS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
busy=""

stop_busy() {
	for p in $busy; do
		kill "$p" 2>/dev/null || true
	done
	for p in $busy; do
		wait "$p" 2>/dev/null || true
	done
	busy=""
}
trap 'stop_busy; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"

vqtool=${VQTOOL:-}
if [ -z "$vqtool" ]; then
	tags=""
	if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
		tags=openblas
	fi
	(cd "$root" && go build -tags "$tags" -o "$tmp/vqtool" ./cmd/vqtool)
	vqtool=$tmp/vqtool
fi

now() { date +%s.%N; }

# The tokenizer's quality does not matter here, only the generator's shape.
echo "training a small tokenizer..." >&2
"$vqtool" -q train-vq --data embedded --steps 20 --warmup 5 --grid-every 0 --save-every 20 --out "$tmp/vq"

# The demo's generator (cmd/vqtool/demo.go), for $steps steps.
gen() {
	rm -rf "$tmp/gen" # a finished run keeps its resume file, which a new run refuses
	"$vqtool" -q train-gen --vq "$tmp/vq" --data embedded --loss dist2 --steps "$steps" \
		--dim 128 --layers 4 --heads 4 --mlp 512 --lr 1e-3 --warmup 60 \
		--eval-every 0 --eval-limit 1000 --save-every "$steps" --sample-cfg 1.5 \
		--out "$tmp/gen" >/dev/null
}

run() { # prints the seconds one run took
	t0=$(now)
	gen
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }'
}

echo "warm-up run (encodes the data once)..." >&2
gen

quiet="" loaded=""
i=1
while [ "$i" -le "$rounds" ]; do
	q=$(run)
	# Each also stops by itself once this script is gone (killed, say).
	nice -n 19 sh -c "while kill -0 $$ 2>/dev/null; do :; done" &
	busy="$busy $!"
	nice -n 19 sh -c "while kill -0 $$ 2>/dev/null; do :; done" &
	busy="$busy $!"
	l=$(run)
	stop_busy
	echo "round $i: quiet ${q}s, beside two nice-19 loops ${l}s" >&2
	quiet="$quiet $q" loaded="$loaded $l"
	i=$((i + 1))
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# shellcheck disable=SC2086 # the lists split into their words
mq=$(median $quiet)
# shellcheck disable=SC2086
ml=$(median $loaded)
echo "$mq $ml $steps $rounds" | awk '{ printf "train-gen %d steps, median of %d: quiet %.2fs, nice-19 load %.2fs, ratio %.3f\n", $3, $4, $1, $2, $2 / $1 }'
