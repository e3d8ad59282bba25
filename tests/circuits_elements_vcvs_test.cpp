// The voltage-controlled voltage source (circuits/elements/vcvs.h): v(out+) - v(out-) =
// gain (v(ctrl+) - v(ctrl-)), its output current SPICE's (positive into out+). Checked against the
// closed forms of a non-inverting and an inverting amplifier of finite gain, worked by hand, and
// against ngspice's operating point and branch current.
#include <doctest/doctest.h>

#include "circuits_support.h"
#include "solvers_support.h"

#include <cmath>
#include <string>

#include "solvers/newton.h"
#include "solvers/ngspice.h"

using circuits_test::add_r;
using circuits_test::add_v;
using circuits_test::node;
using physlearn::circuits::Circuit;
using physlearn::circuits::kGround;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::OperatingPoint;
using solvers_test::solve_checked;
using solvers_test::v;

TEST_CASE("vcvs: a non-inverting amplifier of finite gain has its closed form (Newton)") {
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

TEST_CASE("vcvs: an inverting amplifier (control pins reversed) in closed form and in ngspice") {
  // E1 out 0 0 n A: v(out) = -A v(n). R1 from in to n, R2 from n to out, a load RL on out. KCL at
  // n: (vin - vn) / R1 = (vn - vout) / R2, with vout = -A vn:
  //   vout = -A R2 vin / (R2 + R1 (1 + A)),  the ideal -R2/R1 vin as A grows.
  // The VCVS's current (SPICE's sign, into out+) is minus what it drives into R2 and RL.
  const double gain = 1e3, r1 = 1e3, r2 = 1e4, load = 2e3, vin = 0.25;
  Circuit c;
  add_v(c, "in", "0", vin);
  add_r(c, "in", "n", r1);
  add_r(c, "n", "out", r2);
  add_r(c, "out", "0", load);
  c.list<Vcvs>().push_back(Vcvs{"E1", node(c, "out"), kGround, kGround, node(c, "n"), gain});
  const double vout = -gain * r2 * vin / (r2 + r1 * (1.0 + gain));
  const double vn = -vout / gain;
  const double driven = (vout - vn) / r2 + vout / load;  // leaving out into R2 and RL
  const OperatingPoint op = solve_checked(c);
  CHECK(std::abs(v(c, op, "out") - vout) < 1e-12);
  CHECK(std::abs(v(c, op, "n") - vn) < 1e-15);
  CHECK(std::abs(op.current(c, "E1") + driven) < 1e-15);
  CHECK(vout < 0.0);
  CHECK(std::abs(vout + r2 / r1 * vin) < 0.02 * r2 / r1 * vin);  // near the ideal gain
  const OperatingPoint ng = physlearn::solvers::ngspice_operating_point(c);
  CHECK(std::abs(v(c, ng, "out") - vout) < 1e-9);
  CHECK(ng.current(c, "E1") == doctest::Approx(-driven).epsilon(1e-9));
}
