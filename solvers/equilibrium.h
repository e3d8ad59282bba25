#pragma once
/// The one interface through which learning code asks for a phase's steady state.
///
/// A phase is the network's inputs (source voltages for a mini-batch), an optional nudge at the
/// outputs, and a starting state; the solver relaxes the state to the equilibrium of
///   E(v) + beta * 1/2 ||o - y||^2,
/// i.e. the steady state of the circuit with the current beta (y - o) injected into every output.
/// Implementations: exact layer-wise block coordinate descent (ideal diodes), Newton on the lowered
/// circuit (any diode), and later SPICE and transient solvers.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/schema.h"

namespace physlearn::solvers {

/// Node potentials of a mini-batch: layers[l] is batch x units of layer l+1 (hidden..., output).
struct LayeredState {
  std::vector<Eigen::MatrixXd> layers;
  const Eigen::MatrixXd& outputs() const { return layers.back(); }
  /// Zero potentials of the right shapes for `batch` samples.
  static LayeredState zeros(const circuits::LayeredNetwork& net, Eigen::Index batch);
};

/// What a phase does at the outputs: nothing (free phase), the current beta (targets - o) injected
/// into them (EP's nudge), or their potentials clamped by voltage sources (CHL, coupled learning).
struct PhaseNudge {
  double beta = 0.0;
  const Eigen::MatrixXd* targets = nullptr;  ///< batch x outputs; needed when beta != 0
  const Eigen::MatrixXd* clamp = nullptr;    ///< batch x outputs: output potentials held fixed

  static PhaseNudge free() { return {}; }
  static PhaseNudge nudge(double beta, const Eigen::MatrixXd& targets) { return {beta, &targets, nullptr}; }
  static PhaseNudge clamped(const Eigen::MatrixXd& outputs) { return {0.0, nullptr, &outputs}; }
};

/// The "solver" section of an experiment.
struct SolverParams {
  std::string type = "layered";  ///< "layered" (block coordinate descent) or "newton"
  int sweeps = 4;                ///< layered: sweeps per phase (when tolerance is 0)
  double tolerance = 0.0;        ///< layered: stop when max |dv| of a sweep is below this (V)
  int max_sweeps = 1000;         ///< layered: cap when tolerance > 0
  double newton_abstol = 1e-14;  ///< newton: KCL residual tolerance (A)
  double newton_vntol = 1e-12;   ///< newton: update tolerance (V)
  int newton_max_iterations = 200;
};

void describe(Schema& schema, SolverParams& params);

class EquilibriumSolver {
 public:
  virtual ~EquilibriumSolver() = default;
  virtual std::string name() const = 0;
  /// Applies a mini-batch's inputs (source voltages, batch x sizes[0]) to `net`. Work that is the
  /// same in every phase of the batch (the inputs' drive into the first layer) is done here, once.
  /// The network's conductances must not change until the batch's phases are done.
  virtual void set_inputs(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages) = 0;
  /// Relaxes `state` (the starting point on entry) to the steady state of the phase, with the
  /// inputs of the last set_inputs call.
  virtual void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge, LayeredState& state) = 0;
  /// Sweeps (or Newton iterations) used by the last relax call, summed over the batch for Newton.
  virtual long last_iterations() const = 0;
};

/// Makes the solver named by params.type for `net`; throws ConfigError when it does not apply
/// (the layered solver needs ideal diodes or none).
std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& params,
                                               const circuits::LayeredNetwork& net);

/// Exact block coordinate descent (Scellier 2024): layers do not touch themselves, so each layer is
/// set at once to its exact minimiser given its neighbours,
///   v_i = (sum_j g_ij v_j + b_i [+ beta y_i]) / (sum_j g_ij [+ beta]),
/// then projected onto its diode's constraint (v >= 0 or v <= 0). Odd layers, then even layers,
/// make one sweep. An isolated node (all its conductances zero) is held at 0 V.
class CoordinateDescentSolver final : public EquilibriumSolver {
 public:
  CoordinateDescentSolver(int sweeps, double tolerance, int max_sweeps);
  std::string name() const override { return "layered"; }
  void set_inputs(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages) override;
  void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge, LayeredState& state) override;
  long last_iterations() const override { return last_sweeps_; }

  /// Sets layer `layer` (index into state.layers) to its exact constrained minimiser. Returns the
  /// largest change. `input_drive` is input_voltages * weights[0] (batch x sizes[1]).
  static double update_layer(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_drive,
                             const PhaseNudge& nudge, int layer, LayeredState& state);

 private:
  int sweeps_;
  double tolerance_;
  int max_sweeps_;
  long last_sweeps_ = 0;
  Eigen::MatrixXd input_drive_;
};

}  // namespace physlearn::solvers
