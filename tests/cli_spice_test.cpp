// `physlearn solve` on SPICE netlists (tests/netlists/*.cir) against analytic answers, the
// ngspice backend against the native one, errors that exit non-zero, and `physlearn
// export-spice` read back and solved against the in-process network with EP's nudge.
#include <doctest/doctest.h>

#include "cli_support.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "circuits/drn.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"
#include "data/dataset.h"
#include "orchestration/experiment.h"
#include "solvers/newton.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using physlearn::circuits::Circuit;
using physlearn::circuits::kNgspiceBoltzmannOverCharge;

namespace {

using cli_test::Outcome;
using cli_test::slurp;

fs::path scratch(const std::string& name) { return cli_test::scratch("spice_" + name); }
Outcome run_physlearn(const std::string& arguments, const fs::path& dir) {
  return cli_test::physlearn(arguments, dir);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// `physlearn solve tests/netlists/<name> [extra]`, parsed.
json solve(const std::string& name, const std::string& extra = "") {
  const fs::path dir = scratch("solve_" + name);
  const Outcome r = run_physlearn("solve tests/netlists/" + name + " " + extra, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  return json::parse(r.out);
}

double node(const json& out, const std::string& name) {
  REQUIRE_MESSAGE(out["nodes"].contains(name), out.dump());
  return out["nodes"][name].get<double>();
}

double branch(const json& out, const std::string& name) {
  REQUIRE_MESSAGE(out["branches"].contains(name), out.dump());
  return out["branches"][name].get<double>();
}

/// w with w + ln w = L (the principal branch of Lambert's W, in log form: W(e^L)), by Newton.
double lambert_w_of_exp(double L) {
  double w = L > 1.0 ? L - std::log(L) : 1.0;
  for (int i = 0; i < 100; ++i) {
    const double step = (w + std::log(w) - L) / (1.0 + 1.0 / w);
    w -= step;
    if (std::abs(step) <= 1e-16 * w) break;
  }
  return w;
}

constexpr double kVolts = 1e-9;  // the required agreement with analytic answers
constexpr double kAmps = 1e-12;

}  // namespace

TEST_CASE("solve: R-2R ladder netlist halves the reference at every tap") {
  const json out = solve("resistor_ladder.cir");
  CHECK(out["nodes"].size() == 7);
  CHECK(std::abs(node(out, "N0") - 5.0) < kVolts);  // first spelling kept
  for (int k = 1; k <= 6; ++k) {
    CAPTURE(k);
    CHECK(std::abs(node(out, "n" + std::to_string(k)) - 5.0 / std::ldexp(1.0, k)) < kVolts);
  }
  // Input resistance 2R = 20 kOhm; SPICE sign: the source delivers current out of its plus.
  CHECK(std::abs(branch(out, "Vref") + 5.0 / 20e3) < kAmps);
  CHECK(out["branches"].size() == 1);
}

TEST_CASE("solve: Wheatstone bridge netlist against nodal analysis by hand") {
  const json out = solve("wheatstone.cir");
  const double vs = 10.0, g1 = 1 / 1e3, g2 = 1 / 2.2e3, g3 = 1 / 1.5e3, g4 = 1 / 3.9e3,
               gg = 1 / 470.0;
  // (g1 + g2 + gg) vA - gg vB = g1 vs;  -gg vA + (g3 + g4 + gg) vB = g3 vs  (Cramer's rule)
  const double a11 = g1 + g2 + gg, a22 = g3 + g4 + gg, det = a11 * a22 - gg * gg;
  const double va = (g1 * vs * a22 + gg * g3 * vs) / det;
  const double vb = (a11 * g3 * vs + gg * g1 * vs) / det;
  CHECK(std::abs(va - vb) > 0.05);  // unbalanced: current through the galvanometer
  CHECK(std::abs(node(out, "top") - vs) < kVolts);
  CHECK(std::abs(node(out, "A") - va) < kVolts);
  CHECK(std::abs(node(out, "b") - vb) < kVolts);
  CHECK(std::abs(branch(out, "V1") + g1 * (vs - va) + g3 * (vs - vb)) < kAmps);
  CHECK(out["nodes"].size() == 3);
}

TEST_CASE("solve: diode clamp netlist against Lambert's W") {
  const json out = solve("diode_clamp.cir");
  // I = Is (exp(Vj / (N Vt)) - 1) with ngspice's Vt at 27 C; RS in series with the 1 kOhm.
  const double is = 2.52e-9, nvt = 1.752 * kNgspiceBoltzmannOverCharge * 300.15;
  const double r = 1e3, rt = r + 0.568, vs = 5.0 - 2.0;
  // u = I + Is: u Rt + N Vt ln(u / Is) = vs + Is Rt; w = u Rt / (N Vt): w + ln w = L.
  const double L = (vs + is * rt) / nvt + std::log(is * rt / nvt);
  const double current = lambert_w_of_exp(L) * nvt / rt - is;
  CHECK(current > 2e-3);  // about 2.4 mA: the diode conducts
  CHECK(std::abs(node(out, "in") - 5.0) < kVolts);
  CHECK(std::abs(node(out, "clamp") - 2.0) < kVolts);
  CHECK(std::abs(node(out, "out") - (5.0 - r * current)) < kVolts);
  CHECK(std::abs(node(out, "D1#internal") - (2.0 + nvt * std::log1p(current / is))) < kVolts);
  CHECK(std::abs(branch(out, "Vin") + current) < kAmps);
  CHECK(std::abs(branch(out, "Vref") - current) < kAmps);  // the current enters Vref's plus
}

TEST_CASE("solve: VCVS inverting amplifier netlist with finite open-loop gain") {
  const json out = solve("inverting_amp.cir");
  const double a = 1e5, rin = 10e3, rf = 47e3, vin = 0.5, load = 2e3;
  const double vout = -vin * (rf / rin) / (1.0 + (1.0 + rf / rin) / a);
  const double vinv = -vout / a;
  CHECK(std::abs(node(out, "out") - vout) < kVolts);
  CHECK(std::abs(node(out, "inv") - vinv) < kVolts);
  CHECK(std::abs(branch(out, "Eamp") + vout / load + (vout - vinv) / rf) < kAmps);
  CHECK(std::abs(branch(out, "Vin") + (vin - vinv) / rin) < kAmps);
}

TEST_CASE("solve: VCCS stages netlist (SPICE G sign convention)") {
  const json out = solve("vccs.cir");
  const double vin = 0.2, gm1 = 2e-3, rl1 = 4.7e3, gm2 = 1e-3, rl2 = 1.2e3;
  const double out1 = -gm1 * rl1 * vin, out2 = gm2 * rl2 * out1;
  CHECK(std::abs(node(out, "out1") - out1) < kVolts);
  CHECK(std::abs(node(out, "out2") - out2) < kVolts);
  CHECK(std::abs(branch(out, "Vin") + vin / 1e6) < kAmps);
  CHECK(out["branches"].size() == 1);  // G sources have no branch current
}

TEST_CASE("solve prints 17 significant digits, and JSON circuits still work") {
  const fs::path dir = scratch("digits");
  const Outcome r = run_physlearn("solve tests/netlists/vccs.cir", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK_MESSAGE(contains(r.out, "\"in\": 0.20000000000000001"), r.out);
  CHECK_MESSAGE(contains(r.out, "\"Vin\": -1.9999999999999999e-07"), r.out);
  std::ofstream(dir / "divider.JSON") << R"({"elements": [
    {"type": "voltage_source", "name": "V1", "nodes": ["in", "0"], "volts": 3.0},
    {"type": "resistor", "name": "R1", "nodes": ["in", "mid"], "r": 2000},
    {"type": "vccs", "name": "G1", "nodes": ["mid", "0", "in", "0"], "gain": 1e-3},
    {"type": "capacitor", "name": "C1", "nodes": ["mid", "0"], "farads": 1e-6}]})";
  const Outcome j = run_physlearn("solve '" + (dir / "divider.JSON").string() + "'", dir);
  REQUIRE_MESSAGE(j.status == 0, j.err);
  // KCL at mid: (3 - v) / 2k = 1e-3 * 3  =>  v = 3 - 6 = -3
  CHECK(std::abs(json::parse(j.out)["nodes"]["mid"].get<double>() + 3.0) < kVolts);
}

TEST_CASE("solve --backend ngspice agrees with the native solver on every example netlist") {
  for (const char* name : {"resistor_ladder.cir", "wheatstone.cir", "diode_clamp.cir",
                           "inverting_amp.cir", "vccs.cir"}) {
    CAPTURE(name);
    const json native = solve(name);
    const json ngspice = solve(name, "--backend ngspice");
    CHECK(ngspice["nodes"].size() == native["nodes"].size());
    for (auto it = native["nodes"].begin(); it != native["nodes"].end(); ++it) {
      CAPTURE(it.key());
      CHECK(std::abs(node(ngspice, it.key()) - it.value().get<double>()) < 1e-9);
    }
    for (auto it = native["branches"].begin(); it != native["branches"].end(); ++it) {
      CAPTURE(it.key());
      CHECK(std::abs(branch(ngspice, it.key()) - it.value().get<double>()) < 1e-12);
    }
  }
}

TEST_CASE("solve: errors exit non-zero and name the file, line and card, or the node") {
  const fs::path dir = scratch("errors");
  const Outcome f = run_physlearn("solve tests/netlists/floating.cir", dir);
  CHECK(f.status != 0);
  CHECK_MESSAGE(contains(f.err, "physlearn: error: "), f.err);
  CHECK_MESSAGE(contains(f.err, "node 'lonely' is floating"), f.err);
  CHECK(f.out.empty());

  std::ofstream(dir / "bad.cir") << "bad number\nV1 a 0 1\nR1 a 0 1k5\n";
  const Outcome b = run_physlearn("solve '" + (dir / "bad.cir").string() + "'", dir);
  CHECK(b.status != 0);
  CHECK_MESSAGE(contains(b.err, "physlearn: error: "), b.err);
  CHECK_MESSAGE(contains(b.err, "bad.cir:3: "), b.err);
  CHECK_MESSAGE(contains(b.err, "R1 a 0 1k5"), b.err);

  // .tran: waveforms of every node in DIR/waveforms.csv (RC charging, tau = 1 us).
  std::ofstream(dir / "tran.cir") << "transient\nV1 in 0 1\nR1 in a 1k\nC1 a 0 1n\n.tran 10n 5u uic\n";
  const Outcome t = run_physlearn(
      "solve '" + (dir / "tran.cir").string() + "' --out '" + (dir / "tran").string() + "'", dir);
  CHECK_MESSAGE(t.status == 0, t.err);
  CHECK_MESSAGE(contains(t.out, "\"analysis\": \"tran\""), t.out);
  std::ifstream waves(dir / "tran" / "waveforms.csv");
  std::string header, row, last;
  std::getline(waves, header);
  CHECK(header == "time,in,a");
  while (std::getline(waves, row)) last = row;
  REQUIRE(last.find(',') != std::string::npos);
  CHECK(std::stod(last.substr(0, last.find(','))) == doctest::Approx(5e-6));
  CHECK(std::stod(last.substr(last.rfind(',') + 1)) == doctest::Approx(1.0 - std::exp(-5.0)).epsilon(1e-6));

  std::ofstream(dir / "warn.cir") << "warnings\n.options method=gear\nV1 a 0 1\nR1 a 0 1k\n";
  const Outcome w = run_physlearn("solve '" + (dir / "warn.cir").string() + "'", dir);
  CHECK_MESSAGE(w.status == 0, w.err);
  CHECK_MESSAGE(contains(w.err, "physlearn: warning: "), w.err);
  CHECK_MESSAGE(contains(w.err, "warn.cir:2: .options: method ignored"), w.err);

  const Outcome m = run_physlearn("solve tests/netlists/none.cir", dir);
  CHECK(m.status != 0);
  CHECK_MESSAGE(contains(m.err, "none.cir"), m.err);
  const Outcome k = run_physlearn("solve tests/netlists/vccs.cir --backend spectre", dir);
  CHECK(k.status != 0);
}

namespace {

/// The experiment's lowered DRN with training sample `sample`, as export-spice builds it, and
/// the one-hot target of that sample.
struct Reference {
  physlearn::circuits::LoweredNetwork lowered;
  Eigen::VectorXd target;
  double beta = 0.0;
};

Reference reference(const std::string& experiment, int sample) {
  auto config = physlearn::orchestration::load_experiment(std::string(PHYSLEARN_SOURCE_DIR) + "/" + experiment, {});
  auto net =
      physlearn::circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  for (auto& w : net.weights) w = w.cwiseMax(config.learning.g_min).cwiseMin(config.learning.g_max);
  const auto split = physlearn::data::load(config.data, static_cast<unsigned>(config.seed));
  const Eigen::MatrixXd inputs = split.train.inputs.row(sample).cast<double>();
  Reference r{physlearn::circuits::lower_to_circuit(net), Eigen::VectorXd::Zero(net.num_outputs()),
              config.learning.beta};
  r.lowered.update(net, net.input_voltages(inputs).row(0));
  r.target(split.train.labels[static_cast<std::size_t>(sample)]) = 1.0;
  return r;
}

}  // namespace

TEST_CASE("export-spice writes the DRN with a sample's inputs, free and nudged, that reads back") {
  const fs::path dir = scratch("export");
  const int sample = 1;  // XOR (0, 1): label 1
  Reference ref = reference("experiments/xor.json", sample);
  const Circuit& circuit = ref.lowered.circuit;
  physlearn::solvers::NewtonSolver newton(circuit);

  for (const std::string phase : {"free", "nudged"}) {
    CAPTURE(phase);
    const fs::path file = dir / ("xor_" + phase + ".cir");
    const Outcome r = run_physlearn("export-spice experiments/xor.json --sample 1 --phase " +
                                        phase + " -o '" + file.string() + "'",
                                    dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const std::string text = slurp(file);
    CHECK(contains(text, "* training sample 1, label 1; " + phase + " phase"));
    CHECK(contains(text, "* outputs: out0 out1"));
    CHECK(contains(text, "\n.op\n.end\n"));
    CHECK(contains(text, "reltol=9.9999999999999998e-13"));  // tight options, as the backend's
    CHECK(contains(text, "vtarget1") == (phase == "nudged"));

    physlearn::circuits::SpiceOptions options;
    const Circuit back = physlearn::circuits::read_spice_file(file.string(), &options);
    CHECK(options.warnings.empty());
    physlearn::solvers::NewtonSolver solver(back);
    const auto exported = solver.solve(back);

    // Reference: the same network in process, ideal diodes, EP's nudge as an injected current.
    std::vector<physlearn::solvers::Nudge> nudges;
    if (phase == "nudged")
      for (int i = 0; i < ref.target.size(); ++i)
        nudges.push_back(
            {ref.lowered.layer_nodes.back()[static_cast<std::size_t>(i)], ref.beta, ref.target(i)});
    const auto expected = newton.solve(circuit, nudges);
    double worst = 0.0;
    for (int n = 0; n < circuit.num_nodes(); ++n) {
      const std::string name = physlearn::circuits::spice_safe_name(circuit.node_name(n));
      const double v = exported.voltages(back.node(name));
      worst = std::max(worst, std::abs(v - expected.voltages(n)));
    }
    // The steep diodes standing for the ideal ones drop N Vt ln(1 + I / IS) ~ 1e-8 V.
    CHECK(worst < 1e-7);
    if (phase == "nudged") {
      const int out1 = back.node("out1");
      CHECK(exported.voltages(out1) > 0.0);
    }

    // To stdout as well, the same text.
    const Outcome s =
        run_physlearn("export-spice experiments/xor.json --sample 1 --phase " + phase, dir);
    REQUIRE(s.status == 0);
    CHECK(s.out == text);
  }

  const Outcome bad_sample = run_physlearn("export-spice experiments/xor.json --sample 4", dir);
  CHECK(bad_sample.status != 0);
  CHECK_MESSAGE(contains(bad_sample.err, "--sample 4: must be in [0, 3]"), bad_sample.err);
  const Outcome bad_phase = run_physlearn("export-spice experiments/xor.json --phase clamped", dir);
  CHECK(bad_phase.status != 0);
  const Outcome bad_file = run_physlearn("export-spice experiments/none.json", dir);
  CHECK(bad_file.status != 0);
  CHECK_MESSAGE(contains(bad_file.err, "physlearn: error: "), bad_file.err);
}
