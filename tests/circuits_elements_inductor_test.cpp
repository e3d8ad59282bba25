// The inductor (circuits/elements/inductor.h), the element added by the recipe of
// docs/architecture.md: a short at DC, its current a state of the transient, its SPICE card
// and JSON form, its stored energy in the balance; against the RL closed form and ngspice.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "circuits/circuit_json.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/inductor.h"
#include "circuits/elements/voltage_source.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"
#include "core/error.h"
#include "solvers/mna.h"
#include "solvers/newton.h"
#include "solvers/ngspice.h"
#include "solvers/tran.h"
#include "solvers/transient.h"

using namespace physlearn;
using circuits::Circuit;
using circuits::Inductor;
using circuits::kGround;

namespace {

Circuit parse(const std::string& text, circuits::SpiceOptions* options) {
  return circuits::read_spice_netlist(text, "rl.cir", options);
}

/// Node `node`'s voltage at time t, interpolated linearly between the waveform's points.
double at(const solvers::TranWaveforms& w, int node, double t) {
  const auto it = std::lower_bound(w.time.begin(), w.time.end(), t);
  if (it == w.time.begin()) return w.voltages.front()(node);
  if (it == w.time.end()) return w.voltages.back()(node);
  const std::size_t k = static_cast<std::size_t>(it - w.time.begin());
  const double t0 = w.time[k - 1], t1 = w.time[k];
  if (t1 == t0) return w.voltages[k](node);
  const double s = (t - t0) / (t1 - t0);
  return (1.0 - s) * w.voltages[k - 1](node) + s * w.voltages[k](node);
}

/// The inductor's current (its unknown) in a vector of every unknown.
double inductor_current(const Circuit& c, const Eigen::VectorXd& x) {
  return x[circuits::UnknownLayout(c).first(circuits::kind_index<Inductor>())[0]];
}

// 1 V through 10 ohm into 1 mH: tau = L / R = 100 us.
const char* kRl = "RL step\nV1 in 0 1\nR1 in a 10\nL1 a 0 1m\n";

}  // namespace

TEST_CASE("inductor: an RL step follows its closed form, the stored energy closes the balance") {
  circuits::SpiceOptions options;
  const Circuit c = parse(std::string(kRl) + ".tran 1u 500u 0 1u uic\n", &options);
  REQUIRE(c.list<Inductor>().size() == 1);
  CHECK(c.list<Inductor>()[0].henries == doctest::Approx(1e-3));
  const solvers::TranWaveforms w = solvers::simulate_tran(c, *options.tran, 1e-10, 1e-12);
  const int a = c.node("a");
  const double tau = 1e-4;
  double worst = 0.0;
  for (std::size_t k = 1; k < w.time.size(); ++k) {
    const double t = w.time[k];
    worst = std::max(worst, std::abs(w.voltages[k](a) - std::exp(-t / tau)));  // v_L = V e^-t/tau
  }
  MESSAGE("RL step: max |v_L - e^(-t/tau)| over " << w.time.size() << " points: " << worst << " V");
  CHECK(worst < 1e-7);
  const double t_end = w.result.end_time;
  const double i_end = 0.1 * (1.0 - std::exp(-t_end / tau));
  CHECK(inductor_current(c, w.result.unknowns) == doctest::Approx(i_end).epsilon(1e-7));
  // Delivered by the source = dissipated in R + 1/2 L i^2 stored.
  const solvers::TransientEnergy& e = w.result.energy_end;
  CHECK(e.stored_change == doctest::Approx(0.5 * 1e-3 * i_end * i_end).epsilon(1e-6));
  CHECK(std::abs(e.balance()) < 1e-7 * e.sources);
}

TEST_CASE("inductor: a short at DC, the transient from the operating point stays there") {
  circuits::SpiceOptions options;
  const Circuit c = parse(std::string(kRl) + ".tran 1u 100u\n", &options);
  solvers::NewtonSolver newton(c);
  const solvers::OperatingPoint op = newton.solve(c);
  CHECK(std::abs(op.voltages[c.node("a")]) < 1e-15);
  CHECK(op.current(c, "L1") == doctest::Approx(0.1).epsilon(1e-12));
  // Without UIC the transient starts from that point, current included: nothing moves.
  const solvers::TranWaveforms w = solvers::simulate_tran(c, *options.tran);
  CHECK(std::abs(w.result.voltages[c.node("a")]) < 1e-10);
  CHECK(inductor_current(c, w.result.unknowns) == doctest::Approx(0.1).epsilon(1e-9));

  // A loop of a voltage source and an inductor has no unique operating point.
  Circuit loop;
  const int n = loop.add_node("n");
  loop.add(circuits::VoltageSource{"V1", n, kGround, 1.0});
  loop.add(Inductor{"L1", n, kGround, 1e-3});
  solvers::NewtonSolver singular(loop);
  CHECK_THROWS_AS(singular.solve(loop), SolverError);
}

TEST_CASE("inductor: its RL step agrees with ngspice's .tran") {
  // A source stepping through PULSE into R then L, with a resistor across L: two time
  // constants' worth of rise, then the fall.
  const std::string netlist =
      "RL pulse\nV1 in 0 PULSE(0 1 10u 1u 1u 200u 500u)\nR1 in a 10\nL1 a 0 1m\nR2 a 0 40\n";
  circuits::SpiceOptions options;
  const Circuit c = parse(netlist + ".tran 1u 400u 0 1u\n", &options);
  const solvers::TranWaveforms w =
      solvers::simulate_tran(c, *options.tran, 1e-10, 1e-12, options.source_functions);
  const std::vector<std::string> lines = {
      "RL pulse",     "V1 in 0 PULSE(0 1 10u 1u 1u 200u 500u)",
      "R1 in a 10",   "L1 a 0 1m",
      "R2 a 0 40",    ".options reltol=1e-8 abstol=1e-15 vntol=1e-10",
      ".tran 1u 400u 0 0.2u", ".end"};
  const solvers::NgspiceWaveforms ng = solvers::ngspice_run_tran(lines, {"a", "l1#branch"});
  REQUIRE(ng.time.size() > 100);
  const int a = c.node("a");
  double worst = 0.0, swing = 0.0;
  for (std::size_t k = 0; k < ng.time.size(); ++k) {
    worst = std::max(worst, std::abs(at(w, a, ng.time[k]) - ng.values[0][k]));
    swing = std::max(swing, std::abs(ng.values[0][k]));
  }
  MESSAGE("RL under PULSE: max |v_a - v_a(ngspice)| over " << ng.time.size()
                                                           << " ngspice points: " << worst
                                                           << " V (largest |v_a| " << swing << ")");
  CHECK(swing > 0.5);
  CHECK(worst < 1e-4);
  // The inductor's current at the end, against ngspice's branch vector (SPICE's sign, a -> 0).
  CHECK(inductor_current(c, w.result.unknowns) ==
        doctest::Approx(ng.values[1].back()).epsilon(1e-4));
}

TEST_CASE("inductor: ngspice's operating point carries its branch current") {
  circuits::SpiceOptions options;
  const Circuit c = parse(kRl, &options);
  const solvers::OperatingPoint op = solvers::ngspice_operating_point(c);
  CHECK(op.current(c, "L1") == doctest::Approx(0.1).epsilon(1e-9));
  CHECK(solvers::kcl_residual(c, op) < 1e-12);
}

TEST_CASE("inductor: SPICE card and JSON form, read and written") {
  circuits::SpiceOptions options;
  const Circuit c = parse("t\nV1 a 0 1\nR1 a b 1k\nL1 b 0 2.2m IC=0.1\n", &options);
  REQUIRE(c.list<Inductor>().size() == 1);
  CHECK(c.list<Inductor>()[0].henries == doctest::Approx(2.2e-3));
  const circuits::SpiceNetlist net = circuits::export_spice(c);
  CHECK(net.text().find("\nl1 b 0 " + circuits::spice_number(2.2e-3) + "\n") != std::string::npos);
  CHECK(net.names<Inductor>() == std::vector<std::string>{"l1"});
  const Circuit back = parse(net.text(), &options);
  CHECK(back.list<Inductor>()[0].henries == c.list<Inductor>()[0].henries);

  const nlohmann::json j = circuits::circuit_to_json(c);
  const Circuit read = circuits::circuit_from_json(j, "circuit");
  CHECK(circuits::circuit_to_json(read) == j);
  CHECK(read.list<Inductor>()[0].henries == c.list<Inductor>()[0].henries);
  nlohmann::json bad = j;
  for (auto& element : bad["elements"])
    if (element["type"] == "inductor") element["henries"] = 0.0;
  CHECK_THROWS_WITH_AS(circuits::circuit_from_json(bad, "circuit"),
                       doctest::Contains("henries"), ConfigError);
  CHECK_THROWS_WITH_AS(parse("t\nL1 a 0 -1m\n", &options), doctest::Contains("must be > 0"),
                       Error);
}
