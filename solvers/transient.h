#pragma once
/// Transient simulation of a circuits::Circuit: the modified nodal equations of solvers/mna.h with
/// charges, integrated in time by SUNDIALS IDA (variable-order BDF) with the KLU sparse direct
/// solver.
///
/// The DAE is
///   F(x) + d/dt Q(x) = 0,
/// with x and F(x) exactly the unknowns and residual of the DC solver (the same stamps of every
/// element kind, circuits/element.h, at time t: sources follow their waveforms; EP nudges), and
/// Q(x) the charges of the kinds that have one (a capacitor's C (v_a - v_b) at its nodes, a
/// memristor's state, ...) plus the per-node capacitances to ground (C_a v_a); d/dt Q(x) =
/// dQ/dx x'. The Jacobian handed to KLU is dF/dx + c_j dQ/dx (IDA's iteration matrix,
/// c_j = alpha / h). The solver knows no element kind: complementarity elements (ideal diodes),
/// impulsive branches (voltage sources, VCVS outputs) and differential unknowns come from the
/// kinds' hooks.
///
/// Ideal diodes, the exact analogue of the DC solver's complementarity conditions: each is ON
/// (branch row c (v_anode - v_cathode) = 0, current unknown) or OFF (row i = 0). IDA's root finding
/// watches an OFF diode's voltage V for an upward crossing of +eps and an ON diode's current for a
/// downward crossing of -c eps (eps = 1e-3 atol, so that a diode that has just switched is not
/// sitting on its own root); at a root the diode switches and the integration restarts there
/// (IDAReInit, then IDACalcIC).
///
/// Consistent initial conditions, at t = 0 and at every restart:
///  1. Ideal diodes start ON where V > -atol (OFF otherwise).
///  2. Charge jump: where an impulsive branch (voltage source, VCVS output, ON ideal diode) is
///     not satisfied by the state carried over (a source that stepped, a clamp switched on), the
///     node voltages jump so that it is, with no charge created at any node: finite currents move
///     no charge in zero time, so C dv + (impulse of the voltage-defined branch currents) = 0 at
///     every node. The impulse energy the sources deliver (V times the charge they move) and the
///     part lost in the jump (1/2 C dv^2 for a capacitor to ground) are reported.
///  3. The algebraic unknowns and the derivatives of the differential ones then follow from
///     F(x) + C x' = 0 with the differential unknowns held: the problem IDACalcIC solves with
///     IDA_YA_YDP_INIT, solved here by Newton's method with its exact Jacobian (dF/dx in the
///     algebraic columns, dQ/dx in the differential ones; KLU), one linear solve when the circuit is
///     piecewise linear. (IDACalcIC replaces C by dF/dx + C / h_ic in the differential columns and
///     its line search failed on two-hidden-layer DRNs.) Differential (IDASetId 1): node voltages
///     with capacitance that are not held by a chain of voltage-defined branches to ground (in a
///     chain not reaching ground, the node with the largest capacitance). Algebraic: every branch
///     current, every node without capacitance, every node held by sources or ON diodes. A
///     source or ON diode holding a node that has capacitance gives the DAE an index-2
///     structure, so algebraic unknowns are left out of the local error test
///     (IDASetSuppressAlg: the IDA guide encourages it for index >= 2). IDA restarts from the
///     consistent point (IDAReInit).
///  4. The ideal diodes' set is checked at the consistent point (an ON diode with current below
///     -c eps or an OFF diode with V above eps switches) and steps 2-4 repeat until it holds;
///     should the set cycle at one instant, the last consistent set is kept and the root
///     functions take over. A phase that ends with an ideal diode conducting backwards or
///     forward biased (beyond c atol, atol) fails.
/// An extra unknown with a charge (dQ/dx != 0 on its diagonal: a memristor's state, ...) is
/// differential; a state's absolute tolerance is atol (dimensionless), a current's atol * c. The
/// DC solvers reject memristors, so use the "slew" criterion or stop_time with them.
///
/// A circuit with capacitance at every node is thus an ODE in the node voltages except at the
/// nodes held by sources (and by ON ideal diodes).
///
/// Settling: a phase is settled at the first time t_s from which the criterion holds and keeps
/// holding until t_s (1 + hold) (the simulation ends there, or at max_duration if that is
/// earlier). Criteria (both watched by an IDA root
/// function, so t_s is located to IDA's root tolerance, not to a step):
///   "final": max over nodes |v - v_dc| <= final_tol (V), v_dc the phase's DC operating point from
///            NewtonSolver (same circuit, same nudges);
///   "slew":  max over nodes |dv/dt| <= slew_tol (V/s).
/// The settling time is as accurate as the solution near it: keep rtol |v| + atol well below
/// final_tol (the defaults, 1e-8 and 1e-10 V against 1e-6 V, give t_s to about 1e-4).
///
/// KLU: the pattern is the MNA pattern (solvers/mna.h) with the charges' entries, constant over
/// a solver's life; AMD ordering, as NewtonSolver. SUNDIALS' KLU module analyses and factorises
/// afresh after every IDAReInit (its initialize sets first_factorize) and otherwise refactorises
/// with the old pivots, factorising afresh when KLU's rcond estimate falls below uround^(2/3).
///
/// Energies: after every IDA step (and up to every event) the element powers are integrated over
/// the step by Gauss-Legendre quadrature of IDA's interpolating polynomial (IDAGetDky, which the
/// IDA guide states is valid on [t_n - h_u, t_n], the last step). The polynomial has the degree q
/// of the order used (IDAGetLastOrder, q <= 5), so q + 1 points integrate quadratic powers
/// (conductances, sources) exactly on it and the energies are as accurate as the solution. Powers
/// (each kind's `power`): dissipated g (v_a - v_b)^2 in a conductance and I V in a diode (0 for
/// ideal ones); delivered -i E by a voltage source (SPICE current sign), I (v_to - v_from) by a
/// current source, -i (v_out+ - v_out-) by a VCVS, -I (v_out+ - v_out-) by a VCCS, beta (target -
/// v) v by a nudge. Stored: each kind's stored_energy (1/2 C v^2 of a capacitor, ...) and
/// 1/2 C_a v_a^2 of the node capacitances. Power balance: sources + controlled + nudges =
/// conductances + diodes + memristors + impulse + stored_change.
#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "circuits/circuit.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

/// When a transient counts as settled (see the file comment).
enum class SettleCriterion { Final, Slew };

/// "final" or "slew"; throws ConfigError naming `path` otherwise.
SettleCriterion parse_settle_criterion(const std::string& name, const std::string& path);

struct TransientOptions {
  double rtol = 1e-8;   ///< IDA relative tolerance
  double atol = 1e-10;  ///< V: IDA absolute tolerance of node voltages; currents get atol * c (A)
  SettleCriterion settle = SettleCriterion::Final;
  double final_tol = 1e-6;     ///< V: "final" criterion
  double slew_tol = 1e6;       ///< V/s: "slew" criterion
  double hold = 1.0;           ///< the criterion must keep holding until t_s (1 + hold)
  double max_duration = 1e-6;  ///< s: a phase not settled by then fails
  long max_steps = 100000;     ///< IDA steps per phase
  long max_events = 10000;     ///< ideal-diode switches per phase
  /// F: capacitance from each node to ground (empty: none; else one value per node).
  Eigen::VectorXd node_capacitance;
  /// S: conductance scale c of the ideal diodes' ON rows and of the current tolerances
  /// (0: the mean positive conductance of the circuit, 1 S if none).
  double ideal_diode_scale = 0.0;
  /// s: > 0 runs the phase to exactly this time instead (a SPICE .tran): no settling criterion
  /// is watched, max_duration does not apply, and the settled figures are those at stop_time
  /// (settling_time = stop_time).
  double stop_time = 0.0;
  /// s: > 0 caps IDA's step size (SPICE's tmax), so the observer sees the waveform that densely.
  double max_step = 0.0;
  /// s: with stop_time, times in (0, stop_time) where the integration stops and restarts (a
  /// waveform's corners, as SPICE's breakpoints): no step straddles one. Sorted or not. (Source
  /// waveforms belong to the sources: circuits::VoltageSource::waveform. The "final"
  /// criterion's DC point does not follow them: use them with stop_time.)
  std::vector<double> breakpoints;
  /// Also report the energy of every element (TransientResult::elements_*).
  bool element_energies = false;
  /// Called with (t, x) at t = 0, after every IDA step and after every restart; x holds every
  /// unknown (circuits::UnknownLayout): the node voltages first, then the elements' branch
  /// currents and states, kind by kind.
  std::function<void(double t, const Eigen::VectorXd& x)> observer;
};

/// Energies of a transient over [0, t], joules.
struct TransientEnergy {
  double sources = 0.0;        ///< delivered by independent voltage and current sources
  double controlled = 0.0;     ///< delivered by VCVS and VCCS
  double nudges = 0.0;         ///< delivered by the nudges beta (target - v)
  double conductances = 0.0;   ///< dissipated in conductances
  double diodes = 0.0;         ///< dissipated in diodes (Shockley; 0 for ideal ones)
  double memristors = 0.0;     ///< dissipated in memristors (i v)
  double impulse = 0.0;        ///< lost in instantaneous charge jumps (1/2 C dv^2 to ground)
  double stored_change = 0.0;  ///< 1/2 v^T C v at t minus at t = 0 (before any jump)
  /// Delivered minus dissipated minus stored: 0 up to the integration error.
  double balance() const {
    return sources + controlled + nudges - conductances - diodes - memristors - impulse -
           stored_change;
  }
};

/// Energy per element (joules, same signs as TransientEnergy): per kind (registration order), per
/// element of the kind's list; and per nudge.
struct ElementEnergies {
  std::vector<std::vector<double>> kinds;
  std::vector<double> nudges;
  /// The energies of kind `Element`'s elements.
  template <class Element>
  const std::vector<double>& of() const {
    return kinds[circuits::kind_index<Element>()];
  }
};

struct TransientResult {
  Eigen::VectorXd voltages;                        ///< V per node at the end of the phase
  Eigen::VectorXd unknowns;  ///< x (circuits::UnknownLayout) at the end of the phase
  /// Per complementarity element (ideal diode; solvers::complementarities order): ON at the end.
  std::vector<char> modes;
  double settling_time = 0.0;                      ///< s
  double end_time = 0.0;                           ///< s: settling_time (1 + hold)
  TransientEnergy energy_settled;                  ///< over [0, settling_time]
  TransientEnergy energy_end;                      ///< over [0, end_time]
  ElementEnergies elements_settled, elements_end;  ///< with options.element_energies
  double power_end = 0.0;  ///< W dissipated (conductances, diodes, memristors) at end_time
  long steps = 0;          ///< IDA steps
  long residual_evaluations = 0;
  long jacobian_evaluations = 0;
  long events = 0;    ///< ideal-diode switches
  long restarts = 0;  ///< IDAReInit + IDACalcIC
};

/// One solver per circuit structure; not thread-safe (build one per thread).
class TransientSolver {
 public:
  /// Analyses the structure of `circuit` (the MNA pattern with the charges' entries); later
  /// runs may change element values, node capacitances and nudges, not the structure.
  explicit TransientSolver(const circuits::Circuit& circuit, TransientOptions options = {});
  ~TransientSolver();
  TransientSolver(TransientSolver&&) noexcept;
  TransientSolver& operator=(TransientSolver&&) noexcept;
  TransientSolver(const TransientSolver&) = delete;
  TransientSolver& operator=(const TransientSolver&) = delete;

  /// Simulates one phase: from `initial` (at t = 0-: V per node, e.g. the end of the previous
  /// phase, the elements' states from their initial values (a memristor's x0); or every unknown,
  /// e.g. a DC operating point's or a previous phase's, so that the currents and states that
  /// cannot jump carry over; the sources and nudges of `circuit` and `nudges` switch on at t = 0)
  /// until settled. Throws physlearn::SolverError naming `phase`, the time reached and the reason (IDA's
  /// return flag and message, too many steps or events, not settled within max_duration),
  /// physlearn::Error for invalid values.
  TransientResult run(const circuits::Circuit& circuit, const std::vector<Nudge>& nudges,
                      const Eigen::VectorXd& initial, const std::string& phase);

  TransientOptions& options();
  const TransientOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace physlearn::solvers
