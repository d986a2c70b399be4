// Package dist2 implements DIST2Loss (Chung et al., "Teaching Metric Distance
// to Discrete Autoregressive Language Models", ICLR 2026) on flat []float32,
// with no dependency outside the standard library.
//
// For a target token x and every token v of a metric vocabulary of size K,
//
//	p_d(v | x) = exp(-d(v, x)/tau) / sum_v' exp(-d(v', x)/tau)
//	L          = CE(x, p_theta) + alpha * KL(p_d(. | x) || p_theta)
//
// and, with p_theta = softmax(z), the gradient with respect to the logits z is
//
//	dL/dz = (1 + alpha) p_theta - onehot(x) - alpha p_d(. | x).
//
// A Distance gives rows d(., x); NewTable turns them into the rows p_d (dense,
// or the top-k entries of each row renormalised); Calibrate picks tau so that
// the rows have a requested mean perplexity, and ResolveTau, the one place
// that resolves "auto", turns the tau of a Spec into the temperature used;
// Loss computes the loss and its gradient in one pass over the logits, and
// also serves plain cross-entropy and uniform label smoothing through the
// same call.
package dist2
