package memory

import (
	"errors"
	"math"
	"testing"
)

func TestFormatMulCheck(t *testing.T) {
	for _, tc := range []struct {
		b    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {2 << 30, "2 GiB"}, {6_400_000_000, "6.0 GiB"}, {322e9, "300 GiB"}} {
		if got := Format(tc.b); got != tc.want {
			t.Errorf("Format(%d) = %q, want %q", tc.b, got, tc.want)
		}
	}
	if got := Mul(40000, 40000, 4); got != 6_400_000_000 {
		t.Errorf("Mul(40000, 40000, 4) = %d", got)
	}
	if got := Mul(1<<40, 1<<40, 0); got != 0 {
		t.Errorf("Mul with a zero = %d, want 0", got)
	}
	if got := Mul(1<<40, 1<<40); got != math.MaxInt64 {
		t.Errorf("Mul(2^40, 2^40) = %d, want MaxInt64", got)
	}
	if got := Add(math.MaxInt64, 1); got != math.MaxInt64 {
		t.Errorf("Add(MaxInt64, 1) = %d, want MaxInt64", got)
	}
	if err := Check(2<<30, 0, "x"); err != nil {
		t.Errorf("2 GiB in the default budget: %v", err)
	}
	err := Check(6_400_000_000, 0, "targets of 40000 codes")
	if want := "targets of 40000 codes: 6.0 GiB, over the memory budget of 2 GiB"; err == nil || err.Error() != want || !errors.Is(err, ErrBudget) {
		t.Errorf("Check = %v, want %q wrapping ErrBudget", err, want)
	}
}

func TestSizeFlag(t *testing.T) {
	for s, want := range map[string]int64{"2G": 2 << 30, "512MiB": 512 << 20, "1.5k": 1536, "3000000000": 3e9} {
		var b Size
		if err := b.Set(s); err != nil || int64(b) != want {
			t.Errorf("%s: %d, %v; want %d", s, b, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1G", "2X", "G", "1e30"} {
		var b Size
		if err := b.Set(s); err == nil {
			t.Errorf("%q accepted as %d", s, b)
		}
	}
}
