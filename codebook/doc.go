// Package codebook implements the K x D code table of a vector quantizer:
// nearest-code search, exponential-moving-average (EMA) updates with Laplace
// smoothing, k-means++ initialisation, dead-code restarts, usage statistics
// and distances between codes.
//
// Code k is E[k*D : (k+1)*D]. The nearest code to z minimises
// ||z - e_k||^2 = ||z||^2 - 2 z.e_k + ||e_k||^2, computed for a batch as one
// GEMM. EMA updates follow van den Oord et al. (2017, appendix) and
// vector-quantize-pytorch:
//
//	N_k = decay N_k + (1-decay) n_k          n_k: vectors assigned to k
//	m_k = decay m_k + (1-decay) sum z        over the vectors assigned to k
//	e_k = m_k / ((N_k + eps) / (N + K eps) N),   N = sum_k N_k
package codebook
