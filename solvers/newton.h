#pragma once
/// DC operating point of a circuits::Circuit by Newton's method on the modified nodal analysis
/// (MNA) equations (solvers/mna.h), with the limiting of linearised elements (SPICE's junction
/// limiting for Shockley diodes, circuits/elements/diode.h) and a primal-dual active set
/// (semismooth Newton) for complementarity elements (ideal diodes). Newton knows no element kind:
/// it reaches them through circuits/element.h.
///
/// Ideal diodes obey the complementarity conditions I >= 0, V <= 0, I V = 0 (V = v_anode -
/// v_cathode, I anode -> cathode). Written as the semismooth equation min(I, -c V) = 0 with a
/// conductance scale c > 0, a diode is ON (row c (v_anode - v_cathode) = 0) when I + c V >= 0 and
/// OFF (row I = 0) otherwise, and the set is re-chosen at every Newton iterate (primal-dual active
/// set). For resistive networks with diodes to ground (M-matrix problems) this is exact and
/// settles in a few sets. Should the sets cycle (possible for diodes between arbitrary nodes),
/// the solver goes on with Murty's least-index rule (one flip per solved set; finite for positive
/// definite problems). Every set is made structurally solvable before use: an ON diode that
/// would close a loop of voltage sources and ON diodes is turned OFF, and an OFF diode is turned
/// ON where a group of nodes would otherwise have no DC path to ground.
///
/// Convergence: no Shockley junction limited, every ideal diode complementary within tolerance,
/// every residual within tolerance (see NewtonOptions) and, with Shockley diodes, the last update
/// below tolerance too (as SPICE requires; a residual alone can hide residual / g volts at a
/// high-impedance node), or, at the rounding floor of an ill-conditioned circuit, three iterates
/// in a row with every residual within tolerance.
///
/// The sparse LU factorisation (KLU) analyses the constant MNA pattern once per solver; each
/// iteration only refactorises the values, so solving a circuit whose element VALUES change
/// (training) reuses the symbolic analysis.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "circuits/circuit.h"
#include "core/schema.h"

namespace physlearn::solvers {

/// Tolerances and limits of NewtonSolver. Residual tests: each node's KCL imbalance below
/// abstol + reltol * (sum of |currents| at the node), each source equation's below vntol + reltol
/// * (its scale). Update tests: below vntol + reltol |v| for every voltage, abstol + reltol |i|
/// for every branch current. An ideal diode is complementary when I >= -(abstol + reltol s),
/// V <= vntol + reltol (|v_a| + |v_c|), and one of the two is within that tolerance of 0.
struct NewtonOptions {
  double abstol = 1e-14;     ///< A: absolute KCL residual per node
  double vntol = 1e-12;      ///< V: absolute tolerance on voltage updates and source equations
  double reltol = 1e-12;     ///< relative tolerance on residuals and updates
  int max_iterations = 200;  ///< Newton iterations (linear solves) per solve
  int max_active_set_iterations = 100;  ///< changes of the ideal diodes' ON/OFF set per solve
  bool junction_limiting = true;        ///< SPICE pnjlim on Shockley junction voltages
  /// S: the conductance c in the ideal diodes' switching rule I + c V >= 0 and in their ON row
  /// c (v_a - v_c) = 0; 0 picks the mean of the circuit's positive conductances (1 S if none).
  double ideal_diode_scale = 0.0;
};

void describe(Schema& schema, NewtonOptions& options);

/// Equilibrium Propagation's nudge at one node: the current beta (target - v_node) (amperes) is
/// injected into `node`, i.e. a conductance beta (siemens, may be negative) to a voltage source at
/// `target` (volts), in Norton form.
struct Nudge {
  int node;
  double beta;
  double target;
};

/// A DC solution.
struct OperatingPoint {
  Eigen::VectorXd voltages;  ///< V, per node index
  /// Every unknown (circuits::UnknownLayout): the node voltages, then the elements' branch
  /// currents (A, SPICE's sign: into a source's plus terminal, anode -> cathode for a diode).
  Eigen::VectorXd unknowns;
  int iterations = 0;          ///< Newton iterations (linear solves) used
  int active_set_changes = 0;  ///< times the ideal diodes' ON/OFF set changed
  double residual_norm = 0.0;  ///< A, max |KCL residual| over nodes at the returned point

  /// The current of the element named `name` (its kind's `current`: a branch current, g v for a
  /// conductance, I(V) for a Shockley diode); NaN for a kind without one.
  double current(const circuits::Circuit& circuit, const std::string& name) const;
};

/// One solver per circuit structure; not safe to use from several threads at once (build one
/// per thread).
class NewtonSolver {
 public:
  /// Analyses the structure of `circuit` (nodes, element terminals, their unknowns) and the sparse
  /// pattern of its MNA Jacobian. Later solves may change element values, not structure.
  explicit NewtonSolver(const circuits::Circuit& circuit, NewtonOptions options = {});
  ~NewtonSolver();
  NewtonSolver(NewtonSolver&&) noexcept;
  NewtonSolver& operator=(NewtonSolver&&) noexcept;
  NewtonSolver(const NewtonSolver&) = delete;
  NewtonSolver& operator=(const NewtonSolver&) = delete;

  /// Solves for the operating point of `circuit` (same structure as at construction) with the
  /// nudges added. `initial_voltages` (per node) is the starting point and also chooses the first
  /// ideal-diode set (ON where v_anode - v_cathode > -vntol, e.g. the previous solution); without
  /// it Newton starts from 0 V with the ideal diodes OFF (but for those the structure needs ON).
  /// Throws physlearn::SolverError for a floating node (named), a singular matrix (naming the
  /// unknown), a circuit with no operating point (naming the ideal diode), or no convergence
  /// (naming the iteration count, the residual and the worst node), or a circuit whose structure
  /// differs from the constructor's; physlearn::Error for invalid element values or a nudge at a
  /// node that does not exist.
  OperatingPoint solve(const circuits::Circuit& circuit, const std::vector<Nudge>& nudges = {},
                       const Eigen::VectorXd* initial_voltages = nullptr);

  const NewtonOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The currents (A) of every element of kind `Element` at the operating point, in list order: a
/// voltage source's or VCVS's branch current (SPICE sign), a diode's anode -> cathode, ...
std::vector<double> kind_currents(const circuits::Circuit& circuit, const OperatingPoint& op,
                                  std::size_t kind);
template <class Element>
std::vector<double> currents(const circuits::Circuit& circuit, const OperatingPoint& op) {
  return kind_currents(circuit, op, circuits::kind_index<Element>());
}

/// Max over nodes of |sum of currents leaving the node| (A) at the operating point's unknowns,
/// every element evaluated exactly there (Shockley diodes at their own voltage, not at a
/// linearisation point; branch currents as given), plus the nudges' injected beta (target - v).
/// For another solver's answer (ngspice's) too.
double kcl_residual(const circuits::Circuit& circuit, const OperatingPoint& op,
                    const std::vector<Nudge>& nudges = {});

}  // namespace physlearn::solvers
