#pragma once
/// Several learning rules trained on the same data, seed and schedule, side by side.
#include <string>
#include <vector>

#include "learning/experiment.h"

namespace physlearn::learning {

/// Rule names: ep-centered, ep-positive, ep-negative, chl, cl (= cl-positive, the original coupled
/// learning), cl-negative, cl-centered, exact, backprop.
/// Each rule runs in out_dir/<rule>/ (results.json and the rest); circuit rules log their alignment
/// with the exact gradient (every learning.alignment_every batches, 10 when that is 0). Writes
/// out_dir/compare.json and out_dir/compare.csv; returns compare.json's object.
/// `alignment_every`: the alignment logging of circuit rules when the experiment has none (0:
/// off, which lets EP take the fast fused path).
json compare_rules(const ExperimentConfig& base, const std::vector<std::string>& rules,
                   const std::string& out_dir, bool quiet, int alignment_every = 10);

/// Splits "a,b,c" and checks every name; throws ConfigError naming --rules otherwise.
std::vector<std::string> parse_rule_list(const std::string& list);

/// The comparison as a text table (one row per rule).
std::string compare_table(const json& comparison);

}  // namespace physlearn::learning
