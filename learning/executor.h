#pragma once
/// Executors: one per view, each runs any rule's phase plan (learning/rule.h) for a mini-batch
/// and turns its contrast into the update direction.
///   layered   the layered network through any EquilibriumSolver (coordinate descent, Newton on
///             the lowered circuit, ngspice, the transient in time): phases of batched states,
///             the contrast by energy_contrast (batched products); run_layered_plan is the same
///             walk in any precision (the fused float32 path runs it too);
///   crossbar  the full crossbar circuit with its wires (learning/crossbar.h): phases per sample,
///             the contrast from every device's own drop.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/schema.h"
#include "learning/gradient.h"
#include "learning/rule.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

/// The nudge of phase `phase` of `plan` in the layered view, for a batch with `targets` whose
/// free outputs are `free_outputs`; a clamped phase's potentials go to `clamp` (kept by the
/// caller while the nudge is used).
template <typename Scalar>
solvers::BasicPhaseNudge<Scalar> layered_nudge(const PhasePlan& plan, const Phase& phase,
                                               const solvers::MatrixX<Scalar>& targets,
                                               const solvers::MatrixX<Scalar>& free_outputs,
                                               solvers::MatrixX<Scalar>& clamp) {
  using Nudge = solvers::BasicPhaseNudge<Scalar>;
  switch (phase.drive) {
    case Phase::Drive::free:
      return Nudge::free();
    case Phase::Drive::nudge:
      return Nudge::nudge(phase.sign * plan.beta, targets);
    case Phase::Drive::clamp_target:
      return Nudge::clamped(targets);
    case Phase::Drive::clamp_coupled:
      clamp = free_outputs +
              static_cast<Scalar>(phase.sign * plan.eta) * (targets - free_outputs);
      return Nudge::clamped(clamp);
  }
  return Nudge::free();
}

/// Runs `plan`'s phases on the layered view: `relax(nudge, state)` relaxes `state` (its start on
/// entry) with the batch's inputs already set. On entry states[0] holds zero potentials of the
/// batch's shape; on return states[k] holds phase k's steady state (every phase after the free
/// one starts from the free state). `on_phase(k, state)` is called after each phase.
template <typename Scalar, class Relax, class OnPhase>
void run_layered_plan(const PhasePlan& plan, const solvers::MatrixX<Scalar>& targets,
                      std::vector<solvers::BasicLayeredState<Scalar>>& states,
                      std::vector<solvers::MatrixX<Scalar>>& clamps, Relax&& relax,
                      OnPhase&& on_phase) {
  states.resize(plan.phases.size());
  clamps.resize(plan.phases.size());
  relax(solvers::BasicPhaseNudge<Scalar>::free(), states[0]);
  on_phase(std::size_t{0}, states[0]);
  for (std::size_t k = 1; k < plan.phases.size(); ++k) {
    states[k] = states[0];
    relax(layered_nudge(plan, plan.phases[k], targets, states[0].outputs(), clamps[k]), states[k]);
    on_phase(k, states[k]);
  }
}

template <typename Scalar, class Relax>
void run_layered_plan(const PhasePlan& plan, const solvers::MatrixX<Scalar>& targets,
                      std::vector<solvers::BasicLayeredState<Scalar>>& states,
                      std::vector<solvers::MatrixX<Scalar>>& clamps, Relax&& relax) {
  run_layered_plan(plan, targets, states, clamps, std::forward<Relax>(relax),
                   [](std::size_t, const solvers::BasicLayeredState<Scalar>&) {});
}

/// One view's executor.
class PhaseExecutor {
 public:
  virtual ~PhaseExecutor() = default;
  /// The solver, for the progress header ("layered", "newton", "crossbar (reduced)", ...).
  virtual std::string name() const = 0;
  /// Runs `plan`'s phases for the batch whose source voltages are `input_voltages` and writes the
  /// rule's direction into `direction` (shaped like the network); `free_outputs` receives the
  /// free phase's outputs.
  virtual void direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                         const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
                         Eigen::MatrixXd& free_outputs, ParameterGradient& direction) = 0;
  /// The free phase's outputs for a batch (inference).
  virtual void predict(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
                       Eigen::MatrixXd& outputs) = 0;
  /// The physics of the training steps since the last call when the phases are simulated in
  /// time (learning/physics.h), with the digital comparison for `digital_sizes`; else null.
  virtual json take_physics(const std::vector<int>& /*digital_sizes*/, double /*energy_per_mac*/) {
    return nullptr;
  }
  /// The free state of the last `direction` (the layered view), or null.
  virtual const solvers::LayeredState* free_state() const { return nullptr; }
};

/// The layered view's executor on `solver` (every relax call goes through a PhysicsRecorder).
std::unique_ptr<PhaseExecutor> make_layered_executor(
    std::unique_ptr<solvers::EquilibriumSolver> solver);

/// The layered view's whole step, for code that holds a solver of its own (tests, gradcheck):
/// sets the inputs, runs `plan` from zero potentials and writes the direction; on return `free`
/// holds the free state.
void layered_direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                       solvers::EquilibriumSolver& solver, const Eigen::MatrixXd& input_voltages,
                       const Eigen::MatrixXd& targets, solvers::LayeredState& free,
                       ParameterGradient& direction);

}  // namespace physlearn::learning
