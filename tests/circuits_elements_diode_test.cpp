// The diode (circuits/elements/diode.h). Shockley: I = Is (exp(V / (n Vt)) - 1) + gmin V at
// Newton's solution of a diode-resistor circuit, against the root of its KCL found independently by
// bisection; SPICE's junction limiting (pnjlim) and the law's conductance by hand. Ideal: its two
// states (ON a short carrying the current, OFF open with no current) in a clamp of either
// polarity and a bridge rectifier, by hand. Its SPICE cards and .model parameters (IS scaled
// with temperature as ngspice's diotemp.c, RS as a series conductance, gmin).
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "circuits/spice.h"
#include "solvers/newton.h"

using circuits_test::add_ideal;
using circuits_test::add_r;
using circuits_test::add_shockley;
using circuits_test::add_v;
using circuits_test::contains;
using circuits_test::read;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::kBoltzmannOverCharge;
using physlearn::circuits::kGround;
using physlearn::circuits::kNgspiceBoltzmannOverCharge;
using physlearn::circuits::SpiceOptions;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::OperatingPoint;
using solvers_test::solve_checked;
using solvers_test::v;

namespace {

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

TEST_CASE("diode: a Shockley diode and resistor (Newton) against bisection") {
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

TEST_CASE("diode: SPICE junction limiting (pnjlim) and the Shockley law by hand") {
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

TEST_CASE("diode: an ideal diode clamp, both polarities, both states") {
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
      CHECK(physlearn::solvers::currents<Diode>(up, op)[0] == 0.0);
    } else {
      CHECK(std::abs(v(up, op, "x")) < 1e-12);
      CHECK(std::abs(physlearn::solvers::currents<Diode>(up, op)[0] + source / r) < 1e-15);
    }
  }
}

TEST_CASE("diode: an ideal diode bridge rectifier") {
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

TEST_CASE("diode: SPICE models, series resistance, temperature and gmin") {
  SpiceOptions options;
  const Circuit c = read(R"(diodes
.options gmin=1e-10 tnom=27
V1 a 0 1
D1 a 0 dmod
d2 a b DMOD 2 temp=77
D3 b 0 hot
Dstd a 0 plain off
.model dmod D(IS=2n N=1.5 RS=4 CJO=1p TT=5n
+ BV=100 IBV=100u)
.model hot d is=1e-15, n=1, tnom=50
.model plain D
.temp 60
.end
)",
                         &options);
  CHECK(options.gmin == 1e-10);
  CHECK(options.temperature == 60.0 + 273.15);
  // BV and IBV are warned about (not modelled); CJO and TT mean nothing at DC.
  REQUIRE(options.warnings.size() == 2);
  CHECK(contains(options.warnings[0], "test.cir:8:"));
  CHECK(contains(options.warnings[0], "bv ignored"));
  CHECK(contains(options.warnings[1], "ibv ignored"));

  REQUIRE(c.list<Diode>().size() == 4);
  const double k_ratio = kNgspiceBoltzmannOverCharge / kBoltzmannOverCharge;
  auto saturation = [](double is, double n, double t, double tnom) {
    const double vt = kNgspiceBoltzmannOverCharge * t;
    return is * std::exp((t / tnom - 1.0) * 1.11 / (n * vt) + 3.0 / n * std::log(t / tnom));
  };
  const Diode& d1 = c.list<Diode>()[0];
  CHECK(d1.model == DiodeModel::Shockley);
  CHECK(d1.temperature == 333.15);
  CHECK(d1.emission == doctest::Approx(1.5 * k_ratio).epsilon(1e-15));
  // n Vt is ngspice's N Vt (its k/q).
  CHECK(d1.emission * kBoltzmannOverCharge ==
        doctest::Approx(1.5 * kNgspiceBoltzmannOverCharge).epsilon(1e-15));
  CHECK(d1.saturation_current ==
        doctest::Approx(saturation(2e-9, 1.5, 333.15, 300.15)).epsilon(1e-14));
  CHECK(d1.gmin == 1e-10);
  // RS: an internal node on the anode side and a series conductance.
  CHECK(d1.cathode == kGround);
  CHECK(c.node_name(d1.anode) == "D1#internal");
  const Diode& d2 = c.list<Diode>()[1];
  CHECK(d2.temperature == 77.0 + 273.15);
  CHECK(d2.saturation_current ==
        doctest::Approx(2.0 * saturation(2e-9, 1.5, 350.15, 300.15)).epsilon(1e-14));
  CHECK(c.node_name(d2.anode) == "d2#internal");
  const Diode& d3 = c.list<Diode>()[2];
  CHECK(d3.saturation_current ==
        doctest::Approx(saturation(1e-15, 1.0, 333.15, 323.15)).epsilon(1e-14));
  const Diode& d4 = c.list<Diode>()[3];
  CHECK(d4.saturation_current ==
        doctest::Approx(saturation(1e-14, 1.0, 333.15, 300.15)).epsilon(1e-14));
  CHECK(d4.anode == c.node("a"));  // no RS: no internal node
  REQUIRE(c.list<Conductance>().size() == 2);
  CHECK(c.list<Conductance>()[0].name == "D1#rs");
  CHECK(c.list<Conductance>()[0].a == c.node("a"));
  CHECK(c.list<Conductance>()[0].b == d1.anode);
  CHECK(c.list<Conductance>()[0].g == 0.25);
  CHECK(c.list<Conductance>()[1].g == 2.0 / 4.0);  // area 2: RS / area
  CHECK(c.list<Conductance>()[1].b == d2.anode);

  // At TEMP = TNOM the saturation current is IS exactly.
  const Circuit same = read("t\n.model m D(IS=3e-14 TNOM=40)\nD1 a 0 m temp=40\nR1 a 0 1\n");
  CHECK(same.list<Diode>()[0].saturation_current == 3e-14);
  CHECK(same.list<Diode>()[0].gmin == 1e-12);
}
