#pragma once
/// The phases of a layered network laid out on crossbars (circuits/crossbar.h), every sample
/// solved on the full circuit, wires and access resistors included:
///   "reduced" (the default): the wires and devices are linear, so with the terminals T (input
///     sources and neuron nodes) fixed the internal nodes I (wire cells, access nodes) follow as
///     v_I = M v_T, M = -L_II^-1 L_IT, and the terminals see the Kron-reduced admittance
///     Y = L_TT + L_TI M (the Schur complement of the conductance Laplacian L); both are exact and
///     depend only on the conductances, so they are computed once per mini-batch (one sparse LDLT
///     of L_II and |T| solves). Each sample's phase is then a small problem at the neurons:
///     minimise 1/2 v'Av - c'v with the diodes' sign constraints, by a primal-dual active set on
///     dense matrices.
///   "newton": Newton on the full circuit for every sample (the reference; much slower).
/// The learning rules' crossbar executor (learning/crossbar.h) runs its phase plans on it.
#include <Eigen/Dense>
#include <functional>
#include <memory>

#include "circuits/crossbar.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

/// What one phase does at the outputs of one sample.
struct CrossbarDrive {
  enum Kind { Free, Nudge, Clamp } kind = Free;
  double beta = 0.0;              ///< Nudge: current beta (y - o) into each output
  Eigen::RowVectorXd value;       ///< Nudge: the target y; Clamp: the clamped potentials
};


/// Node potentials of every sample of a batch in one phase.
class CrossbarStates {
 public:
  Eigen::MatrixXd terminals, internals;  ///< reduced: per node class x batch
  Eigen::MatrixXd full;                  ///< newton: nodes x batch
};

class CrossbarSolver {
 public:
  /// Lays `net` out on crossbars (`params`, `g_unit` siemens per network unit); `newton_options`
  /// for params.solver "newton". The reduced solve holds ideal diodes (or none): Shockley diodes
  /// with it are a ConfigError naming crossbar.solver.
  CrossbarSolver(const circuits::LayeredNetwork& net, const circuits::CrossbarParams& params,
                 double g_unit, const NewtonOptions& newton_options);
  ~CrossbarSolver();
  CrossbarSolver(const CrossbarSolver&) = delete;
  CrossbarSolver& operator=(const CrossbarSolver&) = delete;

  /// The circuit (for export and checks).
  const circuits::LoweredCrossbar& circuit() const { return crossbar_; }
  /// Takes the network's conductances and biases for this batch (`inputs`: its source voltages).
  void prepare(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs);
  /// Runs the phase `drive_of(sample)` for every sample, each from `start` (the free phase's
  /// states), or, without `start`, from the last free solution (the warm start, which it
  /// updates), and collects the node potentials in `out`.
  void run_phase(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs,
                 const std::function<CrossbarDrive(Eigen::Index)>& drive_of,
                 const CrossbarStates* start, CrossbarStates& out);
  /// The potential of node `node` for sample b.
  double potential(const CrossbarStates& s, int node, Eigen::Index b) const;
  /// The outputs of sample b.
  Eigen::RowVectorXd outputs(const CrossbarStates& s, Eigen::Index b) const;
  /// Newton or active-set iterations used since the last call.
  long take_iterations();

 private:
  class NewtonPhases;
  class ReducedPhases;
  circuits::LoweredCrossbar crossbar_;
  std::unique_ptr<ReducedPhases> reduced_;
  std::unique_ptr<NewtonPhases> newton_;
  Eigen::VectorXd warm_;  ///< the last free solution: the next sample's starting point
  long iterations_ = 0;
};

}  // namespace physlearn::solvers
