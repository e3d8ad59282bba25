// The digital baseline's backprop (learning/backprop.h).
#include <doctest/doctest.h>

#include <cstdlib>

#include "learning/backprop.h"

using namespace physlearn;

TEST_CASE("backprop's gradient of the ReLU baseline matches finite differences") {
  learning::ReluNetwork net({3, 5, 2}, 4);
  std::srand(2);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(4, 3);
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(4, 2);
  for (int b = 0; b < 4; ++b) y(b, b % 2) = 1.0;
  net.biases[0].setConstant(0.1);
  auto loss = [&]() { return 0.5 * (net.forward(x) - y).squaredNorm() / 4.0; };
  net.forward(x);
  net.backward(y);
  const double h = 1e-6;
  for (int l = 0; l < 2; ++l) {
    for (Eigen::Index k = 0; k < net.weights[l].size(); ++k) {
      double& w = net.weights[l].data()[k];
      const double w0 = w;
      w = w0 + h;
      const double up = loss();
      w = w0 - h;
      const double down = loss();
      w = w0;
      CHECK(net.weight_gradients[l].data()[k] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5));
    }
    for (Eigen::Index i = 0; i < net.biases[l].size(); ++i) {
      double& b = net.biases[l](i);
      const double b0 = b;
      b = b0 + h;
      const double up = loss();
      b = b0 - h;
      const double down = loss();
      b = b0;
      CHECK(net.bias_gradients[l](i) == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5));
    }
  }
}
