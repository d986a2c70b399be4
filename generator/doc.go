// Package generator implements an autoregressive model over token grids: a
// class-conditional GPT (pre-LayerNorm blocks, causal attention, learned
// positions) trained with DIST2Loss, cross-entropy or label smoothing, and a
// sampler with a KV cache, classifier-free guidance, temperature, top-k and
// top-p.
//
// A sequence is the class token followed by the grid's tokens in raster
// order; position i predicts token i from the class and tokens 0..i-1. Class
// id Classes is the "no class" token: training replaces the class by it for a
// fraction of examples, and guidance at sampling mixes the two predictions,
// logits = uncond + s (cond - uncond).
package generator
