#include "learning/crossbar.h"

#include "core/error.h"

namespace physlearn::learning {

void check_crossbar_plan(const PhasePlan& plan) {
  if (plan.exact)
    throw ConfigError("learning.rule", "\"" + plan.name + "\"",
                      "needs the layered view; a crossbar with wires is trained by ep, chl or cl");
}

CrossbarExecutor::CrossbarExecutor(const circuits::LayeredNetwork& net,
                                   const circuits::CrossbarParams& params, double g_unit,
                                   const solvers::NewtonOptions& newton_options)
    : solver_(net, params, g_unit, newton_options), solver_name_(params.solver) {}

void CrossbarExecutor::predict(const circuits::LayeredNetwork& net,
                               const Eigen::MatrixXd& input_voltages, Eigen::MatrixXd& outputs) {
  free_phase(net, input_voltages, outputs, false);
}

void CrossbarExecutor::free_phase(const circuits::LayeredNetwork& net,
                                  const Eigen::MatrixXd& input_voltages, Eigen::MatrixXd& outputs,
                                  bool device_squares) {
  states_.resize(std::max<std::size_t>(states_.size(), 1));
  solver_.prepare(net, input_voltages);
  solver_.run_phase(
      net, input_voltages, [](Eigen::Index) { return solvers::CrossbarDrive{}; }, nullptr,
      states_[0], device_squares);
  outputs.resize(input_voltages.rows(), net.num_outputs());
  for (Eigen::Index b = 0; b < input_voltages.rows(); ++b)
    outputs.row(b) = solver_.outputs(states_[0], b);
}

void CrossbarExecutor::direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                                 const Eigen::MatrixXd& input_voltages,
                                 const Eigen::MatrixXd& targets, Eigen::MatrixXd& free_outputs,
                                 ParameterGradient& direction) {
  check_crossbar_plan(plan);
  for (auto& w : direction.weights) w.setZero();
  for (auto& b : direction.biases) b.setZero();
  free_phase(net, input_voltages, free_outputs, plan.a == 0 || plan.b == 0);
  states_.resize(plan.phases.size());
  // The nudged or clamped phases start from the free state: EP nudges by sign beta towards the
  // target, CHL clamps the outputs to the target, CL to o + sign eta (y - o).
  for (std::size_t k = 1; k < plan.phases.size(); ++k) {
    const Phase& phase = plan.phases[k];
    auto drive = [&](Eigen::Index b) {
      solvers::CrossbarDrive d;
      const Eigen::RowVectorXd y = targets.row(b);
      switch (phase.drive) {
        case Phase::Drive::free:
          break;
        case Phase::Drive::nudge:
          d.kind = solvers::CrossbarDrive::Nudge;
          d.beta = phase.sign * plan.beta;
          d.value = y;
          break;
        case Phase::Drive::clamp_target:
          d.kind = solvers::CrossbarDrive::Clamp;
          d.value = y;
          break;
        case Phase::Drive::clamp_coupled: {
          d.kind = solvers::CrossbarDrive::Clamp;
          const Eigen::RowVectorXd o = free_outputs.row(b);
          d.value = o + phase.sign * plan.eta * (y - o);
          break;
        }
      }
      return d;
    };
    const bool squares = k == plan.a || k == plan.b;
    solver_.run_phase(net, input_voltages, drive, &states_[0], states_[k], squares);
  }
  const Eigen::Index batch = input_voltages.rows();
  accumulate(net, states_[plan.a], states_[plan.b], batch,
             plan.scale / static_cast<double>(batch), direction);
}

void CrossbarExecutor::accumulate(const circuits::LayeredNetwork& net,
                                const solvers::CrossbarStates& a,
                                const solvers::CrossbarStates& b, Eigen::Index batch,
                                double scale, ParameterGradient& out) const {
  // dE/dg of a device is half its squared drop: the solver sums the squares over the batch.
  const auto& layer_nodes = circuit().lowered.layer_nodes;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const std::size_t layer = static_cast<std::size_t>(l);
    const Eigen::VectorXd& sa = a.device_squares.at(layer);
    const Eigen::VectorXd& sb = b.device_squares.at(layer);
    double* w = out.weights[layer].data();
    const Eigen::Index rows = out.weights[layer].rows();
    Eigen::Index k = 0;
    for (int j = 0; j < net.sizes[layer]; ++j)
      for (int i = 0; i < net.sizes[layer + 1]; ++i, ++k)
        w[j + i * rows] += scale * 0.5 * (sa(k) - sb(k));  // column-major (j, i)
    if (net.has_biases)
      for (int i = 0; i < net.sizes[layer + 1]; ++i) {
        const int node = layer_nodes[layer][static_cast<std::size_t>(i)];
        double sum = 0.0;
        for (Eigen::Index s = 0; s < batch; ++s) sum += solver_.potential(a, node, s) - solver_.potential(b, node, s);
        out.biases[layer](i) -= scale * sum;
      }
  }
}

}  // namespace physlearn::learning
