#pragma once
/// The phases of a layered network laid out on crossbars (circuits/crossbar.h), every sample
/// solved on the full circuit, wires and access resistors included. Three exact solvers
/// (crossbar.solver):
///   "sparse" (the default): the wires and devices are linear, so the crossbar's wire nodes W
///     (wire cells, access nodes) are eliminated by a sparse Cholesky factorisation of their
///     conductance Laplacian (solvers/sparse_cholesky.h, CHOLMOD; ordered once, refactored per
///     mini-batch). Its memory grows with the factor's nonzeros, about the device count times a
///     logarithm, never with nodes x terminals. Two ways to use it, picked from the network:
///       - networks with diodes (hidden layers), or with at most 64 neurons: the Kron reduction
///         onto the neurons Z only, Y_ZZ = L_ZZ - L_ZW L_WW^-1 L_WZ and Y_ZX (X: the input
///         sources), computed a block of neurons at a time (|Z| solves per mini-batch); each
///         sample's phase is then a small problem at the neurons (minimise 1/2 v'Av - c'v under
///         the diodes' sign constraints, by a primal-dual active set on dense matrices), and the
///         wire nodes follow from one solve per sample when the rule needs the devices' drops;
///       - linear networks with more than 64 neurons (one layer, many outputs): every node but
///         the sources is solved directly, one factorisation per phase (the nudge changes the
///         outputs' diagonal), one solve per sample.
///   "dense": the same Kron reduction onto every terminal with dense M = -L_WW^-1 L_WT (wire nodes
///     x terminals); memory grows as nodes x terminals (kept to measure against).
///   "newton": Newton on the full circuit for every sample (the reference; much slower).
/// The learning rules' crossbar executor (learning/crossbar.h) runs its phase plans on it.
#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "circuits/crossbar.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

/// What one phase does at the outputs of one sample.
struct CrossbarDrive {
  enum Kind { Free, Nudge, Clamp } kind = Free;
  double beta = 0.0;              ///< Nudge: current beta (y - o) into each output
  Eigen::RowVectorXd value;       ///< Nudge: the target y; Clamp: the clamped potentials
};


/// One phase of one sample at the neurons, the wires eliminated: minimises 1/2 v'(A + D)v - c'v
/// (D: the nudge's beta at the last `num_outputs` neurons, which also adds beta y to c) over the
/// neurons that are not clamped, each diode node (polarity[i] != 0) kept on its side of 0 V,
/// polarity[i] v_i >= 0, and held at 0 V while its diode conducts. First a primal-dual active
/// set (at most `dual_iterations`), then, if it has not settled (it can cycle when A is not an
/// M-matrix), a primal active set that lowers the energy at every step. `v` is the start and the
/// result; returns the iterations.
long solve_at_neurons(const Eigen::Ref<const Eigen::MatrixXd>& A, Eigen::VectorXd c,
                      const std::vector<int>& polarity, int num_outputs, const CrossbarDrive& drive,
                      Eigen::VectorXd& v, int dual_iterations = 50);

/// What one phase leaves: the neurons' potentials of every sample (all of them with "newton"),
/// and, when run_phase is asked for them, the devices' squared drops summed over the batch.
class CrossbarStates {
 public:
  Eigen::MatrixXd neurons;  ///< sparse, dense: neurons (layer by layer) x batch
  Eigen::MatrixXd full;     ///< newton: nodes x batch
  Eigen::MatrixXd inputs;   ///< the phase's input voltages (batch x sources)
  /// Per weight layer, per device in the DRN's order (row j, column i): the sum over the batch of
  /// the device's squared voltage drop (empty unless run_phase was asked for it).
  std::vector<Eigen::VectorXd> device_squares;
  /// sparse, solved directly: each sample's drive, to solve a sample again on demand.
  std::vector<CrossbarDrive> drives;
};

class CrossbarSolver {
 public:
  /// Lays `net` out on crossbars (`params`, `g_unit` siemens per network unit); `newton_options`
  /// for params.solver "newton". The sparse and dense solves hold ideal diodes (or none): Shockley
  /// diodes with them are a ConfigError naming crossbar.solver.
  CrossbarSolver(const circuits::LayeredNetwork& net, const circuits::CrossbarParams& params,
                 double g_unit, const NewtonOptions& newton_options);
  ~CrossbarSolver();
  CrossbarSolver(const CrossbarSolver&) = delete;
  CrossbarSolver& operator=(const CrossbarSolver&) = delete;

  /// The circuit (for export and checks).
  const circuits::LoweredCrossbar& circuit() const { return crossbar_; }
  /// Takes the network's conductances and biases for this batch (`inputs`: its source voltages).
  /// The sparse and dense solvers refactor only when a conductance or a bias has changed since
  /// the last call (evaluating a fixed network factors once).
  void prepare(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs);
  /// Times prepare recomputed the factorisation and reduction (sparse, dense).
  long preparations() const { return preparations_; }
  /// Runs the phase `drive_of(sample)` for every sample, each from `start` (the free phase's
  /// states), or, without `start`, from the last free solution (the warm start, which it
  /// updates), and collects the neurons' potentials in `out`; with `device_squares`, also each
  /// device's squared drop summed over the batch (CrossbarStates::device_squares).
  void run_phase(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs,
                 const std::function<CrossbarDrive(Eigen::Index)>& drive_of,
                 const CrossbarStates* start, CrossbarStates& out, bool device_squares = false);
  /// The potential of node `node` for sample b. Sources and neurons are read from `s`; a wire
  /// node costs a solve of the whole sample (node_potentials), with the factor of the last prepare.
  double potential(const CrossbarStates& s, int node, Eigen::Index b) const;
  /// Every node's potential for sample b (of the batch given to the last prepare).
  Eigen::VectorXd node_potentials(const CrossbarStates& s, Eigen::Index b) const;
  /// Which of the sparse solver's two ways runs ("neurons": Kron reduction onto the neurons;
  /// "direct": every node per phase), "dense" or "newton".
  std::string method() const;
  /// Bytes of the sparse factors and dense matrices the solver holds (0 for newton).
  double solver_bytes() const;
  /// The outputs of sample b.
  Eigen::RowVectorXd outputs(const CrossbarStates& s, Eigen::Index b) const;
  /// Newton or active-set iterations used since the last call.
  long take_iterations();

 private:
  class NewtonPhases;
  class DensePhases;
  class SparsePhases;
  struct Roles;
  circuits::LoweredCrossbar crossbar_;
  std::unique_ptr<Roles> roles_;
  std::unique_ptr<DensePhases> dense_;
  std::unique_ptr<SparsePhases> sparse_;
  std::unique_ptr<NewtonPhases> newton_;
  Eigen::VectorXd warm_;  ///< the last free solution: the next sample's starting point
  std::vector<double> prepared_values_;  ///< conductances and bias currents of the last preparation
  long preparations_ = 0;
  long iterations_ = 0;
};

}  // namespace physlearn::solvers
