// Package vqvae implements a VQ-VAE tokenizer: an encoder from images to a
// grid of vectors, a quantizer that replaces each vector by its nearest
// codebook entry (the token), and a decoder back to pixels.
//
// Images are float32 in [-1, 1]. Batches inside the model are NHWC
// ([B, H, W, C]); the public API takes and returns images channel-major
// (pixel (c, y, x) of image i at ((i*C+c)*H+y)*W+x), as package imageio
// stores them. Token grids are int32, row-major.
//
// The loss is
//
//	MSE(x_hat, x) + ||sg(z) - e||^2 + beta ||z - sg(e)||^2,   beta = 0.25,
//
// with the commitment weight beta on the encoder term (the one whose gradient
// reaches the encoder) and a straight-through gradient from x_hat to z. With
// an EMA codebook the codebook term is dropped and the codes follow the
// moving average of the encoder outputs assigned to them.
package vqvae
