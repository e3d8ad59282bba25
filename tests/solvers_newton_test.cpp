#include <doctest/doctest.h>

#include "circuits_support.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "circuits/circuit_json.h"
#include "core/error.h"
#include "solvers/mna.h"
#include "solvers/newton.h"

using physlearn::SolverError;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::kBoltzmannOverCharge;
using physlearn::circuits::kGround;
using physlearn::circuits::Capacitor;
using physlearn::circuits::Vccs;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::kcl_residual;
using physlearn::solvers::NewtonOptions;
using physlearn::solvers::NewtonSolver;
using physlearn::solvers::Nudge;
using physlearn::solvers::OperatingPoint;

namespace {

int node(Circuit& c, const std::string& name) { return c.add_node(name); }

void add_g(Circuit& c, const std::string& a, const std::string& b, double g) {
  c.list<Conductance>().push_back(Conductance{"G" + std::to_string(c.list<Conductance>().size() + 1), node(c, a),
                                       node(c, b), g, true});
}
void add_r(Circuit& c, const std::string& a, const std::string& b, double r) {
  add_g(c, a, b, 1.0 / r);
}
void add_v(Circuit& c, const std::string& plus, const std::string& minus, double volts) {
  c.list<VoltageSource>().push_back(VoltageSource{"V" + std::to_string(c.list<VoltageSource>().size() + 1),
                                            node(c, plus), node(c, minus), volts});
}
void add_i(Circuit& c, const std::string& from, const std::string& to, double amps) {
  c.list<CurrentSource>().push_back(CurrentSource{"I" + std::to_string(c.list<CurrentSource>().size() + 1),
                                            node(c, from), node(c, to), amps, false});
}
void add_ideal(Circuit& c, const std::string& anode, const std::string& cathode) {
  Diode d;
  d.name = "D" + std::to_string(c.list<Diode>().size() + 1);
  d.anode = node(c, anode);
  d.cathode = node(c, cathode);
  d.model = DiodeModel::Ideal;
  c.list<Diode>().push_back(d);
}
void add_shockley(Circuit& c, const std::string& anode, const std::string& cathode) {
  add_ideal(c, anode, cathode);
  c.list<Diode>().back().model = DiodeModel::Shockley;
}

double v(const Circuit& c, const OperatingPoint& op, const std::string& name) {
  return op.voltages[c.node(name)];
}

/// Total current magnitude scale for a relative KCL check.
double current_scale(const Circuit& c, const OperatingPoint& op) {
  double scale = 0.0;
  for (double i : physlearn::solvers::currents<VoltageSource>(c, op)) scale = std::max(scale, std::abs(i));
  for (double i : physlearn::solvers::currents<Diode>(c, op)) scale = std::max(scale, std::abs(i));
  for (double i : physlearn::solvers::currents<Vcvs>(c, op)) scale = std::max(scale, std::abs(i));
  for (const auto& s : c.list<CurrentSource>()) scale = std::max(scale, std::abs(s.amps));
  return std::max(scale, 1e-3);
}

/// Solves and checks KCL at every node to 1e-12 relative to the circuit's current scale.
OperatingPoint solve_checked(const Circuit& c, const std::vector<Nudge>& nudges = {},
                             const Eigen::VectorXd* initial = nullptr, NewtonOptions options = {}) {
  NewtonSolver solver(c, options);
  OperatingPoint op = solver.solve(c, nudges, initial);
  const double residual = kcl_residual(c, op, nudges);
  CHECK(residual <= 1e-12 * current_scale(c, op));
  CHECK(op.residual_norm <= 1e-12 * current_scale(c, op));
  return op;
}

/// Message of the SolverError thrown by solving `c`, or "" if none.
std::string solver_error(const Circuit& c, NewtonOptions options = {},
                         const std::vector<Nudge>& nudges = {}) {
  try {
    NewtonSolver solver(c, options);
    solver.solve(c, nudges);
  } catch (const SolverError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Root of a decreasing function on [lo, hi] by bisection to the last bit.
template <class F>
double bisect(F f, double lo, double hi) {
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    (f(mid) > 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

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

TEST_CASE("newton: current source into a resistor") {
  Circuit c;
  add_i(c, "0", "x", 1e-3);  // 1 mA from ground through the source into x
  add_r(c, "x", "0", 2000.0);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "x") - 2.0) < 1e-12);
}

TEST_CASE("newton: VCVS non-inverting amplifier") {
  const double gain = 1e5, r1 = 9000.0, r2 = 1000.0, load = 500.0, vin = 0.1;
  Circuit c;
  add_v(c, "in", "0", vin);
  c.list<Vcvs>().push_back(Vcvs{"E1", node(c, "out"), kGround, node(c, "in"), node(c, "fb"), gain});
  add_r(c, "out", "fb", r1);
  add_r(c, "fb", "0", r2);
  add_r(c, "out", "0", load);
  const OperatingPoint op = solve_checked(c);
  const double feedback = r2 / (r1 + r2);
  const double vout = gain * vin / (1.0 + gain * feedback);
  CHECK(std::abs(v(c, op, "out") - vout) < 1e-12);
  CHECK(std::abs(v(c, op, "fb") - vout * feedback) < 1e-12);
  const double delivered = vout / (r1 + r2) + vout / load;
  CHECK(std::abs(physlearn::solvers::currents<Vcvs>(c, op)[0] + delivered) < 1e-15);
  CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0]) < 1e-15);  // ideal input: no current
}

TEST_CASE("newton: VCCS transconductance stage (SPICE G sign)") {
  // G1 out 0 in 0 gm: the current gm v(in) flows from out through the source to ground, i.e. it
  // is drawn out of node out: v(out) = -gm RL v(in).
  const double gm = 2e-3, load = 5000.0, vin = 0.3;
  Circuit c;
  add_v(c, "in", "0", vin);
  add_r(c, "in", "0", 1e4);
  c.list<Vccs>().push_back(Vccs{"G1", node(c, "out"), kGround, node(c, "in"), kGround, gm});
  add_r(c, "out", "0", load);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "out") - (-gm * load * vin)) < 1e-12);
  CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0] + vin / 1e4) < 1e-15);  // the VCCS draws no input current

  // Reversed outputs, differential control through the output node (a follower):
  // G2 0 out in out gm pushes gm (v(in) - v(out)) into out, so v(out) = gm RL vin / (1 + gm RL).
  Circuit f;
  add_v(f, "in", "0", vin);
  f.list<Vccs>().push_back(Vccs{"G2", kGround, node(f, "out"), node(f, "in"), node(f, "out"), gm});
  add_r(f, "out", "0", load);
  const OperatingPoint fop = solve_checked(f);
  CHECK(std::abs(v(f, fop, "out") - gm * load * vin / (1.0 + gm * load)) < 1e-12);
}

TEST_CASE("newton: a VCCS controlled by its own output is a conductance") {
  // G a 0 a 0 g: the current g v(a) leaves a, exactly a conductance g to ground; it holds node a
  // for the floating-node check. Negative g is a negative conductance.
  for (double g : {2e-3, -0.5e-3}) {
    Circuit c;
    add_v(c, "in", "0", 2.0);
    add_r(c, "in", "a", 1000.0);
    c.list<Vccs>().push_back(Vccs{"Gself", node(c, "a"), kGround, node(c, "a"), kGround, g});
    const OperatingPoint op = solve_checked(c);
    CHECK(std::abs(v(c, op, "a") - 2.0 * 1e-3 / (1e-3 + g)) < 1e-12);
  }
  // Control pair reversed: G a b b a g is a conductance of -g between a and b.
  Circuit c;
  add_v(c, "in", "0", 1.0);
  add_r(c, "in", "a", 1000.0);
  c.list<Vccs>().push_back(Vccs{"Gneg", node(c, "a"), kGround, kGround, node(c, "a"), -1e-3});
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "a") - 0.5) < 1e-12);
}

TEST_CASE("newton: capacitors are open at DC, a VCCS output or a capacitor holds no node") {
  Circuit c;
  add_v(c, "in", "0", 10.0);
  add_r(c, "in", "mid", 1000.0);
  add_r(c, "mid", "0", 3000.0);
  c.list<Capacitor>().push_back(Capacitor{"C1", node(c, "mid"), kGround, 1e-6});
  c.list<Capacitor>().push_back(Capacitor{"C2", node(c, "in"), node(c, "mid"), 0.0});
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "mid") - 7.5) < 1e-12);
  CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0] + 2.5e-3) < 1e-15);

  Circuit cap = c;
  cap.list<Capacitor>().push_back(Capacitor{"C3", node(cap, "mid"), node(cap, "x"), 1e-9});
  const std::string message = solver_error(cap);
  CHECK_MESSAGE(contains(message, "node 'x' is floating"), message);
  CHECK_MESSAGE(contains(message, "capacitors are open at DC"), message);

  Circuit g;
  add_v(g, "in", "0", 1.0);
  g.list<Vccs>().push_back(Vccs{"G1", node(g, "y"), kGround, node(g, "in"), kGround, 1e-3});
  CHECK(contains(solver_error(g), "node 'y' is floating"));
}

TEST_CASE("newton: a VCCS changes the structure, its gain may change between solves") {
  Circuit c;
  add_v(c, "in", "0", 1.0);
  c.list<Vccs>().push_back(Vccs{"G1", node(c, "out"), kGround, node(c, "in"), kGround, 1e-3});
  add_r(c, "out", "0", 1000.0);
  NewtonSolver solver(c);
  CHECK(std::abs(solver.solve(c).voltages[c.node("out")] + 1.0) < 1e-12);
  c.list<Vccs>()[0].gain = -4e-3;
  CHECK(std::abs(solver.solve(c).voltages[c.node("out")] - 4.0) < 1e-12);
  Circuit moved = c;
  moved.list<Vccs>()[0].ctrl_plus = kGround;
  moved.list<Vccs>()[0].ctrl_minus = moved.node("in");
  CHECK_THROWS_AS(solver.solve(moved), SolverError);
  Circuit more = c;
  more.list<Vccs>().push_back(more.list<Vccs>()[0]);
  more.list<Vccs>().back().name = "G2";
  CHECK_THROWS_WITH_AS(solver.solve(more), doctest::Contains("VCCS 1 -> 2"), SolverError);
}

TEST_CASE("newton: Shockley diode and resistor against bisection") {
  const double is = 1e-14, emission = 1.0, temperature = 300.15, gmin = 1e-12;
  const double nvt = emission * kBoltzmannOverCharge * temperature;
  auto diode_current = [&](double vd) { return is * std::expm1(vd / nvt) + gmin * vd; };
  struct Case {
    double source, resistance;
  };
  for (Case k :
       {Case{5.0, 1000.0}, Case{-5.0, 1000.0}, Case{0.3, 1e4}, Case{100.0, 10.0}, Case{1.0, 1e6}}) {
    CAPTURE(k.source);
    CAPTURE(k.resistance);
    Circuit c;
    add_v(c, "in", "0", k.source);
    add_r(c, "in", "a", k.resistance);
    add_shockley(c, "a", "0");
    const OperatingPoint op = solve_checked(c);
    // KCL at a: (E - V) / R - I(V) = 0, decreasing in V.
    const double expected =
        bisect([&](double vd) { return (k.source - vd) / k.resistance - diode_current(vd); },
               std::min(k.source, 0.0), std::max(k.source, 0.0));
    CHECK(std::abs(v(c, op, "a") - expected) < 1e-12);
    CHECK(std::abs(physlearn::solvers::currents<Diode>(c, op)[0] - diode_current(expected)) <=
          1e-12 * std::abs(diode_current(expected)) + 1e-15);
    CHECK(op.iterations < 100);
  }
}

TEST_CASE("newton: ideal diode clamp, both polarities") {
  const double r = 1000.0, load = 3000.0;
  for (double source : {2.0, -2.0}) {
    CAPTURE(source);
    // Diode from x to ground: holds x <= 0.
    Circuit c;
    add_v(c, "in", "0", source);
    add_r(c, "in", "x", r);
    add_r(c, "x", "0", load);
    add_ideal(c, "x", "0");
    for (bool warm : {false, true}) {
      Eigen::VectorXd guess = Eigen::VectorXd::Constant(c.num_nodes(), 0.7);
      const OperatingPoint op = solve_checked(c, {}, warm ? &guess : nullptr);
      if (source > 0) {
        CHECK(std::abs(v(c, op, "x")) < 1e-12);
        CHECK(std::abs(physlearn::solvers::currents<Diode>(c, op)[0] - source / r) < 1e-15);
      } else {
        CHECK(std::abs(v(c, op, "x") - source * load / (r + load)) < 1e-12);
        CHECK(physlearn::solvers::currents<Diode>(c, op)[0] == 0.0);
      }
    }
    // Diode from ground to x: holds x >= 0.
    Circuit up;
    add_v(up, "in", "0", source);
    add_r(up, "in", "x", r);
    add_r(up, "x", "0", load);
    add_ideal(up, "0", "x");
    const OperatingPoint op = solve_checked(up);
    if (source > 0) {
      CHECK(std::abs(v(up, op, "x") - source * load / (r + load)) < 1e-12);
      CHECK(physlearn::solvers::currents<Diode>(c, op)[0] == 0.0);
    } else {
      CHECK(std::abs(v(up, op, "x")) < 1e-12);
      CHECK(std::abs(physlearn::solvers::currents<Diode>(c, op)[0] + source / r) < 1e-15);
    }
  }
}

TEST_CASE("newton: ideal diode bridge rectifier") {
  const double load = 2000.0;
  for (double source : {3.0, -3.0}) {
    CAPTURE(source);
    Circuit c;
    add_v(c, "p", "0", source);
    add_ideal(c, "p", "o+");
    add_ideal(c, "0", "o+");
    add_ideal(c, "o-", "p");
    add_ideal(c, "o-", "0");
    add_r(c, "o+", "o-", load);
    const OperatingPoint op = solve_checked(c);
    CHECK(std::abs(v(c, op, "o+") - v(c, op, "o-") - std::abs(source)) < 1e-12);
    CHECK(std::abs(physlearn::solvers::currents<VoltageSource>(c, op)[0] + std::abs(source) / load * (source > 0 ? 1 : -1)) <
          1e-15);
  }
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

TEST_CASE("newton: SPICE junction limiting (pnjlim)") {
  Diode d;
  d.model = DiodeModel::Shockley;
  const double nvt = physlearn::circuits::emission_thermal_voltage(d);
  const double vcrit = physlearn::circuits::critical_voltage(d);
  CHECK(vcrit == doctest::Approx(nvt * std::log(nvt / (std::sqrt(2.0) * 1e-14))));
  bool limited = false;
  // From 0 V a forward jump above vcrit becomes logarithmic.
  CHECK(physlearn::circuits::limit_junction(5.0, 0.0, nvt, vcrit, limited) ==
        doctest::Approx(nvt * std::log(5.0 / nvt)));
  CHECK(limited);
  // From a forward junction: previous + nVt ln(1 + dv / nVt).
  CHECK(physlearn::circuits::limit_junction(1.0, 0.7, nvt, vcrit, limited) ==
        doctest::Approx(0.7 + nvt * std::log(1.0 + 0.3 / nvt)));
  CHECK(limited);
  // Small steps and steps below vcrit pass; reverse steps are bounded by 2 v_old - 1.
  CHECK(physlearn::circuits::limit_junction(0.71, 0.7, nvt, vcrit, limited) == 0.71);
  CHECK_FALSE(limited);
  CHECK(physlearn::circuits::limit_junction(-10.0, 0.0, nvt, vcrit, limited) == -1.0);
  CHECK(limited);
  // The diode law and its conductance.
  const auto at = physlearn::circuits::shockley(d, 0.6);
  CHECK(at.current == doctest::Approx(1e-14 * std::expm1(0.6 / nvt) + 1e-12 * 0.6));
  CHECK(at.conductance == doctest::Approx(1e-14 / nvt * std::exp(0.6 / nvt) + 1e-12));
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
