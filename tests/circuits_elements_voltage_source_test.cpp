// The independent voltage source (circuits/elements/voltage_source.h): v(plus) - v(minus) = V, its
// branch current SPICE's (positive into the plus terminal), checked by hand and against ngspice's
// "#branch" vectors; its SIN and PULSE waveforms, their fields and values by hand, and the value
// they hold across a resistor in the transient against their closed forms.
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "circuits/spice.h"
#include "solvers/mna.h"
#include "solvers/newton.h"
#include "solvers/ngspice.h"
#include "solvers/tran.h"

using namespace physlearn;
using circuits_test::parse;
using circuits_test::Parsed;
using solvers_test::solve_checked;
using solvers_test::v;

TEST_CASE("voltage source: its branch current is positive into the plus terminal, as ngspice's") {
  // V1 a 0 5 and V2 b 0 2 joined by R = 1 kOhm: 3 mA flows from a through R into b, through V2
  // from plus to minus (+3 mA, V2 absorbs 6 mW) and through V1 from minus to plus (-3 mA, V1
  // delivers 15 mW). V3 0 c 4 (plus on ground) with R c 0 1k: v(c) = -4 V, and the 4 mA R
  // carries from ground into c leaves c through V3 from minus to plus: -4 mA.
  const circuits::Circuit c =
      circuits_test::read("t\nV1 a 0 5\nV2 b 0 DC 2\nR1 a b 1k\nV3 0 c 4\nR2 c 0 1k\n");
  const solvers::OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "a") - 5.0) < 1e-15);
  CHECK(std::abs(v(c, op, "b") - 2.0) < 1e-15);
  CHECK(std::abs(v(c, op, "c") + 4.0) < 1e-15);
  CHECK(std::abs(op.current(c, "V1") + 3e-3) < 1e-15);
  CHECK(std::abs(op.current(c, "V2") - 3e-3) < 1e-15);
  CHECK(std::abs(op.current(c, "V3") + 4e-3) < 1e-15);
  const solvers::OperatingPoint ng = solvers::ngspice_operating_point(c);
  CHECK(ng.current(c, "V1") == doctest::Approx(-3e-3).epsilon(1e-9));
  CHECK(ng.current(c, "V2") == doctest::Approx(3e-3).epsilon(1e-9));
  CHECK(ng.current(c, "V3") == doctest::Approx(-4e-3).epsilon(1e-9));
}

TEST_CASE("voltage source: SIN and PULSE fields, defaults, DC value, errors") {
  const Parsed p = parse(
      "t\nV1 a 0 SIN(0.5 2 1k 1m 0 90)\nV2 b 0 dc 3 pulse ( 0, 5 , 1u 1n 2n 10u 20u 2 )\n"
      "V3 c 0 PULSE(1 {x})\n.param x=4\nR1 a b 1k\nR2 b c 1k\nR3 c 0 1k\n.tran 1u 1m\n");
  REQUIRE(p.options.source_functions.size() == 3);
  const auto& sin = p.options.source_functions[0];
  CHECK(sin.source == "V1");
  CHECK(sin.kind == "sin");
  CHECK(sin.args == std::vector<double>{0.5, 2.0, 1e3, 1e-3, 0.0, 90.0});
  // Without a DC field the DC value is the function's at t = 0: VO + VA sin(PHASE).
  CHECK(p.circuit.list<circuits::VoltageSource>()[0].volts == doctest::Approx(2.5));
  CHECK(p.circuit.list<circuits::VoltageSource>()[1].volts == 3.0);  // its DC field
  CHECK(p.circuit.list<circuits::VoltageSource>()[2].volts == 1.0);  // V1 of the pulse
  const auto v1 = sin.waveform(1e-6, 1e-3);
  CHECK(v1(0.5e-3) == doctest::Approx(2.5));  // before TD
  CHECK(v1(1e-3 + 0.25e-3) == doctest::Approx(0.5 + 2.0 * std::sin(2 * M_PI * (0.25 + 0.25))));
  const auto v2 = p.options.source_functions[1].waveform(1e-6, 1e-3);
  CHECK(v2(0.5e-6) == 0.0);                            // before TD
  CHECK(v2(1e-6 + 0.5e-9) == doctest::Approx(2.5));   // half-way up the rise
  CHECK(v2(5e-6) == 5.0);                              // on the top
  CHECK(v2(1e-6 + 1e-9 + 10e-6 + 1e-9) == doctest::Approx(2.5));  // half-way down the fall
  CHECK(v2(15e-6) == 0.0);                             // the rest of the period
  CHECK(v2(21e-6 + 5e-6) == 5.0);                      // the second pulse
  CHECK(v2(41e-6 + 5e-6) == 0.0);                      // NP = 2: no third pulse
  CHECK(p.options.source_functions[1].shortest_segment(1e-6, 1e-3) == doctest::Approx(1e-9));
  // Defaults: TR and TF = tstep, PW and PER = tstop.
  const auto v3 = p.options.source_functions[2].waveform(1e-6, 1e-3);
  CHECK(v3(0.5e-6) == doctest::Approx(2.5));
  CHECK(v3(0.5e-3) == 4.0);
  auto fails = [](const std::string& card, const std::string& what) {
    CHECK_THROWS_WITH(parse("t\n" + card + "\nR1 a 0 1k\n"), doctest::Contains(what.c_str()));
  };
  fails("V1 a 0 SIN(0)", "SIN takes 2 to 6 fields, not 1");
  fails("V1 a 0 SIN(0 1 2 3 4 5 6)", "not 7");
  fails("V1 a 0 SIN 0 1 1k", "in parentheses");
  fails("V1 a 0 SIN(0 1 1k", "closing");
  fails("V1 a 0 PULSE(0 1 -1u)", "field 3 = -1e-06 must be >= 0");
  fails("V1 a 0 PULSE(0 1 0 1u 1u 5u 6u)", "shorter than TR + PW + TF");
  fails("V1 a 0 EXP(0 1)", "EXP is not supported (SIN and PULSE on voltage sources)");
  fails("I1 a 0 SIN(0 1 1k)", "SIN is not supported (DC values only on current sources)");
  fails("V1 a 0 SIN(0 1 1k) PULSE(0 1)", "a second transient function");
}

TEST_CASE("voltage source: across a resistor it holds its SIN or PULSE value in the transient") {
  // V1: SIN(VO VA FREQ TD THETA PHASE) = SIN(0.5 2 1k 0.2m 0 0): 0.5 V before TD, then
  // 0.5 + 2 sin(2 pi 1k (t - TD)). V2: PULSE(V1 V2 TD TR TF PW PER) = PULSE(-1 3 0.1m 0.1m 0.1m
  // 0.3m 1m): -1 V, a ramp of 4 V in 0.1 ms, 0.3 ms at 3 V, a ramp back, every 1 ms. Each holds
  // its node at its value exactly, whatever the resistors draw; V1's current is what R1 and R3
  // draw, with SPICE's sign.
  const Parsed p = parse(
      "t\nV1 a 0 SIN(0.5 2 1k 0.2m 0 0)\nR1 a 0 1k\nV2 b 0 PULSE(-1 3 0.1m 0.1m 0.1m 0.3m 1m)\n"
      "R2 b 0 2k\nR3 a b 10k\n.tran 10u 1.5m uic\n");
  const double pi = std::acos(-1.0);
  auto sine = [&](double t) {
    return t < 0.2e-3 ? 0.5 : 0.5 + 2.0 * std::sin(2.0 * pi * 1e3 * (t - 0.2e-3));
  };
  auto pulse = [](double t) {
    if (t < 0.1e-3) return -1.0;
    const double s = std::fmod(t - 0.1e-3, 1e-3);  // time into the period
    if (s < 0.1e-3) return -1.0 + 4.0 * s / 0.1e-3;
    if (s < 0.4e-3) return 3.0;
    if (s < 0.5e-3) return 3.0 - 4.0 * (s - 0.4e-3) / 0.1e-3;
    return -1.0;
  };
  const solvers::TranWaveforms w = solvers::simulate_tran(p.circuit, *p.options.tran, 1e-8, 1e-10,
                                                          p.options.source_functions);
  REQUIRE(w.time.size() > 100);
  const int a = p.circuit.node("a"), b = p.circuit.node("b");
  double worst = 0.0, low = 0.0, high = 0.0;
  for (std::size_t k = 1; k < w.time.size(); ++k) {
    const double t = w.time[k];
    worst = std::max({worst, std::abs(w.voltages[k](a) - sine(t)),
                      std::abs(w.voltages[k](b) - pulse(t))});
    low = std::min(low, w.voltages[k](b));
    high = std::max(high, w.voltages[k](a));
  }
  MESSAGE("SIN and PULSE across resistors: max |v - closed form| = "
          << worst << " V over " << w.time.size() << " points");
  CHECK(worst < 1e-7);  // measured 4.1e-9 V: the node voltages solved to IDA's tolerance
  CHECK(low == doctest::Approx(-1.0));
  CHECK(high > 2.4);  // the sine's crest, 2.5 V, sampled
  // At the end (t = 1.5 ms) V1 supplies R1 and R3, with SPICE's sign.
  const double va = sine(1.5e-3), vb = pulse(1.5e-3);
  const double i1 = solvers::element_current(p.circuit, circuits::UnknownLayout(p.circuit),
                                             w.result.unknowns, "V1");
  CHECK(i1 == doctest::Approx(-(va / 1e3 + (va - vb) / 1e4)).epsilon(1e-8));
}
