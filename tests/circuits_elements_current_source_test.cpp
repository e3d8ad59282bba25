// The independent current source (circuits/elements/current_source.h): its current flows from
// `from` through the source into `to` (SPICE's I card "I from to value"), so into a resistor it
// gives V = I R with that sign; checked by hand at Newton's operating point and against ngspice's.
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <cmath>
#include <string>

#include "solvers/newton.h"
#include "solvers/ngspice.h"

using circuits_test::add_i;
using circuits_test::add_r;
using physlearn::circuits::Circuit;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::kGround;
using physlearn::solvers::OperatingPoint;
using solvers_test::solve_checked;
using solvers_test::v;

TEST_CASE("current source: into a resistor it gives V = I R (Newton)") {
  Circuit c;
  add_i(c, "0", "x", 1e-3);  // 1 mA from ground through the source into x
  add_r(c, "x", "0", 2000.0);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "x") - 2.0) < 1e-12);
}

TEST_CASE("current source: the I card drives n+ -> n- as in ngspice, and sources superpose") {
  // I1 a 0 2m draws 2 mA out of a (through the source to ground): v(a) = -I R1 = -2 V.
  // I2 0 b 1m pushes 1 mA into b: v(b) = +I R2 = 3 V. I3 a b 0.5m moves 0.5 mA from a to b on
  // top: v(a) = -(2m + 0.5m) 1k = -2.5 V, v(b) = (1m + 0.5m) 3k = 4.5 V.
  const Circuit c = circuits_test::read(
      "t\nI1 a 0 2m\nR1 a 0 1k\nI2 0 b DC 1m\nR2 b 0 3k\nI3 a b 0.5m\n");
  REQUIRE(c.list<CurrentSource>().size() == 3);
  CHECK(c.list<CurrentSource>()[0].from == c.node("a"));
  CHECK(c.list<CurrentSource>()[0].to == kGround);
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "a") + 2.5) < 1e-12);
  CHECK(std::abs(v(c, op, "b") - 4.5) < 1e-12);
  // Its current is its value whatever the voltage across it.
  CHECK(op.current(c, "I1") == 2e-3);
  CHECK(op.current(c, "I3") == 0.5e-3);
  // ngspice, an independent solver, solves the exported circuit to the same voltages.
  const OperatingPoint ng = physlearn::solvers::ngspice_operating_point(c);
  CHECK(std::abs(v(c, ng, "a") + 2.5) < 1e-9);
  CHECK(std::abs(v(c, ng, "b") - 4.5) < 1e-9);
}
