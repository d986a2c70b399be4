// Package explore shows what nearby against distant token substitutions do:
// SwapFigure draws them, EvalSwaps measures them (the pixel error of each
// swap mode and the rank curve, region error against neighbour rank), and
// Build makes the token explorer, one self-contained HTML page that shows
// what every token of a VQ tokenizer means.
//
// For N images encoded to G x G token grids, the page holds each image, its
// decode and its tokens; for every token position (y, x) of every image the
// decodes with that one token replaced by each of its Near nearest and Far
// farthest codes (codebook.Neighbors' order), with the codebook distance and
// the pixel error of each swap; the distance rows d(., x) of the codes that
// occur, from which the page recomputes the DIST2 target
//
//	p_d(v | x) = exp(-d(v, x)/tau) / sum_v' exp(-d(v', x)/tau)
//
// and its perplexity exp(H(p_d(. | x))) for any tau; and an atlas of every
// code (a grid filled with it) in the order of the codebook's first principal
// component.
//
// Decodes are made here, with the model, and embedded as one PNG sprite per
// image: tile (t, j) of image i, at x = j*S and y = t*S for images of S x S
// pixels, is the decode of image i with token t = y*G+x replaced by swap j
// (0 <= j < Near: the j-th nearest code; then the farthest, farthest last).
// The page needs no server and fetches nothing.
//
// The URL fragment selects a view: #image=5&token=3,4 selects token (row 3,
// column 4) of image 5; #code=17 shows where code 17 occurs; &tau=0.5 sets
// the temperature of the target row.
package explore
