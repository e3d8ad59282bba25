// Newton's DC operating point (solvers/newton.h): dividers and ladders by hand, ideal diodes'
// active set on random networks, diodes between any nodes, failures named, nudges, re-solves
// with the same pattern, options. (Each element kind's own law at the operating point:
// tests/circuits_elements_<kind>_test.cpp.)
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "circuits/circuit_json.h"
#include "core/error.h"
#include "solvers/mna.h"
#include "solvers/newton.h"

using circuits_test::add_g;
using circuits_test::add_i;
using circuits_test::add_ideal;
using circuits_test::add_r;
using circuits_test::add_shockley;
using circuits_test::add_v;
using circuits_test::contains;
using circuits_test::node;
using physlearn::SolverError;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::kGround;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::kcl_residual;
using physlearn::solvers::NewtonOptions;
using physlearn::solvers::NewtonSolver;
using physlearn::solvers::Nudge;
using physlearn::solvers::OperatingPoint;
using solvers_test::current_scale;
using solvers_test::solve_checked;
using solvers_test::solver_error;
using solvers_test::v;

TEST_CASE("newton: voltage divider") {
  Circuit c;
  add_v(c, "in", "0", 10.0);
  add_r(c, "in", "mid", 1000.0);
  add_r(c, "mid", "0", 3000.0);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "in") - 10.0) < 1e-12);
  CHECK(std::abs(v(c, op, "mid") - 7.5) < 1e-12);
  // SPICE sign: the source delivers 2.5 mA out of its plus terminal, so its current is negative.
  CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0] + 2.5e-3) < 1e-15);
  CHECK(op.iterations == 1);
}

TEST_CASE("newton: a circuit read from JSON") {
  const Circuit c = physlearn::circuits::circuit_from_json(nlohmann::json::parse(R"({
    "elements": [
      {"type": "voltage_source", "nodes": ["in", "0"], "volts": 3},
      {"type": "resistor", "nodes": ["in", "out"], "r": 2000},
      {"type": "resistor", "nodes": ["out", "gnd"], "r": 1000},
      {"type": "current_source", "nodes": ["0", "out"], "amps": 1e-3}]})"),
                                                           "circuit");
  const OperatingPoint op = solve_checked(c);
  // (3 - v)/2k + 1 mA = v/1k  =>  v = (1.5 mA + 1 mA) / 1.5 mS
  CHECK(std::abs(v(c, op, "out") - 2.5e-3 / 1.5e-3) < 1e-12);
}

TEST_CASE("newton: R-2R ladder halves the voltage at every stage") {
  Circuit c;
  const int stages = 12;
  const double r = 1000.0;
  add_v(c, "n0", "0", 1.0);
  for (int k = 1; k <= stages; ++k) {
    add_r(c, "n" + std::to_string(k - 1), "n" + std::to_string(k), r);
    add_r(c, "n" + std::to_string(k), "0", 2 * r);
  }
  add_r(c, "n" + std::to_string(stages), "0", 2 * r);  // termination
  const OperatingPoint op = solve_checked(c);
  for (int k = 0; k <= stages; ++k)
    CHECK(std::abs(v(c, op, "n" + std::to_string(k)) - std::ldexp(1.0, -k)) < 1e-12);
  CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0] + 1.0 / (2 * r)) < 1e-15);  // input resistance 2R
}

TEST_CASE("newton: random networks of ideal diodes satisfy KCL and complementarity") {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> conductance(1e-4, 1e-2);
    std::uniform_real_distribution<double> volts(-5.0, 5.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const int nodes = 25;
    Circuit c;
    auto name = [](int i) { return "n" + std::to_string(i); };
    for (int i = 0; i < nodes; ++i) node(c, name(i));
    for (int i = 1; i < nodes; ++i)  // a random tree keeps every node connected
      add_g(c, name(i), name(static_cast<int>(unit(rng) * i)), conductance(rng));
    for (int e = 0; e < 2 * nodes; ++e) {
      const int a = static_cast<int>(unit(rng) * nodes), b = static_cast<int>(unit(rng) * nodes);
      if (a != b) add_g(c, name(a), name(b), conductance(rng));
    }
    add_g(c, name(0), "0", conductance(rng));
    add_v(c, "s1", "0", volts(rng));
    add_r(c, "s1", name(1), 100.0);
    add_v(c, "s2", "0", volts(rng));
    add_r(c, "s2", name(2), 100.0);
    for (int i = 3; i < nodes; i += 4) add_i(c, "0", name(i), 1e-3 * volts(rng));
    for (int i = 0; i < nodes; ++i) {
      const double u = unit(rng);
      if (u < 0.3)
        add_ideal(c, name(i), "0");
      else if (u < 0.6)
        add_ideal(c, "0", name(i));
    }
    NewtonSolver solver(c);
    const OperatingPoint op = solver.solve(c);
    const double scale = current_scale(c, op);
    CHECK(kcl_residual(c, op) <= 1e-12 * scale);
    for (std::size_t k = 0; k < c.list<Diode>().size(); ++k) {
      const auto& d = c.list<Diode>()[k];
      const double vd = (d.anode == kGround ? 0.0 : op.voltages[d.anode]) -
                        (d.cathode == kGround ? 0.0 : op.voltages[d.cathode]);
      const double id = physlearn::solvers::currents<Diode>(c, op)[k];
      CHECK(id >= -1e-12 * scale);
      CHECK(vd <= 1e-12);
      CHECK((std::abs(id) <= 1e-12 * scale || std::abs(vd) <= 1e-12));
    }
    // The solution is unique (M-matrix problem): another start reaches the same point.
    Eigen::VectorXd guess(c.num_nodes());
    for (int i = 0; i < c.num_nodes(); ++i) guess[i] = volts(rng);
    const OperatingPoint again = solver.solve(c, {}, &guess);
    CHECK((again.voltages - op.voltages).cwiseAbs().maxCoeff() < 1e-12);
    // A warm start at the solution needs no new set.
    const OperatingPoint warm = solver.solve(c, {}, &op.voltages);
    CHECK(warm.active_set_changes == 0);
    CHECK((warm.voltages - op.voltages).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("newton: random networks with diodes between any nodes (ideal and Shockley)") {
  // Every diode sits in series with its own resistor and the sources hold distinct nodes to
  // ground, so an operating point exists; diodes between arbitrary nodes are no M-matrix problem
  // (the active set method may cycle and hand over to single flips).
  int single_solves = 0;
  for (unsigned seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const int nodes = 6 + static_cast<int>(unit(rng) * 30);
    Circuit c;
    auto name = [](int i) { return "n" + std::to_string(i); };
    auto any = [&]() {
      const int k = static_cast<int>(unit(rng) * (nodes + 1)) - 1;
      return k < 0 ? std::string("0") : name(k);
    };
    auto conductance = [&]() { return std::pow(10.0, -5.0 + 4.0 * unit(rng)); };
    for (int i = 0; i < nodes; ++i) node(c, name(i));
    for (int i = 1; i < nodes; ++i)
      add_g(c, name(i), name(static_cast<int>(unit(rng) * i)), conductance());
    for (int e = 0; e < nodes; ++e) {
      const std::string a = any(), b = any();
      if (a != b) add_g(c, a, b, conductance());
    }
    add_g(c, name(0), "0", 1e-3);
    for (int k = 0; k < 2; ++k) {
      add_v(c, "s" + std::to_string(k), "0", 20.0 * unit(rng) - 10.0);
      add_g(c, "s" + std::to_string(k), any(), conductance());
    }
    add_i(c, any(), any(), 2e-3 * unit(rng) - 1e-3);
    for (int k = 0; k < nodes / 2; ++k) {
      const std::string a = any(), b = any(), mid = "m" + std::to_string(k);
      if (a == b) continue;
      add_g(c, a, mid, conductance());
      if (unit(rng) < 0.7)
        add_ideal(c, mid, b);
      else
        add_shockley(c, mid, b);
    }
    NewtonSolver solver(c);
    const OperatingPoint op = solver.solve(c);
    ++single_solves;
    const double scale = current_scale(c, op);
    CHECK(kcl_residual(c, op) <= 1e-12 * scale);
    for (std::size_t k = 0; k < c.list<Diode>().size(); ++k) {
      if (c.list<Diode>()[k].model != DiodeModel::Ideal) continue;
      const auto& d = c.list<Diode>()[k];
      const double vd = (d.anode == kGround ? 0.0 : op.voltages[d.anode]) -
                        (d.cathode == kGround ? 0.0 : op.voltages[d.cathode]);
      const double id = physlearn::solvers::currents<Diode>(c, op)[k];
      CHECK(id >= -1e-12 * scale);
      CHECK(vd <= 1e-11);
      CHECK((std::abs(id) <= 1e-12 * scale || std::abs(vd) <= 1e-11));
    }
  }
  CHECK(single_solves == 300);
}

TEST_CASE("newton: ideal diode in the feedback of a VCVS (precision rectifier)") {
  const double gain = 1e6, load = 1000.0;
  for (double vin : {0.5, -0.5}) {
    CAPTURE(vin);
    Circuit c;
    add_v(c, "in", "0", vin);
    c.list<Vcvs>().push_back(Vcvs{"E1", node(c, "out"), kGround, node(c, "in"), node(c, "x"), gain});
    add_ideal(c, "out", "x");
    add_r(c, "x", "0", load);
    const OperatingPoint op = solve_checked(c);
    if (vin > 0) {
      CHECK(std::abs(v(c, op, "x") - vin * gain / (1.0 + gain)) < 1e-12);
    } else {
      CHECK(std::abs(v(c, op, "x")) < 1e-12);
      CHECK(std::abs(v(c, op, "out") - gain * vin) < 1e-12 * gain);
    }
  }
}

TEST_CASE("newton: a circuit with no operating point is reported") {
  // An ideal diode forward biased straight across a source.
  Circuit c;
  add_v(c, "a", "0", 1.0);
  add_r(c, "a", "0", 1000.0);
  add_ideal(c, "a", "0");
  const std::string message = solver_error(c);
  CHECK(contains(message, "no operating point"));
  CHECK(contains(message, "'D1'"));
  // Reversed, it simply blocks.
  c.list<Diode>()[0].anode = kGround;
  c.list<Diode>()[0].cathode = c.node("a");
  const OperatingPoint op = solve_checked(c);
  CHECK(physlearn::solvers::currents<Diode>(c, op)[0] == 0.0);
}

TEST_CASE("newton: floating node is named") {
  Circuit c;
  add_v(c, "in", "0", 1.0);
  add_r(c, "in", "a", 1000.0);
  add_r(c, "a", "0", 1000.0);
  add_i(c, "a", "x", 1e-3);  // a current source gives no DC path
  add_r(c, "x", "y", 1000.0);
  const std::string message = solver_error(c);
  CHECK(contains(message, "node 'x' is floating"));
  CHECK(contains(message, "'y'"));
  // A zero conductance is no path either; a nudge is one.
  Circuit z;
  add_v(z, "in", "0", 1.0);
  add_g(z, "in", "out", 0.0);
  CHECK(contains(solver_error(z), "node 'out' is floating"));
  CHECK(solver_error(z, {}, {Nudge{z.node("out"), 1e-3, 0.5}}).empty());
}

TEST_CASE("newton: singular matrix and non-convergence are reported") {
  Circuit loop;
  add_v(loop, "a", "0", 1.0);
  add_v(loop, "a", "0", 2.0);
  add_r(loop, "a", "0", 1.0);
  const std::string singular = solver_error(loop);
  CHECK(contains(singular, "singular"));
  CHECK(contains(singular, "unknown"));

  Circuit c;
  add_v(c, "in", "0", 5.0);
  add_r(c, "in", "a", 1000.0);
  add_shockley(c, "a", "0");
  NewtonOptions few;
  few.max_iterations = 2;
  const std::string message = solver_error(c, few);
  CHECK(contains(message, "did not converge in 2 iterations"));
  CHECK(contains(message, "node '"));
}

TEST_CASE("newton: nudges inject beta (target - v)") {
  Circuit c;
  add_v(c, "in", "0", 10.0);
  add_r(c, "in", "mid", 1000.0);
  add_r(c, "mid", "0", 1000.0);
  const int mid = c.node("mid");
  // KCL at mid: (10 - v)/1k - v/1k + beta (target - v) = 0.
  for (double beta : {1e-3, -0.5e-3, 0.0}) {
    CAPTURE(beta);
    const double target = 2.0;
    const std::vector<Nudge> nudges = {{mid, beta, target}};
    const OperatingPoint op = solve_checked(c, nudges);
    const double expected = (10.0 / 1000.0 + beta * target) / (2.0 / 1000.0 + beta);
    CHECK(std::abs(op.voltages[mid] - expected) < 1e-12);
    CHECK(kcl_residual(c, op, nudges) < 1e-15);
    if (beta != 0.0) CHECK(kcl_residual(c, op) > 1e-6);  // the nudge current is real
  }
}

TEST_CASE("newton: one solver re-solves after values change (pattern reuse)") {
  Circuit c;
  add_v(c, "in", "0", 10.0);
  add_r(c, "in", "mid", 1000.0);
  add_r(c, "mid", "0", 3000.0);
  add_ideal(c, "mid", "clamp");
  add_v(c, "clamp", "0", 5.0);
  NewtonSolver solver(c);
  OperatingPoint op = solver.solve(c);
  CHECK(std::abs(v(c, op, "mid") - 5.0) < 1e-12);  // clamped at 5 V
  c.list<Conductance>()[1].g = 1.0 / 1000.0;              // now 5 V exactly at the divider
  c.list<Conductance>()[0].g = 1.0 / 3000.0;              // 2.5 V: the diode turns off
  op = solver.solve(c, {}, &op.voltages);
  CHECK(std::abs(v(c, op, "mid") - 2.5) < 1e-12);
  CHECK(physlearn::solvers::currents<Diode>(c, op)[0] == 0.0);
  c.list<VoltageSource>()[0].volts = -4.0;
  op = solver.solve(c);
  CHECK(std::abs(v(c, op, "mid") + 1.0) < 1e-12);
  CHECK(kcl_residual(c, op) < 1e-15);

  Circuit other = c;
  add_r(other, "mid", "0", 1.0);
  try {
    solver.solve(other);
    FAIL("a changed structure must be refused");
  } catch (const SolverError& e) {
    CHECK(contains(e.what(), "structure"));
  }
}

TEST_CASE("newton: an ideal diode holding an otherwise open node") {
  // x is tied to the rest only through a zero conductance and its diode: the cold start must
  // pick the diode ON (v = 0, I = 0) rather than fail on a singular matrix.
  Circuit c;
  add_v(c, "in", "0", 1.0);
  add_g(c, "in", "x", 0.0);
  add_ideal(c, "0", "x");
  const OperatingPoint op = solve_checked(c);
  CHECK(v(c, op, "x") == 0.0);
  CHECK(physlearn::solvers::currents<Diode>(c, op)[0] == 0.0);
}

TEST_CASE("newton: options schema") {
  NewtonOptions options;
  physlearn::Schema schema;
  describe(schema, options);
  schema.read(nlohmann::json::parse(R"({"abstol": 1e-13, "max_iterations": 50})"), "newton");
  CHECK(options.abstol == 1e-13);
  CHECK(options.max_iterations == 50);
  CHECK_THROWS_AS(schema.read(nlohmann::json::parse(R"({"vntol": -1})"), "newton"),
                  physlearn::ConfigError);
  CHECK_THROWS_AS(schema.read(nlohmann::json::parse(R"({"tolerance": 1})"), "newton"),
                  physlearn::ConfigError);
}
