#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "orchestration/sweep.h"

using namespace physlearn;
namespace fs = std::filesystem;

namespace {

const char* kXor = R"({"name": "xor", "seed": 1,
  "network": {"type": "drn", "inputs": 2, "input_gain": 5, "hidden": [4], "outputs": 2},
  "learning": {"epochs": 2, "batch_size": 4},
  "data": {"type": "xor"}})";

/// Writes a study (its base in base.json beside it) and loads it.
orchestration::Study study(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("physlearn_test_orchestration_sweep_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "base.json") << kXor;
  std::ofstream(dir / "study.json") << text;
  return orchestration::load_study((dir / "study.json").string());
}

}  // namespace

TEST_CASE("a grid is the cartesian product, in the order written, times the seeds") {
  const auto s = study("grid", R"({"base": "base.json", "set": {"learning.epochs": 3},
    "grid": {"learning.beta": [0.1, 0.2, 0.3], "learning.momentum": [0, 0.5]}, "seeds": 2})");
  CHECK(s.name == "study");
  REQUIRE(s.points.size() == 6);
  REQUIRE(s.runs.size() == 12);
  CHECK(s.keys == std::vector<std::string>{"learning.beta", "learning.momentum"});
  CHECK(s.points[0].label == "beta=0.1 momentum=0");
  CHECK(s.points[1].label == "beta=0.1 momentum=0.5");
  CHECK(s.points[5].dir == "006-beta_0.3_momentum_0.5");
  CHECK(s.runs[11].dir == "006-beta_0.3_momentum_0.5/seed-2");
  CHECK(s.runs[11].config["learning"]["beta"] == 0.3);
  CHECK(s.runs[11].config["learning"]["epochs"] == 3);
  CHECK(s.runs[11].config["seed"] == 2);
  CHECK_FALSE(s.runs[11].config.contains("chip"));  // chip.seed only where a chip exists
  CHECK(s.points[2].values["learning.momentum"] == 0);
}

TEST_CASE(
    "points: labels, values from the resolved config, null removes a key, grid times points") {
  const auto s = study("points", R"({"name": "variability", "base": "base.json",
    "set": {"chip": {"device": {"model": "constant-step", "dg": 1e-6, "g_max": 1e-4}}},
    "points": [{"label": "ideal", "chip": null},
               {"chip.variability.d2d_sigma": 0.2},
               {"label": "coarse", "chip.variability.levels": 16}],
    "grid": {"learning.beta": [0.1, 0.2]}, "seeds": [7]})");
  REQUIRE(s.points.size() == 6);
  CHECK(s.keys == std::vector<std::string>{"learning.beta", "chip", "chip.variability.d2d_sigma",
                                           "chip.variability.levels"});
  CHECK(s.points[0].label == "ideal beta=0.1");
  CHECK(s.points[2].label == "beta=0.1 d2d_sigma=0.2");
  CHECK(s.points[5].label == "coarse beta=0.2");
  CHECK_FALSE(s.runs[0].config.contains("chip"));
  CHECK(s.points[0].values["chip.variability.d2d_sigma"].is_null());
  CHECK(s.points[4].values["chip.variability.d2d_sigma"] == 0.0);  // the default, resolved
  CHECK(s.runs[2].config["chip"]["seed"] == 7);
  CHECK(s.runs[2].config["seed"] == 7);
  CHECK(s.points[2].set_keys ==
        std::vector<std::string>{"learning.beta", "chip.variability.d2d_sigma"});
}

TEST_CASE("every point is validated before anything runs, errors naming the point, seed and key") {
  CHECK_THROWS_WITH(
      study("bad_key", R"({"base": "base.json", "points": [{}, {"learning.betta": 1}]})"),
      doctest::Contains("point 2 \"betta=1\", seed 1: learning.betta: 1: unknown key"));
  CHECK_THROWS_WITH(
      study("bad_value", R"({"base": "base.json", "grid": {"learning.beta": [0.1, -1]}})"),
      doctest::Contains("point 2 \"beta=-1\", seed 1: learning.beta: -1"));
  CHECK_THROWS_WITH(study("both", R"({"base": "base.json", "grid": {"learning.beta": [0.1]},
                                      "points": [{"learning.beta": 0.2}]})"),
                    doctest::Contains("points[0]: learning.beta: also swept by the grid"));
  CHECK_THROWS_WITH(study("seed", R"({"base": "base.json", "grid": {"seed": [1, 2]}})"),
                    doctest::Contains("seed: set by the seeds"));
  CHECK_THROWS_WITH(study("unknown", R"({"base": "base.json", "grids": {}})"),
                    doctest::Contains("grids: unknown key"));
  CHECK_THROWS_WITH(study("seeds", R"({"base": "base.json", "seeds": 0})"),
                    doctest::Contains("seeds: 0: a count must be >= 1"));
  CHECK_THROWS_WITH(study("empty", R"({"base": "base.json", "grid": {"learning.beta": []}})"),
                    doctest::Contains("grid.learning.beta: must be a non-empty array"));
}

TEST_CASE("run figures: final errors, wall time, epochs, device totals") {
  const json results = json::parse(R"({"epochs": [
      {"epoch": 1, "devices": {"pulses": 10, "programming_energy": 1e-9}},
      {"epoch": 2, "devices": {"pulses": 5, "programming_energy": 2e-9}}],
    "final": {"train_error": 0.1, "test_error": 0.2, "train_loss": 0.3, "test_loss": 0.4,
              "wall_seconds": 1.5, "energy_per_sample": 7}})");
  const auto f = orchestration::run_figures(results);
  REQUIRE(f.size() == 9);
  CHECK(f[0] == std::pair<std::string, double>{"test_error", 0.2});
  CHECK(f[5] == std::pair<std::string, double>{"epochs", 2});
  CHECK(f[6].first == "devices.programming_energy");  // the keys of results.json, sorted
  CHECK(f[6].second == doctest::Approx(3e-9));
  CHECK(f[7] == std::pair<std::string, double>{"devices.pulses", 15});
  CHECK(f[8] == std::pair<std::string, double>{"final.energy_per_sample", 7});
}
