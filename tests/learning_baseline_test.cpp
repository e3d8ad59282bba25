// The digital baseline as a Model (learning/baseline.h): a ReLU network trained by backprop with
// the optimiser of learning/optimizer.h, in float64 or float32.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "core/binary.h"
#include "learning/backprop.h"
#include "learning/baseline.h"

using namespace physlearn;

namespace {

/// A model's parameters, read from and written into its checkpoint state (float64 models).
struct Parameters {
  std::vector<Eigen::MatrixXd> weights;
  std::vector<Eigen::RowVectorXd> biases;

  static Parameters of(const json& state) {
    Parameters p;
    p.weights.resize(state["weights"].size());
    p.biases.resize(state["biases"].size());
    decode_matrices(state["weights"], p.weights, false, "weights");
    decode_matrices(state["biases"], p.biases, false, "biases");
    return p;
  }
  /// `state` with these parameters in place of its own.
  json into(json state) const {
    state["weights"] = encode_matrices(weights);
    state["biases"] = encode_matrices(biases);
    return state;
  }
  /// Every parameter in one vector: weights layer by layer, then biases.
  Eigen::VectorXd flatten() const {
    std::vector<double> all;
    for (const auto& w : weights) all.insert(all.end(), w.data(), w.data() + w.size());
    for (const auto& b : biases) all.insert(all.end(), b.data(), b.data() + b.size());
    return Eigen::Map<const Eigen::VectorXd>(all.data(), static_cast<Eigen::Index>(all.size()));
  }
  /// Parameter `k` in the order of flatten().
  double& at(std::size_t k) {
    for (auto& w : weights) {
      if (k < static_cast<std::size_t>(w.size())) return w.data()[k];
      k -= static_cast<std::size_t>(w.size());
    }
    for (auto& b : biases) {
      if (k < static_cast<std::size_t>(b.size())) return b.data()[k];
      k -= static_cast<std::size_t>(b.size());
    }
    throw std::out_of_range("no such parameter");
  }
};

/// The baseline's loss 1/B sum_b 1/2 ||o_b - y_b||^2 (learning/backprop.h), from predict().
double loss_of(learning::Model& model, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  Eigen::MatrixXd o;
  model.predict(x, o);
  return 0.5 * (o - y).squaredNorm() / static_cast<double>(x.rows());
}

/// A batch of 5 samples with inputs in [-1, 1] and one-hot targets of 2 classes.
Eigen::MatrixXd batch_inputs(int k) {
  std::srand(static_cast<unsigned>(30 + k));
  return Eigen::MatrixXd::Random(5, 3);
}

Eigen::MatrixXd batch_targets(int k) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(5, 2);
  for (int b = 0; b < 5; ++b) y(b, (b + k) % 2) = 1.0;
  return y;
}

}  // namespace

TEST_CASE("baseline: its step is the gradient of its loss, against central finite differences") {
  /// Plain SGD with rate 1 recovers the gradient from one step: g = theta_before - theta_after.
  /// Each entry is checked against (L(theta + h e_k) - L(theta - h e_k)) / 2h, the loss from
  /// predict() with the parameters set through load_state. The biases are first moved off zero
  /// so that every kind of parameter is exercised away from its starting value.
  auto model =
      learning::make_baseline_model(false, {3, 6, 2}, 4, {0.0, {1.0, 1.0}, {1.0, 1.0}, 1.0});
  CHECK(model->description() == "ReLU network 3-6-2, backprop (float64)");
  CHECK(model->num_parameters() == 3 * 6 + 6 + 6 * 2 + 2);
  const json fresh = model->save_state();
  Parameters start = Parameters::of(fresh);
  start.biases[0] << 0.1, -0.2, 0.3, 0.05, -0.1, 0.2;
  start.biases[1] << -0.1, 0.15;
  const json start_state = start.into(fresh);
  const Eigen::MatrixXd x = batch_inputs(0), y = batch_targets(0);

  const double h = 1e-6;
  const Eigen::Index n = start.flatten().size();
  Eigen::VectorXd finite_difference(n);
  long active = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    Parameters probe = start;
    double& parameter = probe.at(static_cast<std::size_t>(k));
    const double original = parameter;
    parameter = original + h;
    model->load_state(probe.into(fresh), "probe");
    const double up = loss_of(*model, x, y);
    parameter = original - h;
    model->load_state(probe.into(fresh), "probe");
    const double down = loss_of(*model, x, y);
    finite_difference(k) = (up - down) / (2 * h);
    active += finite_difference(k) != 0.0;
  }
  model->load_state(start_state, "start");
  Eigen::MatrixXd before, outputs;
  model->predict(x, before);
  model->train_batch(x, y, outputs);
  CHECK(outputs == before);  // the outputs before the update
  const Eigen::VectorXd gradient = start.flatten() - Parameters::of(model->save_state()).flatten();
  CHECK(finite_difference.norm() > 1e-2);
  CHECK(active > n / 2);  // most parameters matter (not a network of dead units)
  CHECK((gradient - finite_difference).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("baseline: its steps are backprop's gradients through momentum SGD, per layer, decayed") {
  /// The reference: BasicReluNetwork (same sizes and seed: the same starting weights) gives the
  /// gradient at the reference's parameters, and the optimiser is written out here:
  ///   v <- m v + g;  theta <- theta - lr_l v,   lr_l *= decay after every odd batch.
  const double momentum = 0.9, decay = 0.5;
  std::vector<double> lr_weights{0.2, 0.1}, lr_biases{0.05, 0.3};
  auto model = learning::make_baseline_model(false, {3, 6, 2}, 8,
                                             {momentum, lr_weights, lr_biases, decay});
  learning::ReluNetwork reference({3, 6, 2}, 8);
  Parameters velocity{{Eigen::MatrixXd::Zero(3, 6), Eigen::MatrixXd::Zero(6, 2)},
                      {Eigen::RowVectorXd::Zero(6), Eigen::RowVectorXd::Zero(2)}};
  for (int k = 0; k < 5; ++k) {
    CAPTURE(k);
    const Eigen::MatrixXd x = batch_inputs(k), y = batch_targets(k);
    const Eigen::MatrixXd expected = reference.forward(x);
    reference.backward(y);
    for (std::size_t l = 0; l < 2; ++l) {
      velocity.weights[l] = momentum * velocity.weights[l] + reference.weight_gradients[l];
      velocity.biases[l] = momentum * velocity.biases[l] + reference.bias_gradients[l];
      reference.weights[l] -= lr_weights[l] * velocity.weights[l];
      reference.biases[l] -= lr_biases[l] * velocity.biases[l];
    }
    Eigen::MatrixXd outputs;
    model->train_batch(x, y, outputs);
    CHECK((outputs - expected).cwiseAbs().maxCoeff() < 1e-12);
    const Parameters trained = Parameters::of(model->save_state());
    for (std::size_t l = 0; l < 2; ++l) {
      CHECK((trained.weights[l] - reference.weights[l]).cwiseAbs().maxCoeff() < 1e-12);
      CHECK((trained.biases[l] - reference.biases[l]).cwiseAbs().maxCoeff() < 1e-12);
    }
    if (k % 2 == 1) {
      model->end_epoch();
      for (double& r : lr_weights) r *= decay;
      for (double& r : lr_biases) r *= decay;
    }
  }
}

TEST_CASE("baseline: a few steps reduce the loss of a tiny problem, float32 tracking float64") {
  /// 30 full-batch steps on 5 samples: the loss falls below half its start in both precisions,
  /// and float32 (weights drawn in float64, then rounded) stays within float32 rounding of
  /// float64 at the start (1e-6) and close after training (1e-5).
  const learning::OptimizerSettings optimizer{0.9, {0.1, 0.1}, {0.1, 0.1}, 1.0};
  auto model64 = learning::make_baseline_model(false, {3, 8, 2}, 2, optimizer);
  auto model32 = learning::make_baseline_model(true, {3, 8, 2}, 2, optimizer);
  CHECK(model32->description() == "ReLU network 3-8-2, backprop (float32)");
  const Eigen::MatrixXd x = batch_inputs(1), y = batch_targets(1);
  const double start64 = loss_of(*model64, x, y), start32 = loss_of(*model32, x, y);
  CHECK(start32 == doctest::Approx(start64).epsilon(1e-6));
  Eigen::MatrixXd o64, o32;
  for (int step = 0; step < 30; ++step) {
    model64->train_batch(x, y, o64);
    model32->train_batch(x, y, o32);
    if (step == 0) CHECK((o32 - o64).cwiseAbs().maxCoeff() < 1e-6);
  }
  const double end64 = loss_of(*model64, x, y), end32 = loss_of(*model32, x, y);
  MESSAGE("loss " << start64 << " -> " << end64 << " (float64), " << end32 << " (float32)");
  CHECK(end64 < 0.5 * start64);
  CHECK(end32 < 0.5 * start32);
  model64->predict(x, o64);
  model32->predict(x, o32);
  CHECK((o32 - o64).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("baseline: save_state and load_state continue bit for bit, other states are refused") {
  /// The uninterrupted run is the reference for the run restored after 2 steps (through JSON
  /// text), in float32 and float64.
  for (bool float32 : {false, true}) {
    CAPTURE(float32);
    const learning::OptimizerSettings optimizer{0.9, {0.1, 0.07}, {0.05, 0.1}, 0.8};
    auto uninterrupted = learning::make_baseline_model(float32, {3, 6, 2}, 5, optimizer);
    Eigen::MatrixXd o;
    for (int k = 0; k < 2; ++k) uninterrupted->train_batch(batch_inputs(k), batch_targets(k), o);
    uninterrupted->end_epoch();
    const json saved = json::parse(uninterrupted->save_state().dump());
    auto restored = learning::make_baseline_model(float32, {3, 6, 2}, 99, optimizer);
    restored->load_state(saved, "state");
    for (int k = 2; k < 5; ++k) {
      Eigen::MatrixXd expected, outputs;
      uninterrupted->train_batch(batch_inputs(k), batch_targets(k), expected);
      restored->train_batch(batch_inputs(k), batch_targets(k), outputs);
      CHECK(outputs == expected);
    }
    CHECK(restored->save_state() == uninterrupted->save_state());
  }
  const learning::OptimizerSettings optimizer{0.0, {0.1, 0.1}, {0.1, 0.1}, 1.0};
  auto model = learning::make_baseline_model(false, {3, 6, 2}, 5, optimizer);
  json other_kind = model->save_state();
  other_kind["kind"] = "circuit";
  CHECK_THROWS_WITH_AS(model->load_state(other_kind, "state"),
                       doctest::Contains("state: the state of another model"), Error);
  auto wider = learning::make_baseline_model(false, {3, 7, 2}, 5, optimizer);
  CHECK_THROWS_WITH_AS(model->load_state(wider->save_state(), "state"),
                       doctest::Contains("state.weights[0]: shape 3x7, expected 3x6"), Error);
}
