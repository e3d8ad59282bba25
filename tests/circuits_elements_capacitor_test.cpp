// The capacitor (circuits/elements/capacitor.h): open at DC, its charge C (v_a - v_b) in the
// transient, 1/2 C v^2 stored. Checked against closed forms: the RC step 1 - exp(-t / RC) with the
// energies delivered, stored and dissipated; two capacitors sharing their charge through a
// resistor (charge conserved, the energy lost 1/2 C1 C2 / (C1 + C2) V0^2 whatever R).
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "solvers/newton.h"
#include "solvers/transient.h"

using namespace physlearn;
using circuits::Capacitor;
using circuits::Circuit;
using circuits::kGround;
using circuits::VoltageSource;
using circuits_test::add_c;
using circuits_test::add_g;
using circuits_test::add_r;
using circuits_test::add_v;
using circuits_test::contains;
using circuits_test::node;
using solvers::OperatingPoint;
using solvers::TransientOptions;
using solvers::TransientResult;
using solvers::TransientSolver;
using solvers_test::relative_imbalance;
using solvers_test::solve_checked;
using solvers_test::solver_error;
using solvers_test::tight;
using solvers_test::v;

TEST_CASE("capacitor: open at DC, it holds no node") {
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
}

TEST_CASE("capacitor: an RC step follows 1 - exp(-t / RC), settling time and energies in closed form") {
  // 1 V steps onto R = 1 kOhm into C = 1 uF: v(t) = 1 - exp(-t / tau), tau = 1 ms.
  Circuit c;
  add_v(c, "in", 1.0);
  add_g(c, "in", "out", 1e-3);
  add_c(c, "out", "0", 1e-6);
  const int out = c.node("out");
  const double tau = 1e-3;
  TransientOptions o = tight();
  o.final_tol = 1e-6;
  double worst = 0.0;
  long calls = 0;
  o.observer = [&](double t, const Eigen::VectorXd& x) {
    worst = std::max(worst, std::abs(x[out] - (1.0 - std::exp(-t / tau))));
    ++calls;
  };
  TransientSolver solver(c, o);
  const TransientResult r = solver.run(c, {}, Eigen::VectorXd::Zero(2), "step");
  CHECK(worst < 1e-7);
  CHECK(calls > 20);
  // |v - 1| = exp(-t / tau) = 1e-6 at t_s = tau ln(1e6).
  CHECK(r.settling_time == doctest::Approx(tau * std::log(1e6)).epsilon(1e-4));
  CHECK(r.end_time == doctest::Approx(2.0 * r.settling_time).epsilon(1e-12));
  // Over [0, T]: the source delivers C V v(T), the capacitor stores 1/2 C v(T)^2, the rest heats
  // the resistor.
  const double v_settled = 1.0 - std::exp(-r.settling_time / tau);
  const auto& e = r.energy_settled;
  CHECK(e.sources == doctest::Approx(1e-6 * v_settled).epsilon(1e-7));
  CHECK(e.stored_change == doctest::Approx(0.5e-6 * v_settled * v_settled).epsilon(1e-7));
  CHECK(e.conductances ==
        doctest::Approx(1e-6 * v_settled - 0.5e-6 * v_settled * v_settled).epsilon(1e-6));
  CHECK(relative_imbalance(e) < 1e-7);
  CHECK(relative_imbalance(r.energy_end) < 1e-7);
  CHECK(std::abs(r.voltages[out] - 1.0) < 1e-6);
}

TEST_CASE("capacitor: two sharing their charge through a resistor, in closed form") {
  // C1 (at V0) and C2 (at 0 V) joined by R, no source: the charge C1 V0 is shared,
  //   v_a(t) = vf + (V0 - vf) e^(-t / tau),  v_b(t) = vf (1 - e^(-t / tau)),
  //   vf = C1 V0 / (C1 + C2),  tau = R C1 C2 / (C1 + C2),
  // and R dissipates 1/2 C1 C2 / (C1 + C2) V0^2 (whatever R) by the end. C2 is written from
  // ground to b: a capacitor's law does not depend on its orientation.
  const double c1 = 1e-6, c2 = 3e-6, r = 1e3, v0 = 2.0;
  Circuit c;
  add_c(c, "a", "0", c1);
  add_r(c, "a", "b", r);
  add_c(c, "0", "b", c2);
  const int a = c.node("a"), b = c.node("b");
  const double vf = c1 * v0 / (c1 + c2), tau = r * c1 * c2 / (c1 + c2);
  TransientOptions o = tight();
  o.stop_time = 30.0 * tau;
  // The default settling criterion ("final") is not watched with stop_time, so the run needs no
  // DC point, which a circuit with no DC path to ground has not.
  double worst = 0.0;
  o.observer = [&](double t, const Eigen::VectorXd& x) {
    const double decay = std::exp(-t / tau);
    worst = std::max({worst, std::abs(x[a] - (vf + (v0 - vf) * decay)),
                      std::abs(x[b] - vf * (1.0 - decay))});
  };
  TransientSolver solver(c, o);
  Eigen::VectorXd initial = Eigen::VectorXd::Zero(2);
  initial[a] = v0;
  const TransientResult res = solver.run(c, {}, initial, "share");
  MESSAGE("charge sharing: max |v - closed form| = " << worst << " V");
  CHECK(worst < 1e-7);
  // The charge C1 v_a + C2 v_b stays C1 V0; both end at vf.
  CHECK(c1 * res.voltages[a] + c2 * res.voltages[b] == doctest::Approx(c1 * v0).epsilon(1e-8));
  CHECK(res.voltages[a] == doctest::Approx(vf).epsilon(1e-8));
  CHECK(res.voltages[b] == doctest::Approx(vf).epsilon(1e-8));
  // Stored 1/2 (C1 + C2) vf^2 - 1/2 C1 V0^2 = -1/2 C1 C2 / (C1 + C2) V0^2, all of it heat in R.
  const double lost = 0.5 * c1 * c2 / (c1 + c2) * v0 * v0;
  const solvers::TransientEnergy& e = res.energy_end;
  CHECK(e.stored_change == doctest::Approx(-lost).epsilon(1e-8));
  CHECK(e.conductances == doctest::Approx(lost).epsilon(1e-6));
  CHECK(e.sources == 0.0);
  CHECK(std::abs(e.balance()) < 1e-6 * lost);
}
