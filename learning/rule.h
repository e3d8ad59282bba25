#pragma once
/// Learning rules as phase plans. A rule declares the phases it runs for a mini-batch and the
/// contrast that turns the phases' voltage drops into an update; every view runs any plan with
/// its own executor (learning/executor.h: the layered view through any EquilibriumSolver, the
/// transient included; the crossbar circuit through CrossbarExecutor):
///   phases[0]  free: the inputs applied, from zero potentials;
///   phases[k]  from the free state, with the outputs nudged by the current beta (y - o) (EP,
///              sign +-1), clamped to the target y (CHL), or clamped to o + sign eta (y - o)
///              (coupled learning), o the free phase's outputs;
///   direction  scale (dE/dtheta(phases[a]) - dE/dtheta(phases[b])), with dE/dg = 1/2 dV^2 for
///              every conductance and dE/db = -v for every bias (learning/gradient.h), or the
///              exact gradient at the free state (rule "exact", the layered view only).
/// Every direction is a descent direction for the loss: g <- g - lr * direction.
///
/// The registry (learning/rules.cpp) lists every rule, one line each: it feeds the schema's
/// learning.rule, `compare`'s rule names, `simulate` and the crossbar. A rule is one file under
/// learning/rules/ plus its line there.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/schema.h"

namespace physlearn::learning {

/// What one phase does at the outputs.
struct Phase {
  enum class Drive {
    free,           ///< nothing
    nudge,          ///< the current sign * beta (y - o) into every output
    clamp_target,   ///< outputs held at the target y
    clamp_coupled,  ///< outputs held at o_free + sign * eta (y - o_free)
  };
  Drive drive = Drive::free;
  double sign = 1.0;
  std::string label;  ///< "free", "nudge+", "nudge-", "clamp", "clamp+", "clamp-"
};

/// The settings of the learning section a rule reads.
struct RuleSettings {
  std::string rule = "ep";
  std::string variant = "centered";  ///< ep and cl: positive, negative or centered
  double beta = 0.5;                 ///< ep: nudging strength (S)
  double eta = 0.5;                  ///< cl: clamping factor in (0, 1]
};

/// A rule's phases for one mini-batch and its contrast (see the file comment).
struct PhasePlan {
  std::string name;  ///< "ep-centered", "chl", "cl-positive", "exact"
  std::vector<Phase> phases;
  std::size_t a = 0;  ///< the contrast's first phase
  std::size_t b = 0;  ///< and its second
  double scale = 1.0;
  double beta = 0.0;  ///< the nudges' strength (times each phase's sign)
  double eta = 0.0;   ///< the coupled clamps' factor (times each phase's sign)
  bool exact = false;  ///< the exact gradient at the free state instead of a contrast
};

/// A registered rule.
struct Rule {
  std::string name;  ///< the value of learning.rule
  std::string doc;
  /// The names `compare` knows it by and the variant each stands for ("ep-centered" ->
  /// "centered"; a rule without variants: its own name and "").
  std::vector<std::pair<std::string, std::string>> names;
  /// The digital baseline (backprop): no phases, no plan.
  bool digital = false;
  std::function<PhasePlan(const RuleSettings&)> plan;
};

/// Every rule, in registration order (learning/rules.cpp).
const std::vector<Rule>& rules();

/// The rule named `name`; a ConfigError at `path` (its value and the known names) otherwise.
const Rule& find_rule(const std::string& name, const std::string& path);

/// True for a digital rule (the backprop baseline: no phases on a circuit); false for a circuit
/// rule or a name no rule has.
bool is_digital(const std::string& rule);

/// The plan of the rule `settings.rule`; ConfigError at `path` for an unknown or digital rule.
PhasePlan make_plan(const RuleSettings& settings, const std::string& path = "learning.rule");

/// The names of every rule (learning.rule's values) and of every rule and variant `compare`
/// takes.
std::vector<std::string> rule_names();
std::vector<std::string> compare_names();

/// The rule and variant a `compare` name stands for ("cl" -> {"cl", "positive"}); ConfigError
/// at `path` for an unknown name.
std::pair<std::string, std::string> parse_compare_name(const std::string& name,
                                                       const std::string& path);

/// The plan of a two-sided rule (EP, coupled learning): the free phase, then one phase driven by
/// `drive` with sign +1 (variant "positive"), -1 ("negative") or both ("centered"), labelled
/// label+ / label-, and the contrast between them over `strength` (beta or eta; centered: over
/// 2 strength). Named rule-variant. A ConfigError at `path` for another variant.
PhasePlan signed_plan(const std::string& rule, const std::string& variant, double strength,
                      Phase::Drive drive, const std::string& label, const std::string& path);

}  // namespace physlearn::learning
