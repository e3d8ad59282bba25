#include "learning/rules.h"

namespace physlearn::learning {

std::string Rule::name() const {
  const char* v = variant == EpVariant::Positive ? "positive"
                  : variant == EpVariant::Negative ? "negative" : "centered";
  switch (kind) {
    case RuleKind::EquilibriumPropagation: return std::string("ep-") + v;
    case RuleKind::CoupledLearning: return std::string("cl-") + v;
    case RuleKind::ContrastiveHebbian: return "chl";
    case RuleKind::ExactGradient: return "exact";
  }
  return "?";
}

Rule make_rule(const std::string& rule, const std::string& variant, double beta, double eta,
               const std::string& path) {
  Rule r;
  r.beta = beta;
  r.eta = eta;
  if (rule == "ep") r.kind = RuleKind::EquilibriumPropagation;
  else if (rule == "chl") r.kind = RuleKind::ContrastiveHebbian;
  else if (rule == "cl") r.kind = RuleKind::CoupledLearning;
  else if (rule == "exact") r.kind = RuleKind::ExactGradient;
  else throw ConfigError(path, "\"" + rule + "\"", "must be one of: ep, chl, cl, exact");
  r.variant = parse_ep_variant(variant, "learning.variant");
  return r;
}

void rule_direction(const Rule& rule, const circuits::LayeredNetwork& net,
                    solvers::EquilibriumSolver& solver, const Eigen::MatrixXd& input_voltages,
                    const Eigen::MatrixXd& targets, solvers::LayeredState& free,
                    ParameterGradient& direction) {
  using solvers::PhaseNudge;
  switch (rule.kind) {
    case RuleKind::EquilibriumPropagation:
      ep_gradient(net, solver, input_voltages, targets, rule.variant, rule.beta, free, direction);
      return;
    case RuleKind::ExactGradient:
      solver.set_inputs(net, input_voltages);
      free = solvers::LayeredState::zeros(net, input_voltages.rows());
      solver.relax(net, PhaseNudge::free(), free);
      direction = exact_gradient(net, input_voltages, free, targets);
      return;
    case RuleKind::ContrastiveHebbian: {
      solver.set_inputs(net, input_voltages);
      free = solvers::LayeredState::zeros(net, input_voltages.rows());
      solver.relax(net, PhaseNudge::free(), free);
      solvers::LayeredState clamped = free;
      solver.relax(net, PhaseNudge::clamped(targets), clamped);
      energy_contrast(net, input_voltages, clamped, free, 1.0, direction);
      return;
    }
    case RuleKind::CoupledLearning: {
      solver.set_inputs(net, input_voltages);
      free = solvers::LayeredState::zeros(net, input_voltages.rows());
      solver.relax(net, PhaseNudge::free(), free);
      const Eigen::MatrixXd error = targets - free.outputs();
      solvers::LayeredState plus = free, minus = free;
      Eigen::MatrixXd clamp_plus, clamp_minus;
      if (rule.variant != EpVariant::Negative) {
        clamp_plus = free.outputs() + rule.eta * error;
        solver.relax(net, PhaseNudge::clamped(clamp_plus), plus);
      }
      if (rule.variant != EpVariant::Positive) {
        clamp_minus = free.outputs() - rule.eta * error;
        solver.relax(net, PhaseNudge::clamped(clamp_minus), minus);
      }
      if (rule.variant == EpVariant::Positive)
        energy_contrast(net, input_voltages, plus, free, 1.0 / rule.eta, direction);
      else if (rule.variant == EpVariant::Negative)
        energy_contrast(net, input_voltages, free, minus, 1.0 / rule.eta, direction);
      else
        energy_contrast(net, input_voltages, plus, minus, 0.5 / rule.eta, direction);
      return;
    }
  }
}

}  // namespace physlearn::learning
