#pragma once
/// The training benchmarks of `physlearn bench` (cli/bench.h): each returns one JSON object whose
/// ratios are measured in the same process.
///
/// - "epoch": seconds per training epoch of the experiment's rule (EP with its variant and sweeps)
///   and of the backprop baseline on the same layer sizes, batch size, data and precision; their
///   ratio; the test pass timed apart; the test error; the peak resident memory of the process
///   after the EP epochs (getrusage ru_maxrss: data set included). With `samples` (a subset of the
///   training set) the per-60000-sample figures are extrapolated and labelled so.
/// - "roofline": the achieved FLOP/s of EP training steps (the relaxation sweeps of every phase
///   and the fused update) against Eigen matrix products of the step's own largest shapes timed
///   just before, in the same precision: the fraction of attainable.
/// - "scaling": seconds per sample of an EP training step for hidden sizes 128 to 8192 (one hidden
///   layer), and the exponent of the log-log fit of that time against the number of conductances
///   (1: linear).
#include <vector>

#include "core/schema.h"
#include "orchestration/experiment.h"

namespace physlearn::cli {

struct TrainingBenchOptions {
  int repeats = 3;    ///< repeats of each timing; the fastest is reported
  int samples = 0;    ///< training samples used (0: the case's default)
  int epochs = 1;     ///< epoch: epochs timed per model
  std::vector<int> hidden;  ///< scaling: hidden sizes (empty: 128, 256, ..., 8192)
};

json bench_epoch(orchestration::ExperimentConfig config, const TrainingBenchOptions& options);
json bench_roofline(orchestration::ExperimentConfig config, const TrainingBenchOptions& options);
json bench_scaling(orchestration::ExperimentConfig config, const TrainingBenchOptions& options);

}  // namespace physlearn::cli
