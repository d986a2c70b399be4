package bench

import (
	"context"
	"os"
	"slices"
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

func TestMedian(t *testing.T) {
	rounds := []map[string]float64{
		{"a_ms": 3, "b_ms": 10, "partial_ms": 1},
		{"a_ms": 1, "b_ms": 20},
		{"a_ms": 2, "b_ms": 40},
		{"a_ms": 100, "b_ms": 30},
	}
	got := Median(rounds)
	if len(got) != 2 || got["a_ms"] != 2.5 || got["b_ms"] != 25 {
		t.Errorf("median of four rounds %v: want a_ms 2.5, b_ms 25, and no key that a round lacks", got)
	}
	if got := Median(rounds[:3]); got["a_ms"] != 2 || got["b_ms"] != 20 {
		t.Errorf("median of three rounds %v: want a_ms 2, b_ms 20", got)
	}
	if Median(nil) != nil {
		t.Error("median of no rounds: want nil")
	}
}

// The summary of rounds is the median of each side and of the paired
// ratios, which is not the ratio of the medians.
func TestSummary(t *testing.T) {
	rounds := []Round{
		{Keys: map[string]float64{"a_ms": 10}, Peer: map[string]float64{"a_ms": 20}},
		{Keys: map[string]float64{"a_ms": 30}, Peer: map[string]float64{"a_ms": 30}},
		{Keys: map[string]float64{"a_ms": 12}, Peer: map[string]float64{"a_ms": 10}},
	}
	for i := range rounds {
		rounds[i].Ratios = Ratios(rounds[i].Keys, rounds[i].Peer)
	}
	keys, peer, ratios := Summary(rounds)
	if keys["a_ms"] != 12 || peer["a_ms"] != 20 || ratios["a_ms"] != 1 {
		t.Errorf("summary %v %v %v: want ours 12, peer 20, ratio 1 (the middle of 0.5, 1, 1.2)", keys, peer, ratios)
	}
	if _, peer, ratios := Summary([]Round{{Keys: map[string]float64{"a_ms": 1}}}); peer != nil || ratios != nil {
		t.Errorf("no peer: %v %v, want nil", peer, ratios)
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

func TestPeerEnv(t *testing.T) {
	keys := []string{"OPENBLAS_CORETYPE", "ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"}
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			t.Cleanup(func() { os.Setenv(k, v) })
			os.Unsetenv(k)
		}
	}
	cases := []struct {
		path    string
		hasAVX2 bool
		want    []string
	}{
		{"avx512", true, []string{"OPENBLAS_CORETYPE=Haswell"}},
		{"avx2", true, []string{"OPENBLAS_CORETYPE=Haswell", "ONEDNN_MAX_CPU_ISA=AVX2", "ATEN_CPU_CAPABILITY=avx2"}},
		{"generic", false, nil},
		{"neon", false, nil},
	}
	for _, c := range cases {
		if got := PeerEnv(c.path, c.hasAVX2); !slices.Equal(got, c.want) {
			t.Errorf("PeerEnv(%s, %v) = %q, want %q", c.path, c.hasAVX2, got, c.want)
		}
	}
	t.Setenv("OPENBLAS_CORETYPE", "Zen") // a setting of the user's is kept
	if got := PeerEnv("avx2", true); slices.Contains(got, "OPENBLAS_CORETYPE=Haswell") {
		t.Errorf("PeerEnv overrode OPENBLAS_CORETYPE=Zen: %q", got)
	}
}
