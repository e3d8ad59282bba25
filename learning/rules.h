#pragma once
/// Local learning rules for a layered resistive network, all computed from the voltage drops of two
/// phases (each conductance sees only its own), all running through the same optimiser and devices:
///   ep   Equilibrium Propagation: nudge currents beta (y - o); positive, negative or centered.
///   chl  Contrastive Hebbian Learning (Movellan 1991): outputs clamped to the target y;
///        update direction dE/dg(clamped) - dE/dg(free).
///   cl   Coupled Learning (Stern et al. 2021): outputs clamped to o_F + eta (y - o_F);
///        direction [dE/dg(clamped) - dE/dg(free)] / eta (positive); negative clamps to
///        o_F - eta (y - o_F); centered takes both, divided by 2 eta.
///   exact  the exact gradient of the loss at the free state (implicit differentiation): what
///        perfect digital credit assignment would do on this very circuit.
/// Every direction is a descent direction for the loss: g <- g - lr * direction.
#include <string>

#include "learning/ep.h"
#include "learning/gradient.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

enum class RuleKind { EquilibriumPropagation, ContrastiveHebbian, CoupledLearning, ExactGradient };

struct Rule {
  RuleKind kind = RuleKind::EquilibriumPropagation;
  EpVariant variant = EpVariant::Centered;  ///< ep and cl
  double beta = 0.5;                        ///< ep: nudging strength
  double eta = 0.5;                         ///< cl: clamping factor in (0, 1]
  std::string name() const;                 ///< e.g. "ep-centered", "chl", "cl-positive", "exact"
};

/// Reads a rule from its config names; errors name `path` ("learning.rule").
Rule make_rule(const std::string& rule, const std::string& variant, double beta, double eta,
               const std::string& path);

/// Runs the rule's phases for one mini-batch and writes its update direction into `direction`.
/// On return `free` holds the free state.
void rule_direction(const Rule& rule, const circuits::LayeredNetwork& net,
                    solvers::EquilibriumSolver& solver, const Eigen::MatrixXd& input_voltages,
                    const Eigen::MatrixXd& targets, solvers::LayeredState& free,
                    ParameterGradient& direction);

}  // namespace physlearn::learning
