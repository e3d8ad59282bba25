#include "orchestration/experiment.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

#include "learning/rule.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

using learning::Rule;

learning::RuleSettings rule_settings(const LearningParams& p) {
  return {p.rule, p.variant, p.beta, p.eta};
}

void describe(Schema& s, LearningParams& p) {
  std::string rules_doc = "learning rule:";
  for (const Rule& r : rules()) rules_doc += " " + r.name + " (" + r.doc + ");";
  rules_doc.back() = '.';
  s.field("rule", p.rule, rules_doc).one_of(rule_names());
  s.field("variant", p.variant, "ep and cl: perturb +, -, or both ways (centered)")
      .one_of({"positive", "negative", "centered"});
  s.field("beta", p.beta, "ep: nudging strength (conductance of the nudge to the target)")
      .unit("S").greater(0.0);
  s.field("eta", p.eta, "cl: outputs clamped to o + eta (y - o)").greater(0.0).max(1.0);
  s.field("epochs", p.epochs, "passes over the training set").min(0);
  s.field("batch_size", p.batch_size, "samples per mini-batch").min(1);
  s.field("momentum", p.momentum, "SGD momentum").min(0.0).max(1.0);
  s.field("lr_weights", p.lr_weights,
          "learning rate of each layer's conductances (one value: all layers)").min(0.0);
  s.field("lr_biases", p.lr_biases, "learning rate of each layer's bias currents (one value: all layers)")
      .min(0.0);
  s.field("lr_decay", p.lr_decay, "learning rates multiplied by this after every epoch")
      .greater(0.0).max(1.0);
  s.field("g_min", p.g_min, "lower bound of trainable conductances").unit("S").min(0.0);
  s.field("g_max", p.g_max, "upper bound of trainable conductances").unit("S").greater(0.0);
  s.field("shuffle", p.shuffle, "reshuffle the training set every epoch (seeded)");
  s.field("alignment_every", p.alignment_every,
          "every N mini-batches, log the cosine and norm ratio of the rule's update against the "
          "exact gradient, per layer (0: off)")
      .min(0);
  s.field("backprop_lr_weights", p.backprop_lr_weights,
          "backprop baseline: weight learning rates (empty: lr_weights)").min(0.0);
  s.field("backprop_lr_biases", p.backprop_lr_biases,
          "backprop baseline: bias learning rates (empty: lr_biases)").min(0.0);
  s.field("digital_energy_per_mac", p.digital_energy_per_mac,
          "energy per multiply-accumulate of the digital comparison in results' physics (solver "
          "transient); default 1 pJ: an FP32 MAC on a modern GPU process, from Horowitz ISSCC 2014")
      .unit("J").min(0.0);
}

void describe(Schema& s, OutputParams& p) {
  s.field("dir", p.dir, "results folder (empty: runs/<name>; --out overrides)");
  s.field("progress_seconds", p.progress_seconds,
          "seconds between progress lines within an epoch (0: one line per epoch)")
      .unit("s").min(0.0);
}

void describe(Schema& s, ExperimentConfig& c) {
  s.field("name", c.name, "experiment name (default results folder runs/<name>)");
  s.field("seed", c.seed, "seed of every random draw (initial conductances, data order, synthetic data)")
      .min(0);
  s.variant("network", "the trainable network", "type", c.network_type,
            {{"drn", [&c](Schema& sub) { circuits::describe(sub, c.network); }}});
  solvers::describe_solver(s, "solver", "steady-state solver for every phase", c.solver);
  s.section("learning", "learning rule, optimiser and schedule",
            [&c](Schema& sub) { describe(sub, c.learning); });
  s.section("data", "dataset", [&c](Schema& sub) { data::describe(sub, c.data); });
  s.section("output", "results and progress", [&c](Schema& sub) { describe(sub, c.output); });
  s.optional_section("chip", "the device population behind the trainable conductances", c.has_chip,
                     [&c](Schema& sub) { devices::describe(sub, c.chip); });
  s.section("controller", "learning controller: desired changes to programming pulses (with a chip)",
            [&c](Schema& sub) { describe(sub, c.controller); });
  s.field("initial_network", c.initial_network,
          "network.json of an earlier run to start from (programmed onto the chip, open loop unless "
          "controller.verify_iterations); empty: the seeded initial conductances");
  s.optional_section("transfer", "the mortal-transfer protocol of physlearn transfer (chip A to chip B)",
                     c.has_transfer, [&c](Schema& sub) { describe(sub, c.transfer); });
  s.optional_section("crossbar",
                     "lay the weight layers out on crossbars with wire and access resistance "
                     "(solver.type \"newton\": every phase solved on the full circuit)",
                     c.has_crossbar, [&c](Schema& sub) { circuits::describe(sub, c.crossbar); });
}

double crossbar_g_unit(const ExperimentConfig& c) {
  if (c.crossbar.g_unit > 0.0) return c.crossbar.g_unit;
  return c.has_chip ? c.chip.g_unit : 1e-4;
}

namespace {

/// Expands a one-value learning-rate list to every layer; checks the length otherwise.
void expand_rates(std::vector<double>& rates, int layers, const std::string& path) {
  if (rates.size() == 1) rates.assign(layers, rates[0]);
  if (static_cast<int>(rates.size()) != layers)
    throw ConfigError(path, json_text(json(rates)),
                      "must hold one value or one per weight layer (" + std::to_string(layers) + ")");
}

void validate(ExperimentConfig& c) {
  const int layers = static_cast<int>(c.network.hidden.size()) + 1;
  expand_rates(c.learning.lr_weights, layers, "learning.lr_weights");
  expand_rates(c.learning.lr_biases, layers, "learning.lr_biases");
  if (!c.learning.backprop_lr_weights.empty())
    expand_rates(c.learning.backprop_lr_weights, layers, "learning.backprop_lr_weights");
  if (!c.learning.backprop_lr_biases.empty())
    expand_rates(c.learning.backprop_lr_biases, layers, "learning.backprop_lr_biases");
  if (c.learning.g_max <= c.learning.g_min)
    throw ConfigError("learning.g_max", json_text(json(c.learning.g_max)), "must be > learning.g_min");
  if (c.network.init == "uniform" && c.network.init_high < c.network.init_low)
    throw ConfigError("network.init_high", json_text(json(c.network.init_high)),
                      "must be >= network.init_low");
  const data::Shape shape = data::shape(c.data);
  const int features = shape.features;
  if (c.network.inputs != features)
    throw ConfigError("network.inputs", std::to_string(c.network.inputs),
                      "must equal the features of data.type \"" + c.data.type + "\" (" +
                          std::to_string(features) + ")");
  const int classes = shape.classes;
  if (c.network.outputs != classes)
    throw ConfigError("network.outputs", std::to_string(c.network.outputs),
                      "must equal the classes of data.type \"" + c.data.type + "\" (" +
                          std::to_string(classes) + ")");
  if (c.solver.type == "layered" && c.network.diode == "shockley")
    throw ConfigError("solver.type", "\"layered\"",
                      "needs network.diode \"ideal\" or \"none\" (use \"newton\" for shockley diodes)");
  if (!c.initial_network.empty() && learning::is_digital(c.learning.rule))
    throw ConfigError("initial_network", "\"" + c.initial_network + "\"",
                      "applies to circuits, not to the backprop baseline");
  if (c.has_crossbar && c.solver.type != "newton")
    throw ConfigError("solver.type", "\"" + c.solver.type + "\"",
                      "must be \"newton\" with a crossbar section (the phases are solved on the "
                      "full crossbar circuit)");
  if (c.has_crossbar && c.has_chip && c.crossbar.g_unit > 0.0 && c.crossbar.g_unit != c.chip.g_unit)
    throw ConfigError("crossbar.g_unit", json_text(json(c.crossbar.g_unit)),
                      "must equal chip.g_unit (" + json_text(json(c.chip.g_unit)) + ") or be 0");
  if (c.has_crossbar && c.learning.alignment_every > 0)
    throw ConfigError("learning.alignment_every", std::to_string(c.learning.alignment_every),
                      "must be 0 with a crossbar (the exact gradient needs the layered view)");
  if (c.network.diode != "none")
    for (std::size_t l = 0; l < c.network.hidden.size(); ++l)
      if (c.network.hidden[l] % 2 != 0)
        throw ConfigError("network.hidden[" + std::to_string(l) + "]",
                          std::to_string(c.network.hidden[l]),
                          "must be even when diodes are used (half v>=0, half v<=0)");
}

}  // namespace

ExperimentConfig parse_experiment(const json& config) {
  ExperimentConfig c;
  Schema schema;
  describe(schema, c);
  schema.read(config, "");
  validate(c);
  return c;
}

ExperimentConfig load_experiment(const std::string& filename, const std::vector<std::string>& overrides) {
  json config = load_json_file(filename);
  for (const auto& o : overrides) apply_override(config, o);
  try {
    return parse_experiment(config);
  } catch (const ConfigError& e) {
    throw Error(filename + ": " + e.what());
  }
}

json resolved_json(ExperimentConfig& config) {
  Schema schema;
  describe(schema, config);
  return schema.write();
}

}  // namespace physlearn::orchestration
