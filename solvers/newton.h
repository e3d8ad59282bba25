#pragma once
/// DC operating point of a circuits::Circuit by Newton's method on the modified nodal analysis
/// (MNA) equations (solvers/mna.h), with SPICE's junction limiting for Shockley diodes and a
/// primal-dual active set (semismooth Newton) for ideal diodes.
///
/// Ideal diodes obey the complementarity conditions I >= 0, V <= 0, I V = 0 (V = v_anode -
/// v_cathode, I anode -> cathode). Written as the semismooth equation min(I, -c V) = 0 with a
/// conductance scale c > 0, a diode is ON (v_anode = v_cathode) when I + c V >= 0 and OFF (I = 0)
/// otherwise; the set is re-chosen at every Newton iterate until it stops changing. For
/// resistive networks with ideal diodes (M-matrix problems) this is exact and terminates.
///
/// The sparse LU factorisation (KLU) analyses the constant MNA pattern once per solver; each
/// iteration only refactorises the values, so solving a circuit whose element VALUES change
/// (training) reuses the symbolic analysis.
#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "circuits/circuit.h"
#include "core/schema.h"

namespace physlearn::solvers {

/// Tolerances and limits of NewtonSolver. A solve has converged when, with no junction limited
/// and the ideal diodes' active set consistent with the iterate, every node's KCL residual is
/// below abstol + reltol * (sum of |currents| at the node) and every source equation's below
/// vntol + reltol * (its scale); or when the last Newton update was below vntol + reltol |v| for
/// every voltage and abstol + reltol |i| for every branch current (the rounding floor).
struct NewtonOptions {
  double abstol = 1e-14;  ///< A: absolute KCL residual per node
  double vntol = 1e-12;   ///< V: absolute tolerance on voltage updates and source equations
  double reltol = 1e-12;  ///< relative tolerance on residuals and updates
  int max_iterations = 200;            ///< Newton iterations (linear solves) per solve
  int max_active_set_iterations = 100;  ///< changes of the ideal diodes' ON/OFF set per solve
  bool junction_limiting = true;  ///< SPICE pnjlim on Shockley junction voltages
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
  Eigen::VectorXd voltages;           ///< V, per node index
  std::vector<double> source_currents;  ///< A, per voltage source, SPICE sign (into plus)
  std::vector<double> vcvs_currents;    ///< A, per VCVS, SPICE sign (into out_plus)
  std::vector<double> diode_currents;   ///< A, anode -> cathode, per diode (all models)
  int iterations = 0;           ///< Newton iterations (linear solves) used
  int active_set_changes = 0;   ///< times the ideal diodes' ON/OFF set changed
  double residual_norm = 0.0;   ///< A, max |KCL residual| over nodes at the returned point
};

class NewtonSolver {
 public:
  /// Analyses the structure of `circuit` (nodes, element terminals, diode models) and the sparse
  /// pattern of its MNA Jacobian. Later solves may change element values, not structure.
  explicit NewtonSolver(const circuits::Circuit& circuit, NewtonOptions options = {});
  ~NewtonSolver();
  NewtonSolver(NewtonSolver&&) noexcept;
  NewtonSolver& operator=(NewtonSolver&&) noexcept;
  NewtonSolver(const NewtonSolver&) = delete;
  NewtonSolver& operator=(const NewtonSolver&) = delete;

  /// Solves for the operating point of `circuit` (same structure as at construction) with the
  /// nudges added. `initial_voltages` (per node) is the starting point and also chooses the first
  /// ideal-diode set (ON where v_anode - v_cathode > -vntol); without it Newton starts from 0 V
  /// with every ideal diode OFF.
  /// Throws physlearn::SolverError for a floating node (named), a singular matrix (naming the
  /// unknown), or no convergence (naming the iteration count, residual and worst node).
  OperatingPoint solve(const circuits::Circuit& circuit, const std::vector<Nudge>& nudges = {},
                       const Eigen::VectorXd* initial_voltages = nullptr);

  const NewtonOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Max over nodes of |sum of currents leaving the node| (A), computed directly from the element
/// laws: conductances g (v_a - v_b), Shockley diodes I(V) from the voltages, ideal diodes, voltage
/// sources and VCVS from the operating point's currents, current sources, and the nudges'
/// injected beta (target - v). Independent of the MNA assembly; meant for tests.
double kcl_residual(const circuits::Circuit& circuit, const OperatingPoint& op,
                    const std::vector<Nudge>& nudges = {});

}  // namespace physlearn::solvers
