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
/// - "crossbar": the crossbar solvers (solvers/crossbar_phases.h) on one array: a one-layer
///   DRN of `rows` input sources (no inverted copy) and `cols` linear outputs (no hidden layer,
///   hence no diodes), conductances from the experiment's network init clamped to
///   [learning.g_min, learning.g_max], laid on a crossbar with the experiment's crossbar section
///   (wire_resistance replaced by `wire` when >= 0; g_unit as the experiment resolves it). Inputs:
///   a uniform [0, 1] batch seeded by the experiment's seed (never the data set), times
///   network.input_gain; targets one-hot, sample b's class b mod cols. Keys: rows, cols, devices,
///   batch, wire_resistance (ohm per segment), solver (crossbar.solver), native_seconds (one
///   batch, every phase of the experiment's rule: CrossbarSolver::prepare once, run_phase per
///   phase; the fastest of `repeats`; native_first_seconds: the first, with the sparse solver's
///   one-time ordering and analysis), native_seconds_per_sample, method (CrossbarSolver::method),
///   solver_mib (its factors and dense matrices), max_kcl_residual_amps (Kirchhoff's current law
///   on the circuit's own elements at every node of sample 0's free phase), ngspice_seconds (sample 0's free
///   phase on the lowered crossbar by ngspice in process: load plus op), speedup (ngspice seconds
///   per sample / native seconds per sample), max_abs_dv (volts over every node of sample 0's free
///   phase: the native solver against crossbar.solver "newton", or, when the native solver is
///   Newton, against ngspice), peak_rss_mib (getrusage ru_maxrss). ngspice is skipped above
///   `ngspice_max_devices` devices (and, with `sizes`, after a size where it took more than
///   `ngspice_max_seconds`): ngspice_skipped says why; ngspice_largest names the largest size
///   ("RxC") where it ran in this call; Newton is skipped above `newton_max_devices` devices
///   (reference_skipped). The dense solver (crossbar.solver "dense") holds wire-nodes x terminals
///   matrices; their bytes are estimated before anything is allocated and above
///   `memory_limit_gib` it is not run: native_skipped gives the estimate and the reason. With `sizes`, square arrays of each size: the common keys, "sizes" (the per-size
///   objects), "exponent" (least-squares slope of log native_seconds against log devices over the
///   sizes that ran), ngspice_largest and peak_rss_mib.
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
  int rows = 0;             ///< crossbar: rows (0: cols, or network.inputs when both are 0)
  int cols = 0;             ///< crossbar: columns (0: rows, or network.outputs when both are 0)
  int batch = 0;            ///< crossbar: samples per batch (0: learning.batch_size)
  double wire = -1.0;       ///< crossbar: ohm per wire segment (negative: the experiment's)
  std::vector<int> sizes;   ///< crossbar: square sizes to run in turn (empty: rows x cols once)
  double memory_limit_gib = 4.0;      ///< crossbar: refuse the dense solver above this estimate
  long newton_max_devices = 300000;   ///< crossbar: no Newton reference above this many devices
  long ngspice_max_devices = 16384;   ///< crossbar: skip ngspice above this many devices
  double ngspice_max_seconds = 60.0;  ///< crossbar with sizes: skip ngspice after a slower size
};

/// Bytes of the dense matrices the reduced crossbar solver (solvers/crossbar_phases.h) holds at
/// once while it prepares a one-layer rows x cols crossbar: M (internal nodes x terminals), the
/// dense copy of L_IT and its transpose, and Y (terminals x terminals); internal nodes are two per
/// device with wires, one more with access resistors.
double crossbar_reduced_bytes(long rows, long cols, bool wires, bool access);

/// Peak resident memory of this process so far, MiB (getrusage ru_maxrss).
double peak_resident_mib();
/// Least-squares slope of y against x (0 with fewer than two distinct x).
double least_squares_slope(const std::vector<double>& x, const std::vector<double>& y);

json bench_epoch(ExperimentConfig config, const BenchOptions& options);
json bench_roofline(ExperimentConfig config, const BenchOptions& options);
json bench_scaling(ExperimentConfig config, const BenchOptions& options);
json bench_spice(const ExperimentConfig& config, int repeats);
json bench_crossbar(const ExperimentConfig& config, const BenchOptions& options);

/// The case named `name` ("spice", "epoch", "roofline", "scaling", "crossbar"); a ConfigError at
/// "bench" for another name.
json bench(const std::string& name, const ExperimentConfig& config, const BenchOptions& options);

}  // namespace physlearn::orchestration
