#pragma once
/// The digital baseline as a Model: a ReLU network of the same layer sizes as the resistive
/// network (learning/backprop.h), trained by backprop with the same optimiser, data order,
/// epochs and batch size, in float32 or float64.
#include <cstdint>
#include <memory>
#include <vector>

#include "learning/model.h"
#include "learning/trainer.h"

namespace physlearn::learning {

/// `sizes`: inputs, hidden..., outputs; `optimizer`: the baseline's own rates.
std::unique_ptr<Model> make_baseline_model(bool float32, const std::vector<int>& sizes,
                                           std::uint64_t seed, const OptimizerSettings& optimizer);

}  // namespace physlearn::learning
