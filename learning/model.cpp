#include "learning/model.h"

#include "core/binary.h"

namespace physlearn::learning {

void expect_state_kind(const json& state, const std::string& kind, const std::string& where) {
  if (member(state, "kind", where) != kind)
    throw Error(where + ": the state of another model (kind " + state["kind"].dump() +
                ", expected \"" + kind + "\")");
}

}  // namespace physlearn::learning
