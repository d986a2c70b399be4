package codebook_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/vqvae"
)

// The codebook, the tokenizer's config and the generator's accept the same
// codebook sizes, with CheckSize's error.
func TestOneSizeRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, k := range []int{-1, 1, 2, 512, 1 << 16, 1<<16 + 1, 1 << 20} {
		want := fmt.Sprint(codebook.CheckSize(k))
		if ok := k >= 2 && k <= 1<<16; ok != (want == "<nil>") {
			t.Errorf("CheckSize(%d) = %s", k, want)
		}
		var errs [3]error
		_, errs[0] = codebook.New(k, 4, r)
		vc := vqvae.DefaultConfig()
		vc.CodebookSize = k
		errs[1] = vc.Validate()
		gc := generator.DefaultConfig()
		gc.CodebookSize = k
		errs[2] = gc.Validate()
		for i, err := range errs {
			if got := fmt.Sprint(err); got != want {
				t.Errorf("codebook size %d: %s says %s, want %s", k, []string{"New", "vqvae", "generator"}[i], got, want)
			}
		}
	}
}
