/// Equilibrium Propagation (Scellier & Bengio 2017): nudged phases with the current
/// beta (y - o) injected into the outputs, relaxing on from the free state; each conductance's
/// update from its own voltage drops:
///   positive: [dE/dg(+beta) - dE/dg(0)] / beta
///   negative: [dE/dg(0) - dE/dg(-beta)] / beta
///   centered: [dE/dg(+beta) - dE/dg(-beta)] / (2 beta)
/// It tends to the gradient of the loss at the free equilibrium as beta -> 0.
#include "learning/rule.h"

namespace physlearn::learning {

Rule ep_rule() {
  return {"ep", "Equilibrium Propagation: nudge currents beta (y - o); positive, negative or centered",
          {{"ep-centered", "centered"}, {"ep-positive", "positive"}, {"ep-negative", "negative"}},
          false, [](const RuleSettings& s) {
            PhasePlan plan = signed_plan("ep", s.variant, s.beta, Phase::Drive::nudge, "nudge",
                                         "learning.variant");
            plan.beta = s.beta;
            return plan;
          }};
}

}  // namespace physlearn::learning
