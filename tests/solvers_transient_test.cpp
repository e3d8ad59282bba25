// Transient solver (solvers/transient.h): the two-stage RC ladder's closed form, energy
// conservation, ideal and Shockley diodes against Newton, the settling criteria, failures. (The
// RC step: tests/circuits_elements_capacitor_test.cpp; memristor states in the DAE:
// tests/circuits_elements_memristor_test.cpp; the DRN phases of solvers/transient_layered.h:
// tests/solvers_transient_layered_test.cpp.)
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "solvers/mna.h"
#include "solvers/newton.h"
#include "solvers/transient.h"

using namespace physlearn;
using circuits::Circuit;
using circuits::kGround;
using circuits_test::add_c;
using circuits_test::add_g;
using circuits_test::add_i;
using circuits_test::add_ideal;
using circuits_test::add_shockley;
using circuits_test::add_v;
using solvers::TransientOptions;
using solvers::TransientResult;
using solvers::TransientSolver;
using solvers_test::relative_imbalance;
using solvers_test::tight;

TEST_CASE("two-stage RC ladder matches the analytic eigen-solution") {
  // in --R1-- n1 --R2-- n2, C1 and C2 to ground: C dv/dt = -G v + b with
  // G = [[g1 + g2, -g2], [-g2, g2]], b = [g1 V, 0]. With C = diag(c1, c2) the solution is
  // v(t) = v_inf + C^{-1/2} U exp(-Lambda t) U^T C^{1/2} (v0 - v_inf), U Lambda U^T the
  // eigen-decomposition of C^{-1/2} G C^{-1/2}.
  const double g1 = 2e-3, g2 = 0.5e-3, c1 = 1e-6, c2 = 3e-6, V = 2.5;
  Circuit c;
  add_v(c, "in", V);
  add_g(c, "in", "n1", g1);
  add_g(c, "n1", "n2", g2);
  add_c(c, "n1", "0", c1);
  add_c(c, "0", "n2", c2);
  const int n1 = c.node("n1"), n2 = c.node("n2");
  Eigen::Matrix2d G;
  G << g1 + g2, -g2, -g2, g2;
  const Eigen::Vector2d b(g1 * V, 0.0);
  const Eigen::Vector2d v_inf = G.inverse() * b;
  const Eigen::Vector2d sqrt_c(std::sqrt(c1), std::sqrt(c2));
  const Eigen::Matrix2d scaled =
      sqrt_c.cwiseInverse().asDiagonal() * G * sqrt_c.cwiseInverse().asDiagonal();
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(scaled);
  const Eigen::Vector2d v0(-0.7, 0.3);
  auto exact = [&](double t) -> Eigen::Vector2d {
    const Eigen::Vector2d modes =
        eig.eigenvectors().transpose() * (sqrt_c.asDiagonal() * (v0 - v_inf));
    const Eigen::Vector2d decayed =
        (-eig.eigenvalues().array() * t).exp().matrix().cwiseProduct(modes);
    return v_inf + sqrt_c.cwiseInverse().asDiagonal() * (eig.eigenvectors() * decayed);
  };
  TransientOptions o = tight();
  double worst = 0.0;
  o.observer = [&](double t, const Eigen::VectorXd& x) {
    const Eigen::Vector2d want = exact(t);
    worst = std::max({worst, std::abs(x[n1] - want[0]), std::abs(x[n2] - want[1])});
  };
  TransientSolver solver(c, o);
  Eigen::VectorXd initial = Eigen::VectorXd::Zero(3);
  initial[n1] = v0[0];
  initial[n2] = v0[1];
  const TransientResult r = solver.run(c, {}, initial, "ladder");
  CHECK(worst < 1e-7);
  CHECK((r.voltages.segment(1, 2) - v_inf).cwiseAbs().maxCoeff() < 1e-8);
  CHECK(relative_imbalance(r.energy_end) < 1e-7);
  // The energy stored changes by 1/2 v^T C v between the start and the end.
  const double stored = 0.5 * (c1 * (r.voltages[n1] * r.voltages[n1] - v0[0] * v0[0]) +
                               c2 * (r.voltages[n2] * r.voltages[n2] - v0[1] * v0[1]));
  CHECK(r.energy_end.stored_change == doctest::Approx(stored).epsilon(1e-10));
}

TEST_CASE("energy is conserved: sources, nudges and VCCS = dissipation + stored change") {
  // A source stepping onto a capacitive node (an instantaneous jump: the source delivers C V^2,
  // half of it is lost in the jump), a current source, a nudge, a Shockley diode, a VCCS.
  Circuit c;
  add_v(c, "a", 1.5);
  add_c(c, "a", "0", 2e-6);
  add_g(c, "a", "b", 1e-3);
  add_c(c, "b", "0", 1e-6);
  add_g(c, "b", "d", 4e-3);
  add_c(c, "d", "0", 0.5e-6);
  add_i(c, "0", "d", 2e-4);
  add_shockley(c, "d", "0");
  c.list<circuits::Vccs>().push_back({"G1", c.node("b"), kGround, c.node("d"), kGround, 1e-4});
  TransientOptions o = tight();
  o.element_energies = true;
  TransientSolver solver(c, o);
  const std::vector<solvers::Nudge> nudges = {{c.node("b"), 2e-3, 0.2}};
  const TransientResult r = solver.run(c, nudges, Eigen::VectorXd::Zero(3), "mixed");
  const auto& e = r.energy_end;
  CHECK(e.impulse == doctest::Approx(0.5 * 2e-6 * 1.5 * 1.5).epsilon(1e-9));
  CHECK(e.nudges != 0.0);
  CHECK(e.controlled != 0.0);
  CHECK(e.diodes > 0.0);
  CHECK(relative_imbalance(e) < 1e-6);
  CHECK(relative_imbalance(r.energy_settled) < 1e-6);
  // Per-element energies add up to the totals.
  double conductances = 0.0;
  for (double x : r.elements_end.of<circuits::Conductance>()) conductances += x;
  CHECK(conductances == doctest::Approx(e.conductances).epsilon(1e-12));
  // The end is the DC operating point.
  solvers::NewtonSolver newton(c);
  const auto op = newton.solve(c, nudges);
  CHECK((r.voltages - op.voltages).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("ideal diode switches ON when its voltage reaches 0 and OFF when its current reverses") {
  SUBCASE("OFF -> ON: a node discharging onto its diode") {
    // v' = (1 - v) / (RC) - 2 / C towards -1 V; the diode (v >= 0) clamps it at 0 when v
    // reaches 0, at t = RC ln(1.5) from v0 = 0.5.
    Circuit c;
    add_v(c, "in", 1.0);
    add_g(c, "in", "n", 1.0);
    add_c(c, "n", "0", 1e-3);
    add_i(c, "n", "0", 2.0);
    add_ideal(c, "0", "n");
    const int n = c.node("n");
    TransientOptions o = tight();
    double t_zero = -1.0;
    o.observer = [&](double t, const Eigen::VectorXd& x) {
      if (t_zero < 0.0 && std::abs(x[n]) < 1e-9 && t > 0.0) t_zero = t;
    };
    TransientSolver solver(c, o);
    Eigen::VectorXd initial(2);
    initial << 1.0, 0.5;
    const TransientResult r = solver.run(c, {}, initial, "discharge");
    CHECK(r.events == 1);
    CHECK(t_zero == doctest::Approx(1e-3 * std::log(1.5)).epsilon(1e-6));
    CHECK(std::abs(r.voltages[n]) < 1e-9);
    // The diode carries the 1 A the source cannot: 2 A out minus 1 A in.
    CHECK(r.unknowns[circuits::UnknownLayout(c).first(circuits::kind_index<circuits::Diode>())[0]] == doctest::Approx(1.0).epsilon(1e-8));
    CHECK(r.modes[0] == 1);
    CHECK(relative_imbalance(r.energy_end) < 1e-6);
  }
  SUBCASE("ON -> OFF: a neighbour charging up releases a clamped node") {
    // a is clamped at 0 by its diode while b (at -2 V) pulls it down; b charges towards the
    // source, the diode's current reverses and a is released. The end is Newton's DC point.
    Circuit c;
    add_v(c, "in", 1.0);
    add_g(c, "in", "a", 1.0);
    add_g(c, "a", "b", 1.0);
    add_g(c, "in", "b", 0.5);
    add_c(c, "a", "0", 1e-3);
    add_c(c, "b", "0", 1e-3);
    add_ideal(c, "0", "a");
    const int a = c.node("a"), b = c.node("b");
    TransientSolver solver(c, tight());
    Eigen::VectorXd initial(3);
    initial << 1.0, 0.0, -2.0;
    const TransientResult r = solver.run(c, {}, initial, "release");
    CHECK(r.events >= 1);
    CHECK(r.modes[0] == 0);
    solvers::NewtonSolver newton(c);
    const auto op = newton.solve(c);
    CHECK(std::abs(r.voltages[a] - op.voltages[a]) < 1e-8);
    CHECK(std::abs(r.voltages[b] - op.voltages[b]) < 1e-8);
    CHECK(relative_imbalance(r.energy_end) < 1e-6);
  }
}

TEST_CASE("Shockley diode-RC circuit settles at Newton's operating point") {
  Circuit c;
  add_v(c, "in", 5.0);
  add_g(c, "in", "n", 1e-3);
  add_c(c, "n", "0", 1e-9);
  add_shockley(c, "n", "0");
  add_g(c, "n", "m", 1e-4);
  add_c(c, "m", "0", 2e-9);
  add_shockley(c, "m", "0");
  TransientOptions o = tight();
  o.final_tol = 1e-9;
  TransientSolver solver(c, o);
  const TransientResult r = solver.run(c, {}, Eigen::VectorXd::Zero(3), "diode");
  solvers::NewtonSolver newton(c);
  const auto op = newton.solve(c);
  CHECK((r.voltages - op.voltages).cwiseAbs().maxCoeff() < 1e-8);
  CHECK(r.voltages[c.node("n")] > 0.5);  // forward biased: about 0.6 V
  CHECK(r.energy_end.diodes > 0.0);
  CHECK(relative_imbalance(r.energy_end) < 1e-6);
}

TEST_CASE("slew criterion: settled when every |dv/dt| is below the tolerance") {
  Circuit c;
  add_v(c, "in", 1.0);
  add_g(c, "in", "out", 1e-3);
  add_c(c, "out", "0", 1e-6);
  TransientOptions o = tight();
  o.settle = solvers::SettleCriterion::Slew;
  o.slew_tol = 1e-3;  // V/s: |dv/dt| = exp(-t / tau) / tau = 1e-3 at t = tau ln(1e6)
  o.hold = 0.5;
  TransientSolver solver(c, o);
  const TransientResult r = solver.run(c, {}, Eigen::VectorXd::Zero(2), "slew");
  CHECK(r.settling_time == doctest::Approx(1e-3 * std::log(1e6)).epsilon(1e-4));
  CHECK(r.end_time == doctest::Approx(1.5 * r.settling_time).epsilon(1e-12));
}

TEST_CASE("failing transients name the time, the phase and the reason") {
  Circuit c;
  add_v(c, "in", 1.0);
  add_g(c, "in", "out", 1e-3);
  add_c(c, "out", "0", 1e-6);
  auto message = [&](TransientOptions o) {
    TransientSolver solver(c, o);
    try {
      solver.run(c, {}, Eigen::VectorXd::Zero(2), "nudged (beta = 0.5)");
    } catch (const SolverError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SUBCASE("max duration too short") {
    TransientOptions o = tight();
    o.max_duration = 1e-3;  // one time constant
    const std::string m = message(o);
    CHECK(m.find("phase 'nudged (beta = 0.5)'") != std::string::npos);
    CHECK(m.find("at t = 0.001 s") != std::string::npos);
    CHECK(m.find("not settled within max_duration") != std::string::npos);
  }
  SUBCASE("too many steps") {
    TransientOptions o = tight();
    o.max_steps = 5;
    const std::string m = message(o);
    CHECK(m.find("phase 'nudged (beta = 0.5)'") != std::string::npos);
    CHECK(m.find("at t = ") != std::string::npos);
    CHECK(m.find("max_steps = 5") != std::string::npos);
  }
  SUBCASE("absurd tolerances") {
    TransientOptions o = tight();
    o.rtol = 1e-20;
    o.atol = 1e-25;
    const std::string m = message(o);
    CHECK(m.find("phase 'nudged (beta = 0.5)' failed at t = ") != std::string::npos);
    CHECK(m.find("IDA returned IDA_TOO_MUCH_ACC") != std::string::npos);
    CHECK(m.find("tolerances too tight") != std::string::npos);
  }
}
