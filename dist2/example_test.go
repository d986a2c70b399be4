package dist2_test

import (
	"fmt"

	"github.com/vqtool/vqtool/dist2"
)

// Digits 0..9 as tokens: the target for "5" spreads over its neighbours.
func ExampleNewTable() {
	values := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	tab, err := dist2.NewTable(dist2.Scalar{Values: values, Kind: dist2.Squared}, 1, 0)
	if err != nil {
		panic(err)
	}
	_, p := tab.Row(5)
	fmt.Printf("p(4|5) = %.4f, p(5|5) = %.4f, p(6|5) = %.4f, p(9|5) = %.1e\n", p[4], p[5], p[6], p[9])
	// Output: p(4|5) = 0.2075, p(5|5) = 0.5641, p(6|5) = 0.2075, p(9|5) = 6.3e-08
}

// The loss of one position with uniform logits over 10 digits: CE is ln 10,
// the KL term adds alpha * KL(p_d || uniform), and the gradient is
// (1 + alpha) p - onehot - alpha p_d: here 1.1 * 0.1 - 1 - 0.1 * p_d(5|5).
func ExampleLoss_GradTo() {
	values := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	d := dist2.Scalar{Values: values, Kind: dist2.Squared}
	tau, ppl, _ := dist2.Calibrate(d, 2)
	tab, _ := dist2.NewTable(d, tau, 0)
	loss := &dist2.Loss{Kind: dist2.Dist2, Alpha: dist2.DefaultAlpha, Table: tab}
	logits := make([]float32, 10)
	grad := make([]float32, 10)
	s := loss.GradTo(grad, logits, []int32{5})
	fmt.Printf("tau %.3f (perplexity %.2f): loss %.4f, NLL %.4f, dL/dz[5] %.4f, dL/dz[6] %.4f\n", tau, ppl, s.Loss, s.NLL, grad[5], grad[6])
	// Output: tau 0.565 (perplexity 2.00): loss 2.4576, NLL 2.3026, dL/dz[5] -0.9645, dL/dz[6] 0.0973
}
