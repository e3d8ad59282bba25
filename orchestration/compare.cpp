#include "orchestration/compare.h"

#include "learning/rule.h"

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
  std::filesystem::create_directories(out_dir);
  json comparison;
  comparison["experiment"] = base.name;
  comparison["seed"] = base.seed;
  comparison["rules"] = json::array();
  std::ostringstream csv;
  csv << std::setprecision(10) << "rule,test_error,train_error,wall_seconds";
  for (int l = 0; l <= static_cast<int>(base.network.hidden.size()); ++l)
    csv << ",alignment_cosine_layer" << l;
  csv << "\n";
  for (const auto& name : rules) {
    const auto own = per_rule.find(name);
    ExperimentConfig config = own != per_rule.end() ? own->second : base;
    apply_rule(config, name);
    if (config.learning.rule != "backprop" && config.learning.alignment_every == 0)
      config.learning.alignment_every = alignment_every;
    if (!quiet) std::cerr << "compare: " << name << "\n";
    RunResult result = run_experiment(config, out_dir + "/" + name, quiet);
    json entry = {{"rule", name},
                  {"test_error", result.final_test_error},
                  {"train_error", result.final_train_error},
                  {"wall_seconds", result.wall_seconds}};
    const auto overrides = rule_overrides.find(name);
    if (overrides != rule_overrides.end()) entry["overrides"] = overrides->second;
    // Mean alignment per layer over all epochs.
    std::vector<LayerAlignment> mean;
    int counted = 0;
    for (const auto& e : result.epochs) {
      if (e.alignment.empty()) continue;
      if (mean.empty()) mean.assign(e.alignment.size(), {});
      for (std::size_t l = 0; l < e.alignment.size(); ++l) {
        mean[l].cosine += e.alignment[l].cosine;
        mean[l].norm_ratio += e.alignment[l].norm_ratio;
      }
      ++counted;
    }
    csv << name << "," << result.final_test_error << "," << result.final_train_error << ","
        << result.wall_seconds;
    if (counted > 0) {
      entry["alignment"] = json::array();
      for (std::size_t l = 0; l < mean.size(); ++l) {
        entry["alignment"].push_back({{"layer", l},
                                      {"cosine", mean[l].cosine / counted},
                                      {"norm_ratio", mean[l].norm_ratio / counted}});
        csv << "," << mean[l].cosine / counted;
      }
    } else {
      for (int l = 0; l <= static_cast<int>(base.network.hidden.size()); ++l) csv << ",";
    }
    csv << "\n";
    comparison["rules"].push_back(entry);
    write_file_atomic(out_dir + "/compare.json", comparison.dump(2) + "\n");
    write_file_atomic(out_dir + "/compare.csv", csv.str());
  }
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
