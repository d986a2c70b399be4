// Package metrics implements the statistics that evaluate tokenizers and
// generators: rank correlation, means with spreads, and (for generated
// images) Frechet distance, kernel inception-style distance, precision and
// recall on features of a classifier trained on the data set.
package metrics
