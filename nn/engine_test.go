package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// addEngine's Add is StdEng's: into a reused tensor, into the first operand
// when unsafe, and through StdEng otherwise (a new tensor, an increment).
// Shapes of one element are left out: gorgonia's Add takes them for
// scalars and never asks the engine's Add.
func TestAddEngineMatchesStdEng(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{17, 40000} {
		fresh := func() (a, b *tensor.Dense) {
			return tensor.New(tensor.WithShape(n), tensor.WithEngine(addEngine{}), tensor.WithBacking(randTensor(r, n).Float32s())),
				tensor.New(tensor.WithShape(n), tensor.WithBacking(randTensor(r, n).Float32s()))
		}
		a, b := fresh()
		want := make([]float32, n)
		for i := range want {
			want[i] = a.Float32s()[i] + b.Float32s()[i]
		}
		check := func(how string, got tensor.Tensor, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("n=%d %s: %v", n, how, err)
			}
			for i, v := range got.Data().([]float32) {
				if v != want[i] {
					t.Fatalf("n=%d %s: [%d] = %v, want %v", n, how, i, v, want[i])
				}
			}
		}
		reuse := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
		got, err := tensor.Add(a, b, tensor.WithReuse(reuse))
		check("reuse", got, err)
		if got != reuse {
			t.Errorf("n=%d: the sum is not in the reused tensor", n)
		}
		got, err = tensor.Add(a, b)
		check("safe", got, err)
		incr := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
		got, err = tensor.Add(a, b, tensor.WithIncr(incr))
		check("increment of zeros", got, err)
		got, err = tensor.Add(a, b, tensor.UseUnsafe())
		check("unsafe", got, err)
		if got != tensor.Tensor(a) {
			t.Errorf("n=%d: the unsafe sum is not in the first operand", n)
		}
	}
}
