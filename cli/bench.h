#pragma once
/// `physlearn bench CASE EXPERIMENT.json [--repeats N] [--samples N] [--epochs N]
/// [--hidden a,b,...] [--set key=value ...]`: timings printed as one JSON object on stdout.
///
/// Cases: "epoch", "roofline" and "scaling" (cli/bench_training.h), and
/// - "spice": one free-phase steady state of the experiment's DRN circuit (the first training
///   sample's inputs, the initial conductances clamped to [learning.g_min, learning.g_max] as
///   training does) by ngspice in process (netlist load plus op, as solver.type "ngspice" does
///   for every sample) and by each native solver in the same run: Newton on the lowered circuit
///   (its symbolic analysis timed apart, as training reuses it), the layered coordinate descent
///   converged to 1e-12 V, and the layered solver with the experiment's own settings (sweeps or
///   tolerance). ngspice, Newton and the layered solver take the solver section's options of
///   their type when solver.type is that type, else that type's defaults. Each figure is the
///   fastest of N repeats. Keys: ngspice_seconds, native_seconds
///   (the fastest native solver that converges: Newton or layered to 1e-12 V; the experiment's
///   sweeps are reported but not a converged steady state), native_solver, speedup
///   (ngspice_seconds / native_seconds), max_abs_dv (volts, ngspice against that native solver
///   over every hidden and output node), and per-solver figures under "solvers".
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace physlearn::cli {

struct BenchOptions {
  std::string case_name;
  std::string experiment;
  int repeats = 3;
  int samples = 0;          ///< epoch, roofline, scaling: training samples used (0: the default)
  int epochs = 1;           ///< epoch: epochs timed
  std::vector<int> hidden;  ///< scaling: hidden sizes
  std::vector<std::string> sets;
};

/// Adds the "bench" subcommand to `app`; its arguments land in `options`.
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);

/// Runs the benchmark and prints its JSON object; returns the exit status. Throws
/// physlearn::Error (ConfigError for an unknown case) like the other commands.
int bench_command(const BenchOptions& options);

}  // namespace physlearn::cli
