#pragma once
/// One training step of one sample simulated in time (`physlearn simulate`). The network is built
/// as `run` builds it (seed, initial conductances clamped to [g_min, g_max]:
/// orchestration/sample.h); sample K of the training set is the input and its one-hot label the
/// target. The phases are those of the experiment's rule: ep (also exact and
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
#include <ostream>
#include <string>

#include "orchestration/experiment.h"

namespace physlearn::orchestration {

struct SimulateOptions {
  int sample = 0;     ///< the training sample
  std::string out;    ///< the results folder
  std::string nodes;  ///< comma-separated node names (in<k>, h<l>_<i>, out<i>); empty: default
};

/// Runs the step and writes the two files; one line per phase and the files' names go to `log`.
/// Throws physlearn::Error for bad input (a sample outside the training set, an unknown node).
void simulate_step(const ExperimentConfig& config, const SimulateOptions& options, std::ostream& log);

}  // namespace physlearn::orchestration
