package vqvae

import "github.com/vqtool/vqtool/dist2"

// Loss builds the loss s describes for a generator over this tokenizer's
// tokens: for DIST2, the target table comes from the distances between
// the codebook's codes.
func (m *Model) Loss(s dist2.Spec) (*dist2.Loss, dist2.Built, error) {
	return s.Build(m.Config.CodebookSize, func(k dist2.VectorKind) (dist2.Distance, error) { return m.Codebook.Distance(k) })
}
