// The voltage-controlled current source (circuits/elements/vccs.h): the current
// gain (v(ctrl+) - v(ctrl-)) flows from out+ through the source to out- (SPICE's G card). Checked
// at Newton's operating point against gains and sign conventions worked by hand: a
// transconductance stage, a follower, a VCCS sensing its own terminals (a conductance); its
// output alone holds no node; its control pins are part of the solver's structure.
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "solvers/newton.h"

using circuits_test::add_r;
using circuits_test::add_v;
using circuits_test::contains;
using circuits_test::node;
using physlearn::SolverError;
using physlearn::circuits::Circuit;
using physlearn::circuits::kGround;
using physlearn::circuits::Vccs;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::NewtonSolver;
using physlearn::solvers::OperatingPoint;
using solvers_test::solve_checked;
using solvers_test::solver_error;
using solvers_test::v;

TEST_CASE("vccs: a transconductance stage and a follower, SPICE's G sign (Newton)") {
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

TEST_CASE("vccs: controlled by its own output it is a conductance") {
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

TEST_CASE("vccs: its output holds no node (a floating node is named)") {
  Circuit g;
  add_v(g, "in", "0", 1.0);
  g.list<Vccs>().push_back(Vccs{"G1", node(g, "y"), kGround, node(g, "in"), kGround, 1e-3});
  CHECK(contains(solver_error(g), "node 'y' is floating"));
}

TEST_CASE("vccs: its control pins are the solver's structure, its gain may change between solves") {
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
