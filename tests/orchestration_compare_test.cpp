// compare (orchestration/compare.h): the rules' names and per-rule overrides are checked before any
// run; each rule's row in compare.json and compare.csv is what its own run wrote in results.json;
// circuit rules carry their mean alignment with the exact gradient, the digital baseline none.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "orchestration/compare.h"
#include "orchestration/experiment.h"
#include "orchestration_support.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::slurp;
using orchestration_test::xor_experiment;


TEST_CASE("compare's rule lists and per-rule overrides are checked before any run") {
  CHECK(parse_rule_list("ep-centered,chl,backprop") ==
        std::vector<std::string>{"ep-centered", "chl", "backprop"});
  CHECK_THROWS_WITH_AS(parse_rule_list("ep-centered,hebb"), doctest::Contains("--rules: \"hebb\""),
                       ConfigError);
  CHECK_THROWS_AS(parse_rule_list(""), ConfigError);
  const auto sets = parse_rule_sets({"chl:learning.beta=0.2", "chl:learning.epochs=3", "cl:learning.eta=0.1"},
                                    {"chl", "cl"});
  CHECK(sets.at("chl") == std::vector<std::string>{"learning.beta=0.2", "learning.epochs=3"});
  CHECK(sets.at("cl") == std::vector<std::string>{"learning.eta=0.1"});
  CHECK_THROWS_WITH_AS(parse_rule_sets({"learning.beta=0.2"}, {"chl"}),
                       doctest::Contains("must be RULE:key=value"), ConfigError);
  CHECK_THROWS_WITH_AS(parse_rule_sets({"exact:learning.beta=0.2"}, {"chl"}),
                       doctest::Contains("not in --rules"), ConfigError);
}

TEST_CASE("compare: each rule's row is its own run's results, circuit rules with their alignment") {
  const fs::path dir = fs::temp_directory_path() / "physlearn_test_orchestration_compare";
  fs::remove_all(dir);
  const ExperimentConfig base = xor_experiment(20);
  const json comparison = compare_rules(base, {"ep-centered", "backprop"}, dir.string(), true, 5);
  REQUIRE(comparison["rules"].size() == 2);
  CHECK(comparison["experiment"] == "xor");
  for (const json& row : comparison["rules"]) {
    const std::string rule = row["rule"];
    CAPTURE(rule);
    const json results = json::parse(slurp(dir / rule / "results.json"));
    CHECK(row["test_error"] == results["final"]["test_error"]);
    CHECK(row["train_error"] == results["final"]["train_error"]);
    CHECK(row["wall_seconds"] == results["final"]["wall_seconds"]);
  }
  // Centered EP with beta 0.1 follows the exact gradient closely: the mean cosine per layer is
  // near 1 (the alignment measured every 5 mini-batches of one sample group).
  const json& ep = comparison["rules"][0];
  REQUIRE(ep.contains("alignment"));
  REQUIRE(ep["alignment"].size() == 2);
  for (const json& layer : ep["alignment"]) CHECK(layer["cosine"].get<double>() > 0.9);
  CHECK_FALSE(comparison["rules"][1].contains("alignment"));
  // The CSV holds the same numbers (10 significant digits) and empty alignment cells for backprop.
  std::istringstream csv(slurp(dir / "compare.csv"));
  std::string header, first, second;
  std::getline(csv, header);
  std::getline(csv, first);
  std::getline(csv, second);
  CHECK(header == "rule,test_error,train_error,wall_seconds,alignment_cosine_layer0,alignment_cosine_layer1");
  CHECK(first.rfind("ep-centered,", 0) == 0);
  CHECK(second.rfind("backprop,", 0) == 0);
  CHECK(second.substr(second.size() - 2) == ",,");
  CHECK(json::parse(slurp(dir / "compare.json")) == comparison);
  const std::string table = compare_table(comparison);
  CHECK(table.find("ep-centered") != std::string::npos);
  CHECK(table.find("backprop") != std::string::npos);
}
