package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is a session's figures: the project's under the reference keys
// and, with a peer, the peer's and the ratios. Its JSON is what vqtool bench
// --json prints.
type Report struct {
	Keys   map[string]float64 `json:"vqtool"`
	Peer   map[string]float64 `json:"pytorch,omitempty"`
	Ratios map[string]float64 `json:"ratio,omitempty"` // vqtool time / PyTorch time
	// Rounds are each round's figures when there are more than one; the
	// maps above are then their medians.
	Rounds []Round `json:"rounds,omitempty"`
	BLAS   string  `json:"blas"`
	CPUs   int     `json:"cpus"`
	// PeerEnv is what the peer ran with besides the environment (PeerEnv).
	PeerEnv []string `json:"peer_env,omitempty"`
}

// NewReport summarises rounds (see Summary), keeping each round only when
// there are several.
func NewReport(rounds []Round, blas string, cpus int, peerEnv []string) Report {
	r := Report{BLAS: blas, CPUs: cpus, PeerEnv: peerEnv}
	r.Keys, r.Peer, r.Ratios = Summary(rounds)
	if len(rounds) > 1 {
		r.Rounds = rounds
	}
	return r
}

// WriteText writes r as a table: a key a line with the project's figure,
// the peer's, the ratio and, over several rounds, the ratios' range.
func (r Report) WriteText(w io.Writer) error {
	var p strings.Builder
	keys := slices.Sorted(maps.Keys(r.Keys))
	fmt.Fprintf(&p, "%-26s %12s %12s %8s", "key", "vqtool", "pytorch", "ratio")
	if len(r.Rounds) > 1 {
		fmt.Fprintf(&p, " %12s", "ratio range")
	}
	fmt.Fprintf(&p, "\n")
	for _, k := range keys {
		peer, ratio := "-", "-"
		if v, ok := r.Peer[k]; ok {
			peer = fmt.Sprintf("%.1f", v)
		}
		if v, ok := r.Ratios[k]; ok {
			ratio = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(&p, "%-26s %12.1f %12s %8s", k, r.Keys[k], peer, ratio)
		if len(r.Rounds) > 1 && ratio != "-" {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, round := range r.Rounds {
				lo, hi = min(lo, round.Ratios[k]), max(hi, round.Ratios[k])
			}
			fmt.Fprintf(&p, "    %.2f-%.2f", lo, hi)
		}
		fmt.Fprintf(&p, "\n")
	}
	fmt.Fprintf(&p, "ratio = vqtool time / PyTorch time (under 1.0: faster than PyTorch)")
	if len(r.Rounds) > 1 {
		fmt.Fprintf(&p, "; figures and ratios are medians over %d rounds", len(r.Rounds))
	}
	fmt.Fprintf(&p, "\n")
	_, err := io.WriteString(w, p.String())
	return err
}

// WriteOpTimes lists the kernel times of key per call of its timed
// function (times summed over reps calls), largest first: what
// Options.Profile hears.
func WriteOpTimes(w io.Writer, key string, times map[string]time.Duration, reps int) error {
	var p strings.Builder
	names := make([]string, 0, len(times))
	var total time.Duration
	for k, v := range times {
		names = append(names, k)
		total += v
	}
	sort.Slice(names, func(i, j int) bool { return times[names[i]] > times[names[j]] })
	fmt.Fprintf(&p, "%s: %.1f ms in kernels per call\n", key, total.Seconds()*1e3/float64(reps))
	for _, k := range names {
		fmt.Fprintf(&p, "  %-24s %8.2f ms\n", k, times[k].Seconds()*1e3/float64(reps))
	}
	_, err := io.WriteString(w, p.String())
	return err
}
