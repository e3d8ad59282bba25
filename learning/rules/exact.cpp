/// The exact gradient of the loss at the free state (implicit differentiation,
/// learning/gradient.h): what perfect digital credit assignment would do on this very circuit.
/// Only the layered view computes it.
#include "learning/rule.h"

namespace physlearn::learning {

Rule exact_rule() {
  PhasePlan plan;
  plan.name = "exact";
  plan.phases = {{Phase::Drive::free, 1.0, "free"}};
  plan.exact = true;
  return {"exact", "the exact gradient of the circuit's loss at the free state", {{"exact", ""}},
          false, [plan](const RuleSettings&) { return plan; }};
}

}  // namespace physlearn::learning
