#pragma once
// Inputs and targets for the layered solvers' tests (tests/solvers_*_test.cpp).
#include <Eigen/Dense>
#include <cstdlib>

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

}  // namespace solvers_test
