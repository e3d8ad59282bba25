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
#include "solvers/coordinate_descent.h"
#include "solvers/layered_state.h"

namespace physlearn::solvers {

/// Node potentials of a mini-batch, float64 (solvers/layered_state.h).
using LayeredState = BasicLayeredState<double>;
/// What a phase does at the outputs: free, nudged (EP) or clamped (CHL, coupled learning).
using PhaseNudge = BasicPhaseNudge<double>;

/// A phase of one sample simulated as a transient (solvers/transient_layered.h). Energies are in
/// joules over [0, settling_time] and count the whole network: input sources and their
/// conductances, biases, hidden and output nodes; the balance
///   energy_sources + energy_nudge = energy_conductances + energy_diodes + energy_impulse
///                                   + energy_stored_change
/// holds to the integration tolerance.
struct PhasePhysics {
  double settling_time = 0.0;  ///< s: first time the settling criterion holds and keeps holding
  double duration = 0.0;       ///< s: simulated (settling time plus the hold window)
  double energy_sources = 0.0;        ///< delivered by the input voltage sources and bias currents
  double energy_nudge = 0.0;          ///< delivered at the outputs by nudge currents or clamps
  double energy_conductances = 0.0;   ///< dissipated in the conductances
  double energy_diodes = 0.0;         ///< dissipated in the diodes (0 for ideal diodes)
  double energy_impulse = 0.0;        ///< lost in instantaneous charge jumps (clamps switching on)
  double energy_stored_change = 0.0;  ///< change of the energy 1/2 C v^2 stored at the nodes
  double power_end = 0.0;  ///< W dissipated at the end (the steady state's power, inputs included)
  long steps = 0;          ///< IDA steps
  long events = 0;         ///< ideal-diode switches
};

/// The "solver" section of an experiment.
struct SolverParams {
  std::string type = "layered";  ///< "layered", "newton", "ngspice" or "transient"
  int sweeps = 4;                ///< layered: sweeps per phase (when tolerance is 0)
  double tolerance = 0.0;        ///< layered: stop when max |dv| of a sweep is below this (V)
  int max_sweeps = 1000;         ///< layered: cap when tolerance > 0
  /// Arithmetic of the phases and the update: "auto" (float32 where the fused EP path of
  /// learning/fused_model.h or the backprop baseline trains, float64 elsewhere), "float64", or
  /// "float32" (only where the fused path or the baseline trains)
  std::string precision = "auto";
  double newton_abstol = 1e-14;  ///< newton: KCL residual tolerance (A)
  double newton_vntol = 1e-12;   ///< newton: update tolerance (V)
  int newton_max_iterations = 200;
  double ngspice_reltol = 1e-12;  ///< ngspice: .options reltol
  double ngspice_abstol = 1e-15;  ///< ngspice: .options abstol (A)
  double ngspice_vntol = 1e-12;   ///< ngspice: .options vntol (V)
  double ngspice_ideal_diode_emission = 1e-8;  ///< ngspice: N of the steep model of ideal diodes
  bool ngspice_verbose = false;                ///< ngspice: echo its output to stderr
  // transient: every phase simulated in time (solvers/transient_layered.h). `physlearn simulate`
  // reads these keys whatever solver.type is.
  /// F per node of each non-input layer (hidden..., output); one value: every layer.
  std::vector<double> transient_capacitance = {1e-12};
  double transient_rtol = 1e-8;              ///< IDA relative tolerance
  double transient_atol = 1e-10;             ///< V: IDA absolute tolerance of node potentials
  std::string transient_settle = "final";    ///< "final" (|v - v_dc|) or "slew" (|dv/dt|)
  double transient_final_tol = 1e-6;         ///< V: "final" settling tolerance
  double transient_slew_tol = 1e6;           ///< V/s: "slew" settling tolerance
  double transient_hold = 1.0;               ///< criterion must hold until t_s (1 + hold)
  double transient_max_duration = 1e-6;      ///< s: a phase not settled by then fails
  int transient_max_steps = 100000;          ///< IDA steps per phase and sample
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
  /// Physics of the last relax call, one entry per sample, from solvers that simulate the phase
  /// in time ("transient"); nullptr from steady-state solvers.
  virtual const std::vector<PhasePhysics>* last_physics() const { return nullptr; }
};

/// Makes the solver named by params.type for `net`; throws ConfigError when it does not apply
/// (the layered solver needs ideal diodes or none).
std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& params,
                                               const circuits::LayeredNetwork& net);

/// Exact block coordinate descent (Scellier 2024), float64, behind the solver interface: see
/// solvers/coordinate_descent.h for the method and its cost.
class CoordinateDescentSolver final : public EquilibriumSolver {
 public:
  CoordinateDescentSolver(int sweeps, double tolerance, int max_sweeps);
  std::string name() const override { return "layered"; }
  void set_inputs(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages) override;
  void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge, LayeredState& state) override;
  long last_iterations() const override { return descent_.last_sweeps(); }

  /// Sets layer `layer` (index into state.layers) to its exact constrained minimiser, with the
  /// inputs of the last set_inputs call. Returns the largest change.
  double update_layer(const circuits::LayeredNetwork& net, const PhaseNudge& nudge, int layer,
                      LayeredState& state);

 private:
  BlockCoordinateDescent<double> descent_;
};

}  // namespace physlearn::solvers
