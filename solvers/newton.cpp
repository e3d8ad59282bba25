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
using circuits::DiodeModel;
using circuits::kGround;

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
/// DC operating points do not include memristors: their states evolve in time only (the
/// transient solver integrates them).
void reject_memristors(const Circuit& circuit) {
  if (!circuit.memristors.empty())
    throw Error(cat("Newton: memristor ", circuit.memristors.front().name,
                    ": the DC solver does not take memristors (only the transient solver "
                    "simulates them)"));
}
}  // namespace

struct NewtonSolver::Impl {
  NewtonOptions options;
  MnaLayout layout;
  MnaPattern pattern;
  MnaAssembly assembly;
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
        pattern(circuit, layout),
        assembly(layout.size(), &pattern),
        column_starts(pattern.column_starts()),
        row_indices(pattern.row_indices()) {
    reject_memristors(circuit);
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
                                assembly.jacobian_values.data(), symbolic, numeric, &common) &&
                   common.status == KLU_OK && klu_rcond(symbolic, numeric, &common) &&
                   common.rcond >= kRefactorRcond * factored_rcond;
      if (!refactored) klu_free_numeric(&numeric, &common);
    }
    if (!refactored) {
      numeric = klu_factor(column_starts.data(), row_indices.data(),
                           assembly.jacobian_values.data(), symbolic, &common);
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

NewtonSolver::NewtonSolver(const Circuit& circuit, NewtonOptions options)
    : impl_(std::make_unique<Impl>(circuit, options)) {}
NewtonSolver::~NewtonSolver() = default;
NewtonSolver::NewtonSolver(NewtonSolver&&) noexcept = default;
NewtonSolver& NewtonSolver::operator=(NewtonSolver&&) noexcept = default;

const NewtonOptions& NewtonSolver::options() const { return impl_->options; }

namespace {

double node_voltage(const Eigen::VectorXd& x, int node) { return node == kGround ? 0.0 : x[node]; }

/// Conductance scale of the ideal diodes: the option, else the mean positive conductance.
double ideal_diode_scale(const Circuit& circuit, const NewtonOptions& options) {
  if (options.ideal_diode_scale > 0.0) return options.ideal_diode_scale;
  double sum = 0.0;
  long count = 0;
  for (const auto& c : circuit.conductances)
    if (c.g > 0.0) {
      sum += c.g;
      ++count;
    }
  return count > 0 ? sum / static_cast<double>(count) : 1.0;
}

/// Makes the ideal diodes' ON/OFF set structurally solvable without changing it where it already
/// is: (1) an ON diode that closes a loop of voltage-defined branches (voltage sources, VCVS
/// outputs, ON diodes) is turned OFF; (2) an OFF diode that joins two groups of nodes not yet
/// joined by DC paths (conductances > 0, Shockley diodes, sources, VCVS outputs, nudges, ON
/// diodes) is turned ON, so every group reaches ground. Both steps take the diodes in decreasing
/// order of their switching score I + c V, so the least conducting give way first. Both kinds
/// of set make the MNA matrix singular whatever the element values, so no solvable set is ever
/// changed. Returns the number of diodes switched.
int repair_active_set(const Circuit& circuit, const DisjointSets& groups,
                      const std::vector<double>& score, std::vector<char>& on) {
  const int n = circuit.num_nodes();
  std::vector<std::size_t> ideal;
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    const auto& d = circuit.diodes[k];
    if (d.model == DiodeModel::Ideal && d.anode != d.cathode) ideal.push_back(k);
  }
  std::stable_sort(ideal.begin(), ideal.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  int switched = 0;

  DisjointSets voltage_defined(n);
  for (const auto& e : circuit.voltage_sources) voltage_defined.join(e.plus, e.minus);
  for (const auto& e : circuit.vcvs) voltage_defined.join(e.out_plus, e.out_minus);
  for (std::size_t k : ideal) {
    if (!on[k]) continue;
    const auto& d = circuit.diodes[k];
    if (!voltage_defined.join(d.anode, d.cathode)) {
      on[k] = 0;
      ++switched;
    }
  }

  DisjointSets connected = groups;
  for (std::size_t k : ideal)
    if (on[k]) connected.join(circuit.diodes[k].anode, circuit.diodes[k].cathode);
  for (std::size_t k : ideal) {
    if (on[k]) continue;
    const auto& d = circuit.diodes[k];
    if (connected.join(d.anode, d.cathode)) {
      on[k] = 1;
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

/// Amperes: a warm start's Shockley junctions are trusted up to this current (see start()).
constexpr double kWarmStartMaxCurrent = 1e3;

/// Outcome of the convergence tests at one iterate.
struct Evaluation {
  bool residual_ok = true;    ///< every row within its tolerance
  bool complementary = true;  ///< every ideal diode: I >= 0, V <= 0, I V = 0 within tolerance
  int violating_diode = -1;   ///< the first ideal diode that breaks complementarity
  double violating_current = 0.0;
  double violating_voltage = 0.0;
  double worst_residual = 0.0;  ///< A, max |KCL residual| over nodes
  int worst_node = -1;
};

/// One solve: the unknowns, the diodes' states and the iteration bookkeeping.
class NewtonRun {
 public:
  using LinearSolve = std::function<bool(Eigen::VectorXd& rhs, int& singular_column)>;

  NewtonRun(const Circuit& circuit, const NewtonOptions& options, const MnaLayout& layout,
            MnaAssembly& assembly, const std::vector<Nudge>& nudges,
            const Eigen::VectorXd* initial_voltages);
  OperatingPoint run(const LinearSolve& linear_solve);

 private:
  double diode_voltage(std::size_t k) const {
    const auto& d = circuit_.diodes[k];
    return node_voltage(x_, d.anode) - node_voltage(x_, d.cathode);
  }
  /// An ideal diode with both terminals on one node carries no current: it stays OFF.
  bool can_conduct(std::size_t k) const {
    return circuit_.diodes[k].anode != circuit_.diodes[k].cathode;
  }
  /// Largest stamp scale of the diode's two nodes in the last assembly (amperes).
  double node_scale(const circuits::Diode& d) const {
    double scale = 0.0;
    if (d.anode != kGround) scale = std::max(scale, assembly_.scale[d.anode]);
    if (d.cathode != kGround) scale = std::max(scale, assembly_.scale[d.cathode]);
    return scale;
  }
  void check_nudges(const std::vector<Nudge>& nudges);
  void check_floating() const;
  void start(const Eigen::VectorXd* initial_voltages);
  /// Limits the Shockley junctions and re-chooses the ideal diodes' set at the new iterate.
  void update_diodes();
  void choose_active_set();
  Evaluation evaluate() const;
  OperatingPoint operating_point(const Evaluation& evaluation) const;
  [[noreturn]] void fail_no_operating_point(const Evaluation& evaluation) const;
  [[noreturn]] void fail_not_converged(const Evaluation& evaluation) const;

  const Circuit& circuit_;
  const NewtonOptions& options_;
  const MnaLayout& layout_;
  MnaAssembly& assembly_;
  std::vector<NudgeTerm> nudges_;
  std::vector<int> nudge_nodes_;  // nodes with beta != 0
  DisjointSets groups_;           // DC groups without the ideal diodes
  Eigen::VectorXd x_;
  MnaState state_;
  double c_ = 1.0;                   // ideal diode conductance scale
  std::vector<double> nvt_, vcrit_;  // Shockley n Vt and vcrit per diode
  std::vector<double> score_;        // I + c V per ideal diode
  bool has_ideal_ = false;
  bool has_shockley_ = false;
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

NewtonRun::NewtonRun(const Circuit& circuit, const NewtonOptions& options, const MnaLayout& layout,
                     MnaAssembly& assembly, const std::vector<Nudge>& nudges,
                     const Eigen::VectorXd* initial_voltages)
    : circuit_(circuit),
      options_(options),
      layout_(layout),
      assembly_(assembly),
      groups_(circuit.num_nodes()) {
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
  DisjointSets all_groups = groups_;
  for (const auto& d : circuit_.diodes)
    if (d.model == DiodeModel::Ideal) all_groups.join(d.anode, d.cathode);
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
  const std::size_t num_diodes = circuit_.diodes.size();
  state_.diode_on.assign(num_diodes, 0);
  state_.junction_voltage.assign(num_diodes, 0.0);
  state_.ideal_diode_scale = c_ = ideal_diode_scale(circuit_, options_);
  nvt_.assign(num_diodes, 0.0);
  vcrit_.assign(num_diodes, 0.0);
  score_.assign(num_diodes, 0.0);
  for (std::size_t k = 0; k < num_diodes; ++k) {
    const auto& d = circuit_.diodes[k];
    const double v = diode_voltage(k);
    if (d.model == DiodeModel::Ideal) {
      has_ideal_ = true;
      state_.diode_on[k] = initial_voltages != nullptr && can_conduct(k) && v > -options_.vntol;
      score_[k] = c_ * v;
    } else {
      // SPICE starts junctions no higher than vcrit. A given starting point (typically the
      // previous solution) is trusted up to the voltage of a 1 kA junction current, so that a
      // warm start at a high-current solution is not pulled back to vcrit.
      has_shockley_ = true;
      nvt_[k] = emission_thermal_voltage(d);
      vcrit_[k] = critical_voltage(d);
      const double trusted = initial_voltages == nullptr
                                 ? vcrit_[k]
                                 : std::max(vcrit_[k], nvt_[k] * std::log1p(kWarmStartMaxCurrent /
                                                                            d.saturation_current));
      state_.junction_voltage[k] = options_.junction_limiting ? std::min(v, trusted) : v;
      limited_ = limited_ || state_.junction_voltage[k] != v;
    }
  }
  if (has_ideal_) {
    repair_active_set(circuit_, groups_, score_, state_.diode_on);
    visited_.insert(std::string(state_.diode_on.begin(), state_.diode_on.end()));
  }
}

void NewtonRun::update_diodes() {
  for (std::size_t k = 0; k < circuit_.diodes.size(); ++k) {
    const auto& d = circuit_.diodes[k];
    const double v = diode_voltage(k);
    if (d.model == DiodeModel::Ideal) {
      score_[k] = x_[layout_.diode_row(static_cast<int>(k))] + c_ * v;
    } else if (options_.junction_limiting) {
      bool limited = false;
      state_.junction_voltage[k] =
          limit_junction(v, state_.junction_voltage[k], nvt_[k], vcrit_[k], limited);
      limited_ = limited_ || limited;
    } else {
      state_.junction_voltage[k] = v;
    }
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
  std::vector<char> proposed = state_.diode_on;
  if (!single_flip_) {
    // Primal-dual active set: ON where I + c V >= 0.
    for (std::size_t k = 0; k < circuit_.diodes.size(); ++k)
      if (circuit_.diodes[k].model == DiodeModel::Ideal)
        proposed[k] = can_conduct(k) && score_[k] >= 0.0;
    if (proposed != state_.diode_on) {
      repair_active_set(circuit_, groups_, score_, proposed);
      if (proposed != state_.diode_on &&
          !visited_.insert(std::string(proposed.begin(), proposed.end())).second) {
        // A set seen before: the active set method cycles (it is guaranteed not to only for
        // M-matrix problems). Go on with single flips.
        single_flip_ = true;
        proposed = state_.diode_on;
      }
    }
    stuck_ = !single_flip_ && proposed == state_.diode_on;
  }
  if (single_flip_ && (!has_shockley_ || (previous_step_ok_ && previous_step_clean_))) {
    // Murty's least-index rule, finite for positive definite problems: once the current set's
    // problem is solved, flip only the first diode that breaks complementarity. Node scales come
    // from the last assembly, at the previous iterate.
    for (std::size_t k = 0; k < circuit_.diodes.size(); ++k) {
      const auto& d = circuit_.diodes[k];
      if (d.model != DiodeModel::Ideal || !can_conduct(k)) continue;
      const double current = x_[layout_.diode_row(static_cast<int>(k))];
      const double va = node_voltage(x_, d.anode), vc = node_voltage(x_, d.cathode);
      const bool flip =
          state_.diode_on[k]
              ? current < -(options_.abstol + options_.reltol * node_scale(d))
              : va - vc > options_.vntol + options_.reltol * (std::abs(va) + std::abs(vc));
      if (flip) {
        proposed[k] = !proposed[k];
        repair_active_set(circuit_, groups_, score_, proposed);
        stuck_ = proposed == state_.diode_on;
        break;
      }
    }
  }
  changed_ = proposed != state_.diode_on;
  state_.diode_on = proposed;
}

Evaluation NewtonRun::evaluate() const {
  const NewtonOptions& opt = options_;
  const int n = layout_.num_nodes();
  Evaluation e;
  for (int row = 0; row < layout_.size(); ++row) {
    const double scale = assembly_.scale[row];
    const double residual = std::abs(assembly_.residual[row]);
    double tol = 0.0;
    if (row < n) {
      tol = opt.abstol + opt.reltol * scale;
      if (residual > e.worst_residual || e.worst_node < 0) {
        e.worst_residual = residual;
        e.worst_node = row;
      }
    } else if (row < layout_.ideal_begin()) {
      tol = opt.vntol + opt.reltol * scale;
    } else {
      const int k = layout_.ideal_diode_of_row(row);
      const auto& d = circuit_.diodes[static_cast<std::size_t>(k)];
      const double current_tol = opt.abstol + opt.reltol * std::max(scale, node_scale(d));
      tol = state_.diode_on[static_cast<std::size_t>(k)] ? c_ * opt.vntol + opt.reltol * scale
                                                         : current_tol;
      // The complementarity conditions themselves, whatever set the repair chose.
      const double current = x_[row];
      const double va = node_voltage(x_, d.anode), vc = node_voltage(x_, d.cathode);
      const double voltage_tol = opt.vntol + opt.reltol * (std::abs(va) + std::abs(vc));
      if (current < -current_tol || va - vc > voltage_tol ||
          (current > current_tol && va - vc < -voltage_tol)) {
        if (e.complementary) {
          e.violating_diode = k;
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
  op.source_currents.resize(circuit_.voltage_sources.size());
  for (std::size_t k = 0; k < circuit_.voltage_sources.size(); ++k)
    op.source_currents[k] = x_[layout_.voltage_source_row(static_cast<int>(k))];
  op.vcvs_currents.resize(circuit_.vcvs.size());
  for (std::size_t k = 0; k < circuit_.vcvs.size(); ++k)
    op.vcvs_currents[k] = x_[layout_.vcvs_row(static_cast<int>(k))];
  op.diode_currents.resize(circuit_.diodes.size());
  for (std::size_t k = 0; k < circuit_.diodes.size(); ++k) {
    const auto& d = circuit_.diodes[k];
    op.diode_currents[k] = d.model == DiodeModel::Ideal ? x_[layout_.diode_row(static_cast<int>(k))]
                                                        : shockley(d, diode_voltage(k)).current;
  }
  op.iterations = solves_;
  op.active_set_changes = changes_;
  op.residual_norm = evaluation.worst_residual;
  return op;
}

void NewtonRun::fail_no_operating_point(const Evaluation& e) const {
  const auto& d = circuit_.diodes[static_cast<std::size_t>(e.violating_diode)];
  if (e.violating_current < 0.0)
    throw SolverError(cat("Newton: no operating point: ideal diode '", d.name,
                          "' would have to conduct ", e.violating_current,
                          " A backwards, because the nodes on its two sides have no other DC "
                          "path between them (e.g. a current source pushing against it)"));
  throw SolverError(cat("Newton: no operating point: ideal diode '", d.name,
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
    message +=
        cat("; ideal diode '", circuit_.diodes[static_cast<std::size_t>(e.violating_diode)].name,
            "' still conducts backwards or is forward biased");
  throw SolverError(message);
}

OperatingPoint NewtonRun::run(const LinearSolve& linear_solve) {
  const int n = layout_.num_nodes();
  Eigen::VectorXd dx(layout_.size());
  for (int iteration = 0;; ++iteration) {
    changed_ = false;
    stuck_ = false;
    if (iteration > 0) update_diodes();

    assembly_.clear();
    assemble(circuit_, layout_, state_, nudges_, x_, assembly_);
    const Evaluation e = evaluate();

    // A Newton update below tolerance, computed without limiting from the same diode set.
    const bool step_small = previous_step_ok_ && previous_step_clean_ && !changed_;
    // Piecewise-linear circuits are solved exactly once the set is right, so a small residual
    // is enough; with Shockley diodes a small residual can hide residual / g volts at a
    // high-impedance node, so the update must be small too (as SPICE requires). At the rounding
    // floor of an ill-conditioned circuit (huge currents next to tiny conductances) the residual
    // can sit within tolerance while the updates stay above vntol without shrinking: three such
    // iterates in a row are accepted.
    floor_streak_ = e.residual_ok && !limited_ && !changed_ ? floor_streak_ + 1 : 0;
    const bool converged =
        !limited_ && e.complementary &&
        (e.residual_ok ? (!has_shockley_ || step_small || floor_streak_ >= 3) : step_small);
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
          singular_column >= 0
              ? cat(" at unknown ", layout_.describe_unknown(circuit_, singular_column))
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

OperatingPoint NewtonSolver::solve(const Circuit& circuit, const std::vector<Nudge>& nudges,
                                   const Eigen::VectorXd* initial_voltages) {
  Impl& s = *impl_;
  std::string why;
  if (!s.layout.same_structure(circuit, why))
    throw SolverError(
        cat("Newton: the circuit's structure differs from the one this solver was "
            "built for: ",
            why, "; build a new NewtonSolver"));
  reject_memristors(circuit);
  circuit.validate();
  NewtonRun run(circuit, s.options, s.layout, s.assembly, nudges, initial_voltages);
  return run.run([&s](Eigen::VectorXd& rhs, int& singular_column) {
    return s.factor_and_solve(rhs, singular_column);
  });
}

double kcl_residual(const Circuit& circuit, const OperatingPoint& op,
                    const std::vector<Nudge>& nudges) {
  const int n = circuit.num_nodes();
  if (op.voltages.size() != n || op.source_currents.size() != circuit.voltage_sources.size() ||
      op.vcvs_currents.size() != circuit.vcvs.size() ||
      op.diode_currents.size() != circuit.diodes.size())
    throw Error("kcl_residual: the operating point does not match the circuit's sizes");
  Eigen::VectorXd leaving = Eigen::VectorXd::Zero(n);
  auto v = [&](int node) { return node == kGround ? 0.0 : op.voltages[node]; };
  auto flow = [&](int from, int to, double current) {
    if (from != kGround) leaving[from] += current;
    if (to != kGround) leaving[to] -= current;
  };
  for (const auto& e : circuit.conductances) flow(e.a, e.b, e.g * (v(e.a) - v(e.b)));
  for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k)
    flow(circuit.voltage_sources[k].plus, circuit.voltage_sources[k].minus, op.source_currents[k]);
  for (std::size_t k = 0; k < circuit.vcvs.size(); ++k)
    flow(circuit.vcvs[k].out_plus, circuit.vcvs[k].out_minus, op.vcvs_currents[k]);
  for (const auto& e : circuit.current_sources) flow(e.from, e.to, e.amps);
  for (const auto& e : circuit.vccs)
    flow(e.out_plus, e.out_minus, e.gain * (v(e.ctrl_plus) - v(e.ctrl_minus)));
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    const auto& d = circuit.diodes[k];
    const double current = d.model == DiodeModel::Ideal
                               ? op.diode_currents[k]
                               : shockley(d, v(d.anode) - v(d.cathode)).current;
    flow(d.anode, d.cathode, current);
  }
  for (const auto& nudge : nudges)
    flow(kGround, nudge.node, nudge.beta * (nudge.target - v(nudge.node)));
  return n > 0 ? leaving.cwiseAbs().maxCoeff() : 0.0;
}

}  // namespace physlearn::solvers
