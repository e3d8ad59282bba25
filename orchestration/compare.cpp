#include "orchestration/compare.h"

#include "learning/rule.h"
#include "orchestration/plan.h"

#include <algorithm>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs
namespace {

/// Sets learning.rule and learning.variant for a rule name (learning/rule.h's registry).
void apply_rule(ExperimentConfig& config, const std::string& name) {
  const auto [rule, variant] = learning::parse_compare_name(name, "--rules");
  config.learning.rule = rule;
  if (!variant.empty()) config.learning.variant = variant;
}

}  // namespace

std::vector<std::string> parse_rule_list(const std::string& list) {
  std::vector<std::string> rules;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    learning::parse_compare_name(name, "--rules");
    rules.push_back(name);
  }
  if (rules.empty()) throw ConfigError("--rules", "\"" + list + "\"", "must name at least one rule");
  return rules;
}

std::map<std::string, std::vector<std::string>> parse_rule_sets(
    const std::vector<std::string>& entries, const std::vector<std::string>& rules) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& entry : entries) {
    const auto colon = entry.find(':');
    const std::string rule = colon == std::string::npos ? "" : entry.substr(0, colon);
    if (rule.empty() || colon + 1 >= entry.size())
      throw ConfigError("--rule-set", "\"" + entry + "\"", "must be RULE:key=value");
    if (std::find(rules.begin(), rules.end(), rule) == rules.end())
      throw ConfigError("--rule-set", "\"" + entry + "\"",
                        "names rule \"" + rule + "\", which is not in --rules");
    out[rule].push_back(entry.substr(colon + 1));
  }
  return out;
}

json compare_rules(const ExperimentConfig& base, const std::vector<std::string>& rules,
                   const std::string& out_dir, bool quiet, int alignment_every,
                   const std::map<std::string, ExperimentConfig>& per_rule,
                   const std::map<std::string, std::vector<std::string>>& rule_overrides) {
  std::vector<PlannedRun> plan;
  for (const auto& name : rules) {
    const auto own = per_rule.find(name);
    PlannedRun run{name, own != per_rule.end() ? own->second : base, nullptr};
    apply_rule(run.config, name);
    if (!learning::is_digital(run.config.learning.rule) && run.config.learning.alignment_every == 0)
      run.config.learning.alignment_every = alignment_every;
    plan.push_back(std::move(run));
  }
  json comparison = {{"experiment", base.name}, {"seed", base.seed}, {"rules", json::array()}};
  std::vector<Column> columns = {field("rule"), field("test_error"), field("train_error"),
                                 field("wall_seconds")};
  for (int l = 0; l <= static_cast<int>(base.network.hidden.size()); ++l)
    columns.push_back(field("alignment_cosine_layer" + std::to_string(l),
                            "/alignment/" + std::to_string(l) + "/cosine"));
  PlanOptions options;
  options.name = "compare";
  options.quiet = quiet;
  std::vector<RunStatus> statuses;
  execute_plan(plan, out_dir, options, statuses, [&](std::size_t r, RunStatus, const std::string&) {
    const std::string& name = plan[r].dir;
    const json results = load_json_file(out_dir + "/" + name + "/results.json");
    const json& final = results.at("final");
    json entry = {{"rule", name},
                  {"test_error", final.at("test_error")},
                  {"train_error", final.at("train_error")},
                  {"wall_seconds", final.at("wall_seconds")}};
    const auto overrides = rule_overrides.find(name);
    if (overrides != rule_overrides.end()) entry["overrides"] = overrides->second;
    // Mean alignment per layer over the epochs that measured it.
    std::vector<double> cosine, norm_ratio;
    int counted = 0;
    for (const auto& epoch : results.at("epochs")) {
      if (!epoch.contains("alignment")) continue;
      const json& layers = epoch["alignment"];
      if (cosine.empty()) cosine.assign(layers.size(), 0.0), norm_ratio.assign(layers.size(), 0.0);
      for (std::size_t l = 0; l < layers.size(); ++l) {
        cosine[l] += layers[l].at("cosine").get<double>();
        norm_ratio[l] += layers[l].at("norm_ratio").get<double>();
      }
      ++counted;
    }
    if (counted > 0) {
      entry["alignment"] = json::array();
      for (std::size_t l = 0; l < cosine.size(); ++l)
        entry["alignment"].push_back(
            {{"layer", l}, {"cosine", cosine[l] / counted}, {"norm_ratio", norm_ratio[l] / counted}});
    }
    comparison["rules"].push_back(entry);
    write_tables(out_dir, "compare.json", comparison, {{"compare.csv", comparison["rules"], columns}});
  });
  return comparison;
}

std::string compare_table(const json& comparison) {
  std::ostringstream out;
  out << std::left << std::setw(13) << "rule" << std::right << std::setw(12) << "test error"
      << std::setw(13) << "train error" << std::setw(11) << "wall (s)" << "  alignment cosine per layer\n";
  for (const auto& e : comparison["rules"]) {
    out << std::left << std::setw(13) << e["rule"].get<std::string>() << std::right << std::fixed
        << std::setprecision(2) << std::setw(11) << 100.0 * e["test_error"].get<double>() << "%"
        << std::setw(12) << 100.0 * e["train_error"].get<double>() << "%" << std::setprecision(1)
        << std::setw(11) << e["wall_seconds"].get<double>() << " ";
    if (e.contains("alignment"))
      for (const auto& a : e["alignment"]) out << " " << std::setprecision(4) << a["cosine"].get<double>();
    else
      out << " -";
    if (e.contains("overrides"))
      for (const auto& o : e["overrides"]) out << "  " << o.get<std::string>();
    out << "\n";
  }
  return out.str();
}

}  // namespace physlearn::orchestration
