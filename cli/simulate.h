#pragma once
/// `physlearn simulate EXPERIMENT.json [--sample K] --out DIR [--nodes a,b,...]`: one training
/// step of one sample simulated in time (orchestration/simulate.h).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace physlearn::cli {

struct SimulateArgs {
  std::string experiment;
  int sample = 0;
  std::string out;
  std::string nodes;  ///< comma-separated node names (in<k>, h<l>_<i>, out<i>); empty: default
  std::vector<std::string> sets;
};

/// Adds the subcommand to `app`, bound to `args`.
CLI::App* add_simulate_subcommand(CLI::App& app, SimulateArgs& args);

/// Runs it; returns the exit status. Throws physlearn::Error for bad input.
int simulate_command(const SimulateArgs& args);

}  // namespace physlearn::cli
