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
//   - The fine-tune arm (FineTune of the budget; 0: none). From each main ce
//     run's best checkpoint, a new run with a fresh optimiser continues with
//     DIST2 at the paper's setting (alpha 0.1, tau for 8 effective
//     neighbours: ce->dist2) and, as the control, with CE (ce->ce), at the
//     same seed, rate and early stopping. Its runs name their start (Init),
//     and their config.json records its fingerprint and step.
//   - Statistics. Means with 95% t intervals per (size, arm); paired
//     differences dist2 - ce, dist2 - smooth and ce->dist2 - ce->ce by seed,
//     with their intervals.
//
// Runs have a stable order (the sweep's, the main runs by size, loss and
// seed, then the fine-tune arm's), so a shard I/N runs every N-th run into
// its own folder, and Merge puts finished runs of many folders into one
// results.json and report. A shard's main dist2 runs wait for the whole
// sweep, and a fine-tune run for its ce run, in the shard's folder or the
// others' (Options.With). RunJobs runs the shards side by side on one machine
// (each a process its caller starts) and merges them. A run resumes from its
// checkpoint; a finished run (its result.json) is kept. study.json holds the
// Config and the tokenizer's folder, relative to the study's.
package study
