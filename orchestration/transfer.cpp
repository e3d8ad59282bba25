#include "orchestration/transfer.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "learning/rule.h"
#include "orchestration/plan.h"
#include "orchestration/runner.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

void describe(Schema& schema, TransferParams& params) {
  schema.field("target_chip_seed", params.target_chip_seed,
               "seed of chip B, which receives chip A's network (chip A: chip.seed)")
      .min(0);
  schema.field("fine_tune_epochs", params.fine_tune_epochs, "epochs of in-situ fine-tuning on chip B")
      .min(0);
  schema.field("fine_tune_lr_scale", params.fine_tune_lr_scale,
               "learning rates of the fine-tuning, relative to learning.lr_weights and lr_biases")
      .greater(0.0);
}

json run_transfer(const ExperimentConfig& config, const std::string& out_dir, bool quiet) {
  if (!config.has_chip && !config.has_crossbar)
    throw ConfigError("chip", "(absent)",
                      "the transfer protocol needs a chip section (chip A) or a crossbar section");
  if (!config.has_transfer)
    throw ConfigError("transfer", "(absent)", "needs a transfer section (target_chip_seed, fine_tune_epochs)");
  if (learning::is_digital(config.learning.rule))
    throw ConfigError("learning.rule", "\"" + config.learning.rule + "\"",
                      "the transfer protocol trains a circuit");
  const TransferParams& t = config.transfer;
  struct Step {
    std::string name, from;
    bool hardware;  ///< on the chip and crossbar (else in software: neither)
    long chip_seed;
    int epochs;
    bool tune;
  };
  const long a = config.chip.seed, b = t.target_chip_seed;
  std::vector<Step> steps;
  if (config.has_chip)
    steps = {{"chip-a", "", true, a, config.learning.epochs, false},
             {"chip-b", "chip-a", true, b, 0, false},
             {"chip-b-tuned", "chip-a", true, b, t.fine_tune_epochs, true}};
  else  // a crossbar without devices: in situ on the circuit with wires
    steps = {{"in-situ", "", true, a, config.learning.epochs, false}};
  steps.push_back({"software", "", false, a, config.learning.epochs, false});
  steps.push_back({"ex-situ", "software", true, b, 0, false});
  steps.push_back({"ex-situ-tuned", "software", true, b, t.fine_tune_epochs, true});
  std::vector<PlannedRun> plan;
  for (const Step& s : steps) {
    ExperimentConfig c = config;
    c.has_transfer = false;
    c.has_chip = config.has_chip && s.hardware;
    c.has_crossbar = config.has_crossbar && s.hardware;
    // Software: the same network without wires, on the layered solver with its default options
    // (the section held the newton type's); solver.precision stays.
    if (config.has_crossbar && !s.hardware && config.network.diode != "shockley")
      c.solver.type = "layered";
    c.chip.seed = s.chip_seed;
    c.learning.epochs = s.epochs;
    if (s.tune) {
      for (double& r : c.learning.lr_weights) r *= t.fine_tune_lr_scale;
      for (double& r : c.learning.lr_biases) r *= t.fine_tune_lr_scale;
    }
    c.initial_network = s.from.empty() ? "" : out_dir + "/" + s.from + "/network.json";
    plan.push_back({s.name, std::move(c), nullptr});
  }
  json table = {{"experiment", config.name}, {"seed", config.seed}, {"steps", json::array()}};
  const std::vector<Column> columns = {field("step"),     field("chip_seed"),  field("initial_network"),
                                       field("epochs"),   field("test_error"), field("train_error"),
                                       field("wall_seconds")};
  PlanOptions options;
  options.name = "transfer";
  options.quiet = quiet;
  std::vector<RunStatus> statuses;
  execute_plan(plan, out_dir, options, statuses, [&](std::size_t r, RunStatus, const std::string&) {
    const Step& s = steps[r];
    const json final = load_json_file(out_dir + "/" + s.name + "/results.json").at("final");
    table["steps"].push_back({{"step", s.name},
                              {"chip_seed", s.hardware && config.has_chip ? json(s.chip_seed) : json(nullptr)},
                              {"initial_network", s.from.empty() ? json(nullptr) : json(s.from)},
                              {"epochs", s.epochs},
                              {"test_error", final.at("test_error")},
                              {"train_error", final.at("train_error")},
                              {"wall_seconds", final.at("wall_seconds")}});
    write_tables(out_dir, "transfer.json", table, {{"transfer.csv", table["steps"], columns}});
  });
  return table;
}

std::string transfer_table(const json& transfer) {
  std::ostringstream out;
  out << std::left << std::setw(15) << "step" << std::setw(7) << "chip" << std::setw(8) << "epochs"
      << std::setw(12) << "test error" << std::setw(13) << "train error" << "seconds\n";
  for (const auto& s : transfer.at("steps")) {
    out << std::left << std::setw(15) << s.at("step").get<std::string>() << std::setw(7)
        << (s.at("chip_seed").is_null() ? std::string("-") : s.at("chip_seed").dump()) << std::setw(8)
        << s.at("epochs").get<int>() << std::fixed << std::setprecision(2) << std::setw(12)
        << 100.0 * s.at("test_error").get<double>() << std::setw(13)
        << 100.0 * s.at("train_error").get<double>() << std::setprecision(1)
        << s.at("wall_seconds").get<double>() << "\n";
    out.unsetf(std::ios::fixed);
  }
  return out.str();
}

}  // namespace physlearn::orchestration
