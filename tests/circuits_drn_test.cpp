// The deep resistive network (circuits/drn.h): its layered form (layer sizes with inverted input
// copies, diode polarities, parameter counts, initial conductances, input voltages, configuration
// rules) and its lowering to a general circuit (nodes, elements, names and orientation as
// documented), solved by Newton against KCL written by hand on a tiny network and against the
// layered coordinate-descent solution on a random one, free, nudged and clamped.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/error.h"
#include "core/schema.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"

using physlearn::ConfigError;
using physlearn::circuits::build_drn;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::DrnParams;
using physlearn::circuits::kGround;
using physlearn::circuits::LayeredNetwork;
using physlearn::circuits::lower_to_circuit;
using physlearn::circuits::LoweredNetwork;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::CoordinateDescentSolver;
using physlearn::solvers::LayeredState;
using physlearn::solvers::NewtonSolver;
using physlearn::solvers::Nudge;
using physlearn::solvers::OperatingPoint;
using physlearn::solvers::PhaseNudge;

namespace {

/// 3 inputs (6 sources with the inverted copies), hidden layers of 4 and 2, 3 outputs.
DrnParams three_layer_params() {
  DrnParams p;
  p.inputs = 3;
  p.hidden = {4, 2};
  p.outputs = 3;
  p.bias_init = 0.2;
  return p;
}

/// The ConfigError path of `action`'s exception ("" when it throws none).
template <class Action>
std::string config_error_path(Action action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.path();
  }
  return "";
}

/// Seeded inputs in [0, 1].
Eigen::MatrixXd inputs(Eigen::Index batch, Eigen::Index features, unsigned seed) {
  std::srand(seed);
  return (Eigen::MatrixXd::Random(batch, features).array() + 1.0) * 0.5;
}

/// The potentials of the lowered circuit's layer nodes, layer by layer (as LayeredState's rows).
std::vector<Eigen::RowVectorXd> layer_potentials(const LoweredNetwork& lowered,
                                                 const OperatingPoint& op) {
  std::vector<Eigen::RowVectorXd> out;
  for (const auto& nodes : lowered.layer_nodes) {
    Eigen::RowVectorXd v(static_cast<Eigen::Index>(nodes.size()));
    for (std::size_t i = 0; i < nodes.size(); ++i) v(static_cast<Eigen::Index>(i)) = op.voltages(nodes[i]);
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("drn: layer sizes, diode polarities and the parameter count, by hand") {
  /// sizes = [2 inputs (inverted copies), hidden..., outputs]; weights[l] is sizes[l] x
  /// sizes[l+1]; the first half of a hidden layer holds v >= 0 (+1), the second half v <= 0 (-1),
  /// the output layer has no diodes. Parameters: 6*4 + 4*2 + 2*3 = 38 conductances and
  /// 4 + 2 + 3 = 9 biases.
  const LayeredNetwork net = build_drn(three_layer_params(), 1);
  CHECK(net.sizes == std::vector<int>{6, 4, 2, 3});
  CHECK(physlearn::circuits::sizes_text(net.sizes) == "6-4-2-3");
  REQUIRE(net.num_weight_layers() == 3);
  CHECK(net.num_inputs() == 3);
  CHECK(net.num_outputs() == 3);
  for (int l = 0; l < 3; ++l) {
    CHECK(net.weights[l].rows() == net.sizes[l]);
    CHECK(net.weights[l].cols() == net.sizes[l + 1]);
    CHECK(net.biases[l].size() == net.sizes[l + 1]);
    CHECK(net.polarity[l].size() == net.sizes[l + 1]);
  }
  CHECK((net.polarity[0].cast<int>() == Eigen::Array4i(1, 1, -1, -1)).all());
  CHECK((net.polarity[1].cast<int>() == Eigen::Array2i(1, -1)).all());
  CHECK((net.polarity[2].cast<int>() == 0).all());
  CHECK(net.num_parameters() == 38 + 9);
  CHECK(net.inverted_inputs);
  CHECK(net.has_biases);
  CHECK(net.ideal_diodes);

  DrnParams p = three_layer_params();
  p.biases = false;
  p.inverted_inputs = false;
  p.diode = "none";
  p.hidden = {5};  // odd is fine without diodes
  const LayeredNetwork plain = build_drn(p, 1);
  CHECK(plain.sizes == std::vector<int>{3, 5, 3});
  CHECK(plain.num_parameters() == 3 * 5 + 5 * 3);
  CHECK_FALSE(plain.has_biases);
  CHECK((plain.polarity[0].cast<int>() == 0).all());
  for (const auto& b : plain.biases) CHECK((b.array() == 0.0).all());  // bias_init ignored

  p.diode = "shockley";
  p.hidden = {2};
  CHECK_FALSE(build_drn(p, 1).ideal_diodes);
  CHECK(physlearn::circuits::sizes_text({784}) == "784");
}

TEST_CASE("drn: initial conductances follow the chosen distribution, a seed repeats them") {
  /// clamped-kaiming: g = max(0, U(-s, s)), s = init_gain / sqrt(fan_in): in [0, s], half of them
  /// 0, mean s/4 (a 10000-draw layer: the mean's standard deviation is 0.0032 s). uniform:
  /// U(low, high), mean (low + high) / 2. Biases U(-bias_init, bias_init).
  DrnParams p;
  p.inputs = 100;  // 200 rows
  p.hidden = {50};
  p.outputs = 10;
  p.init_gain = 2.0;
  p.bias_init = 0.3;
  const LayeredNetwork net = build_drn(p, 42);
  const Eigen::MatrixXd& w = net.weights[0];
  const double s = 2.0 / std::sqrt(200.0);
  CHECK(w.minCoeff() == 0.0);
  CHECK(w.maxCoeff() <= s);
  CHECK(w.maxCoeff() > 0.99 * s);
  const double zeros = static_cast<double>((w.array() == 0.0).count()) / static_cast<double>(w.size());
  CHECK(zeros == doctest::Approx(0.5).epsilon(0.04));
  CHECK(w.mean() == doctest::Approx(s / 4.0).epsilon(0.07));
  CHECK(net.weights[1].maxCoeff() <= 2.0 / std::sqrt(50.0));  // fan_in of the output layer
  for (const auto& b : net.biases) {
    CHECK(b.cwiseAbs().maxCoeff() <= 0.3);
    CHECK(b.cwiseAbs().maxCoeff() > 0.2);
  }

  const LayeredNetwork again = build_drn(p, 42), other = build_drn(p, 43);
  for (int l = 0; l < 2; ++l) {
    CHECK(again.weights[l] == net.weights[l]);
    CHECK(again.biases[l] == net.biases[l]);
    CHECK(other.weights[l] != net.weights[l]);
  }

  p.init = "uniform";
  p.init_low = 0.01;
  p.init_high = 0.05;
  const LayeredNetwork uniform = build_drn(p, 7);
  CHECK(uniform.weights[0].minCoeff() >= 0.01);
  CHECK(uniform.weights[0].maxCoeff() <= 0.05);
  CHECK(uniform.weights[0].mean() == doctest::Approx(0.03).epsilon(0.02));
  p.init_low = p.init_high = 0.02;
  CHECK((build_drn(p, 7).weights[0].array() == 0.02).all());
}

TEST_CASE("drn: configuration rules name their key") {
  DrnParams p = three_layer_params();
  p.hidden = {4, 3};
  CHECK(config_error_path([&] { build_drn(p, 1); }) == "network.hidden[1]");
  p.hidden = {4};
  p.init = "uniform";
  p.init_low = 0.2;
  p.init_high = 0.1;
  CHECK(config_error_path([&] { build_drn(p, 1); }) == "network.init_high");

  /// The "network" section's schema: values are read into DrnParams; a value breaking its rule
  /// is a ConfigError at network.<key>.
  auto read = [](const nlohmann::json& j, DrnParams& into) {
    physlearn::Schema schema;
    describe(schema, into);
    schema.read(j, "network");
  };
  DrnParams q;
  read(nlohmann::json::parse(
           R"({"inputs": 4, "hidden": [6, 2], "outputs": 2, "diode": "none", "input_gain": 0.5,
               "inverted_inputs": false, "init": "uniform", "init_high": 0.1})"),
       q);
  CHECK(q.inputs == 4);
  CHECK(q.hidden == std::vector<int>{6, 2});
  CHECK(q.outputs == 2);
  CHECK(q.diode == "none");
  CHECK(q.input_gain == 0.5);
  CHECK_FALSE(q.inverted_inputs);
  CHECK(q.init == "uniform");
  CHECK(q.init_high == 0.1);
  DrnParams r;
  CHECK(config_error_path([&] { read({{"input_gain", 0.0}}, r); }) == "network.input_gain");
  CHECK(config_error_path([&] { read({{"diode", "zener"}}, r); }) == "network.diode");
  CHECK(config_error_path([&] { read({{"init", "normal"}}, r); }) == "network.init");
  CHECK(config_error_path([&] { read({{"inputs", 0}}, r); }) == "network.inputs");
  CHECK(config_error_path([&] { read({{"bias_init", -0.1}}, r); }) == "network.bias_init");
  CHECK(config_error_path([&] { read({{"diode_temperature", 0.0}}, r); }) ==
        "network.diode_temperature");
  CHECK(config_error_path([&] { read({{"hidden", {4, 0}}}, r); }).rfind("network.hidden", 0) == 0);
  CHECK(config_error_path([&] { read({{"layers", 2}}, r); }) == "network.layers");
}

TEST_CASE("drn: input voltages are gain [x, -x], or gain x without inverted copies") {
  DrnParams p = three_layer_params();
  p.input_gain = 2.5;
  const LayeredNetwork net = build_drn(p, 1);
  Eigen::MatrixXd x(2, 3);
  x << 0.1, -0.2, 1.0, 0.0, 0.5, 0.25;
  const Eigen::MatrixXd v = net.input_voltages(x);
  REQUIRE(v.rows() == 2);
  REQUIRE(v.cols() == 6);
  for (Eigen::Index b = 0; b < 2; ++b)
    for (Eigen::Index k = 0; k < 3; ++k) {
      CHECK(v(b, k) == 2.5 * x(b, k));
      CHECK(v(b, k + 3) == -(2.5 * x(b, k)));
    }
  p.inverted_inputs = false;
  const Eigen::MatrixXd direct = build_drn(p, 1).input_voltages(x);
  REQUIRE(direct.cols() == 3);
  CHECK(direct == 2.5 * x);
  // Inputs of another width are refused, naming both widths.
  const Eigen::MatrixXd narrow = Eigen::MatrixXd::Constant(1, 2, 0.5);
  CHECK_THROWS_WITH_AS(build_drn(p, 1).input_voltages(narrow),
                       doctest::Contains("2 input values per sample, the network takes 3"),
                       physlearn::Error);
  p.inverted_inputs = true;
  CHECK_THROWS_AS(build_drn(p, 1).input_voltages(narrow), physlearn::Error);
}

TEST_CASE("drn: the lowered circuit has a node per unit and every element, named and oriented") {
  /// Nodes in{k}, h{l}_{i} (l from 1), out{i}; sources V_in{k} from ground; conductances
  /// G{l}_{j}_{i} between unit j of layer l and unit i of layer l+1, all of them (zeros too),
  /// trainable; diodes D{l}_{i} to ground, a v >= 0 unit's from ground (anode) to the node
  /// (cathode), a v <= 0 unit's the other way; bias sources B{l}_{i} from ground into the node;
  /// with clamped outputs, V_clamp{i} holding out{i}.
  DrnParams p = three_layer_params();
  p.init_gain = 0.6;  // clamped-kaiming: some conductances are 0
  LayeredNetwork net = build_drn(p, 2);
  const LoweredNetwork lowered = lower_to_circuit(net);
  const Circuit& c = lowered.circuit;
  CHECK_NOTHROW(c.validate());
  REQUIRE(c.num_nodes() == 6 + 4 + 2 + 3);
  CHECK(c.node_names() == std::vector<std::string>{"in0", "in1", "in2", "in3", "in4", "in5",
                                                  "h1_0", "h1_1", "h1_2", "h1_3", "h2_0", "h2_1",
                                                  "out0", "out1", "out2"});
  REQUIRE(lowered.layer_nodes.size() == 3);
  CHECK(lowered.layer_nodes[0] == std::vector<int>{c.node("h1_0"), c.node("h1_1"), c.node("h1_2"),
                                                   c.node("h1_3")});
  CHECK(lowered.layer_nodes[1] == std::vector<int>{c.node("h2_0"), c.node("h2_1")});
  CHECK(lowered.layer_nodes[2] == std::vector<int>{c.node("out0"), c.node("out1"), c.node("out2")});
  std::vector<std::vector<int>> nodes = {{0, 1, 2, 3, 4, 5}};
  nodes.insert(nodes.end(), lowered.layer_nodes.begin(), lowered.layer_nodes.end());

  const auto& sources = c.list<VoltageSource>();
  REQUIRE(sources.size() == 6);
  REQUIRE(lowered.input_sources.size() == 6);
  for (int k = 0; k < 6; ++k) {
    const VoltageSource& v = sources[static_cast<std::size_t>(lowered.input_sources[static_cast<std::size_t>(k)])];
    CHECK(v.name == "V_in" + std::to_string(k));
    CHECK(v.plus == c.node("in" + std::to_string(k)));
    CHECK(v.minus == kGround);
  }

  const auto& g = c.list<Conductance>();
  REQUIRE(g.size() == 38);
  std::size_t e = 0;
  int zeros = 0;
  for (int l = 0; l < 3; ++l)
    for (int j = 0; j < net.sizes[l]; ++j)
      for (int i = 0; i < net.sizes[l + 1]; ++i, ++e) {
        CHECK(g[e].name == "G" + std::to_string(l) + "_" + std::to_string(j) + "_" + std::to_string(i));
        CHECK(g[e].a == nodes[l][j]);
        CHECK(g[e].b == nodes[l + 1][i]);
        CHECK(g[e].g == net.weights[l](j, i));
        CHECK(g[e].trainable);
        zeros += g[e].g == 0.0;
      }
  CHECK(zeros > 0);

  const auto& diodes = c.list<Diode>();
  REQUIRE(diodes.size() == 6);
  std::size_t d = 0;
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < net.sizes[l + 1]; ++i, ++d) {
      CHECK(diodes[d].name == "D" + std::to_string(l) + "_" + std::to_string(i));
      CHECK(diodes[d].model == DiodeModel::Ideal);
      const int node = nodes[l + 1][i];
      if (net.polarity[l](i) > 0) {
        CHECK(diodes[d].anode == kGround);
        CHECK(diodes[d].cathode == node);
      } else {
        CHECK(diodes[d].anode == node);
        CHECK(diodes[d].cathode == kGround);
      }
    }

  const auto& biases = c.list<CurrentSource>();
  REQUIRE(biases.size() == 9);
  REQUIRE(lowered.bias_sources.size() == 9);
  std::size_t b = 0;
  for (int l = 0; l < 3; ++l)
    for (int i = 0; i < net.sizes[l + 1]; ++i, ++b) {
      const CurrentSource& s = biases[static_cast<std::size_t>(lowered.bias_sources[b])];
      CHECK(s.name == "B" + std::to_string(l) + "_" + std::to_string(i));
      CHECK(s.from == kGround);
      CHECK(s.to == nodes[l + 1][i]);
      CHECK(s.amps == net.biases[l](i));
      CHECK(s.trainable);
    }
  CHECK(lowered.clamp_sources.empty());

  const LoweredNetwork clamped = lower_to_circuit(net, true);
  REQUIRE(clamped.clamp_sources.size() == 3);
  for (int i = 0; i < 3; ++i) {
    const VoltageSource& v =
        clamped.circuit.list<VoltageSource>()[static_cast<std::size_t>(clamped.clamp_sources[static_cast<std::size_t>(i)])];
    CHECK(v.name == "V_clamp" + std::to_string(i));
    CHECK(v.plus == clamped.circuit.node("out" + std::to_string(i)));
    CHECK(v.minus == kGround);
    CHECK(v.volts == 0.0);
  }

  // Without biases there are no bias sources; Shockley diodes carry the network's parameters.
  p.biases = false;
  p.diode = "shockley";
  p.diode_saturation_current = 3e-12;
  p.diode_emission = 1.7;
  p.diode_temperature = 320.0;
  const LoweredNetwork soft = lower_to_circuit(build_drn(p, 2));
  CHECK(soft.circuit.list<CurrentSource>().empty());
  CHECK(soft.bias_sources.empty());
  REQUIRE(soft.circuit.list<Diode>().size() == 6);
  for (const Diode& sd : soft.circuit.list<Diode>()) {
    CHECK(sd.model == DiodeModel::Shockley);
    CHECK(sd.saturation_current == 3e-12);
    CHECK(sd.emission == 1.7);
    CHECK(sd.temperature == 320.0);
  }
}

TEST_CASE("drn: update carries inputs, conductances and biases into the lowered circuit") {
  LayeredNetwork net = build_drn(three_layer_params(), 3);
  LoweredNetwork lowered = lower_to_circuit(net);
  for (auto& w : net.weights) w.array() += 0.125;
  for (auto& b : net.biases) b.array() -= 0.5;
  Eigen::RowVectorXd v(6);
  v << 0.5, -1.0, 2.0, -0.5, 1.0, -2.0;
  lowered.update(net, v);
  const Circuit& c = lowered.circuit;
  for (int k = 0; k < 6; ++k)
    CHECK(c.list<VoltageSource>()[static_cast<std::size_t>(lowered.input_sources[static_cast<std::size_t>(k)])].volts == v(k));
  std::size_t e = 0, b = 0;
  for (int l = 0; l < 3; ++l) {
    for (int j = 0; j < net.sizes[l]; ++j)
      for (int i = 0; i < net.sizes[l + 1]; ++i) CHECK(c.list<Conductance>()[e++].g == net.weights[l](j, i));
    for (int i = 0; i < net.sizes[l + 1]; ++i)
      CHECK(c.list<CurrentSource>()[static_cast<std::size_t>(lowered.bias_sources[b++])].amps == net.biases[l](i));
  }
}

TEST_CASE("drn: a tiny lowered network satisfies KCL written by hand, diodes open and clamping") {
  /// One input x (sources +x and -x), hidden units h0 (v >= 0) and h1 (v <= 0), one output o:
  ///   W0 = [[1, 0.25], [0.5, 1]] (rows: +x, -x; columns: h0, h1), W1 = [0.5, 0.5]^T,
  ///   biases b_h = [0.15, -0.05], b_o = 0.1.
  /// KCL with both diodes open:
  ///   h0: 1 (x - h0) + 0.5 (-x - h0) + 0.5 (o - h0) + 0.15 = 0
  ///   h1: 0.25 (x - h1) + 1 (-x - h1) + 0.5 (o - h1) - 0.05 = 0
  ///   o:  0.5 (h0 - o) + 0.5 (h1 - o) + 0.1 = 0
  /// For x = 1 this gives h0 > 0 > h1 (both open, consistent). For x = -0.3 the open solution
  /// has h1 > 0: h1's diode clamps it to 0 and carries, from h1 to ground, the current the rest
  /// delivers there, 0.25 (x - 0) + (-x - 0) + 0.5 (o - 0) - 0.05 > 0; h0 and o then follow the
  /// first and third rows with h1 = 0.
  DrnParams p;
  p.inputs = 1;
  p.hidden = {2};
  p.outputs = 1;
  LayeredNetwork net = build_drn(p, 1);
  net.weights[0] << 1.0, 0.25, 0.5, 1.0;
  net.weights[1] << 0.5, 0.5;
  net.biases[0] << 0.15, -0.05;
  net.biases[1] << 0.1;
  LoweredNetwork lowered = lower_to_circuit(net);
  const Circuit& c = lowered.circuit;
  const int h0 = c.node("h1_0"), h1 = c.node("h1_1"), o = c.node("out0");

  SUBCASE("x = 1: both diodes open") {
    const double x = 1.0;
    Eigen::Matrix3d a;  // unknowns h0, h1, o
    a << 2.0, 0.0, -0.5, 0.0, 1.75, -0.5, -0.5, -0.5, 1.0;
    const Eigen::Vector3d rhs(1.0 * x - 0.5 * x + 0.15, 0.25 * x - x - 0.05, 0.1);
    const Eigen::Vector3d hand = a.fullPivLu().solve(rhs);
    REQUIRE(hand(0) > 0.0);
    REQUIRE(hand(1) < 0.0);
    lowered.update(net, net.input_voltages(Eigen::MatrixXd::Constant(1, 1, x)).row(0));
    NewtonSolver newton(lowered.circuit);
    const OperatingPoint op = newton.solve(lowered.circuit);
    CHECK(op.voltages(h0) == doctest::Approx(hand(0)).epsilon(1e-12));
    CHECK(op.voltages(h1) == doctest::Approx(hand(1)).epsilon(1e-12));
    CHECK(op.voltages(o) == doctest::Approx(hand(2)).epsilon(1e-12));
    CHECK(std::abs(op.current(c, "D0_0")) < 1e-12);
    CHECK(std::abs(op.current(c, "D0_1")) < 1e-12);
  }
  SUBCASE("x = -0.3: h1 clamped at 0 V by its diode") {
    const double x = -0.3;
    Eigen::Matrix2d a;  // unknowns h0, o (h1 = 0)
    a << 2.0, -0.5, -0.5, 1.0;
    const Eigen::Vector2d rhs(1.0 * x - 0.5 * x + 0.15, 0.1);
    const Eigen::Vector2d hand = a.fullPivLu().solve(rhs);
    REQUIRE(hand(0) > 0.0);
    const double diode_current = 0.25 * x - x + 0.5 * hand(1) - 0.05;
    REQUIRE(diode_current > 0.0);
    lowered.update(net, net.input_voltages(Eigen::MatrixXd::Constant(1, 1, x)).row(0));
    NewtonSolver newton(lowered.circuit);
    const OperatingPoint op = newton.solve(lowered.circuit);
    CHECK(op.voltages(h0) == doctest::Approx(hand(0)).epsilon(1e-12));
    CHECK(std::abs(op.voltages(h1)) < 1e-12);
    CHECK(op.voltages(o) == doctest::Approx(hand(1)).epsilon(1e-12));
    // The diode from h1 (anode) to ground carries what KCL leaves over at h1.
    CHECK(op.current(c, "D0_1") == doctest::Approx(diode_current).epsilon(1e-12));
    CHECK(std::abs(op.current(c, "D0_0")) < 1e-12);
  }
}

TEST_CASE("drn: Newton on the lowered circuit equals layered coordinate descent") {
  /// Two solvers that share no code: Newton's MNA on the lowered circuit and the layered exact
  /// block coordinate descent (solvers/coordinate_descent.h) on the layered form, for a 5-6-4-3
  /// network (10 input sources) with biases and ideal diodes: free, with EP's nudge
  /// beta (y - o) at the outputs, and with the outputs clamped by V_clamp sources. Every unit's
  /// potential agrees to 1e-9 V.
  DrnParams p;
  p.inputs = 5;
  p.input_gain = 2.0;
  p.hidden = {6, 4};
  p.outputs = 3;
  p.bias_init = 0.2;
  const LayeredNetwork net = build_drn(p, 11);
  const Eigen::Index batch = 3;
  const Eigen::MatrixXd v = net.input_voltages(inputs(batch, 5, 4));
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(batch, 3);
  for (Eigen::Index b = 0; b < batch; ++b) y(b, b % 3) = 1.0;
  const double beta = 0.4;
  CoordinateDescentSolver layered(1, 1e-13, 1000000);
  layered.set_inputs(net, v);

  LoweredNetwork free_circuit = lower_to_circuit(net);
  NewtonSolver free_newton(free_circuit.circuit);
  LoweredNetwork clamped_circuit = lower_to_circuit(net, true);
  NewtonSolver clamped_newton(clamped_circuit.circuit);
  const Eigen::MatrixXd clamp = 0.7 * y;

  LayeredState free_state = LayeredState::zeros(net, batch);
  LayeredState nudged_state = LayeredState::zeros(net, batch);
  LayeredState clamped_state = LayeredState::zeros(net, batch);
  layered.relax(net, PhaseNudge::free(), free_state);
  layered.relax(net, PhaseNudge::nudge(beta, y), nudged_state);
  layered.relax(net, PhaseNudge::clamped(clamp), clamped_state);
  int diodes_on = 0;
  for (Eigen::Index b = 0; b < batch; ++b) {
    CAPTURE(b);
    free_circuit.update(net, v.row(b));
    const OperatingPoint free_op = free_newton.solve(free_circuit.circuit);
    std::vector<Nudge> nudges;
    for (int i = 0; i < 3; ++i)
      nudges.push_back({free_circuit.layer_nodes.back()[static_cast<std::size_t>(i)], beta, y(b, i)});
    const OperatingPoint nudged_op = free_newton.solve(free_circuit.circuit, nudges);
    clamped_circuit.update(net, v.row(b));
    for (int i = 0; i < 3; ++i)
      clamped_circuit.circuit.list<VoltageSource>()[static_cast<std::size_t>(clamped_circuit.clamp_sources[static_cast<std::size_t>(i)])].volts =
          clamp(b, i);
    const OperatingPoint clamped_op = clamped_newton.solve(clamped_circuit.circuit);

    const auto free_v = layer_potentials(free_circuit, free_op);
    const auto nudged_v = layer_potentials(free_circuit, nudged_op);
    const auto clamped_v = layer_potentials(clamped_circuit, clamped_op);
    for (std::size_t l = 0; l < free_v.size(); ++l) {
      CAPTURE(l);
      CHECK((free_v[l] - free_state.layers[l].row(b)).cwiseAbs().maxCoeff() < 1e-9);
      CHECK((nudged_v[l] - nudged_state.layers[l].row(b)).cwiseAbs().maxCoeff() < 1e-9);
      CHECK((clamped_v[l] - clamped_state.layers[l].row(b)).cwiseAbs().maxCoeff() < 1e-9);
      if (l + 1 < free_v.size()) diodes_on += static_cast<int>((free_v[l].array().abs() < 1e-12).count());
    }
    CHECK((clamped_v.back() - clamp.row(b)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((nudged_v.back() - free_v.back()).cwiseAbs().maxCoeff() > 1e-3);  // the nudge moved them
  }
  CHECK(diodes_on > 0);  // some hidden units sit on their diode: the nonlinearity is exercised
}
