// Crossbar circuits (circuits/crossbar.h) solved by Newton: the ideal-wire crossbar is the DRN
// (the same solution as layered coordinate descent, and the same circuit element for element),
// a single device with wires against the series formula, a 4-row crossbar with wires and access
// resistors against its nodal equations written from the documented layout (blocked and
// interleaved rows), a crossbar with IR drop against ngspice on the exported netlist, tiles
// (counts, and one-row tiles as independent series paths), and configuration errors.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "circuits/circuit_json.h"
#include "circuits/crossbar.h"
#include "circuits/drn.h"
#include "core/error.h"
#include "core/schema.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers/ngspice.h"
#include "solvers_support.h"

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
  const LayeredNetwork net = solvers_test::one_device(0.3);
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
  p.row_pairs = "blocked";
  p.tile_rows = -2;
  CHECK_THROWS_WITH_AS(lower_to_crossbar(net, p, 1e-4), doctest::Contains("crossbar.tile_rows: -2"),
                       physlearn::ConfigError);
  p.tile_rows = 0;
  p.tile_cols = -1;
  CHECK_THROWS_WITH_AS(lower_to_crossbar(net, p, 1e-4), doctest::Contains("crossbar.tile_cols: -1"),
                       physlearn::ConfigError);
  p.tile_cols = 0;
  p.summing_resistance = -5.0;
  CHECK_THROWS_WITH_AS(lower_to_crossbar(net, p, 1e-4),
                       doctest::Contains("crossbar.summing_resistance: -5"), physlearn::ConfigError);
}

namespace {

/// The ConfigError path of `action`'s exception ("" when it throws none).
template <class Action>
std::string crossbar_error_path(Action action) {
  try {
    action();
  } catch (const physlearn::ConfigError& e) {
    return e.path();
  }
  return "";
}

/// A linear network with no hidden layer: inputs (with inverted copies) straight to one output,
/// no diodes, no biases; weights[0](j, 0) = g[j].
LayeredNetwork single_column(const std::vector<double>& g) {
  DrnParams p;
  p.inputs = static_cast<int>(g.size()) / 2;
  p.hidden = {};
  p.outputs = 1;
  p.biases = false;
  p.diode = "none";
  LayeredNetwork net = build_drn(p, 1);
  for (std::size_t j = 0; j < g.size(); ++j) net.weights[0](static_cast<Eigen::Index>(j), 0) = g[j];
  return net;
}

}  // namespace

TEST_CASE("crossbar: with both resistances zero the circuit is the DRN's, element for element") {
  /// No wire nodes, no access resistors: the same nodes and elements as lower_to_circuit (their
  /// JSON forms are equal), with and without output clamps, and each device's nodes are its DRN
  /// conductance's.
  const LayeredNetwork net = small_network(7);
  for (bool clamp : {false, true}) {
    CAPTURE(clamp);
    const LoweredCrossbar xb = lower_to_crossbar(net, CrossbarParams{}, 1e-4, clamp);
    const physlearn::circuits::LoweredNetwork drn = physlearn::circuits::lower_to_circuit(net, clamp);
    CHECK(physlearn::circuits::circuit_to_json(xb.lowered.circuit) ==
          physlearn::circuits::circuit_to_json(drn.circuit));
    CHECK(xb.lowered.layer_nodes == drn.layer_nodes);
    CHECK(xb.lowered.clamp_sources == drn.clamp_sources);
    REQUIRE(xb.device_nodes.size() == 2);
    std::size_t e = 0;
    for (const auto& layer : xb.device_nodes)
      for (const auto& [row, column] : layer) {
        const auto& g = drn.circuit.list<physlearn::circuits::Conductance>()[e++];
        CHECK(row == g.a);
        CHECK(column == g.b);
      }
    CHECK(e == drn.circuit.list<physlearn::circuits::Conductance>().size());
  }
}

TEST_CASE("crossbar: a 4-row column with wires and access resistors solves as its nodal equations") {
  /// Inputs x0 = 1.5, x1 = -0.4 with inverted copies drive rows j = 0..3 at V = [x0, x1, -x0,
  /// -x1] through devices g = [0.3, 0.7, 0.2, 0.5] into one output, nudged by beta = 0.7 towards
  /// 0 V. Physical row p holds DRN row j: blocked p = j; interleaved p = 0, 2, 1, 3 for j = 0..3
  /// (x0, -x0, x1, -x1). From the layout of circuits/crossbar.h, per physical row p:
  ///   V_j --g_w-- r(p) --g_a-- m(p) --g_j-- c(p),   c(p) --g_w-- c(p+1),   c(3) --g_w-- out,
  /// with g_w = 1 / (1000 ohm * 1e-4 S) = 10, g_a = 1 / (2500 ohm * 1e-4 S) = 4 network units.
  /// The 13 node equations (r, m, c per row, then out) are assembled here from that edge list and
  /// solved; every node voltage (found by the documented names X0_r{p}_0, X0_m{p}_0, X0_c{p}_0)
  /// and every device's drop must agree to 1e-12 V.
  const std::vector<double> g = {0.3, 0.7, 0.2, 0.5};
  const LayeredNetwork net = single_column(g);
  REQUIRE(net.sizes == std::vector<int>{4, 1});
  Eigen::MatrixXd x(1, 2);
  x << 1.5, -0.4;
  const Eigen::RowVectorXd drive = net.input_voltages(x).row(0);
  const double g_w = 10.0, g_a = 4.0, beta = 0.7;
  std::map<std::string, double> out_voltage;
  for (const std::string layout : {"blocked", "interleaved"}) {
    CAPTURE(layout);
    const std::vector<int> row_of = layout == "blocked" ? std::vector<int>{0, 1, 2, 3}
                                                        : std::vector<int>{0, 2, 1, 3};  // p of j
    // Unknowns: r(p) = p, m(p) = 4 + p, c(p) = 8 + p, out = 12.
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(13, 13);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(13);
    auto edge = [&](int u, int v, double conductance) {
      a(u, u) += conductance;
      a(v, v) += conductance;
      a(u, v) -= conductance;
      a(v, u) -= conductance;
    };
    for (int j = 0; j < 4; ++j) {
      const int p = row_of[static_cast<std::size_t>(j)];
      a(p, p) += g_w;  // the driver's wire segment, from a source at V_j
      rhs(p) += g_w * drive(j);
      edge(p, 4 + p, g_a);
      edge(4 + p, 8 + p, g[static_cast<std::size_t>(j)]);
    }
    for (int p = 0; p < 4; ++p) edge(8 + p, p == 3 ? 12 : 9 + p, g_w);
    a(12, 12) += beta;
    const Eigen::VectorXd hand = a.fullPivLu().solve(rhs);

    CrossbarParams params;
    params.wire_resistance = 1000.0;
    params.access_resistance = 2500.0;
    params.row_pairs = layout;
    LoweredCrossbar xb = lower_to_crossbar(net, params, 1e-4);
    CHECK(xb.num_wire_segments == 8);
    CHECK(xb.num_access_resistors == 4);
    xb.lowered.update(net, drive);
    const physlearn::circuits::Circuit& c = xb.lowered.circuit;
    NewtonSolver newton(c);
    const int out = xb.lowered.layer_nodes[0][0];
    const OperatingPoint op = newton.solve(c, {{out, beta, 0.0}});
    CHECK(op.voltages(out) == doctest::Approx(hand(12)).epsilon(1e-12));
    for (int p = 0; p < 4; ++p) {
      CAPTURE(p);
      const std::string cell = std::to_string(p) + "_0";
      CHECK(op.voltages(c.node("X0_r" + cell)) == doctest::Approx(hand(p)).epsilon(1e-12));
      CHECK(op.voltages(c.node("X0_m" + cell)) == doctest::Approx(hand(4 + p)).epsilon(1e-12));
      CHECK(op.voltages(c.node("X0_c" + cell)) == doctest::Approx(hand(8 + p)).epsilon(1e-12));
    }
    for (int j = 0; j < 4; ++j) {
      CAPTURE(j);
      const int p = row_of[static_cast<std::size_t>(j)];
      const auto [row_side, column_side] = xb.device_nodes[0][static_cast<std::size_t>(j)];
      CHECK(row_side == c.node("X0_m" + std::to_string(p) + "_0"));
      CHECK(column_side == c.node("X0_c" + std::to_string(p) + "_0"));
      CHECK(op.voltages(row_side) - op.voltages(column_side) ==
            doctest::Approx(hand(4 + p) - hand(8 + p)).epsilon(1e-12));
    }
    out_voltage[layout] = op.voltages(out);
  }
  // The layout changes which device sees which wire length, so the output moves.
  CHECK(std::abs(out_voltage["blocked"] - out_voltage["interleaved"]) > 1e-6);
}

TEST_CASE("crossbar: access resistors alone sit between each driver and its device") {
  /// Without wire resistance there are no wire nodes: device (j, i) runs from its access node
  /// X0_m{j}_{i} to the neuron, and the access resistor X0_A{j}_{i} of 1 / (R g_unit) from the
  /// driver to that node.
  const LayeredNetwork net = small_network(8);
  CrossbarParams p;
  p.access_resistance = 200.0;
  const LoweredCrossbar xb = lower_to_crossbar(net, p, 2e-4);
  const physlearn::circuits::LoweredNetwork drn = physlearn::circuits::lower_to_circuit(net);
  const auto& conductances = xb.lowered.circuit.list<physlearn::circuits::Conductance>();
  const auto& drn_conductances = drn.circuit.list<physlearn::circuits::Conductance>();
  const int devices = 10 * 4 + 4 * 3;
  CHECK(xb.num_wire_segments == 0);
  CHECK(xb.num_access_resistors == devices);
  REQUIRE(conductances.size() == static_cast<std::size_t>(2 * devices));
  CHECK(xb.lowered.circuit.num_nodes() == drn.circuit.num_nodes() + devices);
  std::map<std::string, const physlearn::circuits::Conductance*> by_name;
  for (const auto& g : conductances) by_name[g.name] = &g;
  std::size_t e = 0;
  for (int l = 0; l < 2; ++l)
    for (int j = 0; j < net.sizes[l]; ++j)
      for (int i = 0; i < net.sizes[l + 1]; ++i, ++e) {
        const std::string cell = std::to_string(l) + "_" + std::to_string(j) + "_" + std::to_string(i);
        CAPTURE(cell);
        const std::string tag = "X" + std::to_string(l) + "_";
        const int mid = xb.lowered.circuit.node(tag + "m" + std::to_string(j) + "_" + std::to_string(i));
        CHECK(conductances[e].name == drn_conductances[e].name);
        CHECK(conductances[e].a == mid);
        CHECK(conductances[e].b == drn_conductances[e].b);
        const auto* access = by_name.at(tag + "A" + std::to_string(j) + "_" + std::to_string(i));
        CHECK(access->a == drn_conductances[e].a);
        CHECK(access->b == mid);
        CHECK(access->g == doctest::Approx(1.0 / (200.0 * 2e-4)).epsilon(1e-15));
        CHECK_FALSE(access->trainable);
      }
}

TEST_CASE("crossbar: the section's rules and non-finite values name their key") {
  /// describe(): wire and access resistances and g_unit >= 0, row_pairs and solver from their
  /// lists; lower_to_crossbar refuses NaN and infinite resistances and a g_unit that is not a
  /// finite positive number.
  auto read = [](const nlohmann::json& j) {
    CrossbarParams p;
    physlearn::Schema schema;
    describe(schema, p);
    schema.read(j, "crossbar");
    return p;
  };
  const CrossbarParams ok = read({{"wire_resistance", 2.5}, {"access_resistance", 100.0},
                                  {"g_unit", 1e-5}, {"row_pairs", "interleaved"},
                                  {"solver", "newton"}});
  CHECK(ok.wire_resistance == 2.5);
  CHECK(ok.access_resistance == 100.0);
  CHECK(ok.g_unit == 1e-5);
  CHECK(ok.row_pairs == "interleaved");
  CHECK(ok.solver == "newton");
  CHECK(crossbar_error_path([&] { read({{"wire_resistance", -1.0}}); }) == "crossbar.wire_resistance");
  CHECK(crossbar_error_path([&] { read({{"access_resistance", -1.0}}); }) ==
        "crossbar.access_resistance");
  CHECK(crossbar_error_path([&] { read({{"g_unit", -1e-4}}); }) == "crossbar.g_unit");
  CHECK(crossbar_error_path([&] { read({{"row_pairs", "diagonal"}}); }) == "crossbar.row_pairs");
  CHECK(crossbar_error_path([&] { read({{"solver", "spice"}}); }) == "crossbar.solver");

  const LayeredNetwork net = small_network(9);
  const double nan = std::nan(""), inf = HUGE_VAL;
  CrossbarParams p;
  p.wire_resistance = nan;
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, 1e-4); }) == "crossbar.wire_resistance");
  p.wire_resistance = inf;
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, 1e-4); }) == "crossbar.wire_resistance");
  p.wire_resistance = 0.0;
  p.access_resistance = nan;
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, 1e-4); }) == "crossbar.access_resistance");
  p.access_resistance = -2.0;
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, 1e-4); }) == "crossbar.access_resistance");
  p.access_resistance = 0.0;
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, nan); }) == "crossbar.g_unit");
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, inf); }) == "crossbar.g_unit");
  CHECK(crossbar_error_path([&] { lower_to_crossbar(net, p, -1e-4); }) == "crossbar.g_unit");
}

TEST_CASE("crossbar: tiles split a layer into arrays with their own wires, counted per layer") {
  /// small_network: 10 rows x 4 columns, then 4 x 3. Tiles of 4 rows x 3 columns: layer 0 has
  /// 3 row blocks x 2 column blocks, layer 1 one tile. Every cell keeps one row and one column
  /// segment; what changes is where they end: each tile row starts at its driver (rows x column
  /// blocks segments leave the drivers) and each tile column ends at its neuron (columns x row
  /// blocks segments reach the neurons).
  const LayeredNetwork net = small_network(4);
  CrossbarParams p;
  p.wire_resistance = 2.0;
  p.tile_rows = 4;
  p.tile_cols = 3;
  const LoweredCrossbar xb = lower_to_crossbar(net, p, 1e-4);
  CHECK(xb.tiles == std::vector<int>{6, 1});
  CHECK(xb.num_wire_segments == 2 * (10 * 4 + 4 * 3));
  CHECK(xb.num_summing_resistors == 0);
  const auto& gs = xb.lowered.circuit.list<physlearn::circuits::Conductance>();
  std::map<int, int> touching;  // segments per driver or neuron node of layer 0
  for (const auto& g : gs)
    if (!g.trainable) {
      ++touching[g.a];
      ++touching[g.b];
    }
  const auto& inputs = xb.lowered.input_sources;
  for (int src : inputs) {
    const int node = xb.lowered.circuit.list<physlearn::circuits::VoltageSource>()[static_cast<std::size_t>(src)].plus;
    CHECK(touching[node] == 2);  // one first segment per column block
  }
  /// A hidden neuron: 3 row blocks' last column segments in, 1 first row segment of layer 1 out.
  for (int node : xb.lowered.layer_nodes[0]) CHECK(touching[node] == 3 + 1);
  /// Summing resistors: one per tile column, between its own end node and the neuron.
  p.summing_resistance = 50.0;
  const LoweredCrossbar summed = lower_to_crossbar(net, p, 1e-4);
  CHECK(summed.num_summing_resistors == 3 * 4 + 1 * 3);
  CHECK(summed.lowered.circuit.num_nodes() == xb.lowered.circuit.num_nodes() + 3 * 4 + 3);
}

TEST_CASE("crossbar: tiles of one row make independent paths to the neuron, with summing resistors") {
  /// One column of two devices g1 (input V1) and g2 (input -V1 = V2), linear output o, no bias.
  /// Untiled, both devices share the column wire below row 0; with tile_rows 1 each device has
  /// its own row segment and its own last column segment to the neuron (and, with a summing
  /// resistance, its own resistor): two independent series paths, so the free output is the
  /// weighted mean o = sum g_k V_k / sum g_k with g_k = 1 / (1/g_k + 2/g_w + 1/g_s).
  const std::vector<double> g = {0.4, 0.15};
  const LayeredNetwork net = single_column(g);
  const double g_unit = 1e-4;
  for (const double summing : {0.0, 800.0}) {
    CAPTURE(summing);
    CrossbarParams p;
    p.wire_resistance = 1000.0;
    p.tile_rows = 1;
    p.summing_resistance = summing;
    LoweredCrossbar xb = lower_to_crossbar(net, p, g_unit);
    CHECK(xb.tiles == std::vector<int>{2});
    Eigen::MatrixXd x(1, 1);
    x(0, 0) = 0.9;
    const Eigen::RowVectorXd v = net.input_voltages(x).row(0);
    xb.lowered.update(net, v);
    NewtonSolver newton(xb.lowered.circuit);
    const OperatingPoint op = newton.solve(xb.lowered.circuit, {});
    const double g_wire = 1.0 / (1000.0 * g_unit);
    const double series = 2.0 / g_wire + (summing > 0.0 ? summing * g_unit : 0.0);
    double num = 0.0, den = 0.0;
    for (std::size_t k = 0; k < 2; ++k) {
      const double eff = 1.0 / (1.0 / g[k] + series);
      num += eff * v(static_cast<Eigen::Index>(k));
      den += eff;
    }
    CHECK(op.voltages(xb.lowered.layer_nodes[0][0]) == doctest::Approx(num / den).epsilon(1e-12));
  }
}
