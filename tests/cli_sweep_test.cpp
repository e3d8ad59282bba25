// Sweeps end to end: a 3x3 grid with 2 seeds on 2 jobs writes its summary; killed mid-way (the
// whole process group, SIGKILL) and started again with the same command, it skips the finished
// runs and completes the summary. Invalid points are refused before anything runs; a failing run
// is reported and the others finish.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using cli_test::physlearn;
using cli_test::slurp;

fs::path scratch(const std::string& name) { return cli_test::scratch("sweep_" + name); }

std::string source(const std::string& file) {
  return std::string(PHYSLEARN_SOURCE_DIR) + "/" + file;
}

/// The runs of a sweep folder whose results.json says "complete".
std::vector<fs::path> finished_runs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& point : fs::directory_iterator(dir)) {
    if (!point.is_directory()) continue;
    for (const auto& run : fs::directory_iterator(point.path())) {
      const fs::path results = run.path() / "results.json";
      if (!fs::exists(results)) continue;
      try {
        if (json::parse(slurp(results)).value("complete", false)) out.push_back(run.path());
      } catch (const json::exception&) {
      }
    }
  }
  return out;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("a 3x3 sweep with 2 seeds on 2 jobs resumes after being killed, skipping finished runs") {
  auto dir = scratch("grid");
  std::ofstream(dir / "study.json")
      << R"({"name": "grid", "base": ")" << source("experiments/xor.json") << R"(",
    "set": {"data.type": "two-moons", "data.samples": 400, "learning.epochs": 20},
    "grid": {"learning.beta": [0.05, 0.1, 0.2], "learning.momentum": [0, 0.5, 0.9]}, "seeds": 2})";
  const fs::path out = dir / "out";
  const std::string command = "sweep '" + (dir / "study.json").string() + "' --out '" +
                              out.string() + "' --jobs 2 --checkpoint-every 5";
  const pid_t pid = cli_test::physlearn_background(command, dir / "first");
  const auto start = std::chrono::steady_clock::now();
  while (finished_runs(out).size() < 4 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(-pid, SIGKILL);  // the sweep and its runs
  int status = 0;
  waitpid(pid, &status, 0);
  const auto before = finished_runs(out);
  MESSAGE("killed with " << before.size() << " of 18 runs finished");
  REQUIRE(before.size() >= 4);
  REQUIRE_MESSAGE(before.size() < 18, "the sweep finished before it was killed");
  std::map<fs::path, std::pair<std::string, fs::file_time_type>> kept;
  for (const auto& run : before)
    kept[run] = {slurp(run / "results.json"), fs::last_write_time(run / "results.json")};

  auto again = physlearn(command, dir / "second");
  REQUIRE_MESSAGE(again.status == 0, again.err);
  CHECK(again.err.find(std::to_string(before.size()) + " finished before (skipped), " +
                       std::to_string(18 - before.size()) + " to run, 2 jobs") !=
        std::string::npos);
  for (const auto& [run, content] : kept) {  // finished runs were not run again
    CHECK(slurp(run / "results.json") == content.first);
    CHECK(fs::last_write_time(run / "results.json") == content.second);
  }
  CHECK(finished_runs(out).size() == 18);

  const json summary = json::parse(slurp(out / "summary.json"));
  CHECK(summary["complete"] == true);
  CHECK(summary["keys"] == json({"learning.beta", "learning.momentum"}));
  REQUIRE(summary["runs"].size() == 18);
  for (const auto& run : summary["runs"]) {
    CHECK(run["status"] == "finished");
    CHECK(run["figures"]["test_error"].is_number());
    CHECK(run["figures"]["wall_seconds"].is_number());
    CHECK(run["figures"]["epochs"] == 20);
  }
  REQUIRE(summary["points"].size() == 9);
  for (const auto& point : summary["points"]) {
    CHECK(point["seeds"] == json({1, 2}));
    CHECK(point["mean"]["test_error"].is_number());
    CHECK(point["std"]["test_error"].is_number());
  }
  CHECK(summary["points"][5]["values"] ==
        json({{"learning.beta", 0.1}, {"learning.momentum", 0.9}}));
  const std::string csv = slurp(out / "summary.csv");
  CHECK(csv.rfind("point,label,learning.beta,learning.momentum,seed,status,test_error,train_error,"
                  "test_loss,train_loss,wall_seconds,epochs,dir\n",
                  0) == 0);
  CHECK(lines(csv) == 19);
  const std::string points = slurp(out / "summary_points.csv");
  CHECK(points.rfind(
            "point,label,learning.beta,learning.momentum,runs,test_error_mean,test_error_std,",
            0) == 0);
  CHECK(lines(points) == 10);
  CHECK(again.out.find("beta=0.2 momentum=0.9") != std::string::npos);  // the table

  auto third = physlearn(command, dir / "third");
  CHECK(third.status == 0);
  CHECK(third.err.find("18 finished before (skipped), 0 to run") != std::string::npos);
}

TEST_CASE("a sweep refuses invalid points before running anything, and reports a failing run") {
  auto dir = scratch("errors");
  std::ofstream(dir / "bad.json") << R"({"base": ")" << source("experiments/xor.json") << R"(",
    "points": [{"label": "fine"}, {"label": "typo", "learning.betta": 0.1}]})";
  auto bad = physlearn(
      "sweep '" + (dir / "bad.json").string() + "' --out '" + (dir / "bad").string() + "'", dir);
  CHECK(bad.status != 0);
  CHECK(bad.err.find("point 2 \"typo\", seed 1: learning.betta: 0.1: unknown key") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(dir / "bad"));

  std::ofstream(dir / "fails.json") << R"({"base": ")" << source("experiments/xor.json") << R"(",
    "set": {"learning.epochs": 5},
    "points": [{"label": "ideal"},
               {"label": "no data", "data.type": "fashion-mnist", "data.path": "/nonexistent",
                "network.inputs": 784, "network.outputs": 10}],
    "seeds": [4]})";
  const fs::path out = dir / "fails";
  auto r = physlearn(
      "sweep '" + (dir / "fails.json").string() + "' --out '" + out.string() + "' --jobs 2", dir);
  CHECK(r.status == 1);
  CHECK(r.err.find("1 of 2 runs failed") != std::string::npos);
  const json summary = json::parse(slurp(out / "summary.json"));
  CHECK(summary["complete"] == false);
  CHECK(summary["runs"][0]["status"] == "finished");
  CHECK(summary["runs"][0]["seed"] == 4);
  CHECK(summary["runs"][1]["status"] == "failed");
  CHECK(summary["runs"][1]["message"].get<std::string>().find("/nonexistent") != std::string::npos);
  CHECK(json::parse(slurp(out / "001-ideal/seed-4/experiment.json"))["seed"] == 4);
}

TEST_CASE("schema study documents the study file") {
  auto dir = scratch("schema");
  auto r = physlearn("schema study", dir);
  REQUIRE(r.status == 0);
  for (const char* key :
       {"study.base", "study.set", "study.grid", "study.points", "study.seeds", "study.seed_keys"})
    CHECK(r.out.find(key) != std::string::npos);
}
