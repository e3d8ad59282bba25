#pragma once
/// Phases of a layered network simulated in time (solver.type "transient"): each phase is a
/// transient of the network's circuit (solvers/transient.h), one sample at a time, from the state
/// handed in (zeros at a batch's start for the free phase, the free state for the nudged phases)
/// until it settles; the state returned is the circuit's state at the end of the transient.
///
/// The circuit: every hidden and output node has a capacitance to ground (capacitance, per
/// layer); the input nodes are held by ideal voltage sources, so they have no dynamics and are
/// folded into their Norton equivalent at each first-layer node i (exact, for every t):
///   a conductance G_i = sum_j W0[j,i] to ground and a current source I_i = sum_j W0[j,i] V_j,
/// built once per batch (set_inputs). The inputs are applied as a step at t = 0 of the free
/// phase; the nudge currents beta (y - o) (or the clamping sources) switch on at t = 0 of the
/// nudged phases. Energies are reported for the whole network, input conductances included: with
/// K = sum_j V_j^2 sum_i W0[j,i] (W), over [0, T]
///   delivered by the input sources  = K T - integral sum_i I_i v_i dt,
///   dissipated in input conductances = K T - 2 integral sum_i I_i v_i dt
///                                        + integral sum_i G_i v_i^2 dt,
/// from the Norton elements' own energies (exact; the input nodes carry no capacitance: an ideal
/// source would charge it instantly, adding only the classic 1/2 C dV^2 loss at the step).
///
/// Config keys (the solver section with "type": "transient"; `physlearn simulate` takes them from
/// there when solver.type is "transient", else uses these defaults):
///   capacitance         F per node of each non-input layer (one value: all)        [1e-12]
///   rtol, atol (V)      IDA tolerances                                             [1e-8, 1e-10]
///   settle              "final": max |v - v_dc| <= final_tol (V)                   ["final"]
///                       "slew":  max |dv/dt| <= slew_tol (V/s)
///   final_tol [1e-6 V], slew_tol [1e6 V/s]
///   hold                the criterion must keep holding until t_s (1 + hold)       [1]
///   max_duration (s), max_steps: beyond them a phase fails                         [1e-6, 1e5]
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "solvers/equilibrium.h"
#include "solvers/transient.h"

namespace physlearn::solvers {

/// Options of solver.type "transient" (the keys above).
struct TransientSolverOptions {
  /// F per node of each non-input layer (hidden..., output); one value: every layer.
  std::vector<double> capacitance = {1e-12};
  double rtol = 1e-8;            ///< IDA relative tolerance
  double atol = 1e-10;           ///< V: IDA absolute tolerance of node potentials
  std::string settle = "final";  ///< "final" (|v - v_dc|) or "slew" (|dv/dt|)
  double final_tol = 1e-6;       ///< V: "final" settling tolerance
  double slew_tol = 1e6;         ///< V/s: "slew" settling tolerance
  double hold = 1.0;             ///< criterion must hold until t_s (1 + hold)
  double max_duration = 1e-6;    ///< s: a phase not settled by then fails
  int max_steps = 100000;        ///< IDA steps per phase and sample
};

void describe(Schema& schema, TransientSolverOptions& options);

/// The IDA options these give (capacitances aside); throws ConfigError naming solver.settle for
/// an unknown settling criterion.
TransientOptions transient_options(const TransientSolverOptions& options);

class TransientLayeredSolver final : public EquilibriumSolver {
 public:
  /// Throws ConfigError naming solver.capacitance when it has neither one value nor one per
  /// non-input layer.
  TransientLayeredSolver(const TransientSolverOptions& options,
                         const circuits::LayeredNetwork& net);
  ~TransientLayeredSolver() override;

  std::string name() const override { return "transient"; }
  void set_inputs(const circuits::LayeredNetwork& net,
                  const Eigen::MatrixXd& input_voltages) override;
  /// Throws SolverError naming the phase ("free", "nudged (beta = ...)", "clamped"), the sample,
  /// the time reached and the reason when a transient fails.
  void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
             LayeredState& state) override;
  /// IDA steps of the last relax call, summed over the batch.
  long last_iterations() const override { return last_steps_; }
  const std::vector<PhasePhysics>* last_physics() const override { return &physics_; }

  /// F: the capacitance of each node of layer l + 1 (hidden..., output).
  const std::vector<double>& capacitance() const { return capacitance_; }

  /// Called at t = 0, after every IDA step and after every restart of every sample's transient:
  /// the sample (row of the batch), the time since the phase began (s) and the potentials of
  /// the layers 1.. (hidden..., output; V).
  using Observer =
      std::function<void(Eigen::Index sample, double t, const std::vector<Eigen::VectorXd>&)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  struct Lowered;
  Lowered& lowered(const circuits::LayeredNetwork& net, bool clamped);

  TransientOptions options_;
  std::vector<double> capacitance_;
  std::unique_ptr<Lowered> free_, clamped_;
  Eigen::MatrixXd input_voltages_;
  Eigen::MatrixXd drive_;           // batch x sizes[1]: Norton currents I_i
  Eigen::RowVectorXd conductance_;  // sizes[1]: Norton conductances G_i
  Eigen::VectorXd input_power_;     // batch: K
  std::vector<PhasePhysics> physics_;
  long last_steps_ = 0;
  Observer observer_;
};

std::unique_ptr<EquilibriumSolver> make_transient_layered_solver(
    const TransientSolverOptions& options, const circuits::LayeredNetwork& net);

}  // namespace physlearn::solvers
