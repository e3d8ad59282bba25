/// The registry of learning rules: one line per rule (learning/rule.h). Each rule's file under
/// learning/rules/ defines its entry.
#include "learning/rule.h"

namespace physlearn::learning {

Rule ep_rule();        // learning/rules/ep.cpp
Rule chl_rule();       // learning/rules/chl.cpp
Rule cl_rule();        // learning/rules/cl.cpp
Rule exact_rule();     // learning/rules/exact.cpp
Rule backprop_rule();  // learning/rules/backprop.cpp

const std::vector<Rule>& rules() {
  static const std::vector<Rule> all = {ep_rule(), chl_rule(), cl_rule(), exact_rule(),
                                        backprop_rule()};
  return all;
}

namespace {

std::string list(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

}  // namespace

std::vector<std::string> rule_names() {
  std::vector<std::string> out;
  for (const Rule& r : rules()) out.push_back(r.name);
  return out;
}

std::vector<std::string> compare_names() {
  std::vector<std::string> out;
  for (const Rule& r : rules())
    for (const auto& n : r.names) out.push_back(n.first);
  return out;
}

const Rule& find_rule(const std::string& name, const std::string& path) {
  for (const Rule& r : rules())
    if (r.name == name) return r;
  throw ConfigError(path, "\"" + name + "\"", "must be one of: " + list(rule_names()));
}

bool is_digital(const std::string& name) {
  for (const Rule& r : rules())
    if (r.name == name) return r.digital;
  return false;
}

std::pair<std::string, std::string> parse_compare_name(const std::string& name,
                                                       const std::string& path) {
  for (const Rule& r : rules())
    for (const auto& n : r.names)
      if (n.first == name) return {r.name, n.second};
  throw ConfigError(path, "\"" + name + "\"", "must be one of: " + list(compare_names()));
}

PhasePlan make_plan(const RuleSettings& settings, const std::string& path) {
  const Rule& rule = find_rule(settings.rule, path);
  if (rule.digital)
    throw ConfigError(path, "\"" + settings.rule + "\"",
                      "is the digital baseline, which runs no phases on a circuit");
  return rule.plan(settings);
}

PhasePlan signed_plan(const std::string& rule, const std::string& variant, double strength,
                      Phase::Drive drive, const std::string& label, const std::string& path) {
  std::vector<double> signs;
  PhasePlan plan;
  if (variant == "positive") {
    signs = {1.0};
    plan.a = 1, plan.b = 0, plan.scale = 1.0 / strength;
  } else if (variant == "negative") {
    signs = {-1.0};
    plan.a = 0, plan.b = 1, plan.scale = 1.0 / strength;
  } else if (variant == "centered") {
    signs = {1.0, -1.0};
    plan.a = 1, plan.b = 2, plan.scale = 0.5 / strength;
  } else {
    throw ConfigError(path, "\"" + variant + "\"", "must be one of: positive, negative, centered");
  }
  plan.name = rule + "-" + variant;
  plan.phases.push_back({Phase::Drive::free, 1.0, "free"});
  for (double sign : signs) plan.phases.push_back({drive, sign, label + (sign > 0 ? "+" : "-")});
  return plan;
}

}  // namespace physlearn::learning
