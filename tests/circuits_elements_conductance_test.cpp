// The conductance (circuits/elements/conductance.h): the current g (v_a - v_b) flows from a to b.
// Checked at Newton's operating point against Ohm's law and a divider worked by hand, a resistor
// card's 1 / R and a negative resistance (read as a VCCS on its own terminals: the same law).
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <cmath>
#include <string>

#include "solvers/newton.h"

using circuits_test::add_g;
using circuits_test::add_v;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::solvers::OperatingPoint;
using solvers_test::solve_checked;
using solvers_test::v;

TEST_CASE("conductance: Ohm's law and a bridged divider by hand, the current a -> b") {
  // 1 V at in; g1 from in to a, g2 from a to ground, g3 from a to b, g4 from ground to b (written
  // reversed). g3 and g4 in series are g34 = g3 g4 / (g3 + g4) from a to ground, so
  //   v(a) = g1 / (g1 + g2 + g34),  v(b) = v(a) g3 / (g3 + g4),
  // and each conductance carries g (v_a - v_b) from its a to its b.
  const double g1 = 2e-3, g2 = 1e-3, g3 = 4e-3, g4 = 0.5e-3;
  Circuit c;
  add_v(c, "in", "0", 1.0);
  add_g(c, "in", "a", g1);
  add_g(c, "a", "0", g2);
  add_g(c, "a", "b", g3);
  add_g(c, "0", "b", g4);
  const double g34 = g3 * g4 / (g3 + g4);
  const double va = g1 / (g1 + g2 + g34), vb = va * g3 / (g3 + g4);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "a") - va) < 1e-15);
  CHECK(std::abs(v(c, op, "b") - vb) < 1e-15);
  CHECK(op.current(c, "G1") == doctest::Approx(g1 * (1.0 - va)).epsilon(1e-14));
  CHECK(op.current(c, "G2") == doctest::Approx(g2 * va).epsilon(1e-14));
  CHECK(op.current(c, "G3") == doctest::Approx(g3 * (va - vb)).epsilon(1e-14));
  CHECK(op.current(c, "G4") == doctest::Approx(-g4 * vb).epsilon(1e-14));  // from ground into b
  CHECK(op.current(c, "G4") < 0.0);
  // The source delivers what flows through G1 (SPICE's sign: out of its plus terminal).
  CHECK(op.current(c, "V1") == doctest::Approx(-g1 * (1.0 - va)).epsilon(1e-14));
}

TEST_CASE("conductance: a resistor card is 1 / R, a negative one follows the same law") {
  // R1 in a 1k, R2 a 0 R: v(a) = R / (1k + R). With R = -3k: v(a) = -3k / -2k = 1.5 V, and R2's
  // current v(a) / R = -0.5 mA (from ground into a).
  for (const double r : {3e3, -3e3}) {
    CAPTURE(r);
    const Circuit c =
        circuits_test::read("t\nV1 in 0 1\nR1 in a 1k\nR2 a 0 " + std::to_string(r) + "\n");
    REQUIRE(c.list<Conductance>().size() == (r > 0.0 ? 2u : 1u));
    CHECK(c.list<Conductance>()[0].g == 1e-3);
    const OperatingPoint op = solve_checked(c);
    const double va = r / (1e3 + r);
    CHECK(std::abs(v(c, op, "a") - va) < 1e-14);
    CHECK(op.current(c, "R2") == doctest::Approx(va / r).epsilon(1e-14));
    CHECK(op.current(c, "R1") == doctest::Approx((1.0 - va) / 1e3).epsilon(1e-14));
  }
}
