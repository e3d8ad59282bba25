#pragma once
/// One training sample on an experiment's network as training starts: the DRN built with the
/// experiment's seed, its conductances clamped to [g_min, g_max], and training sample K's inputs,
/// source voltages and one-hot target. What export-spice writes, bench spice solves and
/// simulate runs in time.
#include <Eigen/Dense>
#include <string>

#include "circuits/drn.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

struct InitialSample {
  circuits::LayeredNetwork net;  ///< at its initial conductances, in [g_min, g_max]
  int index = 0;                 ///< the training sample
  int label = 0;
  Eigen::MatrixXd inputs;    ///< 1 x features
  Eigen::MatrixXd voltages;  ///< 1 x input sources (net.input_voltages)
  Eigen::MatrixXd target;    ///< 1 x outputs, one-hot
  /// The network lowered to a general circuit with this sample's source voltages.
  circuits::LoweredNetwork lowered() const;
};

/// Training sample `sample` of `config` on its initial network. `command` names the caller in
/// the errors: a network other than a DRN, or a sample outside the training set ("<command>:
/// --sample K: must be in [0, N-1] (the training set of data.type ... has N samples)").
InitialSample initial_sample(const ExperimentConfig& config, int sample, const std::string& command);

/// The initial network with training sample `sample` as a SPICE netlist with .op (what
/// stand-alone ngspice runs), commented with the experiment (`file`), the sample and its label.
/// `phase` "nudged" adds Equilibrium Propagation's nudge beta (y - o) at every output o, y the
/// one-hot label: a conductance beta from the output to a voltage source at y (the Thevenin form
/// of the injected current, exactly equivalent); "free" writes the free phase.
std::string sample_netlist(const ExperimentConfig& config, const std::string& file, int sample,
                           const std::string& phase);

}  // namespace physlearn::orchestration
