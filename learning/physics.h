#pragma once
/// Physical figures of training when every phase is simulated in time (solver.type "transient"),
/// side by side with the arithmetic of the equivalent digital network.
///
/// Analog, per training sample (all the phases of one training step: free, then nudged or
/// clamped), from the transient solver's PhasePhysics:
///   settling_time_free, settling_time_nudged   mean settling time of a free / nudged-or-clamped
///                                              phase (s)
///   time_per_sample      sum of the settling times of the step's phases (s): the phases run one
///                        after another
///   energy_per_sample    energy delivered by the input sources and bias currents plus the nudge
///                        (or clamp) sources over the step's phases (J)
///   mean_power           mean over phases of the power dissipated at the phase's end, the steady
///                        state (W)
/// Digital: the same step on a conventional network with the same layer sizes (features,
/// hidden..., outputs: the backprop baseline's), in multiply-accumulates per sample:
///   forward           sum_l n_l n_{l+1}
///   backward (errors) sum_{l>=1} n_l n_{l+1}   (no error is propagated into the inputs)
///   weight gradients  sum_l n_l n_{l+1}
/// i.e. 3 sum_l n_l n_{l+1} - n_0 n_1. Biases, activations and the optimiser step are O(n) per
/// layer and left out. digital_energy_per_sample = MACs x learning.digital_energy_per_mac.
#include <vector>

#include "core/schema.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

/// Multiply-accumulates per sample of one training step of the digital network (see above).
long digital_macs_per_sample(const std::vector<int>& sizes);

/// Wraps a solver and sums the physics of every relax call (solvers that simulate in time), per
/// phase kind; everything else is forwarded. A free phase's samples count as training samples.
/// A relax that fails (SolverError: the transient solver names the phase, the sample, the time
/// reached and the reason) is rethrown with "training batch N of the run: " in front.
class PhysicsRecorder final : public solvers::EquilibriumSolver {
 public:
  explicit PhysicsRecorder(solvers::EquilibriumSolver& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  void set_inputs(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs) override {
    inner_.set_inputs(net, inputs);
  }
  void relax(const circuits::LayeredNetwork& net, const solvers::PhaseNudge& nudge,
             solvers::LayeredState& state) override;
  long last_iterations() const override { return inner_.last_iterations(); }
  const std::vector<solvers::PhasePhysics>* last_physics() const override {
    return inner_.last_physics();
  }

  /// The figures since the last call (see the file comment) with the digital comparison for a
  /// network of `digital_sizes`; null when nothing was simulated in time. Resets the sums.
  json take(const std::vector<int>& digital_sizes, double energy_per_mac);

 private:
  solvers::EquilibriumSolver& inner_;
  long batches_ = 0;  ///< free phases relaxed over the run (training batches begun)
  long samples_ = 0;  ///< free-phase samples
  long phases_free_ = 0, phases_nudged_ = 0;
  double settle_free_ = 0.0, settle_nudged_ = 0.0;
  double energy_sources_ = 0.0, energy_nudge_ = 0.0, power_ = 0.0;
};

/// The whole run's figures from the epochs' (weighted by samples and phases); null when none.
json combine_physics(const std::vector<json>& epochs);

}  // namespace physlearn::learning
