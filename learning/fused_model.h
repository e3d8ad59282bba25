#pragma once
/// The fast path of the commonest experiment: a DRN with ideal devices (no chip section) trained
/// by EP on the layered solver, without alignment logging. It computes what CircuitModel computes
/// (the same phases, the same EP estimate, the same momentum step and clipping; equal up to
/// rounding), in float64 or float32 (model_precision), with the work of a mini-batch arranged
/// for speed:
///   - the free and nudged phases by BlockCoordinateDescent<Scalar> (solvers/coordinate_descent.h):
///     the inputs' drive into the first layer computed once per batch for every phase;
///   - the EP contrast fused with the momentum step (learning/contrast_step.h): no gradient
///     array, one pass over each weight array;
///   - float32: the network's arrays are kept in float32 during training (half the memory
///     traffic, twice the vector width); conductances() converts them back to float64.
#include <memory>
#include <string>

#include "learning/model.h"

namespace physlearn::learning {

/// True when the fused model trains `config`; otherwise, when `reason` is given, says why not.
bool fused_model_applies(const ExperimentConfig& config, std::string* reason = nullptr);

/// The fused model in the precision model_precision(config) gives; `config` must satisfy
/// fused_model_applies.
std::unique_ptr<Model> make_fused_model(const ExperimentConfig& config);

}  // namespace physlearn::learning
