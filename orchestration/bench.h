#pragma once
/// The benchmarks of `physlearn bench`: each returns one JSON object whose ratios are measured in
/// the same process. The training benchmarks time the runner's own epoch loop
/// (orchestration/runner.h: train_epoch, evaluate).
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
/// - "spice": one free-phase steady state of the experiment's DRN circuit (the first training
///   sample's inputs, the initial conductances clamped to [learning.g_min, learning.g_max] as
///   training does: orchestration/sample.h) by ngspice in process (netlist load plus op, as
///   solver.type "ngspice" does for every sample) and by each native solver in the same run:
///   Newton on the lowered circuit (its symbolic analysis timed apart, as training reuses it),
///   the layered coordinate descent converged to 1e-12 V, and the layered solver with the
///   experiment's own settings (sweeps or tolerance). ngspice, Newton and the layered solver take
///   the solver section's options of their type when solver.type is that type, else that type's
///   defaults. Each figure is the fastest of N repeats. Keys: ngspice_seconds, native_seconds
///   (the fastest native solver that converges: Newton or layered to 1e-12 V; the experiment's
///   sweeps are reported but not a converged steady state), native_solver, speedup
///   (ngspice_seconds / native_seconds), max_abs_dv (volts, ngspice against that native solver
///   over every hidden and output node), and per-solver figures under "solvers".
#include <string>
#include <vector>

#include "core/schema.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

struct BenchOptions {
  int repeats = 3;    ///< repeats of each timing; the fastest is reported
  int samples = 0;    ///< training samples used (0: the case's default)
  int epochs = 1;     ///< epoch: epochs timed per model
  std::vector<int> hidden;  ///< scaling: hidden sizes (empty: 128, 256, ..., 8192)
};

json bench_epoch(ExperimentConfig config, const BenchOptions& options);
json bench_roofline(ExperimentConfig config, const BenchOptions& options);
json bench_scaling(ExperimentConfig config, const BenchOptions& options);
json bench_spice(const ExperimentConfig& config, int repeats);

/// The case named `name` ("spice", "epoch", "roofline", "scaling"); a ConfigError at "bench"
/// for another name.
json bench(const std::string& name, const ExperimentConfig& config, const BenchOptions& options);

}  // namespace physlearn::orchestration
