// `physlearn simulate`: one training step simulated as transients; waveforms and phase figures.
#include <doctest/doctest.h>

#include "cli_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "data/dataset.h"
#include "orchestration/experiment.h"
#include "solvers/equilibrium.h"
#include "solvers/transient_layered.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Result = cli_test::Outcome;
using cli_test::slurp;

fs::path fresh_dir(const std::string& name) { return cli_test::scratch("simulate_" + name); }
Result simulate(const std::string& arguments, const fs::path& dir) {
  return cli_test::physlearn("simulate " + arguments, dir);
}

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("simulate: waveforms and per-phase figures of one EP step on XOR") {
  const fs::path dir = fresh_dir("xor");
  const fs::path out = dir / "out";
  const Result r = simulate("experiments/xor.json --sample 2 --out '" + out.string() + "'", dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("free: settled in") != std::string::npos);

  const json j = json::parse(slurp(out / "simulate.json"));
  CHECK(j["sample"] == 2);
  CHECK(j["label"] == 1);            // XOR point (1, 0)
  REQUIRE(j["phases"].size() == 3);  // centered EP: free, +beta, -beta
  CHECK(j["phases"][0]["phase"] == "free");
  CHECK(j["phases"][1]["phase"] == "nudge+");
  CHECK(j["phases"][2]["phase"] == "nudge-");
  CHECK(j["phases"][1]["beta"].get<double>() == doctest::Approx(0.1));
  CHECK(j["phases"][2]["beta"].get<double>() == doctest::Approx(-0.1));
  CHECK(j["capacitance"]["layers"][0]["farads"].get<double>() == doctest::Approx(1e-12));
  for (const auto& p : j["phases"]) {
    CHECK(p["settling_time"].get<double>() > 0.0);
    CHECK(p["duration"].get<double>() >= p["settling_time"].get<double>());
    const double dissipated = p["energy"]["conductances"].get<double>();
    CHECK(dissipated > 0.0);
    CHECK(std::abs(p["energy"]["balance"].get<double>()) < 1e-5 * dissipated);
  }

  // The free phase ends where the converged steady-state solver puts it.
  auto config = physlearn::orchestration::load_experiment(std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/xor.json", {});
  auto net = physlearn::circuits::build_drn(config.network, 1);
  const auto split = physlearn::data::load(config.data, 1);
  const Eigen::MatrixXd inputs = split.train.inputs.row(2).cast<double>();
  physlearn::solvers::CoordinateDescentSolver layered(1, 1e-13, 1000000);
  layered.set_inputs(net, net.input_voltages(inputs));
  auto state = physlearn::solvers::LayeredState::zeros(net, 1);
  layered.relax(net, physlearn::solvers::PhaseNudge::free(), state);
  for (int i = 0; i < 2; ++i)
    CHECK(j["phases"][0]["outputs"][i].get<double>() ==
          doctest::Approx(state.outputs()(0, i)).epsilon(1e-6));

  // Waveforms: time, phase, the default nodes; each phase starts at the time the last one ended.
  const auto rows = read_csv(out / "waveforms.csv");
  REQUIRE(rows.size() > 10);
  const std::vector<std::string> header = {"time", "phase", "h1_0", "h1_1",
                                           "h1_8", "h1_9",  "out0", "out1"};
  CHECK(rows[0] == header);
  CHECK(j["waveforms"]["rows"].get<std::size_t>() == rows.size() - 1);
  std::vector<std::string> order;
  double previous = -1.0;
  for (std::size_t k = 1; k < rows.size(); ++k) {
    REQUIRE(rows[k].size() == header.size());
    const double t = std::stod(rows[k][0]);
    CHECK(t >= previous);
    if (order.empty() || order.back() != rows[k][1]) {
      order.push_back(rows[k][1]);
      if (k > 1) CHECK(t == doctest::Approx(previous).epsilon(1e-12));  // the boundary row
    }
    previous = t;
  }
  CHECK(order == std::vector<std::string>{"free", "nudge+", "nudge-"});
  CHECK(std::stod(rows[1][0]) == 0.0);
  CHECK(std::stod(rows.back()[0]) == doctest::Approx(j["phases"][2]["start_time"].get<double>() +
                                                     j["phases"][2]["duration"].get<double>()));
}

TEST_CASE("simulate: the transient type's options, else its defaults, nodes, errors") {
  const fs::path dir = fresh_dir("options");
  const fs::path out = dir / "out";
  // xor.json's solver section is layered with 20 sweeps, a key the transient type has not.
  const std::string transient = " --set solver.type=transient --set solver.sweeps=null";
  SUBCASE("capacitances and nodes") {
    const Result r = simulate("experiments/xor.json --out '" + out.string() +
                                  "' --nodes in0,h1_3,out1" + transient +
                                  " --set 'solver.capacitance=[2e-12,5e-12]' --set "
                                  "solver.settle=slew --set learning.variant=positive",
                              dir);
    INFO(r.err);
    REQUIRE(r.status == 0);
    const json j = json::parse(slurp(out / "simulate.json"));
    CHECK(j["capacitance"]["layers"][0]["farads"].get<double>() == doctest::Approx(2e-12));
    CHECK(j["capacitance"]["layers"][1]["farads"].get<double>() == doctest::Approx(5e-12));
    CHECK(j["transient"]["settle"] == "slew");
    CHECK(j["phases"].size() == 2);
    const auto rows = read_csv(out / "waveforms.csv");
    CHECK(rows[0] == std::vector<std::string>{"time", "phase", "in0", "h1_3", "out1"});
  }
  SUBCASE("another solver type: the transient solver's defaults") {
    const Result r = simulate("experiments/xor.json --out '" + out.string() + "'", dir);
    INFO(r.err);
    REQUIRE(r.status == 0);
    const json j = json::parse(slurp(out / "simulate.json"));
    const physlearn::solvers::TransientSolverOptions defaults;
    CHECK(j["capacitance"]["layers"][0]["farads"].get<double>() == defaults.capacitance[0]);
    CHECK(j["transient"]["settle"] == defaults.settle);
    CHECK(j["transient"]["max_duration"].get<double>() == defaults.max_duration);
  }
  SUBCASE("a transient key with the layered type is an unknown key") {
    const Result r = simulate(
        "experiments/xor.json --out '" + out.string() + "' --set solver.settle=slew", dir);
    CHECK(r.status == 1);
    CHECK(r.err.find("solver.settle: \"slew\": unknown key (known keys here: max_sweeps, "
                     "precision, sweeps, tolerance, type)") != std::string::npos);
    CHECK(!fs::exists(out));
  }
  SUBCASE("a sample out of range") {
    const Result r = simulate("experiments/xor.json --sample 9 --out '" + out.string() + "'", dir);
    CHECK(r.status == 1);
    CHECK(r.err.find("--sample 9: must be in [0,") != std::string::npos);
    CHECK(!fs::exists(out));
  }
  SUBCASE("an unknown node") {
    const Result r =
        simulate("experiments/xor.json --nodes out7 --out '" + out.string() + "'", dir);
    CHECK(r.status == 1);
    CHECK(r.err.find("'out7'") != std::string::npos);
  }
  SUBCASE("a transient that cannot settle in time") {
    // Sample 0 is the point (0, 0): with zero biases the network rests at 0 V and settles at
    // once, so take sample 1.
    const Result r = simulate("experiments/xor.json --sample 1 --out '" + out.string() +
                                  "'" + transient + " --set solver.max_duration=1e-15",
                              dir);
    CHECK(r.status == 1);
    CHECK(r.err.find("phase 'free' failed at t = 1e-15 s: not settled within max_duration") !=
          std::string::npos);
    CHECK(!fs::exists(out));
  }
}

TEST_CASE("run with solver.type transient: physics per sample is simulate's phases, sample by sample") {
  const fs::path dir = fresh_dir("physics");
  const Result r = cli_test::physlearn(
      "run experiments/xor.json --quiet --set solver.type=transient --set solver.sweeps=null "
      "--set learning.epochs=1 "
      "--set learning.shuffle=false --out '" + (dir / "run").string() + "'",
      dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json p = json::parse(slurp(dir / "run" / "results.json"))["epochs"][0]["physics"];
  REQUIRE(p["samples"] == 4);  // XOR: one batch of the 4 points, on the initial network
  double energy = 0.0, time = 0.0;
  for (int k = 0; k < 4; ++k) {
    const fs::path out = dir / ("sample" + std::to_string(k));
    const Result s = simulate("experiments/xor.json --sample " + std::to_string(k) + " --out '" +
                                  out.string() + "'",
                              dir);
    REQUIRE(s.status == 0);
    for (const auto& phase : json::parse(slurp(out / "simulate.json"))["phases"]) {
      energy += phase["energy"]["sources"].get<double>() + phase["energy"]["nudge"].get<double>();
      time += phase["settling_time"].get<double>();
    }
  }
  CHECK(p["energy_per_sample"].get<double>() == doctest::Approx(energy / 4.0).epsilon(1e-6));
  CHECK(p["time_per_sample"].get<double>() == doctest::Approx(time / 4.0).epsilon(1e-6));
  CHECK(p["digital_energy_per_sample"].get<double>() ==
        p["digital_macs_per_sample"].get<double>() * p["digital_energy_per_mac"].get<double>());
}
