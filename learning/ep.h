#pragma once
/// Equilibrium Propagation (Scellier & Bengio 2017): the free phase relaxes with the inputs
/// applied; nudged phases relax on from the free state with the current beta (y - o) injected into
/// the outputs; each conductance's update comes from its own voltage drops in the phases:
///   positive: [dE/dg(+beta) - dE/dg(0)] / beta
///   negative: [dE/dg(0) - dE/dg(-beta)] / beta
///   centered: [dE/dg(+beta) - dE/dg(-beta)] / (2 beta)
/// with dE/dg_ij = 1/2 (v_i - v_j)^2 and dE/db_i = -v_i. The estimate tends to the gradient of the
/// loss at the free equilibrium as beta -> 0.
#include <string>

#include "learning/gradient.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

enum class EpVariant { Positive, Negative, Centered };

/// "positive", "negative", "centered"; throws ConfigError naming `path` otherwise.
EpVariant parse_ep_variant(const std::string& name, const std::string& path);

/// The two states EP contrasts and the factor: gradient = scale (dE/dtheta(a) - dE/dtheta(b)).
template <typename Scalar>
struct EpContrast {
  const solvers::BasicLayeredState<Scalar>* a;
  const solvers::BasicLayeredState<Scalar>* b;
  double scale;
};

/// EP's nudged phases, each starting from the free equilibrium `free`, run by
/// `relax(nudge, state)` into `plus` and `minus` as the variant needs; returns what to contrast.
template <typename Scalar, class Relax>
EpContrast<Scalar> ep_nudged_phases(EpVariant variant, double beta,
                                    const solvers::MatrixX<Scalar>& targets,
                                    const solvers::BasicLayeredState<Scalar>& free,
                                    solvers::BasicLayeredState<Scalar>& plus,
                                    solvers::BasicLayeredState<Scalar>& minus, Relax&& relax) {
  using Nudge = solvers::BasicPhaseNudge<Scalar>;
  if (variant != EpVariant::Negative) {
    plus = free;
    relax(Nudge::nudge(beta, targets), plus);
  }
  if (variant != EpVariant::Positive) {
    minus = free;
    relax(Nudge::nudge(-beta, targets), minus);
  }
  switch (variant) {
    case EpVariant::Positive: return {&plus, &free, 1.0 / beta};
    case EpVariant::Negative: return {&free, &minus, 1.0 / beta};
    case EpVariant::Centered: break;
  }
  return {&plus, &minus, 0.5 / beta};
}

/// Runs the free and nudged phases for one mini-batch and writes the EP gradient estimate into
/// `gradient` (shaped like the network). On return `free` holds the free equilibrium.
void ep_gradient(const circuits::LayeredNetwork& net, solvers::EquilibriumSolver& solver,
                 const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
                 EpVariant variant, double beta, solvers::LayeredState& free,
                 ParameterGradient& gradient);

}  // namespace physlearn::learning
