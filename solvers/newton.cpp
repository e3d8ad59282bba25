#include "solvers/newton.h"

#include <klu.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>

#include "core/error.h"
#include "solvers/mna.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::kGround;
using circuits::node_voltage;
using circuits::NodeSets;

void describe(Schema& schema, NewtonOptions& options) {
  schema.field("abstol", options.abstol, "absolute tolerance on each node's KCL current imbalance")
      .unit("A")
      .greater(0.0);
  schema
      .field("vntol", options.vntol,
             "absolute tolerance on voltage updates and on source equations (v+ - v- - E)")
      .unit("V")
      .greater(0.0);
  schema
      .field("reltol", options.reltol,
             "relative tolerance: residual <= abstol + reltol * sum of |currents| at the node")
      .unit("1")
      .min(0.0);
  schema
      .field("max_iterations", options.max_iterations,
             "Newton iterations (linear solves) per solve")
      .min(1);
  schema
      .field("max_active_set_iterations", options.max_active_set_iterations,
             "changes of the ideal diodes' ON/OFF set allowed per solve")
      .min(1);
  schema.field("junction_limiting", options.junction_limiting,
               "limit Shockley junction voltage steps as SPICE's pnjlim does");
  schema
      .field("ideal_diode_scale", options.ideal_diode_scale,
             "conductance c of the ideal-diode switching rule I + c V >= 0 (0: mean conductance)")
      .unit("S")
      .min(0.0);
}

namespace {
/// Kinds the DC solvers do not take (memristors: their states evolve in time only).
void reject_unsupported(const Circuit& circuit) {
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const auto& group = circuit.group(kind);
    if (group.size() == 0 || group.dc_unsupported() == nullptr) continue;
    throw Error(cat("Newton: ", group.noun(), " ", group.name(0), ": ", group.dc_unsupported()));
  }
}
}  // namespace

struct NewtonSolver::Impl {
  NewtonOptions options;
  UnknownLayout layout;
  MnaPattern pattern;
  Assembly assembly;
  std::vector<int> column_starts;  // KLU takes non-const pointers
  std::vector<int> row_indices;
  klu_common common{};
  klu_symbolic* symbolic = nullptr;
  klu_numeric* numeric = nullptr;  ///< the last factorisation, refactored while it stays accurate
  double factored_rcond = 0.0;     ///< KLU's reciprocal condition estimate after a full factor
  /// A refactorisation is kept while its condition estimate stays above this fraction of the
  /// last full factorisation's (pivots that have become poor show up as a falling estimate).
  static constexpr double kRefactorRcond = 1e-3;

  Impl(const Circuit& circuit, NewtonOptions opts)
      : options(opts),
        layout(circuit),
        pattern(circuit, layout, false),
        assembly(layout.size(), pattern.nonzeros()),
        column_starts(pattern.column_starts()),
        row_indices(pattern.row_indices()) {
    reject_unsupported(circuit);
    klu_defaults(&common);
    if (layout.size() > 0) {
      symbolic = klu_analyze(layout.size(), column_starts.data(), row_indices.data(), &common);
      if (symbolic == nullptr)
        throw SolverError(cat("Newton: sparse analysis of the ", layout.size(),
                              "-unknown circuit "
                              "matrix failed (KLU status ",
                              common.status, ")"));
    }
  }

  ~Impl() {
    if (numeric != nullptr) klu_free_numeric(&numeric, &common);
    if (symbolic != nullptr) klu_free_symbolic(&symbolic, &common);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  /// Factorises the assembled Jacobian and overwrites `rhs` with J^{-1} rhs. Returns false (and
  /// sets `singular_column`) when the matrix is singular.
  bool factor_and_solve(Eigen::VectorXd& rhs, int& singular_column) {
    // Refactor with the pivot order of the last full factorisation (the same pattern, values that
    // change a little between iterations and samples), unless that loses accuracy: then, or
    // when it fails, a full factorisation with partial pivoting.
    bool refactored = false;
    if (numeric != nullptr) {
      refactored = klu_refactor(column_starts.data(), row_indices.data(),
                                assembly.jacobian.data(), symbolic, numeric, &common) &&
                   common.status == KLU_OK && klu_rcond(symbolic, numeric, &common) &&
                   common.rcond >= kRefactorRcond * factored_rcond;
      if (!refactored) klu_free_numeric(&numeric, &common);
    }
    if (!refactored) {
      numeric = klu_factor(column_starts.data(), row_indices.data(),
                           assembly.jacobian.data(), symbolic, &common);
      if (numeric == nullptr || common.status == KLU_SINGULAR) {
        singular_column = common.singular_col;
        if (numeric != nullptr) klu_free_numeric(&numeric, &common);
        return false;
      }
      factored_rcond = klu_rcond(symbolic, numeric, &common) ? common.rcond : 0.0;
    }
    if (!klu_solve(symbolic, numeric, layout.size(), 1, rhs.data(), &common)) {
      klu_free_numeric(&numeric, &common);
      singular_column = -1;
      return false;
    }
    return true;
  }
};

namespace {

/// Outcome of the convergence tests at one iterate.
struct Evaluation {
  bool residual_ok = true;    ///< every row within its tolerance
  bool complementary = true;  ///< every ideal diode: I >= 0, V <= 0, I V = 0 within tolerance
  int violating = -1;         ///< the first ideal diode (complementarity index) that breaks it
  double violating_current = 0.0;
  double violating_voltage = 0.0;
  double worst_residual = 0.0;  ///< A, max |KCL residual| over nodes
  int worst_node = -1;
};

/// A linearised element (kind, index) and its linearisation point's slot.
struct Linearised {
  std::size_t kind;
  std::size_t index;
};

/// One solve: the unknowns, the elements' states and the iteration bookkeeping.
class NewtonRun {
 public:
  using LinearSolve = std::function<bool(Eigen::VectorXd& rhs, int& singular_column)>;

  NewtonRun(const Circuit& circuit, const NewtonOptions& options, const UnknownLayout& layout,
            const MnaPattern& pattern, Assembly& assembly, const std::vector<Nudge>& nudges,
            const Eigen::VectorXd* initial_voltages);
  OperatingPoint run(const LinearSolve& linear_solve);

 private:
  double voltage(int j) const {
    const Complementarity& c = comps_[static_cast<std::size_t>(j)].c;
    return node_voltage(x_.data(), c.a) - node_voltage(x_.data(), c.b);
  }
  /// An ideal diode with both terminals on one node carries no current: it stays OFF.
  bool can_conduct(int j) const {
    const Complementarity& c = comps_[static_cast<std::size_t>(j)].c;
    return c.a != c.b;
  }
  /// Largest stamp scale of the diode's two nodes in the last assembly (amperes).
  double node_scale(const Complementarity& c) const {
    double scale = 0.0;
    if (c.a != kGround) scale = std::max(scale, assembly_.scale[c.a]);
    if (c.b != kGround) scale = std::max(scale, assembly_.scale[c.b]);
    return scale;
  }
  std::string diode_name(int j) const {
    const ComplementarityRef& r = comps_[static_cast<std::size_t>(j)];
    return circuit_.group(r.kind).name(r.index);
  }
  double& point(const Linearised& e) { return states_[e.kind].point[e.index]; }
  void check_nudges(const std::vector<Nudge>& nudges);
  void check_floating() const;
  void start(const Eigen::VectorXd* initial_voltages);
  /// Limits the linearised elements and re-chooses the ideal diodes' set at the new iterate.
  void update_elements();
  void choose_active_set();
  /// Copies the ideal diodes' set into their kinds' modes, for the stamps.
  void sync_modes();
  Evaluation evaluate() const;
  OperatingPoint operating_point(const Evaluation& evaluation) const;
  [[noreturn]] void fail_no_operating_point(const Evaluation& evaluation) const;
  [[noreturn]] void fail_not_converged(const Evaluation& evaluation) const;

  const Circuit& circuit_;
  const NewtonOptions& options_;
  const UnknownLayout& layout_;
  const MnaPattern& pattern_;
  Assembly& assembly_;
  std::vector<NudgeTerm> nudges_;
  std::vector<int> nudge_nodes_;  // nodes with beta != 0
  NodeSets groups_;               // DC groups without the ideal diodes
  Eigen::VectorXd x_;
  std::vector<KindState> states_;
  std::vector<ComplementarityRef> comps_;  // the ideal diodes, in kind and element order
  std::vector<int> row_of_;                // per unknown: the ideal diode whose row it is, or -1
  std::vector<Linearised> linearised_;
  std::vector<char> on_;         // per ideal diode: ON (short) or OFF (open)
  std::vector<double> score_;    // I + c V per ideal diode
  double c_ = 1.0;               // ideal diode conductance scale
  bool has_ideal_ = false;
  bool has_nonlinear_ = false;
  std::set<std::string> visited_;  // ON/OFF sets tried so far
  bool single_flip_ = false;       // Murty's rule after the active set method cycled
  // Per iteration:
  bool limited_ = false;  // a junction voltage was limited at this iterate
  bool changed_ = false;  // the diode set changed at this iterate
  bool stuck_ = false;    // the set rule was applied in full and chose the current set again
  bool previous_step_ok_ = false;     // the last update was below tolerance...
  bool previous_step_clean_ = false;  // ...and came from an unlimited, unchanged linearisation
  int changes_ = 0;
  int solves_ = 0;
  int floor_streak_ = 0;  // consecutive iterates with the residual within tolerance
};

/// Makes the ideal diodes' ON/OFF set structurally solvable without changing it where it already
/// is: (1) an ON diode that closes a loop of voltage-defined branches (every kind's
/// voltage_defined: voltage sources, VCVS outputs, ...; and ON diodes) is turned OFF; (2) an OFF
/// diode that joins two groups of nodes not yet joined by DC paths (dc_groups and ON diodes) is
/// turned ON, so every group reaches ground. Both steps take the diodes in decreasing order of
/// their switching score I + c V, so the least conducting give way first. Both kinds of set make
/// the MNA matrix singular whatever the element values, so no solvable set is ever changed.
/// Returns the number of diodes switched.
int repair_active_set(const Circuit& circuit, const std::vector<ComplementarityRef>& comps,
                      const NodeSets& groups, const std::vector<double>& score,
                      std::vector<char>& on) {
  const int n = circuit.num_nodes();
  std::vector<std::size_t> ideal;
  for (std::size_t j = 0; j < comps.size(); ++j)
    if (comps[j].c.a != comps[j].c.b) ideal.push_back(j);
  std::stable_sort(ideal.begin(), ideal.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  int switched = 0;

  NodeSets voltage_defined(n);
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    circuit.group(kind).voltage_defined(voltage_defined);
  for (std::size_t j : ideal) {
    if (!on[j]) continue;
    if (!voltage_defined.join(comps[j].c.a, comps[j].c.b)) {
      on[j] = 0;
      ++switched;
    }
  }

  NodeSets connected = groups;
  for (std::size_t j : ideal)
    if (on[j]) connected.join(comps[j].c.a, comps[j].c.b);
  for (std::size_t j : ideal) {
    if (on[j]) continue;
    if (connected.join(comps[j].c.a, comps[j].c.b)) {
      on[j] = 1;
      ++switched;
    }
  }
  return switched;
}

std::string list_nodes(const Circuit& circuit, const std::vector<int>& nodes, std::size_t max) {
  std::string text;
  for (std::size_t i = 0; i < nodes.size() && i < max; ++i)
    text += (i ? ", '" : "'") + circuit.node_name(nodes[i]) + "'";
  if (nodes.size() > max) text += cat(" and ", nodes.size() - max, " more");
  return text;
}

NewtonRun::NewtonRun(const Circuit& circuit, const NewtonOptions& options,
                     const UnknownLayout& layout, const MnaPattern& pattern, Assembly& assembly,
                     const std::vector<Nudge>& nudges, const Eigen::VectorXd* initial_voltages)
    : circuit_(circuit),
      options_(options),
      layout_(layout),
      pattern_(pattern),
      assembly_(assembly),
      groups_(circuit.num_nodes()),
      states_(make_states(circuit, layout)),
      comps_(complementarities(circuit, pattern)),
      row_of_(static_cast<std::size_t>(layout.size()), -1) {
  for (std::size_t j = 0; j < comps_.size(); ++j)
    row_of_[static_cast<std::size_t>(comps_[j].c.row)] = static_cast<int>(j);
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const auto& group = circuit.group(kind);
    if (states_[kind].point.empty()) continue;
    for (std::size_t k = 0; k < group.size(); ++k)
      if (group.nonlinear(k)) linearised_.push_back({kind, k});
  }
  check_nudges(nudges);
  groups_ = dc_groups(circuit_, nudge_nodes_);
  check_floating();
  start(initial_voltages);
}

void NewtonRun::check_nudges(const std::vector<Nudge>& nudges) {
  const int n = layout_.num_nodes();
  nudges_.reserve(nudges.size());
  for (const auto& nudge : nudges) {
    if (nudge.node < 0 || nudge.node >= n)
      throw Error(cat("Newton: nudge at node index ", nudge.node,
                      ": no such node (the circuit has ", n, " nodes besides ground)"));
    if (!std::isfinite(nudge.beta) || !std::isfinite(nudge.target))
      throw Error(cat("Newton: nudge at node '", circuit_.node_name(nudge.node),
                      "': beta = ", nudge.beta, ", target = ", nudge.target, ": must be finite"));
    nudges_.push_back({nudge.node, nudge.beta, nudge.target});
    if (nudge.beta != 0.0) nudge_nodes_.push_back(nudge.node);
  }
}

void NewtonRun::check_floating() const {
  NodeSets all_groups = groups_;
  for (const auto& r : comps_) all_groups.join(r.c.a, r.c.b);
  const std::vector<int> floating = floating_nodes(all_groups, layout_.num_nodes());
  if (floating.empty()) return;
  std::string message = cat("node '", circuit_.node_name(floating[0]),
                            "' is floating: no DC path to ground through conductances > 0, "
                            "diodes, voltage sources or VCVS outputs (capacitors are open at DC; "
                            "current sources and VCCS outputs fix no voltage)");
  if (floating.size() > 1)
    message +=
        cat(" (", floating.size(), " floating nodes: ", list_nodes(circuit_, floating, 10), ")");
  throw SolverError(message);
}

void NewtonRun::start(const Eigen::VectorXd* initial_voltages) {
  const int n = layout_.num_nodes();
  x_ = Eigen::VectorXd::Zero(layout_.size());
  if (initial_voltages != nullptr) {
    if (initial_voltages->size() != n)
      throw Error(cat("Newton: initial voltages have ", initial_voltages->size(),
                      " entries; the circuit has ", n, " nodes"));
    if (!initial_voltages->allFinite()) throw Error("Newton: initial voltages are not all finite");
    x_.head(n) = *initial_voltages;
  }
  c_ = conductance_scale(circuit_, options_.ideal_diode_scale);
  on_.assign(comps_.size(), 0);
  score_.assign(comps_.size(), 0.0);
  has_ideal_ = !comps_.empty();
  for (int j = 0; j < static_cast<int>(comps_.size()); ++j) {
    const double v = voltage(j);
    on_[static_cast<std::size_t>(j)] =
        initial_voltages != nullptr && can_conduct(j) && v > -options_.vntol;
    score_[static_cast<std::size_t>(j)] = c_ * v;
  }
  // Linearised elements start at a limited point (SPICE starts junctions no higher than vcrit;
  // a warm start is trusted further).
  for (const Linearised& e : linearised_) {
    has_nonlinear_ = true;
    const auto& group = circuit_.group(e.kind);
    const double v = group.point_voltage(e.index, x_.data());
    point(e) = group.start_point(e.index, x_.data(), initial_voltages != nullptr,
                                 options_.junction_limiting);
    limited_ = limited_ || point(e) != v;
  }
  if (has_ideal_) {
    repair_active_set(circuit_, comps_, groups_, score_, on_);
    visited_.insert(std::string(on_.begin(), on_.end()));
  }
}

void NewtonRun::sync_modes() {
  for (std::size_t j = 0; j < comps_.size(); ++j)
    states_[comps_[j].kind].mode[comps_[j].index] = on_[j];
}

void NewtonRun::update_elements() {
  for (int j = 0; j < static_cast<int>(comps_.size()); ++j)
    score_[static_cast<std::size_t>(j)] =
        x_[comps_[static_cast<std::size_t>(j)].c.row] + c_ * voltage(j);
  for (const Linearised& e : linearised_) {
    bool limited = false;
    point(e) = circuit_.group(e.kind).next_point(e.index, x_.data(), point(e),
                                                 options_.junction_limiting, limited);
    limited_ = limited_ || limited;
  }
  if (!has_ideal_) return;
  choose_active_set();
  if (changed_ && ++changes_ > options_.max_active_set_iterations)
    throw SolverError(cat(
        "Newton: the ideal diodes' ON/OFF set changed ", changes_,
        " times without settling (max_active_set_iterations = ", options_.max_active_set_iterations,
        "): the circuit may have no "
        "operating point (ideal diodes forward biased across a loop of "
        "voltage sources), or it needs a larger limit"));
}

void NewtonRun::choose_active_set() {
  std::vector<char> proposed = on_;
  if (!single_flip_) {
    // Primal-dual active set: ON where I + c V >= 0.
    for (int j = 0; j < static_cast<int>(comps_.size()); ++j)
      proposed[static_cast<std::size_t>(j)] =
          can_conduct(j) && score_[static_cast<std::size_t>(j)] >= 0.0;
    if (proposed != on_) {
      repair_active_set(circuit_, comps_, groups_, score_, proposed);
      if (proposed != on_ && !visited_.insert(std::string(proposed.begin(), proposed.end())).second) {
        // A set seen before: the active set method cycles (it is guaranteed not to only for
        // M-matrix problems). Go on with single flips.
        single_flip_ = true;
        proposed = on_;
      }
    }
    stuck_ = !single_flip_ && proposed == on_;
  }
  if (single_flip_ && (!has_nonlinear_ || (previous_step_ok_ && previous_step_clean_))) {
    // Murty's least-index rule, finite for positive definite problems: once the current set's
    // problem is solved, flip only the first diode that breaks complementarity. Node scales come
    // from the last assembly, at the previous iterate.
    for (int j = 0; j < static_cast<int>(comps_.size()); ++j) {
      if (!can_conduct(j)) continue;
      const Complementarity& c = comps_[static_cast<std::size_t>(j)].c;
      const double current = x_[c.row];
      const double va = node_voltage(x_.data(), c.a), vc = node_voltage(x_.data(), c.b);
      const bool flip =
          on_[static_cast<std::size_t>(j)]
              ? current < -(options_.abstol + options_.reltol * node_scale(c))
              : va - vc > options_.vntol + options_.reltol * (std::abs(va) + std::abs(vc));
      if (flip) {
        proposed[static_cast<std::size_t>(j)] = !proposed[static_cast<std::size_t>(j)];
        repair_active_set(circuit_, comps_, groups_, score_, proposed);
        stuck_ = proposed == on_;
        break;
      }
    }
  }
  changed_ = proposed != on_;
  on_ = proposed;
}

Evaluation NewtonRun::evaluate() const {
  const NewtonOptions& opt = options_;
  const int n = layout_.num_nodes();
  Evaluation e;
  for (int row = 0; row < layout_.size(); ++row) {
    const double scale = assembly_.scale[row];
    const double residual = std::abs(assembly_.residual[row]);
    double tol = 0.0;
    const int j = row_of_[static_cast<std::size_t>(row)];
    if (row < n) {
      tol = opt.abstol + opt.reltol * scale;
      if (residual > e.worst_residual || e.worst_node < 0) {
        e.worst_residual = residual;
        e.worst_node = row;
      }
    } else if (j < 0) {
      tol = opt.vntol + opt.reltol * scale;
    } else {
      const Complementarity& c = comps_[static_cast<std::size_t>(j)].c;
      const double current_tol = opt.abstol + opt.reltol * std::max(scale, node_scale(c));
      tol = on_[static_cast<std::size_t>(j)] ? c_ * opt.vntol + opt.reltol * scale : current_tol;
      // The complementarity conditions themselves, whatever set the repair chose.
      const double current = x_[row];
      const double va = node_voltage(x_.data(), c.a), vc = node_voltage(x_.data(), c.b);
      const double voltage_tol = opt.vntol + opt.reltol * (std::abs(va) + std::abs(vc));
      if (current < -current_tol || va - vc > voltage_tol ||
          (current > current_tol && va - vc < -voltage_tol)) {
        if (e.complementary) {
          e.violating = j;
          e.violating_current = current;
          e.violating_voltage = va - vc;
        }
        e.complementary = false;
      }
    }
    if (!(residual <= tol)) e.residual_ok = false;
  }
  return e;
}

OperatingPoint NewtonRun::operating_point(const Evaluation& evaluation) const {
  OperatingPoint op;
  op.voltages = x_.head(layout_.num_nodes());
  op.unknowns = x_;
  op.iterations = solves_;
  op.active_set_changes = changes_;
  op.residual_norm = evaluation.worst_residual;
  return op;
}

void NewtonRun::fail_no_operating_point(const Evaluation& e) const {
  const std::string name = diode_name(e.violating);
  if (e.violating_current < 0.0)
    throw SolverError(cat("Newton: no operating point: ideal diode '", name,
                          "' would have to conduct ", e.violating_current,
                          " A backwards, because the nodes on its two sides have no other DC "
                          "path between them (e.g. a current source pushing against it)"));
  throw SolverError(cat("Newton: no operating point: ideal diode '", name,
                        "' is forward biased (V = ", e.violating_voltage,
                        " V) but conducting would close a loop of voltage sources, VCVS outputs "
                        "and conducting ideal diodes whose voltages do not sum to zero"));
}

void NewtonRun::fail_not_converged(const Evaluation& e) const {
  std::string message = cat(
      "Newton did not converge in ", solves_, " iterations: max KCL residual ", e.worst_residual,
      " A at node '", e.worst_node < 0 ? std::string("?") : circuit_.node_name(e.worst_node),
      "' (tolerance ", options_.abstol, " A + ", options_.reltol, " relative)");
  if (limited_) message += "; Shockley junction voltages were still being limited";
  if (changed_) message += "; the ideal diodes' ON/OFF set was still changing";
  if (!e.complementary)
    message += cat("; ideal diode '", diode_name(e.violating),
                   "' still conducts backwards or is forward biased");
  throw SolverError(message);
}

OperatingPoint NewtonRun::run(const LinearSolve& linear_solve) {
  const int n = layout_.num_nodes();
  Eigen::VectorXd dx(layout_.size());
  for (int iteration = 0;; ++iteration) {
    changed_ = false;
    stuck_ = false;
    if (iteration > 0) update_elements();

    assembly_.clear();
    sync_modes();
    AssemblyPoint at;
    at.x = x_.data();
    at.conductance_scale = c_;
    at.states = &states_;
    assemble(circuit_, pattern_, at, nudges_, assembly_);
    const Evaluation e = evaluate();

    // A Newton update below tolerance, computed without limiting from the same diode set.
    const bool step_small = previous_step_ok_ && previous_step_clean_ && !changed_;
    // Piecewise-linear circuits are solved exactly once the set is right, so a small residual
    // is enough; with linearised elements a small residual can hide residual / g volts at a
    // high-impedance node, so the update must be small too (as SPICE requires). At the rounding
    // floor of an ill-conditioned circuit (huge currents next to tiny conductances) the residual
    // can sit within tolerance while the updates stay above vntol without shrinking: three such
    // iterates in a row are accepted.
    floor_streak_ = e.residual_ok && !limited_ && !changed_ ? floor_streak_ + 1 : 0;
    const bool converged =
        !limited_ && e.complementary &&
        (e.residual_ok ? (!has_nonlinear_ || step_small || floor_streak_ >= 3) : step_small);
    if (converged) return operating_point(e);
    // The (repaired) set reproduces itself, so Newton would stay here: the set the diodes ask
    // for is singular (a loop of sources and conducting diodes, or a group of nodes with no
    // other path to ground), and no operating point exists.
    if (!e.complementary && stuck_ && !limited_ && e.residual_ok) fail_no_operating_point(e);
    if (solves_ >= options_.max_iterations) fail_not_converged(e);

    dx = -assembly_.residual;
    int singular_column = -1;
    if (!linear_solve(dx, singular_column))
      throw SolverError(cat(
          "Newton: the circuit matrix is singular (iteration ", solves_ + 1, ")",
          singular_column >= 0 ? cat(" at unknown ", layout_.describe(circuit_, singular_column))
                               : std::string(),
          ": the operating point is not unique. Look for loops of voltage sources, VCVS outputs "
          "or conducting ideal diodes, and for nodes held only by zero conductances or by ideal "
          "diodes that are off"));
    ++solves_;
    if (!dx.allFinite())
      throw SolverError(cat("Newton: the update at iteration ", solves_,
                            " is not finite: the circuit matrix is numerically singular"));

    bool step_ok = true;
    for (int row = 0; row < layout_.size() && step_ok; ++row) {
      const double magnitude = std::max(std::abs(x_[row]), std::abs(x_[row] + dx[row]));
      const double tol = (row < n ? options_.vntol : options_.abstol) + options_.reltol * magnitude;
      step_ok = std::abs(dx[row]) <= tol;
    }
    x_ += dx;
    previous_step_ok_ = step_ok;
    previous_step_clean_ = !limited_ && !changed_;
    limited_ = false;
  }
}

}  // namespace

NewtonSolver::NewtonSolver(const Circuit& circuit, NewtonOptions options)
    : impl_(std::make_unique<Impl>(circuit, options)) {}
NewtonSolver::~NewtonSolver() = default;
NewtonSolver::NewtonSolver(NewtonSolver&&) noexcept = default;
NewtonSolver& NewtonSolver::operator=(NewtonSolver&&) noexcept = default;

const NewtonOptions& NewtonSolver::options() const { return impl_->options; }

OperatingPoint NewtonSolver::solve(const Circuit& circuit, const std::vector<Nudge>& nudges,
                                   const Eigen::VectorXd* initial_voltages) {
  Impl& s = *impl_;
  std::string why;
  if (!s.layout.same_structure(circuit, why))
    throw SolverError(
        cat("Newton: the circuit's structure differs from the one this solver was "
            "built for: ",
            why, "; build a new NewtonSolver"));
  reject_unsupported(circuit);
  circuit.validate();
  NewtonRun run(circuit, s.options, s.layout, s.pattern, s.assembly, nudges, initial_voltages);
  return run.run([&s](Eigen::VectorXd& rhs, int& singular_column) {
    return s.factor_and_solve(rhs, singular_column);
  });
}

double OperatingPoint::current(const Circuit& circuit, const std::string& name) const {
  return element_current(circuit, UnknownLayout(circuit), unknowns, name);
}

std::vector<double> kind_currents(const Circuit& circuit, const OperatingPoint& op,
                                  std::size_t kind) {
  return kind_currents(circuit, UnknownLayout(circuit), op.unknowns, kind);
}

double kcl_residual(const Circuit& circuit, const OperatingPoint& op,
                    const std::vector<Nudge>& nudges) {
  const UnknownLayout layout(circuit);
  const int n = circuit.num_nodes();
  if (op.voltages.size() != n || op.unknowns.size() != layout.size())
    throw Error("kcl_residual: the operating point does not match the circuit's sizes");
  Assembly out(layout.size(), 0);
  circuits::Evaluation e;
  e.x = op.unknowns.data();
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const auto instances = circuits::instances(circuit, layout, kind);
    circuit.group(kind).stamp(instances.data(), e, out);
  }
  for (const auto& nudge : nudges)
    out.add_residual(nudge.node,
                     -nudge.beta * (nudge.target - node_voltage(op.unknowns.data(), nudge.node)));
  return n > 0 ? out.residual.head(n).cwiseAbs().maxCoeff() : 0.0;
}

}  // namespace physlearn::solvers
