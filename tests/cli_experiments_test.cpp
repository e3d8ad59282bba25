// Every file under experiments/ is found by globbing, loaded, and run shortened by the physlearn
// program: a new experiment or study file is checked without an edit here.
#include <doctest/doctest.h>

#include "skip.h"

#include "cli_support.h"
#include "devices/models.h"
#include "orchestration/sweep.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

/// The files under experiments/, found by globbing, in name order.
std::vector<fs::path> experiment_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator("experiments")) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// A study file holds a "base" experiment; an experiment file does not.
bool is_study(const fs::path& file) {
  return json::parse(cli_test::slurp(file)).contains("base");
}

/// A crossbar of full-size layers (more than 200 inputs): every mini-batch factors a wire
/// network of hundreds of thousands of nodes, so the default run only checks it runs.
bool full_size_crossbar(const fs::path& file) {
  const json j = json::parse(cli_test::slurp(file));
  return j.contains("crossbar") && j["network"].value("inputs", 0) > 200;
}

/// Runs `file` shortened (1 epoch; Fashion-MNIST: `train` training and a fifth as many test
/// samples) into dir/label and checks the run completed with finite figures; `learns`: one
/// short epoch already beats chance (90% test error) clearly.
void run_shortened(const fs::path& dir, const std::string& file, const std::string& label, bool learns,
                   int train = 1000) {
  const std::string out = (dir / label).string();
  auto r = cli_test::physlearn("run '" + file + "' --quiet --set learning.epochs=1 --set data.train_size=" +
                                   std::to_string(train) + " --set data.test_size=" +
                                   std::to_string(train / 5) + " --out '" + out + "'",
                               dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json results = json::parse(cli_test::slurp(out + "/results.json"));
  CHECK(results["complete"] == true);
  CHECK(results["epochs"].size() == 1);
  const double test_error = results["final"]["test_error"];
  CHECK(std::isfinite(results["final"]["test_loss"].get<double>()));
  CHECK(test_error >= 0.0);
  CHECK(test_error <= 1.0);
  if (learns) CHECK(test_error < 0.8);
}

}  // namespace

/// Every experiment file (no "base" key) runs shortened and learns something; every other file
/// that is not JSON is a device table that the devices' reader loads.
TEST_CASE("every experiment file under experiments/ runs shortened") {
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  const fs::path dir = cli_test::scratch("cli_experiments");
  int experiments = 0, tables = 0;
  for (const fs::path& file : experiment_files()) {
    CAPTURE(file);
    if (file.extension() != ".json") {
      REQUIRE(file.extension() == ".csv");
      const auto table = physlearn::devices::load_piecewise_csv(file.string());
      CHECK(table.pot_g.size() >= 2);
      CHECK(table.dep_g.size() >= 2);
      ++tables;
    } else if (!is_study(file)) {
      if (full_size_crossbar(file))
        run_shortened(dir, file.string(), file.stem().string(), false, 32);  // learns: below
      else
        run_shortened(dir, file.string(), file.stem().string(), true);
      ++experiments;
    }
  }
  CHECK(experiments >= 8);
  CHECK(tables >= 1);
}

/// Every study file (a "base" key) is loaded, which validates the configuration of every one of
/// its runs, and its first and last runs (two different points) run shortened. The last point
/// may be one that does not learn (the tutorial's 16 levels with cycle-to-cycle noise collapse
/// to chance, as the README says), so only the first must beat chance; runs of full-size
/// crossbars only run one mini-batch (their learning is checked by the slow test below).
TEST_CASE("every study file under experiments/ is loaded and its first and last runs run shortened") {
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  const fs::path dir = cli_test::scratch("cli_studies");
  int studies = 0;
  for (const fs::path& file : experiment_files()) {
    if (file.extension() != ".json" || !is_study(file)) continue;
    CAPTURE(file);
    const auto study = physlearn::orchestration::load_study(file.string());
    REQUIRE(!study.runs.empty());
    for (std::size_t r : {std::size_t{0}, study.runs.size() - 1}) {
      const std::string label = file.stem().string() + "-" + std::to_string(r);
      const fs::path experiment = dir / (label + ".json");
      std::ofstream(experiment) << study.runs[r].config.dump(2);
      if (full_size_crossbar(experiment))
        run_shortened(dir, experiment.string(), label, false, 32);
      else
        run_shortened(dir, experiment.string(), label, r == 0);
    }
    ++studies;
  }
  CHECK(studies >= 3);
}

/// The full-size crossbar experiments, shortened as the others (1000 training samples) and
/// checked to learn: about two minutes each on two cores, so labelled slow.
TEST_CASE("full-size crossbar experiments under experiments/ learn in a shortened epoch" * doctest::test_suite("slow")) {
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  const fs::path dir = cli_test::scratch("cli_experiments_full_size");
  int found = 0;
  for (const fs::path& file : experiment_files())
    if (file.extension() == ".json" && !is_study(file) && full_size_crossbar(file)) {
      CAPTURE(file);
      run_shortened(dir, file.string(), file.stem().string(), true);
      ++found;
    }
  CHECK(found >= 1);
}
