#pragma once
/// Modified nodal analysis (MNA) of a circuits::Circuit: the layout of the unknowns, the constant
/// sparsity pattern of the Jacobian, and the one stamp function per element kind that adds both the
/// element's residual and its Jacobian entries.
///
/// Unknowns x = [v (one per node, volts); i_V (one per voltage source, amperes, SPICE sign);
///               i_E (one per VCVS, amperes, SPICE sign); i_D (one per ideal diode, amperes,
///               anode -> cathode)].
/// Residual F(x) (solved as F(x) = 0):
///   node row k:  sum of the currents leaving node k through its elements (amperes);
///   voltage source row:  v_plus - v_minus - volts (volts);
///   VCVS row:  (v_out+ - v_out-) - gain (v_ctrl+ - v_ctrl-) (volts);
///   ideal diode row, ON:  c (v_anode - v_cathode) (amperes; c is a conductance scale);
///   ideal diode row, OFF: i_D (amperes).
/// Node index -1 (ground) has neither a row nor a column.
///
/// A VCCS (SPICE's G card) has no unknown: its current gain (v_ctrl+ - v_ctrl-) leaves node out+
/// and enters node out- (it flows from out+ through the source to out-), so it adds to the
/// out+/out- node rows and puts +-gain in the control columns. Capacitors are open at DC: they are
/// not stamped, add nothing to the pattern and join no nodes in the floating-node check (the
/// transient solver, solvers/transient.h, adds their charges).
#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <vector>

#include "circuits/circuit.h"

namespace physlearn::solvers {

/// Where each unknown of the MNA system lives. Built from the circuit's structure only.
class MnaLayout {
 public:
  explicit MnaLayout(const circuits::Circuit& circuit);

  int num_nodes() const { return num_nodes_; }
  /// Total number of unknowns (rows and columns of the Jacobian).
  int size() const { return size_; }
  /// Row/column of the branch current of voltage source k.
  int voltage_source_row(int k) const { return num_nodes_ + k; }
  /// Row/column of the branch current of VCVS k.
  int vcvs_row(int k) const { return vcvs_begin_ + k; }
  /// Row/column of the branch current of diode k, or -1 when the diode is Shockley (no unknown).
  int diode_row(int k) const { return diode_rows_[static_cast<std::size_t>(k)]; }
  /// Index into the diode list of the ideal diode owning branch row `row`, or -1.
  int ideal_diode_of_row(int row) const;
  int num_ideal_diodes() const { return size_ - ideal_begin_; }
  /// First row of the ideal diodes' branch currents.
  int ideal_begin() const { return ideal_begin_; }

  /// A readable name of unknown `index` for messages: "v(x) (node 'x')", "i(V1) (current of
  /// voltage source 'V1')", ...
  std::string describe_unknown(const circuits::Circuit& circuit, int index) const;

  /// True when `circuit` has the same structure (node count, element counts, terminals, diode
  /// models) as the circuit this layout was built from; otherwise `why` says what differs.
  bool same_structure(const circuits::Circuit& circuit, std::string& why) const;

 private:
  int num_nodes_ = 0;
  int vcvs_begin_ = 0;
  int ideal_begin_ = 0;
  int size_ = 0;
  std::vector<int> diode_rows_;
  std::vector<int> ideal_diodes_;  // diode index per ideal row, in row order
  // Structure fingerprint: every element's terminals in list order, then the diode models.
  std::vector<int> terminals_;
  std::vector<std::size_t> counts_;
};

/// Positions in the Jacobian's value array of the four entries of a two-terminal branch between
/// a and b: (a,a), (a,b), (b,a), (b,b); -1 where a terminal is ground.
struct BranchSlots {
  int aa = -1;
  int ab = -1;
  int ba = -1;
  int bb = -1;
};

/// Compressed sparse column pattern of the Jacobian (row indices sorted within each column). It
/// holds every entry any stamp can touch for any element values, active set or nudge (every node
/// diagonal is included so that nudges at any node fit), so it never changes between solves.
class MnaPattern {
 public:
  MnaPattern() = default;
  MnaPattern(const circuits::Circuit& circuit, const MnaLayout& layout);

  int size() const { return size_; }
  int nonzeros() const { return static_cast<int>(row_indices_.size()); }
  /// Position in the value array of entry (row, col); throws std::logic_error if absent.
  int position(int row, int col) const;
  const std::vector<int>& column_starts() const { return column_starts_; }
  const std::vector<int>& row_indices() const { return row_indices_; }
  /// Entry positions of conductance k and of diode k (Shockley diodes only), found once so that
  /// assembling the many conductances of a dense layer needs no search.
  const BranchSlots& conductance_slots(std::size_t k) const { return conductance_slots_[k]; }
  const BranchSlots& diode_slots(std::size_t k) const { return diode_slots_[k]; }

 private:
  BranchSlots branch_slots(int a, int b) const;
  int size_ = 0;
  std::vector<BranchSlots> conductance_slots_;
  std::vector<BranchSlots> diode_slots_;
  std::vector<int> column_starts_;  // size + 1
  std::vector<int> row_indices_;
};

/// Collects residual (and optionally Jacobian) contributions of the stamps.
class MnaAssembly {
 public:
  /// With `pattern` null only the residual is assembled.
  MnaAssembly(int size, const MnaPattern* pattern);
  /// Clears residual, scales and Jacobian values.
  void clear();

  /// Adds `value` to residual row `row` (ignored for ground, row < 0) and |value| to its scale.
  void add_residual(int row, double value) {
    if (row < 0) return;
    residual[row] += value;
    scale[row] += std::abs(value);
  }
  /// Adds dF_row/dx_col (ignored when either is ground or no Jacobian is assembled).
  void add_jacobian(int row, int col, double value) {
    if (row < 0 || col < 0 || pattern_ == nullptr) return;
    jacobian_values[static_cast<std::size_t>(pattern_->position(row, col))] += value;
  }
  /// Adds `value` at a position of the pattern's value array (ignored when position < 0).
  void add_jacobian_at(int position, double value) {
    if (position < 0 || pattern_ == nullptr) return;
    jacobian_values[static_cast<std::size_t>(position)] += value;
  }
  bool has_jacobian() const { return pattern_ != nullptr; }
  /// The pattern, or null when only the residual is assembled.
  const MnaPattern* pattern() const { return pattern_; }

  /// F(x): amperes for node rows, volts for source rows, amperes for ideal diode rows.
  Eigen::VectorXd residual;
  /// Sum of the magnitudes of the terms added to each row: the scale for relative tolerances.
  Eigen::VectorXd scale;
  /// Jacobian values aligned with the pattern's entries (empty without a pattern).
  std::vector<double> jacobian_values;

 private:
  const MnaPattern* pattern_ = nullptr;
};

/// Current and small-signal conductance of a Shockley diode at junction voltage V:
///   I = Is (exp(V / (n Vt)) - 1) + gmin V,  dI/dV = Is / (n Vt) exp(V / (n Vt)) + gmin.
/// Beyond V / (n Vt) = 600 the exponential is continued linearly (finite, C1) so that no
/// iterate overflows; no converged operating point of a sane circuit gets there.
struct DiodeEvaluation {
  double current = 0.0;      ///< amperes, anode -> cathode
  double conductance = 0.0;  ///< siemens
};
DiodeEvaluation shockley(const circuits::Diode& diode, double volts);

/// n Vt = n k T / q, volts.
double emission_thermal_voltage(const circuits::Diode& diode);

/// SPICE's critical voltage vcrit = n Vt ln(n Vt / (sqrt(2) Is)), volts: above it the
/// exponential is steep enough that Newton steps must be limited.
double critical_voltage(const circuits::Diode& diode);

/// SPICE's junction limiting (pnjlim, as in ngspice DEVpnjlim): the new junction voltage
/// `proposed` is pulled towards `previous` so that the diode current changes by a bounded factor.
/// Above vcrit a forward step becomes logarithmic: previous + nVt ln(1 + (proposed -
/// previous)/nVt); a reverse step is bounded by -previous - 1 (previous > 0) or 2 previous - 1
/// volts. Sets `limited` when the returned value differs from `proposed`.
double limit_junction(double proposed, double previous, double nvt, double vcrit, bool& limited);

/// Per-solve state the stamps need besides x.
struct MnaState {
  /// Per diode (all diodes, circuit order): ideal diode ON (short) or OFF (open). Unused for
  /// Shockley diodes.
  std::vector<char> diode_on;
  /// Per diode: the (limited) junction voltage at which a Shockley diode is linearised. The
  /// diode's current in the residual is I(Vj) + dI/dV(Vj) (V - Vj), which is I(V) when V = Vj.
  std::vector<double> junction_voltage;
  /// Conductance scale c of the ideal diodes' ON rows (siemens).
  double ideal_diode_scale = 1.0;
};

/// One stamp per element kind: each adds the element's residual terms and, when the assembly has
/// a pattern, its Jacobian entries. `x` is the unknown vector of `layout`.
/// `slots` are the element's entry positions (a default BranchSlots when out has no Jacobian).
void stamp(const circuits::Conductance& element, const BranchSlots& slots, const Eigen::VectorXd& x,
           MnaAssembly& out);
void stamp(const circuits::VoltageSource& element, int branch_row, const Eigen::VectorXd& x,
           MnaAssembly& out);
void stamp(const circuits::CurrentSource& element, MnaAssembly& out);
void stamp(const circuits::Vcvs& element, int branch_row, const Eigen::VectorXd& x,
           MnaAssembly& out);
/// VCCS: the current gain (v_ctrl+ - v_ctrl-) (amperes) leaves out+ and enters out- (SPICE's G).
void stamp(const circuits::Vccs& element, const Eigen::VectorXd& x, MnaAssembly& out);
/// Shockley diode linearised at `junction_voltage`, or ideal diode with branch row `branch_row`
/// in state `on` (see MnaState).
void stamp(const circuits::Diode& element, const BranchSlots& slots, int branch_row, bool on,
           double junction_voltage, double ideal_diode_scale, const Eigen::VectorXd& x,
           MnaAssembly& out);
/// Equilibrium Propagation nudge: current beta (target - v_node) injected into `node`
/// (a conductance beta to a source at `target`, Norton form).
void stamp_nudge(int node, double beta, double target, const Eigen::VectorXd& x, MnaAssembly& out);

/// Stamps every element of `circuit` and the nudges (node, beta, target) into `out`.
struct NudgeTerm {
  int node;
  double beta;
  double target;
};
void assemble(const circuits::Circuit& circuit, const MnaLayout& layout, const MnaState& state,
              const std::vector<NudgeTerm>& nudges, const Eigen::VectorXd& x, MnaAssembly& out);

/// Union-find over the nodes plus one vertex for ground (node index -1).
class DisjointSets {
 public:
  explicit DisjointSets(int num_nodes);
  /// The representative of `node` (kGround allowed).
  int find(int node);
  /// Joins the sets of a and b; returns false if they were already one set.
  bool join(int a, int b);
  bool connected(int a, int b) { return find(a) == find(b); }

 private:
  int vertex(int node) const { return node == circuits::kGround ? ground_ : node; }
  int ground_;
  std::vector<int> parent_;
};

/// Groups of nodes joined by DC paths that hold whatever the diodes' states: conductances with
/// g > 0, Shockley diodes, voltage sources, VCVS outputs, VCCS controlled by their own output
/// voltage (out+ and out- are the control nodes, either way round, gain != 0: a conductance of
/// +-gain), and nudges with beta != 0 (to ground; `nudge_nodes`). Other VCCS and current sources
/// are no DC path, nor are capacitors (open at DC). Ideal diodes are left out: join them as their
/// state requires.
DisjointSets dc_groups(const circuits::Circuit& circuit, const std::vector<int>& nudge_nodes);

/// The nodes (in index order) not in ground's group of `groups`.
std::vector<int> floating_nodes(DisjointSets& groups, int num_nodes);

}  // namespace physlearn::solvers
