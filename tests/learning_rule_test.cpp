// Learning rules as phase plans (learning/rule.h) and their registry.
#include <doctest/doctest.h>

#include <algorithm>

#include "learning/rule.h"

using namespace physlearn;
using learning::Phase;

namespace {

learning::PhasePlan plan(const std::string& rule, const std::string& variant, double beta = 0.5,
                         double eta = 0.25) {
  return learning::make_plan({rule, variant, beta, eta});
}

std::vector<std::string> labels(const learning::PhasePlan& p) {
  std::vector<std::string> out;
  for (const auto& phase : p.phases) out.push_back(phase.label);
  return out;
}

}  // namespace

TEST_CASE("EP's plans: nudges of +-beta from the free state, the contrast over beta") {
  const auto centered = plan("ep", "centered");
  CHECK(centered.name == "ep-centered");
  CHECK(labels(centered) == std::vector<std::string>{"free", "nudge+", "nudge-"});
  CHECK(centered.phases[1].drive == Phase::Drive::nudge);
  CHECK(centered.phases[1].sign == 1.0);
  CHECK(centered.phases[2].sign == -1.0);
  CHECK(centered.beta == 0.5);
  CHECK((centered.a == 1 && centered.b == 2 && centered.scale == 0.5 / 0.5));
  const auto positive = plan("ep", "positive");
  CHECK(labels(positive) == std::vector<std::string>{"free", "nudge+"});
  CHECK((positive.a == 1 && positive.b == 0 && positive.scale == 2.0));
  const auto negative = plan("ep", "negative");
  CHECK(labels(negative) == std::vector<std::string>{"free", "nudge-"});
  CHECK((negative.a == 0 && negative.b == 1 && negative.scale == 2.0));
  CHECK_FALSE(centered.exact);
}

TEST_CASE("CHL, coupled learning and the exact gradient as plans") {
  const auto chl = plan("chl", "negative");  // CHL takes no variant
  CHECK(labels(chl) == std::vector<std::string>{"free", "clamp"});
  CHECK(chl.phases[1].drive == Phase::Drive::clamp_target);
  CHECK((chl.a == 1 && chl.b == 0 && chl.scale == 1.0));
  const auto cl = plan("cl", "centered");
  CHECK(cl.name == "cl-centered");
  CHECK(labels(cl) == std::vector<std::string>{"free", "clamp+", "clamp-"});
  CHECK(cl.phases[2].drive == Phase::Drive::clamp_coupled);
  CHECK(cl.eta == 0.25);
  CHECK((cl.a == 1 && cl.b == 2 && cl.scale == 0.5 / 0.25));
  const auto exact = plan("exact", "centered");
  CHECK(exact.exact);
  CHECK(labels(exact) == std::vector<std::string>{"free"});
}

TEST_CASE("the registry: learning.rule's values, compare's names, errors naming the key") {
  CHECK(learning::rule_names() == std::vector<std::string>{"ep", "chl", "cl", "exact", "backprop"});
  const auto names = learning::compare_names();
  for (const char* n : {"ep-centered", "ep-positive", "ep-negative", "chl", "cl", "cl-positive",
                        "cl-negative", "cl-centered", "exact", "backprop"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  CHECK(learning::parse_compare_name("cl", "--rules") ==
        std::pair<std::string, std::string>{"cl", "positive"});
  CHECK(learning::parse_compare_name("ep-negative", "--rules") ==
        std::pair<std::string, std::string>{"ep", "negative"});
  CHECK(learning::parse_compare_name("chl", "--rules").second.empty());
  CHECK_THROWS_WITH_AS(learning::parse_compare_name("hebb", "--rules"),
                       doctest::Contains("--rules: \"hebb\": must be one of"), ConfigError);
  CHECK_THROWS_WITH_AS(learning::make_plan({"hebb", "centered", 1, 0.5}),
                       doctest::Contains("learning.rule: \"hebb\": must be one of: ep, chl"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(learning::make_plan({"backprop", "centered", 1, 0.5}),
                       doctest::Contains("digital baseline"), ConfigError);
  CHECK_THROWS_WITH_AS(learning::make_plan({"ep", "sideways", 1, 0.5}),
                       doctest::Contains("learning.variant"), ConfigError);
  CHECK(learning::find_rule("backprop", "learning.rule").digital);
}
