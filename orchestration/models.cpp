#include "orchestration/models.h"

#include "circuits/network_io.h"
#include "core/binary.h"
#include "learning/baseline.h"
#include "learning/crossbar.h"
#include "learning/device_array.h"
#include "learning/executor.h"
#include "learning/rule.h"
#include "orchestration/experiment.h"
#include "learning/fused_model.h"
#include "learning/trainer.h"
#include "solvers/newton_layered.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects it makes

namespace {

/// The learning section's optimiser with the given rates.
OptimizerSettings optimizer_settings(const LearningParams& lp, std::vector<double> lr_weights,
                                     std::vector<double> lr_biases) {
  return {lp.momentum, std::move(lr_weights), std::move(lr_biases), lp.lr_decay};
}

}  // namespace

bool fused_model_applies(const ExperimentConfig& config, std::string* reason) {
  std::string why;
  if (config.learning.rule != "ep") why = "needs learning.rule \"ep\"";
  else if (config.solver.type != "layered") why = "needs solver.type \"layered\"";
  else if (config.has_chip) why = "needs ideal devices (no chip section)";
  else if (config.learning.alignment_every > 0) why = "needs learning.alignment_every 0";
  else if (config.network.diode != "ideal" && config.network.diode != "none")
    why = "needs network.diode \"ideal\" or \"none\"";
  if (reason) *reason = why;
  return why.empty();
}

std::string model_precision(const ExperimentConfig& config) {
  const std::string& asked = config.solver.precision;
  if (asked != "auto") return asked;
  return learning::is_digital(config.learning.rule) || fused_model_applies(config) ? "float32" : "float64";
}

std::unique_ptr<Model> make_model(const ExperimentConfig& config, int num_inputs, int num_classes) {
  const LearningParams& lp = config.learning;
  const bool float32 = model_precision(config) == "float32";
  if (learning::is_digital(lp.rule)) {
    std::vector<int> sizes{num_inputs};
    for (int h : config.network.hidden) sizes.push_back(h);
    sizes.push_back(num_classes);
    auto rates = [](const std::vector<double>& own, const std::vector<double>& fallback) {
      return own.empty() ? fallback : own;
    };
    return make_baseline_model(
        float32, sizes, static_cast<std::uint64_t>(config.seed),
        optimizer_settings(lp, rates(lp.backprop_lr_weights, lp.lr_weights),
                           rates(lp.backprop_lr_biases, lp.lr_biases)));
  }
  const PhasePlan plan = make_plan(rule_settings(lp));
  const OptimizerSettings optimizer = optimizer_settings(lp, lp.lr_weights, lp.lr_biases);
  // The network at its seeded starting conductances, in [g_min, g_max]; and the network to
  // start from, when given.
  circuits::LayeredNetwork net =
      circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  for (auto& w : net.weights) w = w.cwiseMax(lp.g_min).cwiseMin(lp.g_max);
  std::unique_ptr<circuits::LayeredNetwork> start;
  if (!config.initial_network.empty()) {
    start = std::make_unique<circuits::LayeredNetwork>(net);
    circuits::load_network(config.initial_network, *start);
    for (auto& w : start->weights) w = w.cwiseMax(lp.g_min).cwiseMin(lp.g_max);
  }
  std::string reason;
  if (fused_model_applies(config, &reason))
    return make_fused_model(float32, start ? *start : std::move(net), plan,
                            config.solver.options<solvers::LayeredSolverOptions>("layered"),
                            optimizer, lp.g_min, lp.g_max);
  if (float32) throw ConfigError("solver.precision", "\"float32\"", reason);

  std::unique_ptr<DeviceArray> devices =
      config.has_chip ? make_chip_devices(config.chip, config.controller, net.weights)
                      : make_ideal_devices(lp.g_min, lp.g_max);
  std::unique_ptr<PhaseExecutor> executor;
  if (config.has_crossbar) {
    check_crossbar_plan(plan);
    executor = std::make_unique<CrossbarExecutor>(net, config.crossbar, crossbar_g_unit(config),
                                                  solvers::newton_options(config.solver));
  } else {
    executor = make_layered_executor(solvers::make_solver(config.solver, net));
  }
  std::vector<int> digital_sizes = net.sizes;
  digital_sizes.front() = config.network.inputs;  // the digital network needs no inverted copies
  return std::make_unique<Trainer>(std::move(net), start.get(), plan, std::move(executor),
                                   std::move(devices), optimizer, lp.alignment_every,
                                   std::move(digital_sizes), lp.digital_energy_per_mac,
                                   config.has_crossbar);
}

}  // namespace physlearn::orchestration
