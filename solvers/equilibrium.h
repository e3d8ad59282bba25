#pragma once
/// The one interface through which learning code asks for a phase's steady state.
///
/// A phase is the network's inputs (source voltages for a mini-batch), an optional nudge at the
/// outputs, and a starting state; the solver relaxes the state to the equilibrium of
///   E(v) + beta * 1/2 ||o - y||^2,
/// i.e. the steady state of the circuit with the current beta (y - o) injected into every output.
/// Implementations, registered by name (solver_types(), the experiment's solver.type): exact
/// layer-wise block coordinate descent (ideal diodes), Newton on the lowered circuit (any diode),
/// ngspice in process, and transients in time (IDA).
#include <Eigen/Dense>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
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

/// Options of solver.type "layered": exact block coordinate descent (solvers/coordinate_descent.h).
struct LayeredSolverOptions {
  int sweeps = 4;          ///< sweeps per phase (when tolerance is 0)
  double tolerance = 0.0;  ///< V: stop when max |dv| of a sweep is below this (0: fixed sweeps)
  int max_sweeps = 1000;   ///< most sweeps when tolerance > 0
};

void describe(Schema& schema, LayeredSolverOptions& options);

/// The options of one solver type behind one face, so that SolverParams can hold those of every
/// registered type: copied deeply (clone), described by the type's own describe(Schema&, Options&).
class SolverOptions {
 public:
  virtual ~SolverOptions() = default;
  virtual std::unique_ptr<SolverOptions> clone() const = 0;
  /// Binds the options' members to keys of `schema`.
  virtual void describe_into(Schema& schema) = 0;
};

/// SolverOptions holding an `Options` struct; describe(Schema&, Options&) must exist.
template <class Options>
class SolverOptionsOf final : public SolverOptions {
 public:
  std::unique_ptr<SolverOptions> clone() const override {
    return std::make_unique<SolverOptionsOf>(*this);
  }
  void describe_into(Schema& schema) override { describe(schema, value); }
  Options value;
};

/// The "solver" section of an experiment, a variant keyed by "type":
///   {"type": name, "precision": ..., ...the keys of that type's options}.
/// It holds the options of every registered type (solver_types()), each with its defaults; only
/// the chosen type's are read from and written to a configuration, so the others keep their
/// defaults. Code reads a type's options with options<Struct>(name), e.g.
///   params.options<TransientSolverOptions>("transient").capacitance
///   newton_options(params)  (solvers/newton_layered.h: params.options<NewtonOptions>("newton"))
class SolverParams {
 public:
  std::string type = "layered";  ///< a registered type: layered, newton, ngspice, transient
  /// Arithmetic of the phases and the update, for every type: "auto" (float32 where the fused EP
  /// path of learning/fused_model.h or the backprop baseline trains, float64 elsewhere),
  /// "float64", or "float32" (only where the fused path or the baseline trains)
  std::string precision = "auto";

  /// Every registered type's default options.
  SolverParams();
  SolverParams(const SolverParams& other);
  SolverParams(SolverParams&& other) = default;
  SolverParams& operator=(const SolverParams& other);
  SolverParams& operator=(SolverParams&& other) = default;
  ~SolverParams();

  /// The options of solver type `name`. A name that is not registered, or another struct than
  /// the one registered for it, is a std::logic_error (a bug, not a user's mistake).
  template <class Options>
  Options& options(const std::string& name) {
    auto* held = dynamic_cast<SolverOptionsOf<Options>*>(&options_object(name));
    if (!held) throw std::logic_error("solver type \"" + name + "\" holds other options");
    return held->value;
  }
  template <class Options>
  const Options& options(const std::string& name) const {
    const auto* held = dynamic_cast<const SolverOptionsOf<Options>*>(&options_object(name));
    if (!held) throw std::logic_error("solver type \"" + name + "\" holds other options");
    return held->value;
  }
  /// The same, untyped (for the schema).
  SolverOptions& options_object(const std::string& name);
  const SolverOptions& options_object(const std::string& name) const;

 private:
  std::map<std::string, std::unique_ptr<SolverOptions>> options_;
};

/// Adds the variant `key` (the experiment's "solver") to `schema`: "type" chooses the solver,
/// "precision" goes with every type, then the chosen type's own keys. Unknown keys of the chosen
/// type are errors naming the key and listing the known ones.
void describe_solver(Schema& schema, const std::string& key, const std::string& doc,
                     SolverParams& params);

/// The section as a resolved configuration holds it: {"type", "precision", ...that type's keys}.
json to_json(const SolverParams& params);

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

/// A registered solver type: its name (the value of solver.type), a one-line doc, a factory of
/// its default options, and the factory of its solver for a network (from the SolverParams,
/// whose options of this type it reads).
struct SolverType {
  std::string name;
  std::string doc;
  std::function<std::unique_ptr<SolverOptions>()> default_options;
  std::function<std::unique_ptr<EquilibriumSolver>(const SolverParams&,
                                                   const circuits::LayeredNetwork&)>
      make;
};

/// Every solver type, in the order documented. The registry is in solvers/equilibrium.cpp: a new
/// type is its own solver file plus one line there.
const std::vector<SolverType>& solver_types();

/// Makes the solver named by params.type for `net` with that type's options; throws ConfigError
/// naming solver.type when the name is not registered or the solver does not apply (the layered
/// solver needs ideal diodes or none).
std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& params,
                                               const circuits::LayeredNetwork& net);

/// The "layered" solver (CoordinateDescentSolver below) with `options`; throws ConfigError naming
/// solver.type for a network with Shockley diodes.
std::unique_ptr<EquilibriumSolver> make_layered_solver(const LayeredSolverOptions& options,
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
