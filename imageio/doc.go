// Package imageio reads images, data sets and token files from disk and writes
// pictures and token files back. It knows file formats so that the models
// never do.
//
// Images are float32 in [-1, 1], channel-major: in a Dataset, pixel (c, y, x)
// of image i is Pix[((i*C+c)*H+y)*W+x], value = byte/127.5 - 1. Token grids
// are int32, row-major: token (y, x) of grid i is Codes[(i*H+y)*W+x].
package imageio
