#pragma once
/// `physlearn bench CASE EXPERIMENT.json [--repeats N] [--samples N] [--epochs N]
/// [--hidden a,b,...] [--set key=value ...]`: timings printed as one JSON object on stdout.
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
  std::vector<std::string> sets;
};

/// Adds the "bench" subcommand to `app`; its arguments land in `options`.
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);

/// Runs the benchmark and prints its JSON object; returns the exit status. Throws
/// physlearn::Error (ConfigError for an unknown case) like the other commands.
int bench_command(const BenchOptions& options);

}  // namespace physlearn::cli
