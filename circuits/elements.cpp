/// The registry of element kinds: one line per kind. The order is the order of every loop over
/// the kinds (assembly, unknowns, JSON and SPICE writing).
#include <stdexcept>

#include "circuits/element.h"
#include "circuits/elements/capacitor.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/diode.h"
#include "circuits/elements/inductor.h"
#include "circuits/elements/memristor.h"
#include "circuits/elements/vccs.h"
#include "circuits/elements/vcvs.h"
#include "circuits/elements/voltage_source.h"

namespace physlearn::circuits {

const std::vector<std::unique_ptr<ElementGroup>>& element_kinds() {
  static const std::vector<std::unique_ptr<ElementGroup>> kinds = [] {
    std::vector<std::unique_ptr<ElementGroup>> k;
    k.push_back(std::make_unique<KindGroup<ConductanceKind>>());
    k.push_back(std::make_unique<KindGroup<VoltageSourceKind>>());
    k.push_back(std::make_unique<KindGroup<CurrentSourceKind>>());
    k.push_back(std::make_unique<KindGroup<DiodeKind>>());
    k.push_back(std::make_unique<KindGroup<VcvsKind>>());
    k.push_back(std::make_unique<KindGroup<VccsKind>>());
    k.push_back(std::make_unique<KindGroup<CapacitorKind>>());
    k.push_back(std::make_unique<KindGroup<MemristorKind>>());
    k.push_back(std::make_unique<KindGroup<InductorKind>>());
    return k;
  }();
  return kinds;
}

std::size_t element_kind_index(const std::type_info& type) {
  const auto& kinds = element_kinds();
  for (std::size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i]->element_type() == type) return i;
  throw std::logic_error(std::string("element type not registered: ") + type.name());
}

}  // namespace physlearn::circuits
