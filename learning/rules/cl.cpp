/// Coupled Learning (Stern et al. 2021): the outputs clamped to o_F + eta (y - o_F) (positive;
/// negative clamps to o_F - eta (y - o_F); centered takes both), direction
/// [dE/dg(clamped) - dE/dg(free)] / eta (centered: over 2 eta). "cl" alone in `compare` is the
/// original, positive one.
#include "learning/rule.h"

namespace physlearn::learning {

Rule cl_rule() {
  return {"cl", "Coupled Learning: outputs clamped to o + eta (y - o); positive, negative or centered",
          {{"cl", "positive"},
           {"cl-positive", "positive"},
           {"cl-negative", "negative"},
           {"cl-centered", "centered"}},
          false, [](const RuleSettings& s) {
            PhasePlan plan = signed_plan("cl", s.variant, s.eta, Phase::Drive::clamp_coupled,
                                         "clamp", "learning.variant");
            plan.eta = s.eta;
            return plan;
          }};
}

}  // namespace physlearn::learning
