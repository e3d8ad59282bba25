// One training sample on an experiment's initial network (orchestration/sample.h), on
// experiments/xor.json: the network at its seeded, clamped conductances; the sample's inputs,
// source voltages input_gain [x, -x] and one-hot target against XOR's truth table and the
// dataset read on its own; the lowered circuit; sample_netlist's text read back; errors.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/voltage_source.h"
#include "circuits/spice.h"
#include "core/error.h"
#include "data/dataset.h"
#include "orchestration/sample.h"
#include "orchestration_support.h"

using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::xor_experiment;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const circuits::Conductance* find_conductance(const circuits::Circuit& c, const std::string& name) {
  for (const auto& g : c.list<circuits::Conductance>())
    if (g.name == name) return &g;
  return nullptr;
}

const circuits::VoltageSource* find_source(const circuits::Circuit& c, const std::string& name) {
  for (const auto& v : c.list<circuits::VoltageSource>())
    if (v.name == name) return &v;
  return nullptr;
}

}  // namespace

TEST_CASE("initial_sample: each XOR point's inputs, source voltages and one-hot target") {
  const ExperimentConfig config = xor_experiment(1);
  /// The training set read on its own, and XOR's truth table by hand, in file order.
  const data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  const double points[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  const int labels[4] = {0, 1, 1, 0};
  for (int k = 0; k < 4; ++k) {
    CAPTURE(k);
    const InitialSample s = initial_sample(config, k, "test");
    CHECK(s.index == k);
    CHECK(s.label == labels[k]);
    CHECK(s.label == split.train.labels[static_cast<std::size_t>(k)]);
    REQUIRE(s.inputs.rows() == 1);
    REQUIRE(s.inputs.cols() == 2);
    for (int f = 0; f < 2; ++f) {
      CHECK(s.inputs(0, f) == points[k][f]);
      CHECK(s.inputs(0, f) == static_cast<double>(split.train.inputs(k, f)));
    }
    /// xor.json: input_gain 5 with inverted copies, so the sources are 5 [x0, x1, -x0, -x1].
    REQUIRE(s.voltages.rows() == 1);
    REQUIRE(s.voltages.cols() == 4);
    const double expected[4] = {5 * points[k][0], 5 * points[k][1], -5 * points[k][0],
                                -5 * points[k][1]};
    for (int j = 0; j < 4; ++j) CHECK(s.voltages(0, j) == expected[j]);
    /// The one-hot target of the label.
    REQUIRE(s.target.rows() == 1);
    REQUIRE(s.target.cols() == 2);
    CHECK(s.target(0, labels[k]) == 1.0);
    CHECK(s.target(0, 1 - labels[k]) == 0.0);
  }
}

TEST_CASE("initial_sample: the network is the seeded DRN with conductances clamped to [g_min, g_max]") {
  /// Bounds inside xor.json's init range U(0.1, 1), so some conductances are clamped both ways.
  const ExperimentConfig config = xor_experiment(1, {"learning.g_min=0.3", "learning.g_max=0.8"});
  const InitialSample s = initial_sample(config, 3, "test");
  const circuits::LayeredNetwork raw =
      circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  CHECK(s.net.sizes == std::vector<int>{4, 16, 2});
  REQUIRE(s.net.weights.size() == raw.weights.size());
  int below = 0, above = 0;
  for (std::size_t l = 0; l < raw.weights.size(); ++l) {
    const Eigen::MatrixXd& w = raw.weights[l];
    REQUIRE(s.net.weights[l].rows() == w.rows());
    REQUIRE(s.net.weights[l].cols() == w.cols());
    for (Eigen::Index i = 0; i < w.size(); ++i) {
      const double g = w.data()[i];
      below += g < 0.3;
      above += g > 0.8;
      CHECK(s.net.weights[l].data()[i] == std::min(std::max(g, 0.3), 0.8));
    }
  }
  CHECK(below > 0);
  CHECK(above > 0);
  /// Another seed, another network: the seed is the experiment's.
  const InitialSample other = initial_sample(xor_experiment(1, {"seed=2"}), 3, "test");
  CHECK(other.net.weights[0] != initial_sample(xor_experiment(1), 3, "test").net.weights[0]);
}

TEST_CASE("InitialSample::lowered: the circuit holds the sample's source voltages and conductances") {
  const InitialSample s = initial_sample(xor_experiment(1), 2, "test");  // the point (1, 0)
  const circuits::LoweredNetwork lowered = s.lowered();
  const auto& sources = lowered.circuit.list<circuits::VoltageSource>();
  REQUIRE(lowered.input_sources.size() == 4);
  const double expected[4] = {5.0, 0.0, -5.0, 0.0};
  for (std::size_t j = 0; j < 4; ++j)
    CHECK(sources[static_cast<std::size_t>(lowered.input_sources[j])].volts == expected[j]);
  /// Conductance G{l}_{j}_{i} is weights[l](j, i).
  const circuits::Conductance* g = find_conductance(lowered.circuit, "G1_3_1");
  REQUIRE(g != nullptr);
  CHECK(g->g == s.net.weights[1](3, 1));
  CHECK(g->a == lowered.layer_nodes[0][3]);
  CHECK(g->b == lowered.layer_nodes[1][1]);
}

TEST_CASE("sample_netlist: the nudged phase adds a conductance beta to a source at each one-hot target") {
  const ExperimentConfig config = xor_experiment(1, {"learning.beta=0.25"});
  const std::string nudged = sample_netlist(config, "experiments/xor.json", 2, "nudged");
  /// The comments name the experiment, its file, the sample, its label (XOR (1, 0): 1), the phase
  /// and the nudge.
  CHECK(nudged.rfind("physlearn export-spice: xor, training sample 2, nudged phase\n", 0) == 0);
  CHECK(contains(nudged, "* experiment xor (experiments/xor.json), seed 1, initial conductances\n"));
  CHECK(contains(nudged, "* training sample 2, label 1; nudged phase\n"));
  CHECK(contains(nudged, "* nudge: beta = 0.25 S from each output to a source at its one-hot target"));
  CHECK(contains(nudged, "* outputs: out0 out1\n"));
  /// Read back by the SPICE reader: a resistor of 1 / beta = 4 ohms from each output to its
  /// target node, held by a source at the one-hot label (0 V for out0, 1 V for out1).
  circuits::SpiceOptions options;
  const circuits::Circuit back = circuits::read_spice_netlist(nudged, "nudged.cir", &options);
  for (int i = 0; i < 2; ++i) {
    CAPTURE(i);
    const std::string n = std::to_string(i);
    const circuits::Conductance* g = find_conductance(back, "r_gnudge" + n);
    REQUIRE(g != nullptr);
    CHECK(g->g == doctest::Approx(0.25).epsilon(1e-15));
    const circuits::VoltageSource* v = find_source(back, "vtarget" + n);
    REQUIRE(v != nullptr);
    CHECK(v->volts == (i == 1 ? 1.0 : 0.0));
    CHECK(v->minus == circuits::kGround);
    CHECK(std::minmax(g->a, g->b) == std::minmax(back.node("out" + n), v->plus));
  }
  /// The input sources of the point (1, 0), as in the in-process sample.
  CHECK(find_source(back, "v_in0")->volts == 5.0);
  CHECK(find_source(back, "v_in2")->volts == -5.0);

  /// The free phase: the same network without the nudge.
  const std::string free = sample_netlist(config, "experiments/xor.json", 2, "free");
  CHECK(contains(free, "* training sample 2, label 1; free phase\n"));
  CHECK_FALSE(contains(free, "gnudge"));
  CHECK_FALSE(contains(free, "vtarget"));
  CHECK_FALSE(contains(free, "* nudge:"));
  const circuits::Circuit free_back = circuits::read_spice_netlist(free, "free.cir");
  CHECK(free_back.num_nodes() + 2 == back.num_nodes());  // the two target nodes
}

TEST_CASE("initial_sample and sample_netlist: a sample outside the training set names --sample") {
  const ExperimentConfig config = xor_experiment(1);
  /// XOR has 4 training samples: 0 to 3; the caller's name starts the message.
  CHECK_THROWS_WITH_AS(initial_sample(config, 4, "simulate"),
                       "simulate: --sample 4: must be in [0, 3] (the training set of data.type "
                       "\"xor\" has 4 samples)",
                       Error);
  CHECK_THROWS_WITH_AS(initial_sample(config, -1, "bench spice"),
                       doctest::Contains("bench spice: --sample -1: must be in [0, 3]"), Error);
  CHECK_THROWS_WITH_AS(sample_netlist(config, "experiments/xor.json", 7, "free"),
                       doctest::Contains("export-spice: --sample 7: must be in [0, 3]"), Error);
  /// A phase other than free or nudged is named.
  CHECK_THROWS_WITH_AS(sample_netlist(config, "experiments/xor.json", 0, "clamped"),
                       "--phase: \"clamped\": must be one of: free, nudged", ConfigError);
  /// A network other than a DRN is named at network.type (no such type loads from a file; set
  /// here on the struct).
  ExperimentConfig other = config;
  other.network_type = "hopfield";
  CHECK_THROWS_WITH_AS(initial_sample(other, 0, "simulate"),
                       "network.type: \"hopfield\": simulate needs a \"drn\" network", ConfigError);
}
