#include "solvers/crossbar_phases.h"

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/voltage_source.h"
#include "core/error.h"

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

/// The crossbar's wires and devices are linear: with the terminals T (input sources and neuron
/// nodes) fixed, the internal nodes I (wire cells, access nodes) follow as v_I = M v_T with
/// M = -L_II^-1 L_IT, and the terminals see the Kron-reduced admittance Y = L_TT + L_TI M (the
/// Schur complement of the conductance Laplacian L). Both are exact and depend only on the
/// conductances, so they are computed once per mini-batch (one sparse LDLT of L_II and |T| solves).
/// Each sample's phase is then a small problem at the neurons: minimise 1/2 v'Av - c'v with the
/// diodes' sign constraints, solved by a primal-dual active set on dense matrices.
class CrossbarSolver::ReducedPhases {
 public:
  ReducedPhases(const circuits::LayeredNetwork& net, const circuits::LoweredCrossbar& crossbar)
      : crossbar_(crossbar) {
    const circuits::Circuit& c = crossbar_.lowered.circuit;
    const int nodes = c.num_nodes();
    terminal_.assign(static_cast<std::size_t>(nodes), -1);
    internal_.assign(static_cast<std::size_t>(nodes), -1);
    for (int src : crossbar_.lowered.input_sources) add_terminal(c.list<circuits::VoltageSource>()[static_cast<std::size_t>(src)].plus);
    num_inputs_ = static_cast<int>(terminals_.size());
    for (int l = 0; l < net.num_weight_layers(); ++l)
      for (std::size_t i = 0; i < crossbar_.lowered.layer_nodes[static_cast<std::size_t>(l)].size(); ++i) {
        add_terminal(crossbar_.lowered.layer_nodes[static_cast<std::size_t>(l)][i]);
        polarity_.push_back(net.polarity[static_cast<std::size_t>(l)](static_cast<Eigen::Index>(i)));
      }
    num_neurons_ = static_cast<int>(terminals_.size()) - num_inputs_;
    num_outputs_ = net.num_outputs();
    int k = 0;
    for (int n = 0; n < nodes; ++n)
      if (terminal_[static_cast<std::size_t>(n)] < 0) internal_[static_cast<std::size_t>(n)] = k++;
    num_internal_ = k;
  }

  /// Recomputes M and Y for the conductances now in the circuit (call after LoweredNetwork::update).
  void prepare(const circuits::Circuit& c) {
    const Eigen::Index t = static_cast<Eigen::Index>(terminals_.size());
    std::vector<Eigen::Triplet<double>> ii, it;
    Y_ = Eigen::MatrixXd::Zero(t, t);
    for (const auto& g : c.list<circuits::Conductance>()) {
      stamp(g.a, g.a, g.g, ii, it);
      stamp(g.b, g.b, g.g, ii, it);
      stamp(g.a, g.b, -g.g, ii, it);
      stamp(g.b, g.a, -g.g, ii, it);
    }
    bias_ = Eigen::VectorXd::Zero(num_neurons_);
    for (const auto& src : c.list<circuits::CurrentSource>()) {  // bias sources: from ground into a neuron
      if (src.to >= 0 && terminal_[static_cast<std::size_t>(src.to)] >= num_inputs_)
        bias_(terminal_[static_cast<std::size_t>(src.to)] - num_inputs_) += src.amps;
      if (src.from >= 0 && terminal_[static_cast<std::size_t>(src.from)] >= num_inputs_)
        bias_(terminal_[static_cast<std::size_t>(src.from)] - num_inputs_) -= src.amps;
    }
    if (num_internal_ > 0) {
      Eigen::SparseMatrix<double> lii(num_internal_, num_internal_), lit(num_internal_, t);
      lii.setFromTriplets(ii.begin(), ii.end());
      lit.setFromTriplets(it.begin(), it.end());
      if (!analysed_) {
        ldlt_.analyzePattern(lii);
        analysed_ = true;
      }
      ldlt_.factorize(lii);
      if (ldlt_.info() != Eigen::Success)
        throw SolverError("crossbar: the wire network is singular (a wire node without a path to a "
                          "terminal); check crossbar.wire_resistance and the conductances");
      M_ = -ldlt_.solve(Eigen::MatrixXd(lit));
      Y_.noalias() += Eigen::MatrixXd(lit.transpose()) * M_;
    } else {
      M_.resize(0, t);
    }
  }

  /// One phase of one sample: `v` (neuron potentials, layer by layer) is the start and the result.
  /// Returns the active-set iterations.
  long solve(const Eigen::RowVectorXd& inputs, const CrossbarDrive& drive, Eigen::VectorXd& v) {
    const int n = num_neurons_, first_output = n - num_outputs_;
    if (v.size() != n) v = Eigen::VectorXd::Zero(n);
    const auto A = Y_.bottomRightCorner(n, n);
    Eigen::VectorXd c = bias_ - Y_.bottomLeftCorner(n, num_inputs_) * inputs.transpose();
    // Unknowns: every neuron but clamped outputs.
    std::vector<char> known(static_cast<std::size_t>(n), 0);
    if (drive.kind == CrossbarDrive::Clamp)
      for (int i = 0; i < num_outputs_; ++i) {
        known[static_cast<std::size_t>(first_output + i)] = 1;
        v(first_output + i) = drive.value(i);
      }
    Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
    if (drive.kind == CrossbarDrive::Nudge)
      for (int i = 0; i < num_outputs_; ++i) {
        diag(first_output + i) = drive.beta;
        c(first_output + i) += drive.beta * drive.value(i);
      }
    // Primal-dual active set: a diode node is active (held at 0 V) while its diode conducts.
    std::vector<char> active(static_cast<std::size_t>(n), 0);
    for (int i = 0; i < n; ++i)
      active[static_cast<std::size_t>(i)] = polarity_[static_cast<std::size_t>(i)] != 0 && !known[static_cast<std::size_t>(i)] &&
                                            polarity_[static_cast<std::size_t>(i)] * v(i) <= 0.0;
    for (long iteration = 1; iteration <= 200; ++iteration) {
      free_.clear();
      for (int i = 0; i < n; ++i)
        if (!known[static_cast<std::size_t>(i)] && !active[static_cast<std::size_t>(i)]) free_.push_back(i);
        else if (active[static_cast<std::size_t>(i)]) v(i) = 0.0;
      const Eigen::Index f = static_cast<Eigen::Index>(free_.size());
      Eigen::MatrixXd a(f, f);
      Eigen::VectorXd rhs(f);
      for (Eigen::Index p = 0; p < f; ++p) {
        rhs(p) = c(free_[static_cast<std::size_t>(p)]);
        for (int j = 0; j < n; ++j)
          if (known[static_cast<std::size_t>(j)]) rhs(p) -= A(free_[static_cast<std::size_t>(p)], j) * v(j);
        for (Eigen::Index q = 0; q < f; ++q)
          a(p, q) = A(free_[static_cast<std::size_t>(p)], free_[static_cast<std::size_t>(q)]);
        a(p, p) += diag(free_[static_cast<std::size_t>(p)]);
      }
      if (f > 0) {
        const Eigen::VectorXd x = a.ldlt().solve(rhs);
        for (Eigen::Index p = 0; p < f; ++p) v(free_[static_cast<std::size_t>(p)]) = x(p);
      }
      // Diode currents of active nodes (sign-adjusted: >= 0 when conducting the right way),
      // sign violations of free ones.
      const Eigen::VectorXd gradient = A * v + diag.cwiseProduct(v) - c;
      bool changed = false;
      for (int i = 0; i < n; ++i) {
        const int s = polarity_[static_cast<std::size_t>(i)];
        if (s == 0 || known[static_cast<std::size_t>(i)]) continue;
        const bool now = active[static_cast<std::size_t>(i)] ? s * gradient(i) > 0.0 : s * v(i) < 0.0;
        if (now != static_cast<bool>(active[static_cast<std::size_t>(i)])) {
          active[static_cast<std::size_t>(i)] = now;
          changed = true;
        }
      }
      if (!changed) return iteration;
    }
    throw SolverError("crossbar: the neurons' diode set did not settle in 200 active-set iterations");
  }

  /// Potentials of every node for a batch: columns are samples; `inputs` batch x inputs,
  /// `neurons` neurons x batch. Fills `terminals` (|T| x batch) and `internals` (|I| x batch).
  void expand(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& neurons, Eigen::MatrixXd& terminals,
              Eigen::MatrixXd& internals) const {
    terminals.resize(static_cast<Eigen::Index>(terminals_.size()), inputs.rows());
    terminals.topRows(num_inputs_) = inputs.transpose();
    terminals.bottomRows(num_neurons_) = neurons;
    internals.noalias() = M_ * terminals;
  }

  /// The potential of node `node` for sample b, from expand()'s matrices.
  double potential(int node, Eigen::Index b, const Eigen::MatrixXd& terminals,
                   const Eigen::MatrixXd& internals) const {
    const int t = terminal_[static_cast<std::size_t>(node)];
    return t >= 0 ? terminals(t, b) : internals(internal_[static_cast<std::size_t>(node)], b);
  }

  int num_neurons() const { return num_neurons_; }

 private:
  void add_terminal(int node) {
    terminal_[static_cast<std::size_t>(node)] = static_cast<int>(terminals_.size());
    terminals_.push_back(node);
  }
  /// One Laplacian entry (row r, column q) into L_II, L_IT or Y (L_TT); ground is dropped.
  void stamp(int r, int q, double value, std::vector<Eigen::Triplet<double>>& ii,
             std::vector<Eigen::Triplet<double>>& it) {
    if (r < 0 || q < 0) return;
    const int tr = terminal_[static_cast<std::size_t>(r)], tq = terminal_[static_cast<std::size_t>(q)];
    if (tr >= 0 && tq >= 0) Y_(tr, tq) += value;
    else if (tr < 0 && tq < 0) ii.emplace_back(internal_[static_cast<std::size_t>(r)], internal_[static_cast<std::size_t>(q)], value);
    else if (tr < 0) it.emplace_back(internal_[static_cast<std::size_t>(r)], tq, value);
    // (terminal row, internal column): L_TI = L_IT^T, not stored.
  }

  const circuits::LoweredCrossbar& crossbar_;
  std::vector<int> terminal_, internal_;  ///< per node: index among terminals / internals, or -1
  std::vector<int> terminals_;            ///< inputs, then neurons layer by layer
  std::vector<int> polarity_;             ///< per neuron
  int num_inputs_ = 0, num_neurons_ = 0, num_outputs_ = 0, num_internal_ = 0;
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt_;
  bool analysed_ = false;
  Eigen::MatrixXd M_, Y_;
  Eigen::VectorXd bias_;
  std::vector<int> free_;
};


CrossbarSolver::CrossbarSolver(const circuits::LayeredNetwork& net,
                               const circuits::CrossbarParams& params, double g_unit,
                               const NewtonOptions& newton_options)
    : crossbar_(circuits::lower_to_crossbar(net, params, g_unit)) {
  // The reduction's active set treats every neuron's diode as an ideal one.
  if (params.solver != "newton" && net.params.diode == "shockley")
    throw ConfigError("crossbar.solver", "\"" + params.solver + "\"",
                      "treats the neurons' diodes as ideal; network.diode \"shockley\" needs "
                      "crossbar.solver \"newton\"");
  if (params.solver == "newton")
    newton_ = std::make_unique<NewtonPhases>(net, params, g_unit, newton_options);
  else
    reduced_ = std::make_unique<ReducedPhases>(net, crossbar_);
}

CrossbarSolver::~CrossbarSolver() = default;

void CrossbarSolver::prepare(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs) {
  crossbar_.lowered.update(net, inputs.row(0));  // conductances and biases of this batch
  if (reduced_) reduced_->prepare(crossbar_.lowered.circuit);
}

void CrossbarSolver::run_phase(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& inputs,
                               const std::function<CrossbarDrive(Eigen::Index)>& drive_of,
                               const CrossbarStates* start, CrossbarStates& out) {
  const Eigen::Index batch = inputs.rows();
  if (reduced_) {
    Eigen::MatrixXd neurons(reduced_->num_neurons(), batch);
    for (Eigen::Index b = 0; b < batch; ++b) {
      Eigen::VectorXd v = start ? Eigen::VectorXd(start->terminals.col(b).tail(reduced_->num_neurons()))
                                : warm_;
      iterations_ += reduced_->solve(inputs.row(b), drive_of(b), v);
      neurons.col(b) = v;
      if (!start) warm_ = v;
    }
    reduced_->expand(inputs, neurons, out.terminals, out.internals);
  } else {
    out.full.resize(crossbar_.lowered.circuit.num_nodes(), batch);
    for (Eigen::Index b = 0; b < batch; ++b) {
      Eigen::VectorXd v = start ? Eigen::VectorXd(start->full.col(b)) : warm_;
      iterations_ += newton_->solve(net, inputs.row(b), drive_of(b), v);
      out.full.col(b) = v;
      if (!start) warm_ = v;
    }
  }
}

double CrossbarSolver::potential(const CrossbarStates& s, int node, Eigen::Index b) const {
  return reduced_ ? reduced_->potential(node, b, s.terminals, s.internals) : s.full(node, b);
}

Eigen::RowVectorXd CrossbarSolver::outputs(const CrossbarStates& s, Eigen::Index b) const {
  const auto& nodes = crossbar_.lowered.layer_nodes.back();
  Eigen::RowVectorXd o(static_cast<Eigen::Index>(nodes.size()));
  for (std::size_t i = 0; i < nodes.size(); ++i)
    o(static_cast<Eigen::Index>(i)) = potential(s, nodes[i], b);
  return o;
}

long CrossbarSolver::take_iterations() {
  const long n = iterations_;
  iterations_ = 0;
  return n;
}

}  // namespace physlearn::solvers
