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
  // The nudged phases start from the free state.
  solvers::LayeredState plus = free, minus = free;
  if (variant != EpVariant::Negative) solver.relax(net, solvers::PhaseNudge::nudge(beta, targets), plus);
  if (variant != EpVariant::Positive) solver.relax(net, solvers::PhaseNudge::nudge(-beta, targets), minus);
  switch (variant) {
    case EpVariant::Positive:
      energy_contrast(net, input_voltages, plus, free, 1.0 / beta, gradient);
      break;
    case EpVariant::Negative:
      energy_contrast(net, input_voltages, free, minus, 1.0 / beta, gradient);
      break;
    case EpVariant::Centered:
      energy_contrast(net, input_voltages, plus, minus, 0.5 / beta, gradient);
      break;
  }
}

}  // namespace physlearn::learning
