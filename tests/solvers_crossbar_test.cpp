// Crossbar circuits (circuits/crossbar.h) solved by Newton: the ideal-wire crossbar is the DRN,
// a single device with wires against the series formula, a crossbar with IR drop against ngspice
// on the exported netlist, and configuration errors.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <cmath>
#include <string>

#include "circuits/crossbar.h"
#include "circuits/drn.h"
#include "core/error.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers/ngspice.h"

using physlearn::circuits::build_drn;
using physlearn::circuits::CrossbarParams;
using physlearn::circuits::DrnParams;
using physlearn::circuits::LayeredNetwork;
using physlearn::circuits::lower_to_crossbar;
using physlearn::circuits::LoweredCrossbar;
using physlearn::solvers::NewtonSolver;
using physlearn::solvers::Nudge;
using physlearn::solvers::OperatingPoint;

namespace {

LayeredNetwork small_network(std::uint64_t seed) {
  DrnParams p;
  p.inputs = 5;
  p.input_gain = 2.0;
  p.hidden = {4};
  p.outputs = 3;
  p.bias_init = 0.2;
  LayeredNetwork net = build_drn(p, seed);
  for (auto& w : net.weights) w.array() += 0.05;  // no zero conductances: every cell carries current
  return net;
}

Eigen::RowVectorXd sample_inputs(const LayeredNetwork& net) {
  Eigen::MatrixXd x(1, net.num_inputs());
  for (int k = 0; k < net.num_inputs(); ++k) x(0, k) = 0.2 * k - 0.3;
  return net.input_voltages(x).row(0);
}

/// Free-phase Newton solution of a crossbar for the sample inputs.
OperatingPoint solve_crossbar(LoweredCrossbar& xb, const LayeredNetwork& net,
                              const std::vector<Nudge>& nudges = {}) {
  xb.lowered.update(net, sample_inputs(net));
  NewtonSolver newton(xb.lowered.circuit);
  return newton.solve(xb.lowered.circuit, nudges);
}

}  // namespace

TEST_CASE("crossbar: ideal wires give exactly the DRN") {
  const LayeredNetwork net = small_network(3);
  CrossbarParams p;
  LoweredCrossbar xb = lower_to_crossbar(net, p, 1e-4);
  CHECK(xb.num_wire_segments == 0);
  CHECK(xb.num_access_resistors == 0);
  const OperatingPoint op = solve_crossbar(xb, net);

  physlearn::solvers::CoordinateDescentSolver layered(1, 1e-13, 100000);
  auto state = physlearn::solvers::LayeredState::zeros(net, 1);
  layered.set_inputs(net, sample_inputs(net));
  layered.relax(net, physlearn::solvers::PhaseNudge::free(), state);
  for (std::size_t l = 0; l < xb.lowered.layer_nodes.size(); ++l)
    for (std::size_t i = 0; i < xb.lowered.layer_nodes[l].size(); ++i)
      CHECK(std::abs(op.voltages(xb.lowered.layer_nodes[l][i]) - state.layers[l](0, static_cast<Eigen::Index>(i))) <
            1e-9);
}

TEST_CASE("crossbar: counts of wire segments and access resistors, devices first") {
  const LayeredNetwork net = small_network(4);
  CrossbarParams p;
  p.wire_resistance = 2.0;
  p.access_resistance = 500.0;
  const LoweredCrossbar xb = lower_to_crossbar(net, p, 1e-4);
  const int devices = 10 * 4 + 4 * 3;
  CHECK(xb.num_wire_segments == 2 * devices);  // one row and one column segment per cell
  CHECK(xb.num_access_resistors == devices);
  CHECK(xb.lowered.circuit.list<physlearn::circuits::Conductance>().size() == static_cast<std::size_t>(devices + 3 * devices));
  for (int e = 0; e < devices; ++e) CHECK(xb.lowered.circuit.list<physlearn::circuits::Conductance>()[static_cast<std::size_t>(e)].trainable);
  // Wire conductance in network units: 1 / (R g_unit).
  CHECK(xb.lowered.circuit.list<physlearn::circuits::Conductance>()[static_cast<std::size_t>(devices)].g == doctest::Approx(1.0 / (2.0 * 1e-4)));
}

TEST_CASE("crossbar: one device between two wire segments is the series formula") {
  // One input (no inverted copy), no hidden layer, one linear output, no bias: a single device
  // from the input source to the output, which is nudged by beta towards 0 V. With wires, the
  // device sits between a row segment and a column segment: g_eff = 1 / (1/g + 2/g_w (+ 1/g_a)).
  DrnParams p;
  p.inputs = 1;
  p.inverted_inputs = false;
  p.hidden = {};
  p.outputs = 1;
  p.biases = false;
  p.diode = "none";
  LayeredNetwork net = build_drn(p, 1);
  net.weights[0](0, 0) = 0.3;
  CrossbarParams params;
  params.wire_resistance = 1000.0;
  params.access_resistance = 2500.0;
  const double g_unit = 1e-4;
  LoweredCrossbar xb = lower_to_crossbar(net, params, g_unit);
  const double beta = 0.7;
  const int out = xb.lowered.layer_nodes[0][0];
  Eigen::MatrixXd x(1, 1);
  x(0, 0) = 1.5;
  xb.lowered.update(net, net.input_voltages(x).row(0));
  NewtonSolver newton(xb.lowered.circuit);
  const OperatingPoint op = newton.solve(xb.lowered.circuit, {{out, beta, 0.0}});
  const double g_wire = 1.0 / (1000.0 * g_unit), g_access = 1.0 / (2500.0 * g_unit);
  const double g_eff = 1.0 / (1.0 / 0.3 + 2.0 / g_wire + 1.0 / g_access);
  CHECK(op.voltages(out) == doctest::Approx(1.5 * g_eff / (g_eff + beta)).epsilon(1e-12));
  // The device's own drop: the current through the chain over the device conductance.
  const auto [a, b] = xb.device_nodes[0][0];
  const double current = g_eff * (1.5 - op.voltages(out));
  CHECK(op.voltages(a) - op.voltages(b) == doctest::Approx(current / 0.3).epsilon(1e-12));
}

TEST_CASE("crossbar: IR drop moves the neurons, and ngspice agrees on the netlist") {
  const LayeredNetwork net = small_network(5);
  CrossbarParams p;
  p.wire_resistance = 50.0;  // large, so that the IR drop is far above the tolerances
  p.access_resistance = 100.0;
  p.row_pairs = "interleaved";
  LoweredCrossbar xb = lower_to_crossbar(net, p, 1e-4);
  const OperatingPoint op = solve_crossbar(xb, net);
  const OperatingPoint spice = physlearn::solvers::ngspice_operating_point(xb.lowered.circuit);
  double worst = 0.0;
  for (int n = 0; n < xb.lowered.circuit.num_nodes(); ++n)
    worst = std::max(worst, std::abs(op.voltages(n) - spice.voltages(n)));
  MESSAGE("crossbar " << xb.lowered.circuit.num_nodes() << " nodes: max |v_newton - v_ngspice| = " << worst);
  // Ideal diodes are steep Shockley diodes in ngspice (forward drop about 1e-8 V).
  CHECK(worst < 1e-6);

  // Against the ideal-wire DRN, the wires change the neurons' potentials measurably.
  LoweredCrossbar ideal = lower_to_crossbar(net, CrossbarParams{}, 1e-4);
  const OperatingPoint op0 = solve_crossbar(ideal, net);
  double shift = 0.0;
  for (std::size_t i = 0; i < xb.lowered.layer_nodes[0].size(); ++i)
    shift = std::max(shift, std::abs(op.voltages(xb.lowered.layer_nodes[0][i]) -
                                     op0.voltages(ideal.lowered.layer_nodes[0][i])));
  CHECK(shift > 1e-3);
}

TEST_CASE("crossbar: bad parameters name their key") {
  const LayeredNetwork net = small_network(6);
  CrossbarParams p;
  p.wire_resistance = -1.0;
  try {
    lower_to_crossbar(net, p, 1e-4);
    FAIL("negative wire resistance accepted");
  } catch (const physlearn::ConfigError& e) {
    CHECK(std::string(e.what()).find("crossbar.wire_resistance") != std::string::npos);
  }
  p.wire_resistance = 1.0;
  CHECK_THROWS_AS(lower_to_crossbar(net, p, 0.0), physlearn::ConfigError);
  p.row_pairs = "diagonal";
  CHECK_THROWS_AS(lower_to_crossbar(net, p, 1e-4), physlearn::ConfigError);
}
