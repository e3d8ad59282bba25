#pragma once
/// `physlearn simulate EXPERIMENT.json [--sample K] --out DIR [--nodes a,b,...]`: one training
/// step of one sample simulated in time. The network is built as `run` builds it (seed, initial
/// conductances clamped to [g_min, g_max]); sample K of the training set is the input and its
/// one-hot label the target. The phases are those of the experiment's rule: ep (also exact and
/// backprop): free, then +beta (positive, centered) and -beta (negative, centered); chl: free,
/// then outputs clamped to the target; cl: free, then outputs clamped to o + eta (y - o) and/or
/// o - eta (y - o) per learning.variant. The free phase starts from zeros (a batch's start), every
/// other phase from the free state, as in training. Every phase is a transient of the
/// solvers/transient_layered.h solver, with the solver section's options (capacitance, rtol,
/// settle, ...) when solver.type is "transient", else the transient solver's defaults.
///
/// Writes DIR/waveforms.csv (time in s from the free phase's start, phase, then the potentials
/// of the asked nodes, V; each phase begins with a row at the time the previous one ended) and
/// DIR/simulate.json (per phase: settling time, duration, energies in J, final power in W, IDA
/// steps, diode switches, wall time; the capacitances assumed).
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
