package dist2

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var sinkStats Stats

func BenchmarkLoss(b *testing.B) {
	const positions = 64 * 49
	for _, cfg := range []struct{ v, topk int }{{512, 0}, {16384, 64}} {
		r := rand.New(rand.NewPCG(1, 1))
		d, _ := NewVectors(randomCodebook(r, cfg.v, 8), 8, SquaredL2)
		var tab *Table
		if cfg.v <= 512 {
			tab, _ = NewTable(d, 1, cfg.topk)
		} else {
			// A full 16,384 table takes seconds; rows of a smaller table
			// repeated stand in for it: the loss reads only TopK entries a row.
			small, _ := NewVectors(randomCodebook(r, 1024, 8), 8, SquaredL2)
			part, _ := NewTable(small, 1, cfg.topk)
			tab = &Table{CodebookSize: cfg.v, Tau: 1, TopK: cfg.topk, Idx: make([]int32, cfg.v*cfg.topk),
				P: make([]float32, cfg.v*cfg.topk), NegEnt: make([]float32, cfg.v), Dropped: make([]float32, cfg.v)}
			for x := range cfg.v {
				src := x % 1024
				copy(tab.P[x*cfg.topk:], part.P[src*cfg.topk:(src+1)*cfg.topk])
				for j := range cfg.topk {
					tab.Idx[x*cfg.topk+j] = int32(r.IntN(cfg.v))
				}
			}
		}
		logits := make([]float32, positions*cfg.v)
		for i := range logits {
			logits[i] = float32(r.NormFloat64())
		}
		targets := make([]int32, positions)
		for i := range targets {
			targets[i] = int32(r.IntN(cfg.v))
		}
		grad := make([]float32, len(logits))
		for _, l := range []*Loss{{Kind: CE}, {Kind: Smooth, Smoothing: 0.1}, {Kind: Dist2, Alpha: 0.1, Table: tab}} {
			b.Run(fmt.Sprintf("V=%d/topk=%d/%s", cfg.v, cfg.topk, l.Kind), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sinkStats = l.GradTo(grad, logits, targets)
				}
				b.ReportMetric(float64(positions*b.N)/b.Elapsed().Seconds(), "positions/s")
			})
		}
	}
}

var sinkTable *Table

func BenchmarkNewTable(b *testing.B) {
	for _, cfg := range []struct{ k, dim, topk int }{{512, 16, 0}, {16384, 8, 64}} {
		r := rand.New(rand.NewPCG(2, 2))
		d, _ := NewVectors(randomCodebook(r, cfg.k, cfg.dim), cfg.dim, SquaredL2)
		b.Run(fmt.Sprintf("K=%d/D=%d/topk=%d", cfg.k, cfg.dim, cfg.topk), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkTable, _ = NewTable(d, 1, cfg.topk)
			}
			b.ReportMetric(float64(sinkTable.Bytes()), "table-bytes")
			b.ReportMetric(float64(cfg.k*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
