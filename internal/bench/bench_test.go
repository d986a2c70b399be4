package bench

import (
	"context"
	"testing"
	"time"
)

func TestRatios(t *testing.T) {
	ours := map[string]float64{"gen_train_step_ms_ce": 900, "gen_sample_img_per_s": 80, "vq_train_step_ms": 250, "only_ours_ms": 1}
	peer := map[string]float64{"gen_train_step_ms_ce": 1000, "gen_sample_img_per_s": 40, "vq_train_step_ms": 0}
	got := Ratios(ours, peer)
	want := map[string]float64{"gen_train_step_ms_ce": 0.9, "gen_sample_img_per_s": 0.5}
	if len(got) != len(want) {
		t.Fatalf("ratios %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: ratio %v, want %v (a time ratio, ours over the peer's)", k, got[k], v)
		}
	}
}

func TestRunRejectsNoReps(t *testing.T) {
	if _, err := Run(context.Background(), Options{Reps: 0}); err == nil {
		t.Error("Run with 0 reps: no error")
	}
}

// One rep of every key, with the kernel profile: every key is there and
// positive, and the profile hears each profiled key.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("times ref-vq and ref-gen: not under -short")
	}
	heard := map[string]bool{}
	got, err := Run(context.Background(), Options{Reps: 1, Profile: func(key string, k map[string]time.Duration, reps int) {
		heard[key] = len(k) > 0 && reps == 1
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"vq_train_step_ms", "vq_encode_img_per_s", "vq_decode_img_per_s", "gen_train_step_ms_ce", "gen_train_step_ms_dist2", "gen_sample_img_per_s"} {
		if !(got[k] > 0) {
			t.Errorf("%s = %v", k, got[k])
		}
		if k != "gen_sample_img_per_s" && !heard[k] {
			t.Errorf("the profile did not hear %s", k)
		}
	}
}
