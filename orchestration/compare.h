#pragma once
/// Several learning rules trained on the same data, seed and schedule, side by side.
#include <map>
#include <string>
#include <vector>

#include "orchestration/runner.h"

namespace physlearn::orchestration {

/// Rule names: ep-centered, ep-positive, ep-negative, chl, cl (= cl-positive, the original coupled
/// learning), cl-negative, cl-centered, exact, backprop.
/// Each rule runs in out_dir/<rule>/ (results.json and the rest); circuit rules log their alignment
/// with the exact gradient (every learning.alignment_every batches, 10 when that is 0). Writes
/// out_dir/compare.json and out_dir/compare.csv; returns compare.json's object.
/// `alignment_every`: the alignment logging of circuit rules when the experiment has none (0:
/// off, which lets EP take the fast fused path).
/// `per_rule`: for some rules, the configuration to use instead of `base` (e.g. their own learning
/// rates), with `rule_overrides` the overrides that made it (recorded in compare.json).
json compare_rules(const ExperimentConfig& base, const std::vector<std::string>& rules,
                   const std::string& out_dir, bool quiet, int alignment_every = 10,
                   const std::map<std::string, ExperimentConfig>& per_rule = {},
                   const std::map<std::string, std::vector<std::string>>& rule_overrides = {});

/// Groups --rule-set entries "RULE:key=value" by rule; throws ConfigError naming --rule-set when an
/// entry has no "RULE:" or names a rule that is not in `rules`.
std::map<std::string, std::vector<std::string>> parse_rule_sets(
    const std::vector<std::string>& entries, const std::vector<std::string>& rules);

/// Splits "a,b,c" and checks every name; throws ConfigError naming --rules otherwise.
std::vector<std::string> parse_rule_list(const std::string& list);

/// The comparison as a text table (one row per rule).
std::string compare_table(const json& comparison);

}  // namespace physlearn::orchestration
