#include "learning/ep.h"

namespace physlearn::learning {

EpVariant parse_ep_variant(const std::string& name, const std::string& path) {
  if (name == "positive") return EpVariant::Positive;
  if (name == "negative") return EpVariant::Negative;
  if (name == "centered") return EpVariant::Centered;
  throw ConfigError(path, "\"" + name + "\"", "must be one of: positive, negative, centered");
}

void ep_gradient(const circuits::LayeredNetwork& net, solvers::EquilibriumSolver& solver,
                 const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
                 EpVariant variant, double beta, solvers::LayeredState& free,
                 ParameterGradient& gradient) {
  solver.set_inputs(net, input_voltages);
  free = solvers::LayeredState::zeros(net, input_voltages.rows());
  solver.relax(net, solvers::PhaseNudge::free(), free);
  solvers::LayeredState plus, minus;
  const EpContrast<double> contrast = ep_nudged_phases(
      variant, beta, targets, free, plus, minus,
      [&](const solvers::PhaseNudge& nudge, solvers::LayeredState& state) {
        solver.relax(net, nudge, state);
      });
  energy_contrast(net, input_voltages, *contrast.a, *contrast.b, contrast.scale, gradient);
}

}  // namespace physlearn::learning
