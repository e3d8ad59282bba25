#include <doctest/doctest.h>

#include "learning/backprop.h"
#include "learning/rules.h"

using namespace physlearn;

namespace {

/// Two input sources x1 = 1 V, x2 = 0 V into one linear output through g1 = 1, g2 = 3 (no bias):
/// o = (g1 x1 + g2 x2) / (g1 + g2) = 0.25; target y = 1.
struct Tiny {
  circuits::LayeredNetwork net;
  Eigen::MatrixXd voltages = Eigen::MatrixXd(1, 2);
  Eigen::MatrixXd targets = Eigen::MatrixXd::Ones(1, 1);
  Tiny() {
    circuits::DrnParams p;
    p.inputs = 2;
    p.inverted_inputs = false;
    p.hidden = {};
    p.outputs = 1;
    p.biases = false;
    net = circuits::build_drn(p, 1);
    net.weights[0] << 1.0, 3.0;
    voltages << 1.0, 0.0;
  }
  Eigen::MatrixXd direction(const std::string& rule, const std::string& variant, double beta, double eta) {
    solvers::CoordinateDescentSolver solver(1, 1e-15, 1000);
    solvers::LayeredState free;
    auto d = learning::ParameterGradient::zeros_like(net);
    learning::rule_direction(learning::make_rule(rule, variant, beta, eta, "rule"), net, solver,
                             voltages, targets, free, d);
    CHECK(free.outputs()(0, 0) == doctest::Approx(0.25));
    return d.weights[0];
  }
};

}  // namespace

TEST_CASE("each rule's update on a tiny circuit equals the hand-computed value") {
  Tiny t;
  // CHL: output clamped to y = 1: 1/2 (x - y)^2 - 1/2 (x - o)^2.
  auto chl = t.direction("chl", "centered", 1.0, 0.5);
  CHECK(chl(0, 0) == doctest::Approx(-0.28125));
  CHECK(chl(1, 0) == doctest::Approx(0.46875));
  // Coupled learning, eta 0.5: clamp at 0.25 + 0.5 * 0.75 = 0.625; divided by eta.
  auto cl = t.direction("cl", "positive", 1.0, 0.5);
  CHECK(cl(0, 0) == doctest::Approx(-0.421875));
  CHECK(cl(1, 0) == doctest::Approx(0.328125));
  // Coupled learning centered: clamps at 0.625 and -0.125; divided by 2 eta.
  auto clc = t.direction("cl", "centered", 1.0, 0.5);
  CHECK(clc(0, 0) == doctest::Approx(0.5 * (0.375 * 0.375 - 1.125 * 1.125)));
  CHECK(clc(1, 0) == doctest::Approx(0.5 * (0.625 * 0.625 - 0.125 * 0.125)));
  // EP positive, beta 1: nudged output (g1 x1 + g2 x2 + beta y) / (g1 + g2 + beta) = 0.4.
  auto ep = t.direction("ep", "positive", 1.0, 0.5);
  CHECK(ep(0, 0) == doctest::Approx(0.5 * 0.36 - 0.5 * 0.5625));
  CHECK(ep(1, 0) == doctest::Approx(0.5 * 0.16 - 0.5 * 0.0625));
  // EP negative, beta 1: nudged output (1 - 1) / (4 - 1) = 0.
  auto epn = t.direction("ep", "negative", 1.0, 0.5);
  CHECK(epn(0, 0) == doctest::Approx(0.5 * 0.5625 - 0.5 * 1.0));
  CHECK(epn(1, 0) == doctest::Approx(0.5 * 0.0625 - 0.0));
  // Exact: dL/dg_i = (o - y) (x_i - o) / (g1 + g2).
  auto exact = t.direction("exact", "centered", 1.0, 0.5);
  CHECK(exact(0, 0) == doctest::Approx(-0.75 * 0.75 / 4.0));
  CHECK(exact(1, 0) == doctest::Approx(-0.75 * -0.25 / 4.0));
}

TEST_CASE("unknown rules are refused with the list of known ones") {
  CHECK_THROWS_WITH_AS(learning::make_rule("hebb", "centered", 1, 0.5, "learning.rule"),
                       doctest::Contains("learning.rule: \"hebb\": must be one of"), ConfigError);
}

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
