#pragma once
// Networks, inputs and targets for the layered solvers' tests (tests/solvers_*_test.cpp).
#include <Eigen/Dense>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "circuits/drn.h"

namespace solvers_test {

/// A batch of seeded inputs in [0, 1], like pixels.
inline Eigen::MatrixXd random_inputs(Eigen::Index batch, Eigen::Index features, unsigned seed) {
  std::srand(seed);
  return (Eigen::MatrixXd::Random(batch, features).array() + 1.0) * 0.5;
}

/// One-hot targets, sample b of class b mod classes.
inline Eigen::MatrixXd one_hot(Eigen::Index batch, Eigen::Index classes) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(batch, classes);
  for (Eigen::Index b = 0; b < batch; ++b) y(b, b % classes) = 1.0;
  return y;
}

/// A small seeded DRN: `inputs` inputs (with inverted copies, gain 3), the given hidden layers,
/// 3 outputs, conductances uniform in [0.05, 1], biases within +-0.5.
inline physlearn::circuits::LayeredNetwork small_drn(std::vector<int> hidden, std::uint64_t seed,
                                                     const std::string& diode = "ideal",
                                                     int inputs = 5) {
  physlearn::circuits::DrnParams p;
  p.inputs = inputs;
  p.input_gain = 3.0;
  p.hidden = std::move(hidden);
  p.outputs = 3;
  p.diode = diode;
  p.init = "uniform";
  p.init_low = 0.05;
  p.init_high = 1.0;
  p.bias_init = 0.5;
  return physlearn::circuits::build_drn(p, seed);
}

}  // namespace solvers_test
