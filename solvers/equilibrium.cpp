#include "solvers/equilibrium.h"

#include <cmath>

#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"
#include "solvers/transient_layered.h"

namespace physlearn::solvers {

void describe(Schema& s, SolverParams& p) {
  s.field("type", p.type,
          "steady-state solver: layered (exact block coordinate descent, ideal diodes) or newton "
          "(Newton on the lowered circuit, any diode) or ngspice (the lowered circuit solved by "
          "ngspice's op, in process; ideal diodes as steep Shockley diodes) or transient (every "
          "phase simulated in time by IDA; transient_* keys)")
      .one_of({"layered", "newton", "ngspice", "transient"});
  s.field("sweeps", p.sweeps, "layered: sweeps per phase when tolerance is 0").min(1);
  s.field("tolerance", p.tolerance,
          "layered: sweep until the largest potential change is below this (0: fixed sweeps)")
      .unit("V").min(0.0);
  s.field("max_sweeps", p.max_sweeps, "layered: most sweeps when tolerance > 0").min(1);
  s.field("newton_abstol", p.newton_abstol, "newton: KCL residual tolerance").unit("A").greater(0.0);
  s.field("newton_vntol", p.newton_vntol, "newton: potential update tolerance").unit("V").greater(0.0);
  s.field("newton_max_iterations", p.newton_max_iterations, "newton: most iterations").min(1);
  s.field("ngspice_reltol", p.ngspice_reltol, "ngspice: relative tolerance (.options reltol)")
      .greater(0.0);
  s.field("ngspice_abstol", p.ngspice_abstol, "ngspice: current tolerance (.options abstol)")
      .unit("A").greater(0.0);
  s.field("ngspice_vntol", p.ngspice_vntol, "ngspice: voltage tolerance (.options vntol)")
      .unit("V").greater(0.0);
  s.field("ngspice_ideal_diode_emission", p.ngspice_ideal_diode_emission,
          "ngspice: emission coefficient N of the steep Shockley diode standing for each ideal "
          "diode (forward drop N Vt ln(1 + I/IS))")
      .greater(0.0);
  s.field("ngspice_verbose", p.ngspice_verbose, "ngspice: echo its output to stderr");
  describe_transient(s, p);
}

LayeredState LayeredState::zeros(const circuits::LayeredNetwork& net, Eigen::Index batch) {
  LayeredState s;
  for (std::size_t l = 1; l < net.sizes.size(); ++l)
    s.layers.push_back(Eigen::MatrixXd::Zero(batch, net.sizes[l]));
  return s;
}

std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& p,
                                               const circuits::LayeredNetwork& net) {
  if (p.type == "layered") {
    if (!net.ideal_diodes && net.params.diode != "none")
      throw ConfigError("solver.type", "\"layered\"",
                        "needs network.diode \"ideal\" or \"none\" (use \"newton\" for " +
                            net.params.diode + " diodes)");
    return std::make_unique<CoordinateDescentSolver>(p.sweeps, p.tolerance, p.max_sweeps);
  }
  if (p.type == "ngspice") return make_ngspice_layered_solver(p, net);
  if (p.type == "transient") return make_transient_layered_solver(p, net);
  return make_newton_layered_solver(p, net);
}

CoordinateDescentSolver::CoordinateDescentSolver(int sweeps, double tolerance, int max_sweeps)
    : sweeps_(sweeps), tolerance_(tolerance), max_sweeps_(max_sweeps) {}

double CoordinateDescentSolver::update_layer(const circuits::LayeredNetwork& net,
                                             const PhaseNudge& nudge, int layer, LayeredState& state) {
  const int last = net.num_weight_layers() - 1;
  Eigen::MatrixXd& v = state.layers[layer];
  // Numerator: currents the neighbours drive through their conductances, plus the bias.
  Eigen::MatrixXd& numerator = numerators_[layer];
  if (layer == 0)
    numerator = input_drive_;
  else
    numerator.noalias() = state.layers[layer - 1] * net.weights[layer];
  if (layer < last) numerator.noalias() += state.layers[layer + 1] * net.weights[layer + 1].transpose();
  if (net.has_biases) numerator.rowwise() += net.biases[layer];
  const bool nudged = layer == last && nudge.beta != 0.0;
  if (nudged) numerator += nudge.beta * *nudge.targets;
  const double extra = nudged ? nudge.beta : 0.0;
  double change = 0.0;
  const auto& polarity = net.polarity[layer];
  for (Eigen::Index i = 0; i < v.cols(); ++i) {
    const double d = conductance_sums_[layer](i) + extra;
    if (d < 0.0 || (d == 0.0 && nudged))
      throw SolverError(cat("layered solver: output ", i, " has total conductance ", d,
                            " with the nudge beta = ", nudge.beta,
                            ": the nudged energy has no minimum (|beta| too large)"));
    for (Eigen::Index b = 0; b < v.rows(); ++b) {
      double x = d > 0.0 ? numerator(b, i) / d : 0.0;
      if (polarity(i) > 0 && x < 0.0) x = 0.0;
      if (polarity(i) < 0 && x > 0.0) x = 0.0;
      change = std::max(change, std::abs(x - v(b, i)));
      v(b, i) = x;
    }
  }
  return change;
}

void CoordinateDescentSolver::set_inputs(const circuits::LayeredNetwork& net,
                                         const Eigen::MatrixXd& input_voltages) {
  // The inputs are clamped in every phase: their drive into the first layer is computed once.
  input_drive_.noalias() = input_voltages * net.weights[0];
  const int layers = net.num_weight_layers();
  conductance_sums_.resize(layers);
  numerators_.resize(layers);
  for (int l = 0; l < layers; ++l) {
    conductance_sums_[l] = net.weights[l].colwise().sum();
    if (l + 1 < layers) conductance_sums_[l] += net.weights[l + 1].rowwise().sum().transpose();
  }
}

void CoordinateDescentSolver::relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
                                    LayeredState& state) {
  const Eigen::Index batch = input_drive_.rows();
  if (batch == 0 || state.layers.front().rows() != batch)
    throw std::logic_error("CoordinateDescentSolver: relax without set_inputs for this batch");
  if (nudge.beta != 0.0 && (!nudge.targets || nudge.targets->rows() != batch))
    throw std::logic_error("CoordinateDescentSolver: nudge without targets for the batch");
  const int layers = net.num_weight_layers();
  // Clamped outputs are held by sources: set once, never relaxed.
  const int relaxed = nudge.clamp ? layers - 1 : layers;
  if (nudge.clamp) {
    if (nudge.clamp->rows() != batch || nudge.clamp->cols() != net.sizes.back())
      throw std::logic_error("CoordinateDescentSolver: clamp of the wrong shape");
    state.layers.back() = *nudge.clamp;
  }
  const int limit = tolerance_ > 0.0 ? max_sweeps_ : sweeps_;
  last_sweeps_ = 0;
  for (int sweep = 0; sweep < limit; ++sweep) {
    double change = 0.0;
    for (int parity = 0; parity < 2; ++parity)
      for (int l = parity; l < relaxed; l += 2)
        change = std::max(change, update_layer(net, nudge, l, state));
    ++last_sweeps_;
    if (tolerance_ > 0.0 && change < tolerance_) return;
  }
  if (tolerance_ > 0.0)
    throw SolverError(cat("layered solver: no convergence to tolerance ", tolerance_, " V in ",
                          max_sweeps_, " sweeps (raise solver.max_sweeps)"));
}

}  // namespace physlearn::solvers
