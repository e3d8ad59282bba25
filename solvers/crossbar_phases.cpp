#include "solvers/crossbar_phases.h"

#include <Eigen/SparseCore>

#include <algorithm>
#include <string>
#include <vector>

#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/voltage_source.h"
#include "core/error.h"
#include "solvers/sparse_cholesky.h"

namespace physlearn::solvers {

/// Newton on the full crossbar circuit, one sample at a time (the reference).
class CrossbarSolver::NewtonPhases {
 public:
  NewtonPhases(const circuits::LayeredNetwork& net, const circuits::CrossbarParams& params,
               double g_unit, const NewtonOptions& options)
      : net_(net), params_(params), g_unit_(g_unit), options_(options),
        free_(circuits::lower_to_crossbar(net, params, g_unit), options) {}

  /// Solves one phase of one sample; `state` (node potentials) is the start and the result.
  long solve(const circuits::LayeredNetwork& net, const Eigen::RowVectorXd& inputs,
             const CrossbarDrive& drive, Eigen::VectorXd& state) {
    if (drive.kind == CrossbarDrive::Clamp && !clamped_)
      clamped_ = std::make_unique<Solved>(circuits::lower_to_crossbar(net_, params_, g_unit_, true), options_);
    Solved& s = drive.kind == CrossbarDrive::Clamp ? *clamped_ : free_;
    circuits::LoweredNetwork& lowered = s.crossbar.lowered;
    lowered.update(net, inputs);
    nudges_.clear();
    const auto& outputs = lowered.layer_nodes.back();
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const Eigen::Index k = static_cast<Eigen::Index>(i);
      if (drive.kind == CrossbarDrive::Nudge) nudges_.push_back({outputs[i], drive.beta, drive.value(k)});
      if (drive.kind == CrossbarDrive::Clamp) lowered.circuit.list<circuits::VoltageSource>()[lowered.clamp_sources[i]].volts = drive.value(k);
    }
    if (state.size() != lowered.circuit.num_nodes()) state = Eigen::VectorXd::Zero(lowered.circuit.num_nodes());
    OperatingPoint op = s.newton.solve(lowered.circuit, nudges_, &state);
    state = op.voltages;
    return op.iterations;
  }

 private:
  struct Solved {
    Solved(circuits::LoweredCrossbar c, const NewtonOptions& options)
        : crossbar(std::move(c)), newton(crossbar.lowered.circuit, options) {}
    circuits::LoweredCrossbar crossbar;
    NewtonSolver newton;
  };
  circuits::LayeredNetwork net_;
  circuits::CrossbarParams params_;
  double g_unit_;
  NewtonOptions options_;
  Solved free_;
  std::unique_ptr<Solved> clamped_;
  std::vector<Nudge> nudges_;
};

namespace {

using Index = Eigen::Index;
std::size_t at(Index i) { return static_cast<std::size_t>(i); }
std::size_t at(int i) { return static_cast<std::size_t>(i); }

/// Values per batch chunk: samples are solved a few at a time so that a chunk's right-hand
/// sides and full potentials stay near 32 MB each, whatever the array's size.
constexpr double kChunkValues = 4.0 * 1024.0 * 1024.0;

Index chunk_of(Index rows, Index columns) {
  return std::max<Index>(1, std::min<Index>(columns, static_cast<Index>(kChunkValues / std::max<Index>(rows, 1))));
}

}  // namespace

/// The crossbar's nodes by role: the input sources' nodes, the neurons (layer by layer, with
/// their diodes' polarity) and the rest (wire cells and access nodes).
struct CrossbarSolver::Roles {
  std::vector<int> inputs, neurons, polarity;
  std::vector<int> role;   ///< per node: 0 wire, 1 input, 2 neuron
  std::vector<int> index;  ///< per node: its index among the inputs or the neurons (-1: wire)
  int outputs = 0;

  Roles(const circuits::LayeredNetwork& net, const circuits::LoweredCrossbar& crossbar) {
    const circuits::Circuit& c = crossbar.lowered.circuit;
    role.assign(at(c.num_nodes()), 0);
    index.assign(at(c.num_nodes()), -1);
    for (int src : crossbar.lowered.input_sources) {
      const int node = c.list<circuits::VoltageSource>()[at(src)].plus;
      role[at(node)] = 1;
      index[at(node)] = static_cast<int>(inputs.size());
      inputs.push_back(node);
    }
    for (int l = 0; l < net.num_weight_layers(); ++l)
      for (std::size_t i = 0; i < crossbar.lowered.layer_nodes[at(l)].size(); ++i) {
        const int node = crossbar.lowered.layer_nodes[at(l)][i];
        role[at(node)] = 2;
        index[at(node)] = static_cast<int>(neurons.size());
        neurons.push_back(node);
        polarity.push_back(net.polarity[at(l)](static_cast<Index>(i)));
      }
    outputs = net.num_outputs();
  }
  int num_neurons() const { return static_cast<int>(neurons.size()); }
  int first_output() const { return num_neurons() - outputs; }
  bool any_diode() const {
    return std::any_of(polarity.begin(), polarity.end(), [](int p) { return p != 0; });
  }
  /// The entries of a per-node vector at the neurons, in the neurons' order.
  Eigen::VectorXd at_neurons(const Eigen::VectorXd& per_node) const {
    Eigen::VectorXd out(num_neurons());
    for (int z = 0; z < num_neurons(); ++z) out(z) = per_node(neurons[at(z)]);
    return out;
  }
};

namespace {

/// The current the circuit's current sources inject into each node (the neurons' biases).
Eigen::VectorXd node_injection(const circuits::Circuit& c) {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(c.num_nodes());
  for (const auto& src : c.list<circuits::CurrentSource>()) {
    if (src.to >= 0) out(src.to) += src.amps;
    if (src.from >= 0) out(src.from) -= src.amps;
  }
  return out;
}

/// Adds every device's squared drop, over the columns of `v` (every node x samples), to
/// `squares` (per weight layer, per device in the DRN's order).
void add_device_squares(const circuits::LoweredCrossbar& crossbar, const Eigen::MatrixXd& v,
                        std::vector<Eigen::VectorXd>& squares) {
  if (squares.size() != crossbar.device_nodes.size()) {
    squares.resize(crossbar.device_nodes.size());
    for (std::size_t l = 0; l < squares.size(); ++l)
      squares[l] = Eigen::VectorXd::Zero(static_cast<Index>(crossbar.device_nodes[l].size()));
  }
  for (std::size_t l = 0; l < squares.size(); ++l) {
    const auto& devices = crossbar.device_nodes[l];
    double* out = squares[l].data();
    for (Index s = 0; s < v.cols(); ++s) {
      const double* col = v.col(s).data();
      for (std::size_t k = 0; k < devices.size(); ++k) {
        const double d = col[devices[k].first] - col[devices[k].second];
        out[k] += d * d;
      }
    }
  }
}

}  // namespace

long solve_at_neurons(const Eigen::Ref<const Eigen::MatrixXd>& A, Eigen::VectorXd c,
                      const std::vector<int>& polarity, int num_outputs, const CrossbarDrive& drive,
                      Eigen::VectorXd& v, int dual_iterations) {
  const int n = static_cast<int>(A.rows()), first_output = n - num_outputs;
  if (v.size() != n) v = Eigen::VectorXd::Zero(n);
  std::vector<char> known(at(n), 0);
  std::vector<int> clamped;  // the known (clamped) nodes, in order
  if (drive.kind == CrossbarDrive::Clamp)
    for (int i = 0; i < num_outputs; ++i) {
      known[at(first_output + i)] = 1;
      clamped.push_back(first_output + i);
      v(first_output + i) = drive.value(i);
    }
  Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
  if (drive.kind == CrossbarDrive::Nudge)
    for (int i = 0; i < num_outputs; ++i) {
      diag(first_output + i) = drive.beta;
      c(first_output + i) += drive.beta * drive.value(i);
    }
  const auto constrained = [&](int i) { return polarity[at(i)] != 0 && !known[at(i)]; };
  // held[i]: the diode node is held at 0 V (its diode conducts). Solves for the other unknown
  // nodes with the held ones at 0 and returns the solution of that equality problem.
  std::vector<int> free;
  const auto solve_free = [&](const std::vector<char>& held, Eigen::VectorXd& x) {
    free.clear();
    for (int i = 0; i < n; ++i)
      if (!known[at(i)] && !held[at(i)]) free.push_back(i);
    x = v;
    for (int i = 0; i < n; ++i)
      if (held[at(i)]) x(i) = 0.0;
    const Index f = static_cast<Index>(free.size());
    Eigen::MatrixXd a(f, f);
    Eigen::VectorXd rhs(f);
    for (Index p = 0; p < f; ++p) {
      rhs(p) = c(free[at(p)]);
      for (int j : clamped) rhs(p) -= A(free[at(p)], j) * v(j);
      for (Index q = 0; q < f; ++q) a(p, q) = A(free[at(p)], free[at(q)]);
      a(p, p) += diag(free[at(p)]);
    }
    if (f > 0) {
      const Eigen::VectorXd y = a.ldlt().solve(rhs);
      for (Index p = 0; p < f; ++p) x(free[at(p)]) = y(p);
    }
  };
  // The diode currents (sign-adjusted: >= 0 when a held diode conducts the right way).
  const auto currents = [&](const Eigen::VectorXd& x) { return Eigen::VectorXd(A * x + diag.cwiseProduct(x) - c); };
  // Rounding: a current or a potential within these of 0 is 0, so that a node on the boundary
  // (a degenerate problem) does not flip back and forth.
  const auto current_tolerance = [&](const Eigen::VectorXd& x) {
    return 1e-11 * (c.cwiseAbs().maxCoeff() + (A.cwiseAbs() * x.cwiseAbs()).maxCoeff() + 1e-300);
  };
  const double potential_tolerance = 1e-13 * std::max(1.0, c.cwiseAbs().maxCoeff() /
                                                             std::max(A.diagonal().cwiseAbs().minCoeff(), 1e-300));

  // 1. Primal-dual active set: fast (a few iterations), but it may cycle when A is not an
  // M-matrix (long wires couple the neurons).
  std::vector<char> held(at(n), 0);
  for (int i = 0; i < n; ++i) held[at(i)] = constrained(i) && polarity[at(i)] * v(i) <= 0.0;
  Eigen::VectorXd x;
  for (int iteration = 1; iteration <= dual_iterations; ++iteration) {
    solve_free(held, x);
    v = x;
    const Eigen::VectorXd g = currents(v);
    const double tolerance = current_tolerance(v);
    bool changed = false;
    for (int i = 0; i < n; ++i) {
      if (!constrained(i)) continue;
      const int s = polarity[at(i)];
      const bool now = held[at(i)] ? s * g(i) > -tolerance : s * v(i) < -potential_tolerance;
      if (now != static_cast<bool>(held[at(i)])) {
        held[at(i)] = now;
        changed = true;
      }
    }
    if (!changed) return iteration;
  }
  // 2. A primal active set (Lawson and Hanson's for non-negative least squares, here for any
  // positive definite A): from a feasible point, every step lowers the energy, so it ends. It
  // holds a diode node when a step would cross 0 V and releases the one whose current pulls
  // it most the wrong way.
  for (int i = 0; i < n; ++i)
    if (constrained(i) && polarity[at(i)] * v(i) <= 0.0) {
      v(i) = 0.0;
      held[at(i)] = 1;
    } else {
      held[at(i)] = 0;
    }
  const long limit = 10L * n + 10;
  for (long iteration = 1; iteration <= limit; ++iteration) {
    solve_free(held, x);
    // Longest step from v towards x that keeps every free diode node on its side of 0 V.
    double step = 1.0;
    int blocking = -1;
    for (int i = 0; i < n; ++i) {
      if (!constrained(i) || held[at(i)]) continue;
      const double s = polarity[at(i)], from = s * v(i), to = s * x(i);
      if (to < 0.0 && from - to > 0.0 && from / (from - to) < step) {
        step = from / (from - to);
        blocking = i;
      }
    }
    if (blocking >= 0) {
      v += step * (x - v);
      v(blocking) = 0.0;
      held[at(blocking)] = 1;
      continue;
    }
    v = x;
    const Eigen::VectorXd g = currents(v);
    int release = -1;
    double worst = -current_tolerance(v);
    for (int i = 0; i < n; ++i)
      if (constrained(i) && held[at(i)] && polarity[at(i)] * g(i) < worst) {
        worst = polarity[at(i)] * g(i);
        release = i;
      }
    if (release < 0) return dual_iterations + iteration;
    held[at(release)] = 0;
  }
  throw SolverError("crossbar: the neurons' diode set did not settle (" + std::to_string(dual_iterations) +
                    " primal-dual and " + std::to_string(limit) + " primal active-set iterations)");
}

namespace {

/// Every sample's phase at the neurons (solve_at_neurons), the wires reduced to A = Y_ZZ and
/// Y_ZX (neurons x inputs): each from `start`, or from `warm` (the last free solution, updated).
long solve_samples(const Eigen::Ref<const Eigen::MatrixXd>& A,
                   const Eigen::Ref<const Eigen::MatrixXd>& y_zx, const Eigen::VectorXd& bias,
                   const std::vector<int>& polarity, int num_outputs, const Eigen::MatrixXd& inputs,
                   const std::function<CrossbarDrive(Index)>& drive_of,
                   const CrossbarStates* start, Eigen::VectorXd& warm, Eigen::MatrixXd& neurons) {
  neurons.resize(A.rows(), inputs.rows());
  long iterations = 0;
  for (Index b = 0; b < inputs.rows(); ++b) {
    Eigen::VectorXd v = start ? Eigen::VectorXd(start->neurons.col(b)) : warm;
    const Eigen::VectorXd c = bias - y_zx * inputs.row(b).transpose();
    iterations += solve_at_neurons(A, c, polarity, num_outputs, drive_of(b), v);
    neurons.col(b) = v;
    if (!start) warm = v;
  }
  return iterations;
}

/// Position of entry (row, col) in compressed columns (rows sorted), or -1.
int csc_position(const int* starts, const int* rows, int row, int col) {
  const int* first = rows + starts[col];
  const int* last = rows + starts[col + 1];
  const int* it = std::lower_bound(first, last, row);
  return it != last && *it == row ? static_cast<int>(it - rows) : -1;
}

/// The crossbar's conductance Laplacian with some nodes K held at known potentials (the
/// Dirichlet problem): A_UU v_U = f_U - A_UK v_K over the other nodes U. The pattern and every
/// conductance's positions in it are built once; fill() writes the values of a batch.
class DirichletSystem {
 public:
  /// `knowns`: the nodes held, in the order of v_K. With `known_block`, also the dense block
  /// L_KK of the Laplacian (every conductance's share at its known ends).
  DirichletSystem(const circuits::Circuit& c, std::vector<int> knowns, bool known_block,
                  const std::string& what)
      : knowns_(std::move(knowns)), chol_(what), known_block_(known_block) {
    const int nodes = c.num_nodes();
    unknown_index_.assign(at(nodes), -1);
    known_index_.assign(at(nodes), -1);
    for (std::size_t k = 0; k < knowns_.size(); ++k) known_index_[at(knowns_[k])] = static_cast<int>(k);
    for (int n = 0; n < nodes; ++n)
      if (known_index_[at(n)] < 0) {
        unknown_index_[at(n)] = static_cast<int>(unknowns_.size());
        unknowns_.push_back(n);
      }
    const int u = static_cast<int>(unknowns_.size()), k = static_cast<int>(knowns_.size());
    // Pattern of A_UU's lower triangle (every diagonal, so that nudges fit) and of A_UK.
    std::vector<std::vector<int>> lower(at(u)), uk(at(k));
    for (int i = 0; i < u; ++i) lower[at(i)].push_back(i);
    const auto& gs = c.list<circuits::Conductance>();
    for (const auto& g : gs) {
      const int ua = index_u(g.a), ub = index_u(g.b), ka = index_k(g.a), kb = index_k(g.b);
      if (ua >= 0 && ub >= 0) lower[at(std::min(ua, ub))].push_back(std::max(ua, ub));
      if (ua >= 0 && kb >= 0) uk[at(kb)].push_back(ua);
      if (ub >= 0 && ka >= 0) uk[at(ka)].push_back(ub);
    }
    compress(lower, a_.column_starts, a_.row_indices);
    a_.size = u;
    a_.values.assign(a_.row_indices.size(), 0.0);
    compress(uk, uk_starts_, uk_rows_);
    uk_values_.assign(uk_rows_.size(), 0.0);
    slots_.reserve(gs.size());
    for (const auto& g : gs) {
      const int ua = index_u(g.a), ub = index_u(g.b), ka = index_k(g.a), kb = index_k(g.b);
      Slots s;
      if (ua >= 0) s.diag_a = position(ua, ua);
      if (ub >= 0) s.diag_b = position(ub, ub);
      if (ua >= 0 && ub >= 0) s.off = position(std::max(ua, ub), std::min(ua, ub));
      if (ua >= 0 && kb >= 0) s.uk = csc_position(uk_starts_.data(), uk_rows_.data(), ua, kb);
      if (ub >= 0 && ka >= 0) s.uk = csc_position(uk_starts_.data(), uk_rows_.data(), ub, ka);
      slots_.push_back(s);
    }
    if (known_block_) kk_ = Eigen::MatrixXd::Zero(k, k);
  }

  int num_unknowns() const { return a_.size; }
  int num_knowns() const { return static_cast<int>(knowns_.size()); }
  const std::vector<int>& unknowns() const { return unknowns_; }
  const std::vector<int>& knowns() const { return knowns_; }
  int index_u(int node) const { return node < 0 ? -1 : unknown_index_[at(node)]; }
  int index_k(int node) const { return node < 0 ? -1 : known_index_[at(node)]; }
  const Eigen::MatrixXd& known_block() const { return kk_; }
  const SparseCholesky& cholesky() const { return chol_; }

  /// Writes the conductances' values (the circuit's, in the order the pattern was built from).
  void fill(const circuits::Circuit& c) {
    std::fill(a_.values.begin(), a_.values.end(), 0.0);
    std::fill(uk_values_.begin(), uk_values_.end(), 0.0);
    if (known_block_) kk_.setZero();
    const auto& gs = c.list<circuits::Conductance>();
    for (std::size_t e = 0; e < gs.size(); ++e) {
      const double g = gs[e].g;
      const Slots& s = slots_[e];
      if (s.diag_a >= 0) a_.values[at(s.diag_a)] += g;
      if (s.diag_b >= 0) a_.values[at(s.diag_b)] += g;
      if (s.off >= 0) a_.values[at(s.off)] -= g;
      if (s.uk >= 0) uk_values_[at(s.uk)] -= g;
      if (known_block_) {
        const int ka = index_k(gs[e].a), kb = index_k(gs[e].b);
        if (ka >= 0) kk_(ka, ka) += g;
        if (kb >= 0) kk_(kb, kb) += g;
        if (ka >= 0 && kb >= 0) {
          kk_(ka, kb) -= g;
          kk_(kb, ka) -= g;
        }
      }
    }
  }
  /// Adds `value` to the diagonal of unknown node `node` (a nudge's beta).
  void add_diagonal(int node, double value) {
    a_.values[at(position(index_u(node), index_u(node)))] += value;
  }
  /// Factors the values written since the last fill (ordering once, on the first call).
  void factorize() {
    if (a_.size == 0) return;
    if (!chol_.analyzed()) chol_.analyze(a_);
    chol_.factorize(a_);
  }
  /// rhs -= A_UK v_K, for every column (rhs: unknowns x samples, v: knowns x samples).
  void subtract_known(const Eigen::MatrixXd& v, Eigen::MatrixXd& rhs) const { rhs.noalias() -= uk() * v; }
  /// out -= A_KU x, for every column of x (unknowns x m; out: knowns x m).
  void subtract_transpose(const Eigen::MatrixXd& x, Eigen::MatrixXd& out) const {
    out.noalias() -= uk().transpose() * x;
  }
  /// Column `k` of A_UK as a dense vector into `out` (unknowns).
  void known_column(int k, Eigen::Ref<Eigen::VectorXd> out) const {
    out.setZero();
    for (int p = uk_starts_[at(k)]; p < uk_starts_[at(k + 1)]; ++p) out(uk_rows_[at(p)]) = uk_values_[at(p)];
  }
  void solve(Eigen::MatrixXd& rhs) const {
    if (a_.size > 0) chol_.solve(rhs);
  }
  /// Every node's potential (nodes x samples) from the knowns' and the unknowns' values.
  void assemble(const Eigen::MatrixXd& known, const Eigen::MatrixXd& unknown, Eigen::MatrixXd& full) const {
    full.resize(static_cast<Index>(unknown_index_.size()), known.cols());
    for (std::size_t k = 0; k < knowns_.size(); ++k) full.row(knowns_[k]) = known.row(static_cast<Index>(k));
    for (std::size_t u = 0; u < unknowns_.size(); ++u) full.row(unknowns_[u]) = unknown.row(static_cast<Index>(u));
  }
  double bytes() const {
    return chol_.analyzed() ? chol_.factor_bytes() : 0.0;
  }

 private:
  struct Slots {
    int diag_a = -1, diag_b = -1, off = -1, uk = -1;
  };
  /// A_UK over this system's arrays.
  Eigen::Map<const Eigen::SparseMatrix<double>> uk() const {
    return {a_.size, num_knowns(), static_cast<Index>(uk_values_.size()), uk_starts_.data(),
            uk_rows_.data(), uk_values_.data()};
  }
  static void compress(std::vector<std::vector<int>>& columns, std::vector<int>& starts,
                       std::vector<int>& rows) {
    starts.assign(columns.size() + 1, 0);
    std::size_t total = 0;
    for (auto& col : columns) {
      std::sort(col.begin(), col.end());
      col.erase(std::unique(col.begin(), col.end()), col.end());
      total += col.size();
    }
    rows.clear();
    rows.reserve(total);
    for (std::size_t j = 0; j < columns.size(); ++j) {
      rows.insert(rows.end(), columns[j].begin(), columns[j].end());
      starts[j + 1] = static_cast<int>(rows.size());
      std::vector<int>().swap(columns[j]);
    }
  }
  int position(int row, int col) const {
    return csc_position(a_.column_starts.data(), a_.row_indices.data(), row, col);
  }

  std::vector<int> knowns_, unknowns_, unknown_index_, known_index_;
  LowerCsc a_;
  std::vector<int> uk_starts_, uk_rows_;
  std::vector<double> uk_values_;
  std::vector<Slots> slots_;
  SparseCholesky chol_;
  bool known_block_ = false;
  Eigen::MatrixXd kk_;
};

}  // namespace

/// crossbar.solver "sparse" (solvers/crossbar_phases.h): the wire network by a sparse Cholesky
/// factorisation, either reduced onto the neurons (networks with diodes, or few neurons) or
/// solved directly with every node per phase (linear networks with many neurons).
class CrossbarSolver::SparsePhases {
 public:
  /// Above this many neurons a linear network is solved directly, one factorisation per phase:
  /// the reduction would cost one solve per neuron.
  static constexpr int kReducedNeurons = 64;

  SparsePhases(const circuits::LoweredCrossbar& crossbar, const Roles& roles)
      : crossbar_(crossbar), roles_(roles),
        reduced_(roles.any_diode() || roles.num_neurons() <= kReducedNeurons) {}

  const char* method() const { return reduced_ ? "neurons" : "direct"; }

  void prepare(const circuits::Circuit& c) {
    ++batch_;
    injection_ = node_injection(c);
    bias_ = roles_.at_neurons(injection_);
    if (!reduced_) return;  // the direct way factors per phase
    wires_factor();
    // Y_KZ = L_KZ - L_KW L_WW^-1 L_WZ over the knowns K (inputs, then neurons) and the neurons Z,
    // a block of neurons at a time.
    DirichletSystem& w = *wires_;
    const int nx = static_cast<int>(roles_.inputs.size()), nz = roles_.num_neurons();
    y_kz_ = w.known_block().rightCols(nz);
    const Index u = w.num_unknowns();
    if (u > 0) {
      const Index block = chunk_of(u, nz);
      Eigen::MatrixXd sol;
      for (Index first = 0; first < nz; first += block) {
        const Index m = std::min<Index>(block, nz - first);
        sol.resize(u, m);
        for (Index j = 0; j < m; ++j) w.known_column(static_cast<int>(nx + first + j), sol.col(j));
        w.solve(sol);
        Eigen::MatrixXd part = y_kz_.middleCols(first, m);
        w.subtract_transpose(sol, part);
        y_kz_.middleCols(first, m) = part;
      }
    }
  }

  long run(const Eigen::MatrixXd& inputs, const std::function<CrossbarDrive(Index)>& drive_of,
           const CrossbarStates* start, Eigen::VectorXd& warm, CrossbarStates& out, bool squares) {
    const Index batch = inputs.rows();
    const int nz = roles_.num_neurons(), nx = static_cast<int>(roles_.inputs.size());
    out.neurons.resize(nz, batch);
    long iterations = 0;
    if (reduced_) {
      iterations = solve_samples(y_kz_.bottomRows(nz), y_kz_.topRows(nx).transpose(), bias_,
                                 roles_.polarity, roles_.outputs, inputs, drive_of, start, warm,
                                 out.neurons);
      if (squares) {
        out.device_squares.clear();
        const Index chunk = chunk_of(crossbar_.lowered.circuit.num_nodes(), batch);
        Eigen::MatrixXd full;
        for (Index first = 0; first < batch; first += chunk) {
          expand(inputs, out.neurons, first, std::min(chunk, batch - first), full);
          add_device_squares(crossbar_, full, out.device_squares);
        }
      }
      return iterations;
    }
    // Direct: the samples in groups of one drive (kind and beta), every node but the sources
    // (and the clamped outputs) solved at once.
    if (squares) out.device_squares.clear();
    std::vector<CrossbarDrive> drives;
    drives.reserve(at(batch));
    for (Index b = 0; b < batch; ++b) drives.push_back(drive_of(b));
    out.drives = drives;
    std::vector<char> done(at(batch), 0);
    for (Index b0 = 0; b0 < batch; ++b0) {
      if (done[at(b0)]) continue;
      std::vector<Index> group;
      for (Index b = b0; b < batch; ++b)
        if (!done[at(b)] && drives[at(b)].kind == drives[at(b0)].kind &&
            (drives[at(b)].kind != CrossbarDrive::Nudge || drives[at(b)].beta == drives[at(b0)].beta)) {
          group.push_back(b);
          done[at(b)] = 1;
        }
      solve_direct(inputs, drives, group, out, squares);
      iterations += static_cast<long>(group.size());
    }
    return iterations;
  }

  /// Every node's potential for sample b of `s` into `full` (nodes x 1): from its neurons with the
  /// wire network's factor, or, solved directly, by solving the sample again with its own drive
  /// (the factor of its phase, refactored if another phase came since: no second system).
  void sample(const CrossbarStates& s, Index b, Eigen::MatrixXd& full) {
    if (reduced_ || s.drives.size() != static_cast<std::size_t>(s.inputs.rows())) {
      expand(s.inputs, s.neurons, b, 1, full);
      return;
    }
    CrossbarStates scratch;
    scratch.neurons.resize(roles_.num_neurons(), s.inputs.rows());
    solve_direct(s.inputs, s.drives, {b}, scratch, false, &full);
  }

  /// Every node's potential for the samples [first, first + count) of `neurons`, into `full`
  /// (nodes x count): the wire nodes from one solve with the neurons and sources held.
  void expand(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& neurons, Index first,
              Index count, Eigen::MatrixXd& full) {
    if (!wires_ || wires_batch_ != batch_) wires_factor();
    const DirichletSystem& w = *wires_;
    const int nx = static_cast<int>(roles_.inputs.size());
    Eigen::MatrixXd known(w.num_knowns(), count);
    known.topRows(nx) = inputs.middleRows(first, count).transpose();
    known.bottomRows(neurons.rows()) = neurons.middleCols(first, count);
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(w.num_unknowns(), count);
    w.subtract_known(known, rhs);
    w.solve(rhs);
    w.assemble(known, rhs, full);
  }

  double bytes() const {
    return (wires_ ? wires_->bytes() : 0.0) + (free_system_ ? free_system_->bytes() : 0.0) +
           (clamp_system_ ? clamp_system_->bytes() : 0.0) + 8.0 * static_cast<double>(y_kz_.size());
  }

 private:
  /// The wire network with the sources and neurons held, factored for this batch's conductances.
  void wires_factor() {
    if (!wires_) {
      std::vector<int> knowns = roles_.inputs;
      knowns.insert(knowns.end(), roles_.neurons.begin(), roles_.neurons.end());
      wires_ = std::make_unique<DirichletSystem>(crossbar_.lowered.circuit, std::move(knowns),
                                                 reduced_, "crossbar wire network");
    }
    wires_->fill(crossbar_.lowered.circuit);
    wires_->factorize();
    wires_batch_ = batch_;
  }

  /// The samples `group` (one drive) with every node but the sources (and clamped outputs)
  /// unknown: one factorisation (kept while the drive repeats within a batch), one solve.
  void solve_direct(const Eigen::MatrixXd& inputs, const std::vector<CrossbarDrive>& drives,
                    const std::vector<Index>& group, CrossbarStates& out, bool squares,
                    Eigen::MatrixXd* full_out = nullptr) {
    const CrossbarDrive& drive = drives[at(group.front())];
    const bool clamp = drive.kind == CrossbarDrive::Clamp;
    const double beta = drive.kind == CrossbarDrive::Nudge ? drive.beta : 0.0;
    const int nx = static_cast<int>(roles_.inputs.size()), first_output = roles_.first_output();
    std::unique_ptr<DirichletSystem>& slot = clamp ? clamp_system_ : free_system_;
    if (!slot) {
      std::vector<int> knowns = roles_.inputs;
      if (clamp)
        knowns.insert(knowns.end(), roles_.neurons.begin() + first_output, roles_.neurons.end());
      slot = std::make_unique<DirichletSystem>(crossbar_.lowered.circuit, std::move(knowns), false,
                                               "crossbar circuit");
    }
    DirichletSystem& sys = *slot;
    Factored& f = clamp ? clamp_factored_ : free_factored_;
    if (f.batch != batch_ || f.beta != beta) {
      sys.fill(crossbar_.lowered.circuit);
      if (beta != 0.0)
        for (int i = first_output; i < roles_.num_neurons(); ++i) sys.add_diagonal(roles_.neurons[at(i)], beta);
      sys.factorize();
      f = {batch_, beta};
    }
    const Index nodes = crossbar_.lowered.circuit.num_nodes();
    const Index chunk = chunk_of(nodes, static_cast<Index>(group.size()));
    Eigen::MatrixXd known, rhs, full;
    for (std::size_t first = 0; first < group.size(); first += at(chunk)) {
      const Index count = std::min<Index>(chunk, static_cast<Index>(group.size() - first));
      known.resize(sys.num_knowns(), count);
      rhs.resize(sys.num_unknowns(), count);
      for (Index j = 0; j < count; ++j) {
        const Index b = group[first + at(j)];
        known.col(j).head(nx) = inputs.row(b).transpose();
        if (clamp) known.col(j).tail(roles_.outputs) = drives[at(b)].value.transpose();
        for (int u = 0; u < sys.num_unknowns(); ++u) rhs(u, j) = injection_(sys.unknowns()[at(u)]);
        if (beta != 0.0)
          for (int i = 0; i < roles_.outputs; ++i)
            rhs(sys.index_u(roles_.neurons[at(first_output + i)]), j) += beta * drives[at(b)].value(i);
      }
      sys.subtract_known(known, rhs);
      sys.solve(rhs);
      sys.assemble(known, rhs, full);
      for (Index j = 0; j < count; ++j)
        for (int z = 0; z < roles_.num_neurons(); ++z)
          out.neurons(z, group[first + at(j)]) = full(roles_.neurons[at(z)], j);
      if (squares) add_device_squares(crossbar_, full, out.device_squares);
      if (full_out) *full_out = full;
    }
  }

  struct Factored {
    long batch = -1;
    double beta = 0.0;
  };
  const circuits::LoweredCrossbar& crossbar_;
  const Roles& roles_;
  bool reduced_;
  long batch_ = 0, wires_batch_ = -1;
  std::unique_ptr<DirichletSystem> wires_, free_system_, clamp_system_;
  Factored free_factored_, clamp_factored_;
  Eigen::MatrixXd y_kz_;  ///< reduced: Y over (inputs, neurons) x neurons
  Eigen::VectorXd bias_, injection_;
};

/// crossbar.solver "dense": the Kron reduction onto every terminal T (inputs and neurons) with
/// dense matrices: with the terminals fixed, the wire nodes W follow as v_W = M v_T,
/// M = -L_WW^-1 L_WT, and the terminals see Y = L_TT + L_TW M (the Schur complement of the
/// conductance Laplacian). Exact, but M holds wire nodes x terminals values.
class CrossbarSolver::DensePhases {
 public:
  DensePhases(const circuits::LoweredCrossbar& crossbar, const Roles& roles)
      : crossbar_(crossbar), roles_(roles) {
    std::vector<int> knowns = roles_.inputs;
    knowns.insert(knowns.end(), roles_.neurons.begin(), roles_.neurons.end());
    system_ = std::make_unique<DirichletSystem>(crossbar_.lowered.circuit, std::move(knowns), true,
                                                "crossbar wire network");
  }

  /// Recomputes M and Y for the conductances now in the circuit (call after LoweredNetwork::update).
  void prepare(const circuits::Circuit& c) {
    DirichletSystem& w = *system_;
    w.fill(c);
    w.factorize();
    bias_ = roles_.at_neurons(node_injection(c));
    const int t = w.num_knowns();
    M_.resize(w.num_unknowns(), t);
    for (int k = 0; k < t; ++k) w.known_column(k, M_.col(k));
    w.solve(M_);
    M_ = -M_;
    Y_ = w.known_block();
    w.subtract_transpose(-M_, Y_);  // Y = L_TT + L_TW M
  }

  long run(const Eigen::MatrixXd& inputs, const std::function<CrossbarDrive(Index)>& drive_of,
           const CrossbarStates* start, Eigen::VectorXd& warm, CrossbarStates& out, bool squares) {
    const Index batch = inputs.rows();
    const int nz = roles_.num_neurons(), nx = static_cast<int>(roles_.inputs.size());
    const long iterations =
        solve_samples(Y_.bottomRightCorner(nz, nz), Y_.bottomLeftCorner(nz, nx), bias_,
                      roles_.polarity, roles_.outputs, inputs, drive_of, start, warm, out.neurons);
    if (squares) {
      out.device_squares.clear();
      Eigen::MatrixXd full;
      for (Index b = 0; b < batch; ++b) {
        expand(inputs, out.neurons, b, 1, full);
        add_device_squares(crossbar_, full, out.device_squares);
      }
    }
    return iterations;
  }

  void expand(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& neurons, Index first,
              Index count, Eigen::MatrixXd& full) const {
    const DirichletSystem& w = *system_;
    const int nx = static_cast<int>(roles_.inputs.size());
    Eigen::MatrixXd terminals(w.num_knowns(), count);
    terminals.topRows(nx) = inputs.middleRows(first, count).transpose();
    terminals.bottomRows(neurons.rows()) = neurons.middleCols(first, count);
    const Eigen::MatrixXd internals = M_ * terminals;
    w.assemble(terminals, internals, full);
  }

  double bytes() const { return system_->bytes() + 8.0 * static_cast<double>(M_.size() + Y_.size()); }

 private:
  const circuits::LoweredCrossbar& crossbar_;
  const Roles& roles_;
  std::unique_ptr<DirichletSystem> system_;
  Eigen::MatrixXd M_, Y_;
  Eigen::VectorXd bias_;
};

CrossbarSolver::CrossbarSolver(const circuits::LayeredNetwork& net,
                               const circuits::CrossbarParams& params, double g_unit,
                               const NewtonOptions& newton_options)
    : crossbar_(circuits::lower_to_crossbar(net, params, g_unit)) {
  if (params.solver != "sparse" && params.solver != "dense" && params.solver != "newton")
    throw ConfigError("crossbar.solver", "\"" + params.solver + "\"",
                      "must be one of: sparse, dense, newton");
  // The reductions' active set treats every neuron's diode as an ideal one.
  if (params.solver != "newton" && net.params.diode == "shockley")
    throw ConfigError("crossbar.solver", "\"" + params.solver + "\"",
                      "treats the neurons' diodes as ideal; network.diode \"shockley\" needs "
                      "crossbar.solver \"newton\"");
  if (params.solver == "newton") {
    newton_ = std::make_unique<NewtonPhases>(net, params, g_unit, newton_options);
    return;
  }
  roles_ = std::make_unique<Roles>(net, crossbar_);
  if (params.solver == "dense")
    dense_ = std::make_unique<DensePhases>(crossbar_, *roles_);
  else
    sparse_ = std::make_unique<SparsePhases>(crossbar_, *roles_);
}

CrossbarSolver::~CrossbarSolver() = default;

void CrossbarSolver::prepare(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs) {
  crossbar_.lowered.update(net, inputs.row(0));  // conductances and biases of this batch
  if (!dense_ && !sparse_) return;
  // The factorisation and the reduction depend on the conductances and bias currents only (the
  // inputs enter per sample): with the same values as last time (evaluation, batch after batch)
  // they are kept.
  const circuits::Circuit& c = crossbar_.lowered.circuit;
  std::vector<double> values;
  values.reserve(c.list<circuits::Conductance>().size() + c.list<circuits::CurrentSource>().size());
  for (const auto& g : c.list<circuits::Conductance>()) values.push_back(g.g);
  for (const auto& src : c.list<circuits::CurrentSource>()) values.push_back(src.amps);
  if (values == prepared_values_) return;
  prepared_values_ = std::move(values);
  ++preparations_;
  if (dense_) dense_->prepare(c);
  if (sparse_) sparse_->prepare(c);
}

void CrossbarSolver::run_phase(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs,
                               const std::function<CrossbarDrive(Eigen::Index)>& drive_of,
                               const CrossbarStates* start, CrossbarStates& out,
                               bool device_squares) {
  const Eigen::Index batch = inputs.rows();
  out.inputs = inputs;
  out.device_squares.clear();
  out.drives.clear();
  if (sparse_) {
    iterations_ += sparse_->run(inputs, drive_of, start, warm_, out, device_squares);
  } else if (dense_) {
    iterations_ += dense_->run(inputs, drive_of, start, warm_, out, device_squares);
  } else {
    out.full.resize(crossbar_.lowered.circuit.num_nodes(), batch);
    for (Eigen::Index b = 0; b < batch; ++b) {
      Eigen::VectorXd v = start ? Eigen::VectorXd(start->full.col(b)) : warm_;
      iterations_ += newton_->solve(net, inputs.row(b), drive_of(b), v);
      out.full.col(b) = v;
      if (!start) warm_ = v;
    }
    if (device_squares) add_device_squares(crossbar_, out.full, out.device_squares);
  }
}

Eigen::VectorXd CrossbarSolver::node_potentials(const CrossbarStates& s, Eigen::Index b) const {
  if (newton_) return s.full.col(b);
  Eigen::MatrixXd full;
  if (sparse_) sparse_->sample(s, b, full);
  else dense_->expand(s.inputs, s.neurons, b, 1, full);
  return full.col(0);
}

double CrossbarSolver::potential(const CrossbarStates& s, int node, Eigen::Index b) const {
  if (newton_) return s.full(node, b);
  const int role = roles_->role[at(node)], index = roles_->index[at(node)];
  if (role == 1) return s.inputs(b, index);
  if (role == 2) return s.neurons(index, b);
  return node_potentials(s, b)(node);
}

Eigen::RowVectorXd CrossbarSolver::outputs(const CrossbarStates& s, Eigen::Index b) const {
  const auto& nodes = crossbar_.lowered.layer_nodes.back();
  Eigen::RowVectorXd o(static_cast<Eigen::Index>(nodes.size()));
  for (std::size_t i = 0; i < nodes.size(); ++i)
    o(static_cast<Eigen::Index>(i)) = potential(s, nodes[i], b);
  return o;
}

std::string CrossbarSolver::method() const {
  if (sparse_) return std::string("sparse-") + sparse_->method();
  return dense_ ? "dense" : "newton";
}

double CrossbarSolver::solver_bytes() const {
  if (sparse_) return sparse_->bytes();
  return dense_ ? dense_->bytes() : 0.0;
}

long CrossbarSolver::take_iterations() {
  const long n = iterations_;
  iterations_ = 0;
  return n;
}

}  // namespace physlearn::solvers
