#pragma once
/// The fast path of the commonest experiment: a DRN with ideal devices (no chip section) trained
/// by EP on the layered solver, without alignment logging. It computes what the Trainer computes
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

#include "circuits/drn.h"
#include "learning/model.h"
#include "learning/rule.h"
#include "learning/trainer.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

/// The fused model of `plan` (an EP plan) on `net` (its starting conductances, e.g. an initial
/// network's, taken exactly) in float32 or float64. The gate that decides where it trains is one
/// function, fused_model_applies (orchestration/models.h).
std::unique_ptr<Model> make_fused_model(bool float32, circuits::LayeredNetwork net,
                                        PhasePlan plan,
                                        const solvers::LayeredSolverOptions& solver,
                                        const OptimizerSettings& optimizer, double g_min,
                                        double g_max);

}  // namespace physlearn::learning
