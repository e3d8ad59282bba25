#pragma once
/// `physlearn bench CASE EXPERIMENT.json [--repeats N] [--samples N] [--epochs N]
/// [--hidden a,b,...] [--rows R] [--cols C] [--batch B] [--wire OHM] [--sizes a,b,...]
/// [--memory-limit-gib G] [--ngspice-max-devices N] [--set key=value ...]`: timings printed as one JSON object on stdout.
///
/// Cases and their figures: orchestration/bench.h.
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
  int rows = 0;             ///< crossbar: rows (0: the default)
  int cols = 0;             ///< crossbar: columns (0: the default)
  int batch = 0;            ///< crossbar: samples per batch (0: learning.batch_size)
  double wire = -1.0;       ///< crossbar: ohm per wire segment (negative: the experiment's)
  std::vector<int> sizes;   ///< crossbar: square sizes
  double memory_limit_gib = 4.0;     ///< crossbar: the reduced solver's memory limit
  long ngspice_max_devices = 16384;  ///< crossbar: ngspice's size limit
  long newton_max_devices = 300000;  ///< crossbar: the Newton reference's size limit
  std::vector<std::string> sets;
};

/// Adds the "bench" subcommand to `app`; its arguments land in `options`.
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);

/// Runs the benchmark and prints its JSON object; returns the exit status. Throws
/// physlearn::Error (ConfigError for an unknown case) like the other commands.
int bench_command(const BenchOptions& options);

}  // namespace physlearn::cli
