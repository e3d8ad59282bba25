#pragma once
/// Modified nodal analysis (MNA) of a circuits::Circuit, with no knowledge of any element kind:
/// the unknowns' layout (circuits::UnknownLayout), the constant sparsity pattern of the matrices
/// the solvers factorise, and the assembly of the residual F(x), the row scales and dF/dx (and of
/// the charges' dQ/dx for the transient) from every kind's stamps (circuits/element.h).
///
/// Unknowns x = [v (one per node, volts); the elements' extra unknowns (branch currents, states),
/// kind by kind]. Residual F(x) (solved as F(x) = 0): node row k holds the sum of the currents
/// leaving node k through its elements (amperes); an element's own rows hold its equations (a
/// voltage source's v_plus - v_minus - volts, an ideal diode's c V or i, ...). Node index -1
/// (ground) has neither a row nor a column.
///
/// Equilibrium Propagation's nudges are the solvers' own input, not elements: NudgeTerm injects
/// beta (target - v_node) into a node (a conductance beta to a source at `target`, Norton form).
#include <Eigen/Dense>
#include <limits>
#include <string>
#include <vector>

#include "circuits/circuit.h"

namespace physlearn::solvers {

using circuits::Assembly;
using circuits::Complementarity;
using circuits::KindState;
using circuits::UnknownLayout;

struct NudgeTerm {
  int node;
  double beta;
  double target;
};

/// Compressed sparse column pattern (row indices sorted within each column) holding every entry
/// any stamp can touch for any element values, mode or nudge (every node diagonal is included so
/// that nudges at any node fit), so it never changes between solves; and every element's
/// positions in it, as circuits::Instance per element of each kind.
class MnaPattern {
 public:
  MnaPattern() = default;
  /// `with_charge`: the charges' entries too (the transient's F + c dQ/dx); without, dF/dx only.
  MnaPattern(const circuits::Circuit& circuit, const UnknownLayout& layout, bool with_charge);
  MnaPattern(const MnaPattern&) = delete;
  MnaPattern& operator=(const MnaPattern&) = delete;

  int size() const { return size_; }
  int nonzeros() const { return static_cast<int>(row_indices_.size()); }
  /// Position in the value array of entry (row, col); -1 when absent or either is ground.
  int position(int row, int col) const;
  const std::vector<int>& column_starts() const { return column_starts_; }
  const std::vector<int>& row_indices() const { return row_indices_; }
  /// The elements of kind `kind`, with their unknowns and entry positions.
  const std::vector<circuits::Instance>& instances(std::size_t kind) const {
    return instances_[kind];
  }

 private:
  int size_ = 0;
  std::vector<int> column_starts_;  // size + 1
  std::vector<int> row_indices_;
  std::vector<std::vector<circuits::Instance>> instances_;
  std::vector<int> positions_;  // every element's entries, then charge entries
};

/// An ideal diode (or any complementarity element) of the circuit: its kind and index, and the
/// constraint (circuits/element.h), in kind and element order.
struct ComplementarityRef {
  std::size_t kind = 0;
  std::size_t index = 0;
  Complementarity c;
};
std::vector<ComplementarityRef> complementarities(const circuits::Circuit& circuit,
                                                  const MnaPattern& pattern);

/// Per kind, the solver's state of its elements (modes, linearisation points), sized for
/// `circuit`: modes for every element of a kind with complementarity elements, points for every
/// element of a kind with nonlinear ones (empty otherwise).
std::vector<KindState> make_states(const circuits::Circuit& circuit, const UnknownLayout& layout);

/// What the assembly evaluates at: the unknowns, the time (NaN at DC), the conductance scale of
/// complementarity rows, and the states (null: all OFF, nonlinear elements exact).
struct AssemblyPoint {
  const double* x = nullptr;
  double time = std::numeric_limits<double>::quiet_NaN();
  double conductance_scale = 1.0;
  const std::vector<KindState>* states = nullptr;
};

/// Stamps every element of `circuit` and the nudges into `out` (which holds residual, scales and,
/// when it wants one, the Jacobian on `pattern`).
void assemble(const circuits::Circuit& circuit, const MnaPattern& pattern,
              const AssemblyPoint& at, const std::vector<NudgeTerm>& nudges, Assembly& out);

/// Adds every element's charge terms: dQ/dx xp into the residual (when xp) and scale * dQ/dx into
/// the Jacobian (when `out` wants one).
void assemble_charge(const circuits::Circuit& circuit, const MnaPattern& pattern,
                     const double* x, const double* xp, double scale, Assembly& out);

/// S: the conductance scale c of the complementarity rows: `given` when > 0, else the mean of
/// the circuit's positive conductances (1 S if none).
double conductance_scale(const circuits::Circuit& circuit, double given);

/// Groups of nodes joined by DC paths that hold whatever the modes: every kind's dc_paths
/// (conductances > 0, Shockley diodes, voltage sources, VCVS outputs, self-controlled VCCS, ...)
/// and nudges with beta != 0 (to ground; `nudge_nodes`). Capacitors are open at DC;
/// ideal diodes are left out (join them as their mode requires).
circuits::NodeSets dc_groups(const circuits::Circuit& circuit, const std::vector<int>& nudge_nodes);

/// The nodes (in index order) not in ground's group of `groups`.
std::vector<int> floating_nodes(circuits::NodeSets& groups, int num_nodes);

/// The current of every element of kind `kind` at the unknowns `x` (circuits/element.h
/// `current`), in list order.
std::vector<double> kind_currents(const circuits::Circuit& circuit, const UnknownLayout& layout,
                                  const Eigen::VectorXd& x, std::size_t kind);

/// Every element's current at the unknowns `x` (circuits/element.h `current`): the element named
/// `name`'s, or NaN when it has none. Throws physlearn::Error for an unknown name.
double element_current(const circuits::Circuit& circuit, const UnknownLayout& layout,
                       const Eigen::VectorXd& x, const std::string& name);

}  // namespace physlearn::solvers
