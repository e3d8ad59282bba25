// One training step simulated in time (orchestration/simulate.h), called as a library on
// experiments/xor.json: every node at the end of every phase against the converged DC solver
// (EP's nudged phases and CHL's clamped phase included), the result's schema, the log, and bad
// node names. tests/cli_simulate_test.cpp covers the command (free outputs, energy balance,
// waveform times, the transient options).
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/error.h"
#include "orchestration/simulate.h"
#include "orchestration_support.h"
#include "solvers/equilibrium.h"
#include "solvers/transient_layered.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::slurp;
using orchestration_test::xor_experiment;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("simulate", name); }

/// Every hidden and output node of xor.json's 4-16-2 network, in layer order.
std::string all_nodes() {
  std::string names;
  for (int i = 0; i < 16; ++i) names += "h1_" + std::to_string(i) + ",";
  return names + "out0,out1";
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

Csv read_csv(const fs::path& file) {
  Csv csv;
  std::istringstream in(slurp(file));
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    if (first) csv.header = cells;
    else csv.rows.push_back(cells);
    first = false;
  }
  return csv;
}

/// The last row of phase `phase`: the potentials where that phase ended.
const std::vector<std::string>& last_row(const Csv& csv, const std::string& phase) {
  const std::vector<std::string>* last = nullptr;
  for (const auto& row : csv.rows)
    if (row.at(1) == phase) last = &row;
  REQUIRE_MESSAGE(last != nullptr, phase);
  return *last;
}

/// Sample `k` of xor.json's training set on the seeded network (XOR's points by hand: xor.json's
/// init range lies inside the default [g_min, g_max], so nothing is clamped), its inputs set on a
/// converged coordinate-descent solver.
struct DcReference {
  circuits::LayeredNetwork net;
  Eigen::MatrixXd target;
  solvers::CoordinateDescentSolver solver{1, 1e-13, 1000000};
  DcReference(const ExperimentConfig& config, double x0, double x1, int label)
      : net(circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed))),
        target(Eigen::MatrixXd::Zero(1, 2)) {
    target(0, label) = 1.0;
    Eigen::MatrixXd inputs(1, 2);
    inputs << x0, x1;
    solver.set_inputs(net, net.input_voltages(inputs));
  }
  solvers::LayeredState relax(const solvers::PhaseNudge& nudge, solvers::LayeredState start) {
    solver.relax(net, nudge, start);
    return start;
  }
};

/// The largest |v(csv) - v(state)| over every hidden and output node at the end of `phase`.
double worst_difference(const Csv& csv, const std::string& phase, const solvers::LayeredState& s) {
  const std::vector<std::string>& row = last_row(csv, phase);
  double worst = 0.0;
  for (int i = 0; i < 16; ++i) worst = std::max(worst, std::abs(std::stod(row.at(2 + i)) - s.layers[0](0, i)));
  for (int i = 0; i < 2; ++i) worst = std::max(worst, std::abs(std::stod(row.at(18 + i)) - s.layers[1](0, i)));
  return worst;
}

}  // namespace

TEST_CASE("simulate_step: EP's three phases end at the DC solver's states, every node") {
  const fs::path dir = scratch("ep");
  const ExperimentConfig config = xor_experiment(1);
  SimulateOptions options;
  options.sample = 1;  // the point (0, 1), label 1
  options.out = (dir / "out").string();
  options.nodes = all_nodes();
  std::ostringstream log;
  simulate_step(config, options, log);
  const Csv csv = read_csv(dir / "out" / "waveforms.csv");
  const json j = json::parse(slurp(dir / "out" / "simulate.json"));

  /// The converged steady states: free from zeros, +beta and -beta from the free state.
  DcReference dc(config, 0.0, 1.0, 1);
  const solvers::LayeredState free =
      dc.relax(solvers::PhaseNudge::free(), solvers::LayeredState::zeros(dc.net, 1));
  const solvers::LayeredState plus = dc.relax(solvers::PhaseNudge::nudge(0.1, dc.target), free);
  const solvers::LayeredState minus = dc.relax(solvers::PhaseNudge::nudge(-0.1, dc.target), free);
  /// The transient settles to within final_tol = 1e-6 V of the steady state (the default "final"
  /// criterion): every node, every phase.
  const double free_dv = worst_difference(csv, "free", free);
  const double plus_dv = worst_difference(csv, "nudge+", plus);
  const double minus_dv = worst_difference(csv, "nudge-", minus);
  MESSAGE("largest |v - v_dc| at the end of free, nudge+, nudge-: " << free_dv << ", " << plus_dv
                                                                    << ", " << minus_dv << " V");
  CHECK(free_dv < 2e-6);
  CHECK(plus_dv < 2e-6);
  CHECK(minus_dv < 2e-6);
  /// The nudge moved the outputs by far more than that: the comparison tells the phases apart.
  CHECK(std::abs(plus.outputs()(0, 1) - free.outputs()(0, 1)) > 1e-3);
  /// The phases' outputs in simulate.json are the waveforms' last rows.
  REQUIRE(j["phases"].size() == 3);
  const std::vector<const solvers::LayeredState*> states = {&free, &plus, &minus};
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    const json& p = j["phases"][k];
    const std::vector<std::string>& row = last_row(csv, p["phase"].get<std::string>());
    for (int i = 0; i < 2; ++i) {
      CHECK(p["outputs"][static_cast<std::size_t>(i)].get<double>() ==
            doctest::Approx(std::stod(row.at(18 + static_cast<std::size_t>(i)))).epsilon(1e-9));
      CHECK(std::abs(p["outputs"][static_cast<std::size_t>(i)].get<double>() -
                     states[k]->outputs()(0, i)) < 2e-6);
    }
  }
}

TEST_CASE("simulate_step: the result's schema, the log, and an input node's waveform") {
  const fs::path dir = scratch("schema");
  const ExperimentConfig config = xor_experiment(1);
  SimulateOptions options;
  options.sample = 3;  // the point (1, 1), label 0
  options.out = (dir / "out").string();
  options.nodes = "in1,in3,out1,,h1_15";  // an empty name between commas is skipped
  std::ostringstream log;
  simulate_step(config, options, log);
  const json j = json::parse(slurp(dir / "out" / "simulate.json"));
  const Csv csv = read_csv(dir / "out" / "waveforms.csv");

  CHECK(j["experiment"] == "xor");
  CHECK(j["sample"] == 3);
  CHECK(j["label"] == 0);
  CHECK(j["rule"] == "ep");
  CHECK(j["variant"] == "centered");
  CHECK(j["sizes"] == json::array({4, 16, 2}));
  CHECK(j["nodes"] == json::array({"in1", "in3", "out1", "h1_15"}));
  CHECK(csv.header == std::vector<std::string>{"time", "phase", "in1", "in3", "out1", "h1_15"});
  CHECK(j["waveforms"]["file"] == "waveforms.csv");
  CHECK(j["waveforms"]["rows"] == csv.rows.size());
  /// Capacitance per non-input layer, named and sized as the network's layers; xor.json's solver
  /// is layered, so the transient's defaults apply.
  const solvers::TransientSolverOptions defaults;
  REQUIRE(j["capacitance"]["layers"].size() == 2);
  CHECK(j["capacitance"]["layers"][0]["layer"] == "h1");
  CHECK(j["capacitance"]["layers"][0]["nodes"] == 16);
  CHECK(j["capacitance"]["layers"][1]["layer"] == "out");
  CHECK(j["capacitance"]["layers"][1]["nodes"] == 2);
  CHECK(j["capacitance"]["layers"][1]["farads"].get<double>() == defaults.capacitance[0]);
  CHECK(j["transient"]["rtol"].get<double>() == defaults.rtol);
  CHECK(j["transient"]["atol"].get<double>() == defaults.atol);
  CHECK(j["transient"]["final_tol"].get<double>() == defaults.final_tol);
  CHECK(j["transient"]["max_steps"] == defaults.max_steps);
  /// Each phase starts when the last one ended, the free phase from zeros, the others from the
  /// free state; EP clamps nothing.
  double start = 0.0;
  for (std::size_t k = 0; k < j["phases"].size(); ++k) {
    CAPTURE(k);
    const json& p = j["phases"][k];
    CHECK(p["start_time"].get<double>() == doctest::Approx(start).epsilon(1e-12));
    start = p["start_time"].get<double>() + p["duration"].get<double>();
    CHECK(p["starts_from"] == (k == 0 ? "zeros" : "the free state"));
    CHECK_FALSE(p.contains("clamp"));
    CHECK(p["steps"].get<long>() > 0);
    for (const char* key : {"sources", "nudge", "conductances", "diodes", "impulse",
                            "stored_change", "balance"})
      CHECK(p["energy"].contains(key));
  }
  /// Inputs are ideal sources: their columns hold 5 x1 = 5 and -5 x1 = -5 on every row.
  for (const auto& row : csv.rows) {
    CHECK(std::stod(row.at(2)) == 5.0);
    CHECK(std::stod(row.at(3)) == -5.0);
  }
  /// The log: one line per phase, in order, then where the files are.
  std::istringstream lines(log.str());
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  REQUIRE(got.size() == 4);
  CHECK(got[0].rfind("free: settled in ", 0) == 0);
  CHECK(got[1].rfind("nudge+: settled in ", 0) == 0);
  CHECK(got[2].rfind("nudge-: settled in ", 0) == 0);
  CHECK(got[3] == "results in " + options.out + "/simulate.json, " + options.out + "/waveforms.csv");
}

TEST_CASE("simulate_step: CHL's clamped phase holds the outputs at the target, hidden nodes at DC") {
  const fs::path dir = scratch("chl");
  const ExperimentConfig config = xor_experiment(1, {"learning.rule=chl"});
  SimulateOptions options;
  options.sample = 2;  // the point (1, 0), label 1
  options.out = (dir / "out").string();
  options.nodes = all_nodes();
  std::ostringstream log;
  simulate_step(config, options, log);
  const json j = json::parse(slurp(dir / "out" / "simulate.json"));
  const Csv csv = read_csv(dir / "out" / "waveforms.csv");
  REQUIRE(j["phases"].size() == 2);
  const std::string clamped = j["phases"][1]["phase"].get<std::string>();
  CHECK(clamped != "free");
  /// The clamp is the one-hot target (0, 1), and no nudge current.
  CHECK(j["phases"][1]["clamp"] == json::array({0.0, 1.0}));
  CHECK(j["phases"][1]["beta"].get<double>() == 0.0);
  DcReference dc(config, 1.0, 0.0, 1);
  const solvers::LayeredState free =
      dc.relax(solvers::PhaseNudge::free(), solvers::LayeredState::zeros(dc.net, 1));
  const solvers::LayeredState held = dc.relax(solvers::PhaseNudge::clamped(dc.target), free);
  CHECK(worst_difference(csv, "free", free) < 2e-6);
  CHECK(worst_difference(csv, clamped, held) < 2e-6);
  const std::vector<std::string>& end = last_row(csv, clamped);
  CHECK(std::stod(end.at(18)) == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(std::stod(end.at(19)) == doctest::Approx(1.0).epsilon(1e-9));
}

TEST_CASE("simulate_step: bad node names are errors naming --nodes, and nothing is written") {
  const fs::path dir = scratch("errors");
  const ExperimentConfig config = xor_experiment(1);
  SimulateOptions options;
  options.out = (dir / "out").string();
  std::ostringstream log;
  auto run = [&](const std::string& nodes) {
    options.nodes = nodes;
    simulate_step(config, options, log);
  };
  /// xor.json has one hidden layer of 16 and 4 input sources (2 inputs doubled).
  CHECK_THROWS_WITH_AS(run("h2_0"), doctest::Contains("--nodes: 'h2_0': no such hidden layer"), Error);
  CHECK_THROWS_WITH_AS(run("h1_16"), doctest::Contains("--nodes: 'h1_16': no such unit"), Error);
  CHECK_THROWS_WITH_AS(run("in4"), doctest::Contains("--nodes: 'in4': no such input"), Error);
  CHECK_THROWS_WITH_AS(run("out0,x1"), doctest::Contains("--nodes: 'x1': not a node name"), Error);
  CHECK_THROWS_WITH_AS(run("h1_a"), doctest::Contains("'h1_a': not a node name"), Error);
  CHECK_THROWS_WITH_AS(run(",,"), "--nodes: no node names given", Error);
  /// The message lists the names there are.
  CHECK_THROWS_WITH_AS(run("out2"), doctest::Contains("in<k> for k < 4"), Error);
  CHECK(log.str().empty());
  CHECK_FALSE(fs::exists(dir / "out"));
}
