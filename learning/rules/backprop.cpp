/// The digital baseline: a ReLU network of the same layer sizes trained by backprop
/// (learning/backprop.h). It runs no phases on a circuit.
#include "learning/rule.h"

namespace physlearn::learning {

Rule backprop_rule() {
  return {"backprop", "the ReLU network baseline, trained by backprop", {{"backprop", ""}}, true,
          nullptr};
}

}  // namespace physlearn::learning
