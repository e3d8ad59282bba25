/// Contrastive Hebbian Learning (Movellan 1991): the outputs clamped to the target y; the update
/// direction dE/dg(clamped) - dE/dg(free).
#include "learning/rule.h"

namespace physlearn::learning {

Rule chl_rule() {
  PhasePlan plan;
  plan.name = "chl";
  plan.phases = {{Phase::Drive::free, 1.0, "free"}, {Phase::Drive::clamp_target, 1.0, "clamp"}};
  plan.a = 1, plan.b = 0, plan.scale = 1.0;
  return {"chl", "Contrastive Hebbian Learning: outputs clamped to the target", {{"chl", ""}},
          false, [plan](const RuleSettings&) { return plan; }};
}

}  // namespace physlearn::learning
