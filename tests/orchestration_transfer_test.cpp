// The transfer protocol (orchestration/transfer.h) as a plan of runs: its six steps in order, each
// step starting from the network an earlier step wrote; a network programmed onto the same chip of
// ideal devices is the network that chip learned, so measuring it gives the same test loss.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "orchestration/experiment.h"
#include "orchestration_support.h"
#include "orchestration/transfer.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::slurp;
using orchestration_test::xor_experiment;


TEST_CASE("transfer needs a chip or crossbar, a transfer section and a circuit rule") {
  const fs::path dir = fs::temp_directory_path() / "physlearn_test_orchestration_transfer_errors";
  CHECK_THROWS_WITH_AS(run_transfer(xor_experiment(30, {}), dir.string(), true), doctest::Contains("chip"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(run_transfer(xor_experiment(30, {"chip={\"seed\": 1}"}), dir.string(), true),
                       doctest::Contains("transfer"), ConfigError);
  CHECK_THROWS_WITH_AS(
      run_transfer(xor_experiment(30, {"chip={\"seed\": 1}", "transfer={}", "learning.rule=backprop"}),
                   dir.string(), true),
      doctest::Contains("learning.rule"), ConfigError);
}

TEST_CASE("transfer: six steps, each from the network of the step it names") {
  const fs::path dir = fs::temp_directory_path() / "physlearn_test_orchestration_transfer";
  fs::remove_all(dir);
  // Chip B is chip A (the same seed) and the devices are ideal: programming A's network onto B
  // gives back the network A learned.
  const ExperimentConfig config =
      xor_experiment(30, {"chip={\"seed\": 4, \"device\": {\"model\": \"ideal\"}}",
                "transfer={\"target_chip_seed\": 4, \"fine_tune_epochs\": 2}"});
  const json table = run_transfer(config, dir.string(), true);
  const std::vector<std::string> steps = {"chip-a", "chip-b", "chip-b-tuned", "software", "ex-situ",
                                         "ex-situ-tuned"};
  REQUIRE(table["steps"].size() == steps.size());
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const json& row = table["steps"][s];
    CAPTURE(steps[s]);
    CHECK(row["step"] == steps[s]);
    const json results = json::parse(slurp(dir / steps[s] / "results.json"));
    CHECK(row["test_error"] == results["final"]["test_error"]);
    CHECK(row["epochs"] == results["epochs"].size());
  }
  CHECK(table["steps"][1]["initial_network"] == "chip-a");
  CHECK(table["steps"][3]["chip_seed"].is_null());
  CHECK(table["steps"][4]["initial_network"] == "software");
  CHECK(table["steps"][2]["epochs"] == 2);
  const json a = json::parse(slurp(dir / "chip-a" / "results.json"))["final"];
  const json b = json::parse(slurp(dir / "chip-b" / "results.json"))["final"];
  CHECK(b["test_loss"].get<double>() == doctest::Approx(a["test_loss"].get<double>()).epsilon(1e-9));
  CHECK(b["test_error"] == a["test_error"]);
  // The CSV: a header and a row per step.
  const std::string csv = slurp(dir / "transfer.csv");
  CHECK(csv.rfind("step,chip_seed,initial_network,epochs,test_error,train_error,wall_seconds\nchip-a,4,,30,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 7);
  CHECK(transfer_table(table).find("ex-situ-tuned") != std::string::npos);
}
