// Package memory is the budget of the large arrays a command builds: the
// sizes that files and flags declare are checked against it before they
// are allocated.
package memory

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// DefaultBudget is the budget when none is given: 2 GiB.
const DefaultBudget = 2 << 30

// ErrBudget marks work refused because its arrays would take more memory
// than the budget allows.
var ErrBudget = errors.New("over the memory budget")

// Check returns an error wrapping ErrBudget when the arrays of what, need
// bytes, exceed budget (DefaultBudget when budget <= 0).
func Check(need, budget int64, what string) error {
	if budget <= 0 {
		budget = DefaultBudget
	}
	if need <= budget {
		return nil
	}
	return fmt.Errorf("%s: %s, %w of %s", what, Format(need), ErrBudget, Format(budget))
}

// Mul returns the product of sizes, each >= 0, as int64, saturating at
// math.MaxInt64: sizes declared by a file can overflow.
func Mul(sizes ...int) int64 {
	if slices.Contains(sizes, 0) {
		return 0
	}
	p := int64(1)
	for _, s := range sizes {
		if s < 0 {
			panic("memory: Mul: negative size")
		}
		if p > math.MaxInt64/int64(s) {
			return math.MaxInt64
		}
		p *= int64(s)
	}
	return p
}

// Add returns the sum of sizes, each >= 0, saturating at math.MaxInt64.
func Add(sizes ...int64) int64 {
	var s int64
	for _, b := range sizes {
		if b > math.MaxInt64-s {
			return math.MaxInt64
		}
		s += b
	}
	return s
}

// Format writes a byte count in binary units: "512 B", "3.1 MiB", "2 GiB".
func Format(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(b), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 || v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, units[u])
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}

// Allocated returns the bytes f allocates on the heap, freed or not (the
// growth of runtime.MemStats.TotalAlloc across the call): what tests
// measure to show an input refused before its declared sizes are taken.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBound is the most a refused input may cost in a test: what reading a
// header and building an error take, far below what any bomb declares.
const TestBound = 200 << 20

// Size is a number of bytes that reads, as a flag, a number with an
// optional binary unit (K, M, G, T, as KB or KiB alike): 2G, 512M, 3000000000.
type Size int64

func (b *Size) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	scale := int64(1)
	if i := strings.IndexAny(t, "KMGT"); i >= 0 && i == len(t)-1 {
		scale = int64(1) << (10 * (1 + strings.IndexByte("KMGT", t[i])))
		t = t[:i]
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0) || v*float64(scale) >= 1<<62 {
		return fmt.Errorf("%q: want a size such as 2G, 512M or 3000000000 (bytes)", s)
	}
	*b = Size(v * float64(scale))
	return nil
}

func (b Size) String() string { return Format(int64(b)) }

func (b Size) Type() string { return "size" }
