// Physics of training in time in the results (learning/physics.h): analog figures from the
// transient solver's phases beside the digital network's multiply-accumulates.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "circuits/drn.h"
#include "core/error.h"
#include "data/dataset.h"
#include "learning/experiment.h"
#include "learning/physics.h"
#include "solvers/transient_layered.h"

namespace fs = std::filesystem;
using namespace physlearn;

namespace {

learning::ExperimentConfig xor_transient(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(), {"solver.type=transient", "learning.epochs=1",
                                       "learning.shuffle=false", "output.progress_seconds=0"});
  return learning::load_experiment(std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/xor.json",
                                   overrides);
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("physlearn_test_learning_physics_" + name);
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("digital multiply-accumulates: forward, backward without the inputs, weight gradients") {
  CHECK(learning::digital_macs_per_sample({2, 16, 2}) == 3 * (32 + 32) - 32);
  CHECK(learning::digital_macs_per_sample({784, 100, 10}) == 3 * (78400 + 1000) - 78400);
  CHECK(learning::digital_macs_per_sample({5, 3}) == 2 * 15);  // one layer: forward + gradient
}

TEST_CASE("physics: a transient XOR epoch reports the phases' own energies and settling times") {
  auto config = xor_transient({"learning.digital_energy_per_mac=2.5e-12"});
  const fs::path dir = scratch("xor");
  const learning::RunResult result = learning::run_experiment(config, dir.string(), true);
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
  solvers::TransientLayeredSolver solver(config.solver, net);
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

TEST_CASE("physics: absent with a steady-state solver; combined over epochs by samples") {
  auto config = xor_transient({"solver.type=layered"});
  const fs::path dir = scratch("layered");
  const json out = learning::run_experiment(config, dir.string(), true).to_json(config);
  CHECK_FALSE(out["epochs"][0].contains("physics"));
  CHECK_FALSE(out["final"].contains("physics"));
  fs::remove_all(dir);

  const json a = {{"samples", 1}, {"phases_free", 1}, {"phases_nudged", 2},
                  {"settling_time_free", 1.0}, {"settling_time_nudged", 2.0},
                  {"time_per_sample", 5.0}, {"energy_per_sample", 3.0},
                  {"energy_sources_per_sample", 2.0}, {"energy_nudge_per_sample", 1.0},
                  {"mean_power", 1.0}, {"digital_macs_per_sample", 10},
                  {"digital_energy_per_mac", 1e-12}, {"digital_energy_per_sample", 1e-11}};
  json b = a;
  b["samples"] = 3;
  b["phases_free"] = 3;
  b["phases_nudged"] = 6;
  b["energy_sources_per_sample"] = 6.0;
  b["energy_per_sample"] = 7.0;
  b["mean_power"] = 3.0;
  const json c = learning::combine_physics({a, nullptr, b});
  CHECK(c["samples"] == 4);
  CHECK(c["energy_per_sample"].get<double>() == doctest::Approx((3.0 + 3 * 7.0) / 4));
  CHECK(c["mean_power"].get<double>() == doctest::Approx((3 * 1.0 + 9 * 3.0) / 12));
  CHECK(c["digital_energy_per_sample"].get<double>() == 1e-11);
  CHECK(learning::combine_physics({nullptr}).is_null());
}

TEST_CASE("physics: a transient that fails in training names the batch, phase, sample, time and reason") {
  auto config = xor_transient({"solver.transient_max_duration=1e-15", "learning.batch_size=2"});
  const fs::path dir = scratch("fails");
  try {
    learning::run_experiment(config, dir.string(), true);
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
