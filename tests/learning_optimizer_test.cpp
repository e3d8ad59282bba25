// SGD with momentum (learning/optimizer.h): the steps against a sequence computed by hand, the
// per-epoch decay, the clipped in-place update of ideal devices, and the checkpoint state.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "core/binary.h"
#include "learning/optimizer.h"

using namespace physlearn;

namespace {

/// A 1 x 2 block from two values.
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> pair_of(double first, double second) {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> m(1, 2);
  m << static_cast<Scalar>(first), static_cast<Scalar>(second);
  return m;
}

/// Three gradients whose steps are exact in binary (momentum 1/2, rates powers of two), so that
/// the hand-computed values below hold to the bit in float64 and float32 alike.
template <typename Scalar>
std::vector<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> three_gradients() {
  return {pair_of<Scalar>(1.0, -2.0), pair_of<Scalar>(4.0, 0.0), pair_of<Scalar>(-8.0, 1.0)};
}

/// Runs the hand-computed sequence on BasicSgdMomentum<Scalar>.
template <typename Scalar>
void check_hand_computed_steps() {
  using Matrix = typename learning::BasicSgdMomentum<Scalar>::Matrix;
  // Rates: weights of layer 0 1/4, layer 1 1/8; biases of layer 0 1/2, layer 1 1/16.
  learning::BasicSgdMomentum<Scalar> optimizer(0.5, {0.25, 0.125}, {0.5, 0.0625}, 1.0);
  const auto g = three_gradients<Scalar>();
  // Each block keeps its own velocity: the four blocks are stepped interleaved with the same
  // gradients, and each must follow its own sequence
  //   v1 = g1 = [1, -2];  v2 = v1 / 2 + g2 = [4.5, -1];  v3 = v2 / 2 + g3 = [-5.75, 0.5];
  //   step_k = -lr v_k.
  const std::vector<std::vector<double>> velocities = {{1.0, -2.0}, {4.5, -1.0}, {-5.75, 0.5}};
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    const Matrix w0 = optimizer.step(0, false, g[k]);
    const Matrix b0 = optimizer.step(0, true, g[k]);
    const Matrix w1 = optimizer.step(1, false, g[k]);
    const Matrix b1 = optimizer.step(1, true, g[k]);
    const double v0 = velocities[k][0], v1 = velocities[k][1];
    CHECK(w0 == pair_of<Scalar>(-0.25 * v0, -0.25 * v1));
    CHECK(b0 == pair_of<Scalar>(-0.5 * v0, -0.5 * v1));
    CHECK(w1 == pair_of<Scalar>(-0.125 * v0, -0.125 * v1));
    CHECK(b1 == pair_of<Scalar>(-0.0625 * v0, -0.0625 * v1));
  }
  CHECK(optimizer.momentum() == 0.5);
  CHECK(optimizer.lr(1, true) == 0.0625);
}

/// Random gradients for the round trip (values that are not exact in binary).
Eigen::MatrixXd random_gradient(int seed, Eigen::Index rows, Eigen::Index cols) {
  std::srand(static_cast<unsigned>(seed));
  return Eigen::MatrixXd::Random(rows, cols);
}

/// Steps `optimizer` along batches [first, last) of a seeded gradient sequence of two layers,
/// applying the steps to `params` (weights of layer 0, biases of layer 0, weights of layer 1),
/// with an end of epoch after every second batch.
template <typename Scalar>
void run_batches(learning::BasicSgdMomentum<Scalar>& optimizer,
                 std::vector<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>& params,
                 int first, int last) {
  for (int batch = first; batch < last; ++batch) {
    params[0] += optimizer.step(0, false, random_gradient(3 * batch, 3, 2).cast<Scalar>());
    optimizer.apply(0, true, random_gradient(3 * batch + 1, 1, 2).cast<Scalar>(), params[1], -0.5,
                    0.5);
    optimizer.apply(1, false, random_gradient(3 * batch + 2, 2, 1).cast<Scalar>(), params[2], 0.0,
                    1.0);
    if (batch % 2 == 1) optimizer.end_epoch();
  }
}

/// Saves an optimiser's state after 3 batches (through JSON text, as a checkpoint file), restores
/// it into a fresh one, and runs both 3 more batches: the restored run equals the uninterrupted
/// one to the bit.
template <typename Scalar>
void check_round_trip() {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const std::vector<double> lr_weights{0.1, 0.07}, lr_biases{0.03, 0.2};
  learning::BasicSgdMomentum<Scalar> uninterrupted(0.9, lr_weights, lr_biases, 0.97);
  std::vector<Matrix> params{Matrix::Constant(3, 2, Scalar(0.5)), Matrix::Zero(1, 2),
                             Matrix::Constant(2, 1, Scalar(0.5))};
  run_batches(uninterrupted, params, 0, 3);
  const json saved = json::parse(uninterrupted.state().dump());
  learning::BasicSgdMomentum<Scalar> restored(0.9, lr_weights, lr_biases, 0.97);
  restored.set_state(saved, "optimizer");
  CHECK(restored.state() == uninterrupted.state());
  CHECK(restored.lr(0, false) == uninterrupted.lr(0, false));  // decayed once: 0.1 * 0.97
  CHECK(restored.lr(0, false) == 0.1 * 0.97);
  std::vector<Matrix> restored_params = params;
  run_batches(uninterrupted, params, 3, 6);
  run_batches(restored, restored_params, 3, 6);
  for (std::size_t k = 0; k < params.size(); ++k) CHECK(restored_params[k] == params[k]);
  CHECK(restored.state() == uninterrupted.state());
}

}  // namespace

TEST_CASE("SGD momentum: per-layer rates, weights and biases apart, against a hand computation") {
  /// v <- m v + g; step = -lr v, with m = 1/2 and a rate per layer and kind of block.
  SUBCASE("float64") { check_hand_computed_steps<double>(); }
  SUBCASE("float32") { check_hand_computed_steps<float>(); }
}

TEST_CASE("SGD momentum: every rate is multiplied by lr_decay at each end of epoch") {
  /// lr after k epochs = lr0 * decay^k; the step after it uses the decayed rate with the
  /// velocity carried over: v2 = m v1 + g2.
  learning::SgdMomentum optimizer(0.5, {0.5, 0.25}, {1.0, 2.0}, 0.5);
  const Eigen::MatrixXd g = Eigen::MatrixXd::Constant(2, 2, 4.0);
  CHECK(optimizer.step(1, true, g) == Eigen::MatrixXd::Constant(2, 2, -8.0));  // -2 * 4
  optimizer.end_epoch();
  CHECK(optimizer.lr(0, false) == 0.25);
  CHECK(optimizer.lr(1, false) == 0.125);
  CHECK(optimizer.lr(0, true) == 0.5);
  CHECK(optimizer.lr(1, true) == 1.0);
  // v2 = 4 / 2 + 4 = 6; step = -1 * 6.
  CHECK(optimizer.step(1, true, g) == Eigen::MatrixXd::Constant(2, 2, -6.0));
  optimizer.end_epoch();
  CHECK(optimizer.lr(1, false) == 0.0625);
  CHECK(optimizer.lr(1, true) == 0.5);
  CHECK_THROWS(optimizer.lr(2, false));  // no layer 2
}

TEST_CASE("SGD momentum apply: the step in place, clipped to [lo, hi], the velocity unclipped") {
  /// apply: v <- m v + g;  w <- clip(w - lr v, lo, hi). With m = 1/2, lr = 1/4, [lo, hi] = [0, 1]
  /// and w0 = [1/2, 1/2], by hand (v as in the first test case):
  ///   v1 = [1, -2]:       w1 = clip([0.25, 1.0]) = [0.25, 1]
  ///   v2 = [4.5, -1]:     w2 = clip([0.25 - 1.125, 1 + 0.25]) = [0, 1]      (both clipped)
  ///   v3 = [-5.75, 0.5]:  w3 = clip([0 + 1.4375, 1 - 0.125]) = [1, 0.875]
  /// The last value shows that clipping leaves the velocity alone (a velocity reset at the bound
  /// would give 1 - 0.25 * 1 = 0.75).
  for (bool use_float : {false, true}) {
    CAPTURE(use_float);
    const std::vector<std::vector<double>> expected = {{0.25, 1.0}, {0.0, 1.0}, {1.0, 0.875}};
    if (use_float) {
      learning::BasicSgdMomentum<float> optimizer(0.5, {0.25}, {0.25}, 1.0);
      Eigen::MatrixXf w = pair_of<float>(0.5, 0.5);
      const auto g = three_gradients<float>();
      for (std::size_t k = 0; k < 3; ++k) {
        optimizer.apply(0, false, g[k], w, 0.0, 1.0);
        CHECK(w == pair_of<float>(expected[k][0], expected[k][1]));
      }
    } else {
      learning::SgdMomentum optimizer(0.5, {0.25}, {0.25}, 1.0);
      Eigen::MatrixXd w = pair_of<double>(0.5, 0.5);
      const auto g = three_gradients<double>();
      for (std::size_t k = 0; k < 3; ++k) {
        optimizer.apply(0, false, g[k], w, 0.0, 1.0);
        CHECK(w == pair_of<double>(expected[k][0], expected[k][1]));
      }
      // The same block stepped by step() continues the same velocity: v4 = v3 / 2 + g1 =
      // [-1.875, -1.75]; step = -lr v4.
      CHECK(optimizer.step(0, false, g[0]) == pair_of<double>(0.46875, 0.4375));
    }
  }
}

TEST_CASE("SGD momentum state: written and read back exact to the bit, float64 and float32") {
  /// The restored optimiser continues as the uninterrupted one: the same parameters and state.
  SUBCASE("float64") { check_round_trip<double>(); }
  SUBCASE("float32") { check_round_trip<float>(); }
  SUBCASE("before the first step (no velocities yet)") {
    learning::SgdMomentum fresh(0.9, {0.1, 0.1}, {0.1, 0.1}, 0.9);
    learning::SgdMomentum restored(0.9, {0.5, 0.5}, {0.5, 0.5}, 0.9);
    restored.set_state(json::parse(fresh.state().dump()), "optimizer");
    CHECK(restored.lr(1, true) == 0.1);
    const Eigen::MatrixXd g = Eigen::MatrixXd::Constant(2, 3, 0.25);
    CHECK(restored.step(1, false, g) == fresh.step(1, false, g));
  }
}

TEST_CASE("SGD momentum state: a state of another shape is refused, naming the key") {
  learning::SgdMomentum two_layers(0.9, {0.1, 0.1}, {0.1, 0.1}, 1.0);
  two_layers.step(0, false, Eigen::MatrixXd::Ones(2, 2));
  two_layers.step(1, false, Eigen::MatrixXd::Ones(2, 1));
  const json state = two_layers.state();
  learning::SgdMomentum three_layers(0.9, {0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, 1.0);
  // Two rates where three are expected.
  CHECK_THROWS_WITH_AS(three_layers.set_state(state, "run.optimizer"),
                       doctest::Contains("run.optimizer.lr_weights: holds 2 values, expected 3"),
                       Error);
  // More velocities than layers.
  learning::SgdMomentum other(0.9, {0.1, 0.1}, {0.1, 0.1}, 1.0);
  json too_many = state;
  too_many["velocity_weights"].push_back(too_many["velocity_weights"][0]);
  CHECK_THROWS_WITH_AS(other.set_state(too_many, "run.optimizer"),
                       doctest::Contains("run.optimizer.velocity_weights: must hold at most one "
                                         "matrix per layer"),
                       Error);
  // A key missing, and a velocity that is not a matrix.
  json missing = state;
  missing.erase("velocity_biases");
  CHECK_THROWS_WITH_AS(other.set_state(missing, "run.optimizer"),
                       doctest::Contains("\"velocity_biases\" is missing"), Error);
  json broken = state;
  broken["velocity_weights"][1] = "not a matrix";
  CHECK_THROWS_WITH_AS(other.set_state(broken, "run.optimizer"),
                       doctest::Contains("run.optimizer.velocity_weights[1]"), Error);
}
