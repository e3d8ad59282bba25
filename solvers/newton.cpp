#include "solvers/newton.h"

#include <klu.h>

#include <algorithm>
#include <cmath>
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
  schema.field("max_iterations", options.max_iterations, "Newton iterations (linear solves) per solve")
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

struct NewtonSolver::Impl {
  NewtonOptions options;
  MnaLayout layout;
  MnaPattern pattern;
  MnaAssembly assembly;
  std::vector<int> column_starts;  // KLU takes non-const pointers
  std::vector<int> row_indices;
  klu_common common{};
  klu_symbolic* symbolic = nullptr;

  Impl(const Circuit& circuit, NewtonOptions opts)
      : options(opts),
        layout(circuit),
        pattern(circuit, layout),
        assembly(layout.size(), &pattern),
        column_starts(pattern.column_starts()),
        row_indices(pattern.row_indices()) {
    klu_defaults(&common);
    if (layout.size() > 0) {
      symbolic = klu_analyze(layout.size(), column_starts.data(), row_indices.data(), &common);
      if (symbolic == nullptr)
        throw SolverError(cat("Newton: sparse analysis of the ", layout.size(), "-unknown circuit "
                              "matrix failed (KLU status ", common.status, ")"));
    }
  }

  ~Impl() {
    if (symbolic != nullptr) klu_free_symbolic(&symbolic, &common);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  /// Factorises the assembled Jacobian and overwrites `rhs` with J^{-1} rhs. Returns false (and
  /// sets `singular_column`) when the matrix is singular.
  bool factor_and_solve(Eigen::VectorXd& rhs, int& singular_column) {
    klu_numeric* numeric = klu_factor(column_starts.data(), row_indices.data(),
                                      assembly.jacobian_values.data(), symbolic, &common);
    if (numeric == nullptr || common.status == KLU_SINGULAR) {
      singular_column = common.singular_col;
      if (numeric != nullptr) klu_free_numeric(&numeric, &common);
      return false;
    }
    const int ok = klu_solve(symbolic, numeric, layout.size(), 1, rhs.data(), &common);
    klu_free_numeric(&numeric, &common);
    if (!ok) {
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
/// of set are singular whatever the element values; the repair only touches ties and the first
/// set. Returns the number of diodes switched.
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

}  // namespace

OperatingPoint NewtonSolver::solve(const Circuit& circuit, const std::vector<Nudge>& nudges,
                                   const Eigen::VectorXd* initial_voltages) {
  Impl& s = *impl_;
  const NewtonOptions& opt = s.options;
  const MnaLayout& layout = s.layout;

  std::string why;
  if (!layout.same_structure(circuit, why))
    throw SolverError(cat("Newton: the circuit's structure differs from the one this solver was "
                          "built for: ", why, "; build a new NewtonSolver"));
  circuit.validate();

  const int n = layout.num_nodes();
  const int size = layout.size();
  std::vector<NudgeTerm> terms;
  std::vector<int> nudge_nodes;
  terms.reserve(nudges.size());
  for (const auto& nudge : nudges) {
    if (nudge.node < 0 || nudge.node >= n)
      throw Error(cat("Newton: nudge at node index ", nudge.node, ": no such node (the circuit has ",
                      n, " nodes besides ground)"));
    if (!std::isfinite(nudge.beta) || !std::isfinite(nudge.target))
      throw Error(cat("Newton: nudge at node '", circuit.node_name(nudge.node), "': beta = ",
                      nudge.beta, ", target = ", nudge.target, ": must be finite"));
    terms.push_back({nudge.node, nudge.beta, nudge.target});
    if (nudge.beta != 0.0) nudge_nodes.push_back(nudge.node);
  }

  const DisjointSets groups = dc_groups(circuit, nudge_nodes);
  DisjointSets all_groups = groups;
  for (const auto& d : circuit.diodes)
    if (d.model == DiodeModel::Ideal) all_groups.join(d.anode, d.cathode);
  const std::vector<int> floating = floating_nodes(all_groups, n);
  if (!floating.empty()) {
    std::string message = cat("node '", circuit.node_name(floating[0]),
                              "' is floating: no DC path to ground through conductances > 0, "
                              "diodes, voltage sources or VCVS outputs");
    if (floating.size() > 1)
      message += cat(" (", floating.size(), " floating nodes: ", list_nodes(circuit, floating, 10),
                     ")");
    throw SolverError(message);
  }

  Eigen::VectorXd x = Eigen::VectorXd::Zero(size);
  if (initial_voltages != nullptr) {
    if (initial_voltages->size() != n)
      throw Error(cat("Newton: initial voltages have ", initial_voltages->size(),
                      " entries; the circuit has ", n, " nodes"));
    if (!initial_voltages->allFinite()) throw Error("Newton: initial voltages are not all finite");
    x.head(n) = *initial_voltages;
  }

  const std::size_t num_diodes = circuit.diodes.size();
  MnaState state;
  state.diode_on.assign(num_diodes, 0);
  state.junction_voltage.assign(num_diodes, 0.0);
  state.ideal_diode_scale = ideal_diode_scale(circuit, opt);
  const double c = state.ideal_diode_scale;
  std::vector<double> nvt(num_diodes, 0.0), vcrit(num_diodes, 0.0);
  auto diode_voltage = [&](std::size_t k) {
    const auto& d = circuit.diodes[k];
    return node_voltage(x, d.anode) - node_voltage(x, d.cathode);
  };
  // An ideal diode with both terminals on one node carries no current: always OFF.
  auto can_conduct = [&](std::size_t k) {
    return circuit.diodes[k].anode != circuit.diodes[k].cathode;
  };

  bool limited = false;
  std::vector<double> score(num_diodes, 0.0);  // I + c V of the ideal diodes
  for (std::size_t k = 0; k < num_diodes; ++k) {
    const auto& d = circuit.diodes[k];
    const double v = diode_voltage(k);
    if (d.model == DiodeModel::Ideal) {
      state.diode_on[k] = initial_voltages != nullptr && can_conduct(k) && v > -opt.vntol;
      score[k] = c * v;
    } else {
      nvt[k] = emission_thermal_voltage(d);
      vcrit[k] = critical_voltage(d);
      state.junction_voltage[k] = opt.junction_limiting ? std::min(v, vcrit[k]) : v;
      limited = limited || state.junction_voltage[k] != v;
    }
  }

  const bool has_ideal = layout.num_ideal_diodes() > 0;
  const bool has_shockley =
      static_cast<std::size_t>(layout.num_ideal_diodes()) < circuit.diodes.size();
  if (has_ideal) repair_active_set(circuit, groups, score, state.diode_on);
  std::vector<char> proposed = state.diode_on;

  MnaAssembly& assembly = s.assembly;
  bool previous_step_ok = false;  // the last update was below tolerance...
  bool previous_step_clean = false;  // ...and was computed without limiting or a set change
  int changes = 0;
  int solves = 0;
  Eigen::VectorXd dx(size);
  Eigen::VectorXd tolerance(size);

  for (int iteration = 0;; ++iteration) {
    bool changed = false;
    if (iteration > 0) {
      for (std::size_t k = 0; k < num_diodes; ++k) {
        const auto& d = circuit.diodes[k];
        const double v = diode_voltage(k);
        if (d.model == DiodeModel::Ideal) {
          score[k] = x[layout.diode_row(static_cast<int>(k))] + c * v;
          proposed[k] = can_conduct(k) && score[k] >= 0.0;
        } else if (opt.junction_limiting) {
          bool this_limited = false;
          state.junction_voltage[k] =
              limit_junction(v, state.junction_voltage[k], nvt[k], vcrit[k], this_limited);
          limited = limited || this_limited;
        } else {
          state.junction_voltage[k] = v;
        }
      }
      if (has_ideal && proposed != state.diode_on) {
        repair_active_set(circuit, groups, score, proposed);
        changed = proposed != state.diode_on;
        state.diode_on = proposed;
      }
      if (changed && ++changes > opt.max_active_set_iterations)
        throw SolverError(cat("Newton: the ideal diodes' ON/OFF set changed ", changes,
                              " times without settling (max_active_set_iterations = ",
                              opt.max_active_set_iterations, ")"));
    }

    assembly.clear();
    assemble(circuit, layout, state, terms, x, assembly);

    // Per-row tolerances (see NewtonOptions) and the worst KCL row.
    bool residual_ok = true;
    bool complementary = true;  // every ideal diode: I >= 0, V <= 0, I V = 0 within tolerance
    int violating_diode = -1;   // the first diode that breaks them
    double violating_current = 0.0, violating_voltage = 0.0;
    double worst = 0.0;
    int worst_node = -1;
    for (int row = 0; row < size; ++row) {
      double tol = 0.0;
      const double scale = assembly.scale[row];
      if (row < n) {
        tol = opt.abstol + opt.reltol * scale;
        const double r = std::abs(assembly.residual[row]);
        if (r > worst || worst_node < 0) {
          worst = r;
          worst_node = row;
        }
      } else if (row < layout.ideal_begin()) {
        tol = opt.vntol + opt.reltol * scale;
      } else {
        const auto& d = circuit.diodes[static_cast<std::size_t>(layout.ideal_diode_of_row(row))];
        const bool on = state.diode_on[static_cast<std::size_t>(layout.ideal_diode_of_row(row))];
        double node_scale = scale;
        if (d.anode != kGround) node_scale = std::max(node_scale, assembly.scale[d.anode]);
        if (d.cathode != kGround) node_scale = std::max(node_scale, assembly.scale[d.cathode]);
        tol = on ? c * opt.vntol + opt.reltol * scale : opt.abstol + opt.reltol * node_scale;
        // The complementarity conditions themselves, whatever set the repair chose.
        const double current = x[row];
        const double va = node_voltage(x, d.anode), vc = node_voltage(x, d.cathode);
        const double current_tol = opt.abstol + opt.reltol * node_scale;
        const double voltage_tol = opt.vntol + opt.reltol * (std::abs(va) + std::abs(vc));
        if (current < -current_tol || va - vc > voltage_tol ||
            (current > current_tol && va - vc < -voltage_tol)) {
          if (complementary) {
            violating_diode = layout.ideal_diode_of_row(row);
            violating_current = current;
            violating_voltage = va - vc;
          }
          complementary = false;
        }
      }
      if (!(std::abs(assembly.residual[row]) <= tol)) residual_ok = false;
    }

    // A Newton update below tolerance, computed without limiting from the same diode set.
    const bool step_small = previous_step_ok && previous_step_clean && !changed;
    // Piecewise-linear circuits are solved exactly once the set is right, so a small residual is
    // enough; with Shockley diodes a small residual can hide a voltage error of residual / g at
    // a high-impedance node, so the update must be small too (as SPICE requires).
    const bool converged = !limited && complementary &&
                           (residual_ok ? (!has_shockley || step_small) : step_small);
    if (converged) {
      OperatingPoint op;
      op.voltages = x.head(n);
      op.source_currents.resize(circuit.voltage_sources.size());
      for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k)
        op.source_currents[k] = x[layout.voltage_source_row(static_cast<int>(k))];
      op.vcvs_currents.resize(circuit.vcvs.size());
      for (std::size_t k = 0; k < circuit.vcvs.size(); ++k)
        op.vcvs_currents[k] = x[layout.vcvs_row(static_cast<int>(k))];
      op.diode_currents.resize(num_diodes);
      for (std::size_t k = 0; k < num_diodes; ++k) {
        const auto& d = circuit.diodes[k];
        op.diode_currents[k] = d.model == DiodeModel::Ideal
                                   ? x[layout.diode_row(static_cast<int>(k))]
                                   : shockley(d, diode_voltage(k)).current;
      }
      op.iterations = solves;
      op.active_set_changes = changes;
      op.residual_norm = worst_node < 0 ? 0.0 : worst;
      return op;
    }

    if (!complementary && iteration > 0 && !changed && !limited && residual_ok) {
      // The (repaired) set reproduces itself, so Newton would stay here: the set the diodes ask
      // for is singular (a loop of sources and conducting diodes, or a group of nodes with no
      // other path to ground), and no operating point exists.
      const auto& d = circuit.diodes[static_cast<std::size_t>(violating_diode)];
      throw SolverError(
          violating_current < 0.0
              ? cat("Newton: no operating point: ideal diode '", d.name, "' would have to conduct ",
                    violating_current, " A backwards, because the nodes on its two sides have no "
                    "other DC path between them (e.g. a current source pushing against it)")
              : cat("Newton: no operating point: ideal diode '", d.name, "' is forward biased (V = ",
                    violating_voltage, " V) but conducting would close a loop of voltage sources, "
                    "VCVS outputs and conducting ideal diodes whose voltages do not sum to zero"));
    }

    if (solves >= opt.max_iterations) {
      std::string message =
          cat("Newton did not converge in ", solves, " iterations: max KCL residual ", worst,
              " A at node '", worst_node < 0 ? std::string("?") : circuit.node_name(worst_node),
              "' (tolerance ", opt.abstol, " A + ", opt.reltol, " relative)");
      if (limited) message += "; Shockley junction voltages were still being limited";
      if (changed) message += "; the ideal diodes' ON/OFF set was still changing";
      if (!complementary)
        message += "; some ideal diode still conducts backwards or is forward biased (a forward "
                   "ideal diode across a voltage source has no solution)";
      throw SolverError(message);
    }

    dx = -assembly.residual;
    int singular_column = -1;
    if (!s.factor_and_solve(dx, singular_column)) {
      throw SolverError(cat(
          "Newton: the circuit matrix is singular (iteration ", solves + 1, ")",
          singular_column >= 0 ? cat(" at unknown ", layout.describe_unknown(circuit, singular_column))
                               : std::string(),
          ": the operating point is not unique. Look for loops of voltage sources, VCVS outputs "
          "or conducting ideal diodes, and for nodes held only by zero conductances or by ideal "
          "diodes that are off"));
    }
    ++solves;
    if (!dx.allFinite())
      throw SolverError(cat("Newton: the update at iteration ", solves,
                            " is not finite: the circuit matrix is numerically singular"));

    bool step_ok = true;
    for (int row = 0; row < size; ++row) {
      const double magnitude = std::max(std::abs(x[row]), std::abs(x[row] + dx[row]));
      const double tol = (row < n ? opt.vntol : opt.abstol) + opt.reltol * magnitude;
      if (!(std::abs(dx[row]) <= tol)) {
        step_ok = false;
        break;
      }
    }
    x += dx;
    previous_step_ok = step_ok;
    previous_step_clean = !limited && !changed;
    limited = false;
  }
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
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    const auto& d = circuit.diodes[k];
    const double current = d.model == DiodeModel::Ideal
                               ? op.diode_currents[k]
                               : shockley(d, v(d.anode) - v(d.cathode)).current;
    flow(d.anode, d.cathode, current);
  }
  for (const auto& nudge : nudges) flow(kGround, nudge.node, nudge.beta * (nudge.target - v(nudge.node)));
  return n > 0 ? leaving.cwiseAbs().maxCoeff() : 0.0;
}

}  // namespace physlearn::solvers
