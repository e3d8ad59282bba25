// The fused EP model (learning/fused_model.h) against the general Trainer (learning/trainer.h):
// the same phases, EP estimate, momentum step and clipping, so the same outputs and parameters,
// to rounding in float64 and to float32's precision in float32; and its checkpoint state.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "core/binary.h"
#include "learning/executor.h"
#include "learning/fused_model.h"
#include "learning/trainer.h"

using namespace physlearn;

namespace {

constexpr double kGMin = 0.25, kGMax = 0.85;
constexpr int kSweeps = 6;

/// 3 inputs (with inverted copies, the fused step's sum form, or without), 4 hidden units,
/// 2 outputs, biases; conductances U(0.1, 1), clipped to [kGMin, kGMax] as the trainer expects.
circuits::LayeredNetwork small_drn(bool inverted_inputs) {
  circuits::DrnParams p;
  p.inputs = 3;
  p.input_gain = 2.0;
  p.inverted_inputs = inverted_inputs;
  p.hidden = {4};
  p.outputs = 2;
  p.init = "uniform";
  p.init_low = 0.1;
  p.init_high = 1.0;
  p.bias_init = 0.2;
  circuits::LayeredNetwork net = circuits::build_drn(p, 12);
  for (auto& w : net.weights) w = w.cwiseMax(kGMin).cwiseMin(kGMax);
  return net;
}

const learning::PhasePlan& ep_plan() {
  static const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.4, 0.5});
  return plan;
}

const learning::OptimizerSettings& settings() {
  static const learning::OptimizerSettings optimizer{0.8, {0.3, 0.2}, {0.1, 0.1}, 0.7};
  return optimizer;
}

/// The fused model of the plan above on `net`, kSweeps fixed sweeps per phase.
std::unique_ptr<learning::Model> fused(bool float32, const circuits::LayeredNetwork& net) {
  solvers::LayeredSolverOptions solver;
  solver.sweeps = kSweeps;
  solver.tolerance = 0.0;
  return learning::make_fused_model(float32, net, ep_plan(), solver, settings(), kGMin, kGMax);
}

/// The general trainer of the same plan, solver and optimiser, ideal devices, float64.
std::unique_ptr<learning::Model> general(const circuits::LayeredNetwork& net) {
  return std::make_unique<learning::Trainer>(
      net, nullptr, ep_plan(),
      learning::make_layered_executor(
          std::make_unique<solvers::CoordinateDescentSolver>(kSweeps, 0.0, 1)),
      learning::make_ideal_devices(kGMin, kGMax), settings(), 0, net.sizes, 0.0, false);
}

/// Batch `k` of 4 samples: inputs in [0, 1], one-hot targets.
Eigen::MatrixXd batch_inputs(int k) {
  std::srand(static_cast<unsigned>(70 + k));
  return (Eigen::MatrixXd::Random(4, 3).array() + 1.0) / 2.0;
}

Eigen::MatrixXd batch_targets(int k) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(4, 2);
  for (int b = 0; b < 4; ++b) y(b, (b + k) % 2) = 1.0;
  return y;
}

/// A model's bias currents from its checkpoint state, in float64 (float32 values convert
/// exactly).
std::vector<Eigen::RowVectorXd> biases_of(const learning::Model& model, bool float32) {
  const json state = model.save_state();
  const json& stored = state["biases"];
  std::vector<Eigen::RowVectorXd> out;
  if (float32) {
    std::vector<Eigen::RowVectorXf> biases(stored.size());
    decode_matrices(stored, biases, false, "biases");
    for (const auto& b : biases) out.push_back(b.cast<double>());
  } else {
    out.resize(stored.size());
    decode_matrices(stored, out, false, "biases");
  }
  return out;
}

/// The largest difference between two models' conductances and between their biases.
double largest_parameter_difference(const learning::Model& a, bool a_float32,
                                    const learning::Model& b, bool b_float32) {
  double worst = 0.0;
  const auto wa = a.conductances(), wb = b.conductances();
  REQUIRE(wa.size() == wb.size());
  for (std::size_t l = 0; l < wa.size(); ++l)
    worst = std::max(worst, (*wa[l] - *wb[l]).cwiseAbs().maxCoeff());
  const auto ba = biases_of(a, a_float32), bb = biases_of(b, b_float32);
  REQUIRE(ba.size() == bb.size());
  for (std::size_t l = 0; l < ba.size(); ++l)
    worst = std::max(worst, (ba[l] - bb[l]).cwiseAbs().maxCoeff());
  return worst;
}

}  // namespace

TEST_CASE("fused model: the same outputs and updates as the general trainer, float64 and float32") {
  /// Over 6 batches (an end of epoch after every second, so the rates decay), with and without
  /// inverted input copies: the fused model's free outputs (before each update), conductances
  /// and biases equal the Trainer's to float64 rounding (1e-12) in float64, and to float32
  /// precision in float32: about 1e-7 here (float32's epsilon 6e-8 times the values and the
  /// steps), checked at 2e-6.
  for (bool inverted : {true, false}) {
    CAPTURE(inverted);
    const circuits::LayeredNetwork net = small_drn(inverted);
    auto reference = general(net);
    auto fused64 = fused(false, net), fused32 = fused(true, net);
    CHECK(fused64->num_parameters() == reference->num_parameters());
    CHECK(fused32->description().find("rule ep-centered, solver layered (float32, fused)") !=
          std::string::npos);
    double worst64 = 0.0, worst32 = 0.0;
    long clipped = 0;
    for (int k = 0; k < 6; ++k) {
      CAPTURE(k);
      const Eigen::MatrixXd x = batch_inputs(k), y = batch_targets(k);
      Eigen::MatrixXd expected, out64, out32;
      reference->train_batch(x, y, expected);
      fused64->train_batch(x, y, out64);
      fused32->train_batch(x, y, out32);
      CHECK((out64 - expected).cwiseAbs().maxCoeff() < 1e-12);
      CHECK((out32 - expected).cwiseAbs().maxCoeff() < 2e-6);
      const double difference64 = largest_parameter_difference(*fused64, false, *reference, false);
      const double difference32 = largest_parameter_difference(*fused32, true, *reference, false);
      CHECK(difference64 < 1e-12);
      CHECK(difference32 < 2e-6);
      worst64 = std::max(worst64, difference64);
      worst32 = std::max(worst32, difference32);
      for (const Eigen::MatrixXd* w : reference->conductances())
        clipped += (w->array() == kGMin).count() + (w->array() == kGMax).count();
      if (k % 2 == 1) {
        reference->end_epoch();
        fused64->end_epoch();
        fused32->end_epoch();
      }
    }
    MESSAGE("largest parameter difference to the trainer: float64 " << worst64 << ", float32 "
                                                                    << worst32);
    CHECK(worst32 > 0.0);  // float32 really is float32
    CHECK(clipped > 0);    // the bounds were exercised
    // Inference: the free phase of the trained networks.
    Eigen::MatrixXd expected, out64, out32;
    reference->predict(batch_inputs(9), expected);
    fused64->predict(batch_inputs(9), out64);
    fused32->predict(batch_inputs(9), out32);
    CHECK((out64 - expected).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((out32 - expected).cwiseAbs().maxCoeff() < 2e-6);
  }
}

TEST_CASE("fused model: the starting conductances are clipped to [g_min, g_max]") {
  /// The factory takes a network as it is; the model keeps it within the devices' range.
  circuits::LayeredNetwork net = small_drn(true);
  net.weights[0](0, 0) = 5.0;
  net.weights[1](1, 1) = 0.0;
  for (bool float32 : {false, true}) {
    auto model = fused(float32, net);
    const auto conductances = model->conductances();
    CHECK((*conductances[0])(0, 0) == doctest::Approx(kGMax).epsilon(1e-7));
    CHECK((*conductances[1])(1, 1) == doctest::Approx(kGMin).epsilon(1e-7));
    CHECK((*conductances[0])(1, 0) == doctest::Approx(net.weights[0](1, 0)).epsilon(1e-7));
  }
}

TEST_CASE("fused model: save_state and load_state continue bit for bit, other states are refused") {
  /// The uninterrupted run is the reference: a model restored after 3 batches (through JSON
  /// text) gives the same outputs and state for the next 3, to the bit, in both precisions and
  /// with and without inverted inputs (the step's sum form and the first layer's sums).
  for (bool inverted : {true, false}) {
    for (bool float32 : {false, true}) {
      CAPTURE(inverted);
      CAPTURE(float32);
      const circuits::LayeredNetwork net = small_drn(inverted);
      auto uninterrupted = fused(float32, net);
      Eigen::MatrixXd o;
      for (int k = 0; k < 3; ++k) {
        uninterrupted->train_batch(batch_inputs(k), batch_targets(k), o);
        if (k == 1) uninterrupted->end_epoch();
      }
      const json saved = json::parse(uninterrupted->save_state().dump());
      CHECK(saved["kind"] == (float32 ? "fused-float32" : "fused-float64"));
      auto restored = fused(float32, net);
      restored->load_state(saved, "state");
      CHECK(restored->save_state() == uninterrupted->save_state());
      for (int k = 3; k < 6; ++k) {
        Eigen::MatrixXd expected, outputs;
        uninterrupted->train_batch(batch_inputs(k), batch_targets(k), expected);
        restored->train_batch(batch_inputs(k), batch_targets(k), outputs);
        CHECK(outputs == expected);
        if (k == 3) {
          uninterrupted->end_epoch();
          restored->end_epoch();
        }
      }
      CHECK(restored->save_state() == uninterrupted->save_state());
      Eigen::MatrixXd expected, outputs;
      uninterrupted->predict(batch_inputs(9), expected);
      restored->predict(batch_inputs(9), outputs);
      CHECK(outputs == expected);
    }
  }
  const circuits::LayeredNetwork net = small_drn(true);
  auto model = fused(true, net);
  CHECK_THROWS_WITH_AS(model->load_state(fused(false, net)->save_state(), "state"),
                       doctest::Contains("state: the state of another model (kind "
                                         "\"fused-float64\", expected \"fused-float32\")"),
                       Error);
  CHECK_THROWS_WITH_AS(model->load_state(general(net)->save_state(), "state"),
                       doctest::Contains("state: the state of another model"), Error);
}
