#pragma once
/// The models an experiment asks for, made from its configuration: the one place that maps an
/// ExperimentConfig to the learning objects (network, rule plan, executor, devices, optimiser)
/// and that decides where the fused path trains.
#include <memory>
#include <string>

#include "learning/model.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

/// True when the fused EP path (learning/fused_model.h) trains `config`: EP on the layered
/// solver with ideal devices (no chip section), ideal diodes or none, no alignment logging; the
/// one place that decides it. Otherwise, when `reason` is given, it says why not.
bool fused_model_applies(const ExperimentConfig& config, std::string* reason = nullptr);

/// The arithmetic of the model the experiment asks for, "float32" or "float64": solver.precision,
/// with "auto" resolved to float32 where the fused EP path (learning/fused_model.h) or the backprop
/// baseline trains, float64 elsewhere.
std::string model_precision(const ExperimentConfig& config);

/// The model the experiment asks for: learning.rule "backprop" gives the ReLU baseline
/// (learning/baseline.h); EP on the layered solver with ideal devices the fused path
/// (learning/fused_model.h); any other rule the Trainer (learning/trainer.h) with the layered or
/// crossbar executor and ideal or chip devices. Throws ConfigError when a combination does not
/// apply.
std::unique_ptr<learning::Model> make_model(const ExperimentConfig& config, int num_inputs, int num_classes);

}  // namespace physlearn::orchestration
