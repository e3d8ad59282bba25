// Plans of runs (orchestration/plan.h): the one summary writer's files, byte for byte; runs in
// this process in order, each run's results the same as the run alone; child runs that fail are
// recorded with their exit and the others go on.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "orchestration/experiment.h"
#include "orchestration_support.h"
#include "orchestration/plan.h"
#include "orchestration/runner.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::slurp;
using orchestration_test::xor_experiment;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("plan", name); }

}  // namespace

TEST_CASE("write_tables: the document as JSON and each table as CSV, byte for byte") {
  const fs::path dir = scratch("tables");
  const json rows = json::array({
      {{"name", "plain"}, {"x", 0.1234567890123}, {"n", 3}, {"nested", {{"v", 2.5}}}},
      {{"name", "with, comma and \"quote\""}, {"x", nullptr}, {"n", 12}},
  });
  const json document = {{"title", "t"}, {"rows", rows}};
  write_tables(dir.string(), "table.json", document,
               {{"table.csv", rows,
                 {field("name"), field("x"), field("n"), field("nested v", "/nested/v"),
                  {"twice n", [](const json& row) { return json(2 * row.at("n").get<int>()); }}}}});
  // 10 significant digits; null and absent as empty fields; text with a comma or quote quoted,
  // quotes doubled; a header name with a space is left as it is.
  CHECK(slurp(dir / "table.csv") ==
        "name,x,n,nested v,twice n\n"
        "plain,0.123456789,3,2.5,6\n"
        "\"with, comma and \"\"quote\"\"\",,12,,24\n");
  CHECK(json::parse(slurp(dir / "table.json")) == document);
  CHECK(pointer_token("a/b~c") == "a~1b~0c");
  CHECK(csv_value(json("x\ny")) == "\"x\ny\"");
  CHECK(csv_value(json(true)) == "true");
}

TEST_CASE("execute_plan in process: runs in order, each as it would run alone") {
  const fs::path dir = scratch("in_process");
  std::vector<PlannedRun> plan = {{"first", xor_experiment(3, {"seed=3"}), nullptr},
                                  {"second", xor_experiment(3, {"seed=4", "learning.beta=0.2"}), nullptr}};
  PlanOptions options;
  options.quiet = true;
  std::vector<std::size_t> order;
  std::vector<RunStatus> at_start, statuses;
  options.on_start = [&](const std::vector<RunStatus>& s) { at_start = s; };
  const std::size_t failed = execute_plan(
      plan, dir.string(), options, statuses,
      [&](std::size_t r, RunStatus status, const std::string& why) {
        CHECK(status == RunStatus::finished);
        CHECK(why.empty());
        // The run's folder is complete when its end is reported.
        CHECK(fs::exists(dir / plan[r].dir / "results.json"));
        order.push_back(r);
      });
  CHECK(failed == 0);
  CHECK(at_start == std::vector<RunStatus>{RunStatus::pending, RunStatus::pending});
  CHECK(statuses == std::vector<RunStatus>{RunStatus::finished, RunStatus::finished});
  CHECK(order == std::vector<std::size_t>{0, 1});
  // The second run alone gives the same figures: a plan adds nothing to a run.
  ExperimentConfig alone = plan[1].config;
  const RunResult reference = run_experiment(alone, (dir / "alone").string(), true);
  const json planned = json::parse(slurp(dir / "second" / "results.json"));
  CHECK(planned["final"]["train_loss"].get<double>() == reference.final_train_loss);
  CHECK(planned["final"]["test_loss"].get<double>() == reference.final_test_loss);
  REQUIRE(planned["epochs"].size() == reference.epochs.size());
  for (std::size_t e = 0; e < reference.epochs.size(); ++e)
    CHECK(planned["epochs"][e]["train_loss"].get<double>() == reference.epochs[e].train_loss);
  // Different seeds and beta: different runs.
  const json first = json::parse(slurp(dir / "first" / "results.json"));
  CHECK(first["epochs"][0]["train_loss"] != planned["epochs"][0]["train_loss"]);
}

TEST_CASE("execute_plan as child processes: a failing child is recorded, the others go on") {
  const fs::path dir = scratch("children");
  // /bin/false stands for a program whose every run fails (exit status 1), /bin/true for one
  // that exits 0 but leaves no complete results.json: both are failed runs.
  for (const std::string program : {"/bin/false", "/bin/true"}) {
    CAPTURE(program);
    std::vector<PlannedRun> plan;
    for (int r = 0; r < 3; ++r)
      plan.push_back({"run-" + std::to_string(r), ExperimentConfig(), json{{"seed", r}}});
    PlanOptions options;
    options.quiet = true;
    options.jobs = 2;
    options.program = program;
    std::vector<RunStatus> statuses;
    std::vector<std::string> reasons(3);
    const std::size_t failed =
        execute_plan(plan, dir.string(), options, statuses,
                     [&](std::size_t r, RunStatus, const std::string& why) { reasons[r] = why; });
    CHECK(failed == 3);
    for (int r = 0; r < 3; ++r) {
      CHECK(statuses[r] == RunStatus::failed);
      CHECK(reasons[r].find(program == "/bin/false" ? "exit status 1" : "exit status 0") == 0);
      // The child was given the experiment it should run.
      CHECK(json::parse(slurp(dir / plan[r].dir / "experiment.json")) == plan[r].experiment);
    }
  }
}
