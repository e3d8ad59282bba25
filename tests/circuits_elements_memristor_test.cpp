// The memristor (circuits/elements/memristor.h): its state x a DAE unknown of the transient,
// dx/dt = rate(x, v). Checked against the HP model's closed form without a window under a
// constant voltage, R(t)^2 = R0^2 - 2 k (R_off - R_on) v t (with the current v / R and the energy
// v (R0 - R(T)) / (k (R_off - R_on)) it dissipates); and under a sine drive through a resistor
// against the same state equation integrated by CVODE (devices::StateIntegrator), with its pinched
// hysteresis and its state held at a bound. The DC solver and the SPICE writer reject it.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "circuits/spice_export.h"
#include "devices/memristor.h"
#include "solvers/mna.h"
#include "solvers/newton.h"
#include "solvers/transient.h"

using namespace physlearn;
using circuits::Circuit;
using circuits::kGround;
using solvers::TransientOptions;
using solvers::TransientResult;
using solvers::TransientSolver;

TEST_CASE(
    "memristor: HP without a window at a constant voltage follows R(t)^2 = R0^2 - 2 k dR v t") {
  // dx/dt = k v / R(x) with R = R_off - dR x (dR = R_off - R_on, k = mu_v R_on / D^2), so
  // R dR/dt = -dR k v and R(t)^2 = R0^2 - 2 k dR v t while x stays inside (0, 1). The source
  // across the memristor carries -v / R(t) (SPICE's sign); the memristor dissipates
  //   int v^2 / R dt = v (R0 - R(T)) / (k dR).
  const devices::HpParams hp;
  auto model = std::make_shared<const devices::HpMemristor>(hp);
  const double k = hp.mu_v * hp.r_on / (hp.d * hp.d), dr = hp.r_off - hp.r_on, stop = 0.2;
  struct Case {
    double volts, x0;
  };
  for (const Case run : {Case{1.0, 0.1}, Case{-0.7, 0.8}}) {
    CAPTURE(run.volts);
    Circuit c;
    const int a = c.add_node("a");
    c.list<circuits::VoltageSource>().push_back({"V1", a, kGround, run.volts});
    c.list<circuits::Memristor>().push_back({"M1", a, kGround, model, run.x0});
    const int state =
        circuits::UnknownLayout(c).first(circuits::kind_index<circuits::Memristor>())[0];
    const double r0 = hp.r_off - dr * run.x0;  // R(x0)
    auto resistance = [&](double t) { return std::sqrt(r0 * r0 - 2.0 * k * dr * run.volts * t); };
    TransientOptions o;
    o.rtol = 1e-10;
    o.atol = 1e-12;
    o.stop_time = stop;
    // The default settling criterion is not watched with stop_time: no DC point is asked for
    // (the DC solvers refuse memristors).
    double worst = 0.0;
    long points = 0;
    o.observer = [&](double t, const Eigen::VectorXd& x) {
      worst = std::max(worst, std::abs(x[state] - (hp.r_off - resistance(t)) / dr));
      ++points;
    };
    TransientSolver solver(c, o);
    const TransientResult r = solver.run(c, {}, Eigen::VectorXd::Zero(1), "constant");
    const double r_end = resistance(stop);
    MESSAGE("HP at " << run.volts << " V: max |x - closed form| = " << worst << " over " << points
                     << " points, x " << run.x0 << " -> " << r.unknowns[state]);
    CHECK(std::abs(r.unknowns[state] - run.x0) > 0.1);  // the state moves
    CHECK(worst < 1e-7);
    CHECK(r.unknowns[state] == doctest::Approx((hp.r_off - r_end) / dr).epsilon(1e-8));
    CHECK(solvers::element_current(c, circuits::UnknownLayout(c), r.unknowns, "V1") ==
          doctest::Approx(-run.volts / r_end).epsilon(1e-7));
    const double dissipated = run.volts * (r0 - r_end) / (k * dr);
    CHECK(r.energy_end.memristors == doctest::Approx(dissipated).epsilon(1e-6));
    CHECK(r.energy_end.sources == doctest::Approx(dissipated).epsilon(1e-6));
  }
}

namespace {

/// A sine source (amplitude volts, 1 Hz) -> 100 ohm -> memristor `model` from x0 -> ground,
/// simulated by the transient solver to `stop` (steps up to 0.1 ms), with the memristor's voltage
/// and state at every time point, and the same state equation integrated by
/// devices::StateIntegrator (CVODE, tight tolerances) under that voltage: `samples` + 1 samples.
struct SineDrive {
  Circuit circuit;
  std::vector<double> time, vm, state;
  TransientResult result;
  std::vector<devices::StateSample> cvode;
  /// Linear interpolation of y (one of vm, state) at t.
  double at(const std::vector<double>& y, double t) const {
    const auto it = std::lower_bound(time.begin(), time.end(), t);
    if (it == time.begin()) return y.front();
    if (it == time.end()) return y.back();
    const std::size_t k = static_cast<std::size_t>(it - time.begin());
    const double s = (t - time[k - 1]) / (time[k] - time[k - 1]);
    return (1.0 - s) * y[k - 1] + s * y[k];
  }
};

SineDrive drive_memristor(const std::shared_ptr<const devices::Memristor>& model, double x0,
                          double amplitude, double stop, int samples) {
  SineDrive d;
  Circuit& c = d.circuit;
  const int in = c.add_node("in"), m = c.add_node("m");
  c.list<circuits::VoltageSource>().push_back({"V1", in, kGround, 0.0});
  c.list<circuits::Conductance>().push_back({"Rs", in, m, 1.0 / 100.0, false});
  c.list<circuits::Memristor>().push_back({"M1", m, kGround, model, x0});
  const double pi = std::acos(-1.0);
  TransientOptions o;
  o.settle = solvers::SettleCriterion::Slew;
  o.stop_time = stop;
  o.max_step = 1e-4;
  o.max_steps = 1000000;
  c.list<circuits::VoltageSource>()[0].waveform = [=](double t) {
    return amplitude * std::sin(2.0 * pi * t);
  };
  o.observer = [&](double t, const Eigen::VectorXd& x) {
    if (!d.time.empty() && t <= d.time.back()) return;  // a restart repeats its time
    d.time.push_back(t);
    d.vm.push_back(x[m]);
    d.state.push_back(x[x.size() - 1]);
  };
  TransientSolver solver(c, o);
  d.result = solver.run(c, {}, Eigen::VectorXd::Zero(2), "sine");
  devices::CvodeParams cv;
  cv.rtol = 1e-10;
  cv.atol = 1e-12;
  devices::StateIntegrator cvode(cv);
  cvode.integrate(*model, [&](double t) { return d.at(d.vm, t); }, x0, stop, {}, &d.cvode,
                  samples);
  return d;
}

}  // namespace

TEST_CASE("memristor: in the DAE a sine drive through a resistor matches CVODE, pinched hysteresis") {
  // 1.5 V, 1 Hz sine -> 100 ohm -> HP memristor (Joglekar window, p = 2) -> ground. The state x
  // is a DAE unknown; the same state equation integrated by devices::StateIntegrator (CVODE)
  // under the memristor's own simulated voltage must give the same x(t).
  devices::HpParams hp;
  hp.window = "joglekar";
  hp.p = 2.0;
  auto model = std::make_shared<const devices::HpMemristor>(hp);
  const SineDrive d = drive_memristor(model, 0.1, 1.5, 2.0, 2000);
  REQUIRE(d.time.size() > 1000);
  double worst = 0.0, lowest = 1.0, highest = 0.0;
  for (const auto& sample : d.cvode) {
    const double x = d.at(d.state, sample.t);
    worst = std::max(worst, std::abs(x - sample.x));
    lowest = std::min(lowest, x);
    highest = std::max(highest, x);
  }
  MESSAGE("memristor state: max |x_DAE - x_CVODE| = " << worst << " over " << d.cvode.size()
                                                      << " samples (x in [" << lowest << ", "
                                                      << highest << "], " << d.result.steps
                                                      << " IDA steps)");
  CHECK(highest - lowest > 0.2);  // the drive moves the state
  CHECK(worst < 2e-7);            // measured 2.2e-8

  // Pinched hysteresis: i = 0 where v = 0 (the source's zero crossings), and on the rising and
  // falling sides of the first positive half wave (same source voltage) different currents.
  for (double t0 : {0.5, 1.0, 1.5, 2.0})
    CHECK(std::abs(model->current(d.at(d.state, t0), d.at(d.vm, t0))) < 1e-9);
  const double i_rise = model->current(d.at(d.state, 0.1), d.at(d.vm, 0.1));
  const double i_fall = model->current(d.at(d.state, 0.4), d.at(d.vm, 0.4));
  MESSAGE("memristor at source 0.88 V: i rising " << i_rise << " A, falling " << i_fall << " A");
  CHECK(i_fall > 1.3 * i_rise);  // measured 1.48
  // Energy: the source delivers what the resistor and the memristor dissipate.
  CHECK(d.result.energy_end.memristors > 0.0);
  CHECK(std::abs(d.result.energy_end.balance()) < 1e-6 * d.result.energy_end.sources);

  // The DC solver and the SPICE writer reject memristors; validation checks the state.
  CHECK_THROWS_WITH(solvers::NewtonSolver{d.circuit}, doctest::Contains("memristor M1"));
  CHECK_THROWS_WITH(circuits::write_spice_netlist(d.circuit),
                    doctest::Contains("no SPICE element"));
  Circuit bad = d.circuit;
  bad.list<circuits::Memristor>()[0].x0 = 1.5;
  CHECK_THROWS_WITH(bad.validate(), doctest::Contains("x0 = 1.5"));
  bad.list<circuits::Memristor>()[0].model = nullptr;
  CHECK_THROWS_WITH(bad.validate(), doctest::Contains("no device model"));
}

TEST_CASE("memristor: without a window its DAE state stops at its bound, as with CVODE") {
  // 2 V, 1 Hz sine through 100 ohm into an HP memristor with no window from x0 = 0.5: x reaches 1
  // in the first positive half wave, stays there, and leaves it when the voltage turns negative.
  auto model = std::make_shared<const devices::HpMemristor>(devices::HpParams{});
  const SineDrive d = drive_memristor(model, 0.5, 2.0, 1.0, 1000);
  // Compared over the first half wave (reaching the bound and holding there); the release is
  // checked on the DAE's state alone below. (Written when StateIntegrator's x stayed at 1 after
  // the voltage turned negative; since the fix checked by tests/devices_memristor_test.cpp it
  // leaves the bound too: measured over the whole second, the two states agree to 1.7e-5.)
  double worst = 0.0;
  for (const auto& sample : d.cvode)
    if (sample.t <= 0.5) worst = std::max(worst, std::abs(d.at(d.state, sample.t) - sample.x));
  const double top = *std::max_element(d.state.begin(), d.state.end());
  MESSAGE("memristor at its bound: max |x_DAE - x_CVODE| = " << worst << ", max x = " << top
                                                             << ", x(1 s) = " << d.state.back());
  CHECK(d.at(d.state, 0.45) == doctest::Approx(1.0).epsilon(1e-6));  // held at the bound
  CHECK(top < 1.0 + 1e-6);
  CHECK(d.state.back() < 0.9);  // released by the negative half wave
  CHECK(worst < 1e-4);          // measured 1.7e-5 (the kink where x reaches the bound)
}
