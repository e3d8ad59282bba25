// A run's results (orchestration/runner.h): the physics of training in time, from the transient
// solver's phases, beside the digital network's multiply-accumulates; a failing phase named.
#include <doctest/doctest.h>

#include "orchestration_support.h"

#include <filesystem>
#include <string>

#include "circuits/drn.h"
#include "core/error.h"
#include "data/dataset.h"
#include "orchestration/experiment.h"
#include "orchestration/runner.h"
#include "solvers/transient_layered.h"

namespace fs = std::filesystem;
using namespace physlearn;

namespace {

orchestration::ExperimentConfig xor_transient(std::vector<std::string> overrides) {
  // xor.json's solver section is layered with 20 sweeps, a key the transient type has not.
  overrides.insert(overrides.begin(), {"solver.type=transient", "solver.sweeps=null", "learning.epochs=1",
                                       "learning.shuffle=false", "output.progress_seconds=0"});
  return orchestration::load_experiment(std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/xor.json",
                                   overrides);
}

fs::path scratch(const std::string& name) { return orchestration_test::scratch("runner", name); }

}  // namespace

TEST_CASE("physics: a transient XOR epoch reports the phases' own energies and settling times") {
  auto config = xor_transient({"learning.digital_energy_per_mac=2.5e-12"});
  const fs::path dir = scratch("xor");
  const orchestration::RunResult result = orchestration::run_experiment(config, dir.string(), true);
  const json out = result.to_json(config);
  REQUIRE(out["epochs"].size() == 1);
  const json& p = out["epochs"][0]["physics"];
  REQUIRE(p.is_object());
  CHECK(p["samples"] == 4);
  CHECK(p["phases_free"] == 4);
  CHECK(p["phases_nudged"] == 8);  // centered EP: +beta and -beta
  for (const char* key : {"settling_time_free", "settling_time_nudged", "time_per_sample",
                          "energy_per_sample", "energy_sources_per_sample", "mean_power"})
    CHECK(p[key].get<double>() > 0.0);
  CHECK(p["time_per_sample"].get<double>() ==
        doctest::Approx(p["settling_time_free"].get<double>() +
                        2.0 * p["settling_time_nudged"].get<double>()));
  // The digital figure is exactly MACs x energy per MAC (2-16-2).
  CHECK(p["digital_macs_per_sample"] == 160);
  CHECK(p["digital_energy_per_mac"].get<double>() == 2.5e-12);
  CHECK(p["digital_energy_per_sample"].get<double>() == 160 * 2.5e-12);
  // One epoch: the run's figures are the epoch's.
  CHECK(out["final"]["physics"]["energy_per_sample"].get<double>() ==
        doctest::Approx(p["energy_per_sample"].get<double>()));
  CHECK(out["final"]["physics"]["samples"] == 4);

  // The same training step, phase by phase, on the initial network (one batch of all 4 samples).
  auto net = circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  const auto split = data::load(config.data, static_cast<unsigned>(config.seed));
  const Eigen::MatrixXd inputs = split.train.inputs.cast<double>();
  Eigen::MatrixXd targets = Eigen::MatrixXd::Zero(inputs.rows(), 2);
  for (Eigen::Index r = 0; r < inputs.rows(); ++r) targets(r, split.train.labels[static_cast<std::size_t>(r)]) = 1.0;
  solvers::TransientLayeredSolver solver(
      config.solver.options<solvers::TransientSolverOptions>("transient"), net);
  solver.set_inputs(net, net.input_voltages(inputs));
  auto free_state = solvers::LayeredState::zeros(net, inputs.rows());
  double energy = 0.0, settle_free = 0.0;
  solver.relax(net, solvers::PhaseNudge::free(), free_state);
  for (const auto& ph : *solver.last_physics()) {
    energy += ph.energy_sources + ph.energy_nudge;
    settle_free += ph.settling_time;
  }
  for (double beta : {config.learning.beta, -config.learning.beta}) {
    auto nudged = free_state;
    solver.relax(net, solvers::PhaseNudge::nudge(beta, targets), nudged);
    for (const auto& ph : *solver.last_physics()) energy += ph.energy_sources + ph.energy_nudge;
  }
  CHECK(p["energy_per_sample"].get<double>() == doctest::Approx(energy / 4.0).epsilon(1e-9));
  CHECK(p["settling_time_free"].get<double>() == doctest::Approx(settle_free / 4.0).epsilon(1e-9));
  fs::remove_all(dir);
}

TEST_CASE("physics: absent with a steady-state solver") {
  auto config = xor_transient({"solver.type=layered"});
  const fs::path dir = scratch("layered");
  const json out = orchestration::run_experiment(config, dir.string(), true).to_json(config);
  CHECK_FALSE(out["epochs"][0].contains("physics"));
  CHECK_FALSE(out["final"].contains("physics"));
  fs::remove_all(dir);

}

TEST_CASE("physics: a transient that fails in training names the batch, phase, sample, time and reason") {
  auto config = xor_transient({"solver.max_duration=1e-15", "learning.batch_size=2"});
  const fs::path dir = scratch("fails");
  try {
    orchestration::run_experiment(config, dir.string(), true);
    FAIL("the transient should not settle");
  } catch (const SolverError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.rfind("training batch 1 of the run: ", 0) == 0);
    CHECK(what.find("phase 'free, sample ") != std::string::npos);
    CHECK(what.find("at t = 1e-15 s") != std::string::npos);
    CHECK(what.find("not settled within max_duration") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("results: a crossbar run states its arrays, tiles per layer included") {
  auto config = orchestration::load_experiment(
      std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/xor.json",
      {"solver.type=newton", "solver.sweeps=null", "learning.epochs=1", "output.progress_seconds=0",
       "crossbar.wire_resistance=5", "crossbar.tile_rows=3", "crossbar.tile_cols=5",
       "crossbar.summing_resistance=20", "crossbar.g_unit=1e-4"});
  const json out = orchestration::run_experiment(config, scratch("crossbar").string(), true).to_json(config);
  REQUIRE(out.contains("crossbar"));
  const json& x = out["crossbar"];
  CHECK(x["wire_resistance"] == 5.0);
  CHECK(x["summing_resistance"] == 20.0);
  CHECK(x["g_unit"] == 1e-4);
  CHECK(x["solver"] == "sparse");
  /// Layer by layer: rows, columns, and ceil(rows / 3) x ceil(cols / 5) tiles.
  const int inputs = config.network.inputs * (config.network.inverted_inputs ? 2 : 1);
  std::vector<int> sizes = {inputs};
  for (int h : config.network.hidden) sizes.push_back(h);
  sizes.push_back(config.network.outputs);
  REQUIRE(x["layers"].size() == sizes.size() - 1);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    CAPTURE(l);
    const json& layer = x["layers"][l];
    CHECK(layer["rows"] == sizes[l]);
    CHECK(layer["cols"] == sizes[l + 1]);
    CHECK(layer["tiles"] == ((sizes[l] + 2) / 3) * ((sizes[l + 1] + 4) / 5));
  }
  /// A run without a crossbar section has no such key.
  auto plain = xor_transient({});
  CHECK_FALSE(orchestration::RunResult{}.to_json(plain).contains("crossbar"));
}
