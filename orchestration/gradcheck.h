#pragma once
/// The EP estimate against the exact gradient on one mini-batch of an experiment.
#include <string>

#include "core/schema.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

struct GradcheckOptions {
  double beta = 0.0;            ///< 0: the experiment's learning.beta
  std::string variant;          ///< empty: the experiment's learning.variant
  int batch = 0;                ///< 0: the experiment's batch size
  double tolerance = 1e-12;     ///< convergence of every phase (V), > 0
};
/// Negative beta or batch, or a tolerance <= 0, is a ConfigError naming the option.

/// Builds the experiment's network (at its seeded initial conductances), takes the first
/// mini-batch of the training set, relaxes every phase to `tolerance`, and compares the EP estimate
/// with the exact gradient (implicit differentiation). Also reports the estimate obtained with the
/// experiment's own solver settings (e.g. a fixed number of sweeps) under "experiment_solver":
/// the resolved solver section (type, precision, that type's keys) with its cosine and
/// relative_error. Returns a JSON object with cosine, relative_error, beta, variant, per-layer
/// figures and norms.
json gradcheck(const ExperimentConfig& config, const GradcheckOptions& options);

}  // namespace physlearn::orchestration
