// Package study implements the low-data study: does DIST2Loss make better
// image-token generators than cross-entropy or label smoothing, at which
// training-set size, and with which setting?
//
// Design (see Config for the knobs):
//
//   - Splits. The training split's last ValSize grids are the validation
//     split, never trained on; the rest is the pool. A run of size N trains on
//     a class-balanced subset of the pool (N/10 per class, the first grids of
//     each class), the same for every loss and seed; seeds change the
//     initialisation, the data order and the class dropout. The test split
//     gives the final scores only: nothing is selected on it.
//   - Budget and selection. A run trains for Epochs passes over its subset,
//     held between MinSteps and MaxSteps, measures validation NLL every
//     EvalEvery steps and keeps the best checkpoint (early stopping); the last
//     checkpoint is scored too (fields ending in _last).
//   - Memorisation. For each sample, the largest fraction of its tokens that
//     agree position-wise with one training grid of its subset; samples at
//     >= 90% are near copies. FLD over the other samples is the novel FLD.
//   - The DIST2 setting (alpha, effective neighbours, sampling temperature)
//     is searched at the sweep sizes with seed 1 and chosen on the
//     validation split by novel FLD; the chosen setting then runs with every
//     seed at every size.
//   - Statistics. Means with 95% t intervals per (size, loss); paired
//     differences dist2 - ce and dist2 - smooth by seed, with their intervals.
//
// Runs have a stable order (the sweep's, then size, loss, seed), so a shard
// I/N runs every N-th run into its own folder, and Merge puts finished runs
// of many folders into one results.json and report. RunJobs runs the shards
// side by side on one machine (each a process its caller starts) and merges
// them. A run resumes from its checkpoint; a finished run (its result.json)
// is kept.
package study
