#include <doctest/doctest.h>

#include "circuits/drn.h"
#include "learning/executor.h"
#include "learning/gradient.h"
#include "solvers/equilibrium.h"

using namespace physlearn;

namespace {

struct Problem {
  circuits::LayeredNetwork net;
  Eigen::MatrixXd voltages;
  Eigen::MatrixXd targets;
};

Problem make_problem(std::vector<int> hidden, std::uint64_t seed) {
  circuits::DrnParams p;
  p.inputs = 4;
  p.input_gain = 2.0;
  p.hidden = std::move(hidden);
  p.outputs = 3;
  p.init = "uniform";
  p.init_low = 0.05;
  p.init_high = 1.0;
  p.bias_init = 0.3;
  Problem pr{circuits::build_drn(p, seed), {}, {}};
  std::srand(static_cast<unsigned>(seed));
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(5, 4).array() + 1.0) * 0.5;
  pr.voltages = pr.net.input_voltages(x);
  pr.targets = Eigen::MatrixXd::Zero(5, 3);
  for (int b = 0; b < 5; ++b) pr.targets(b, b % 3) = 1.0;
  return pr;
}

double loss_at(const Problem& pr, solvers::CoordinateDescentSolver& solver) {
  auto s = solvers::LayeredState::zeros(pr.net, pr.voltages.rows());
  solver.set_inputs(pr.net, pr.voltages);
  solver.relax(pr.net, {}, s);
  return learning::batch_loss(s.outputs(), pr.targets);
}

}  // namespace

TEST_CASE("the exact gradient (implicit differentiation) matches central finite differences") {
  for (auto hidden : std::vector<std::vector<int>>{{6}, {6, 4}}) {
    Problem pr = make_problem(hidden, 7);
    solvers::CoordinateDescentSolver solver(1, 1e-15, 10000000);
    auto free = solvers::LayeredState::zeros(pr.net, pr.voltages.rows());
    solver.set_inputs(pr.net, pr.voltages);
    solver.relax(pr.net, {}, free);
    // The diodes are exercised: some hidden units are clamped.
    CHECK((free.layers[0].array() == 0.0).count() > 0);
    const auto exact = learning::exact_gradient(pr.net, pr.voltages, free, pr.targets);
    const double h = 1e-6;
    double worst = 0.0;
    for (int l = 0; l < pr.net.num_weight_layers(); ++l) {
      for (Eigen::Index k = 0; k < pr.net.weights[l].size(); ++k) {
        double& w = pr.net.weights[l].data()[k];
        const double w0 = w;
        w = w0 + h;
        const double up = loss_at(pr, solver);
        w = w0 - h;
        const double down = loss_at(pr, solver);
        w = w0;
        worst = std::max(worst, std::abs((up - down) / (2 * h) - exact.weights[l].data()[k]));
      }
      for (Eigen::Index i = 0; i < pr.net.biases[l].size(); ++i) {
        double& b = pr.net.biases[l](i);
        const double b0 = b;
        b = b0 + h;
        const double up = loss_at(pr, solver);
        b = b0 - h;
        const double down = loss_at(pr, solver);
        b = b0;
        worst = std::max(worst, std::abs((up - down) / (2 * h) - exact.biases[l](i)));
      }
    }
    CAPTURE(hidden.size());
    CHECK(worst < 1e-7);
    CHECK(exact.flatten().norm() > 1e-3);
  }
}

TEST_CASE("EP estimates tend to the exact gradient, centered EP is the least biased") {
  Problem pr = make_problem({8, 6}, 3);
  solvers::CoordinateDescentSolver solver(1, 1e-15, 10000000);
  auto free = solvers::LayeredState::zeros(pr.net, pr.voltages.rows());
  solver.set_inputs(pr.net, pr.voltages);
  solver.relax(pr.net, {}, free);
  const Eigen::VectorXd exact = learning::exact_gradient(pr.net, pr.voltages, free, pr.targets).flatten();
  auto error_of = [&](const std::string& variant, double beta) {
    auto g = learning::ParameterGradient::zeros_like(pr.net);
    solvers::LayeredState f;
    learning::layered_direction(learning::make_plan({"ep", variant, beta, 0.5}), pr.net, solver,
                                pr.voltages, pr.targets, f, g);
    return std::pair<double, double>{(g.flatten() - exact).norm() / exact.norm(),
                                     learning::cosine(g.flatten(), exact)};
  };
  const auto centered_small = error_of("centered", 1e-3);
  CHECK(centered_small.second > 0.999999);
  CHECK(error_of("positive", 1e-4).second > 0.9999);
  CHECK(error_of("negative", 1e-4).second > 0.9999);
  // Bias of positive EP is O(beta), of centered EP O(beta^2).
  const double beta = 0.05;
  const double positive = error_of("positive", beta).first;
  const double centered = error_of("centered", beta).first;
  CHECK(centered < positive);
  CHECK(error_of("positive", beta / 2).first < positive);
}

TEST_CASE("the local rule: each conductance's update is its own voltage drops, by hand") {
  // 1 input source (no inverted copy), 2 hidden units (+, -), 1 output; two phases by hand.
  circuits::DrnParams p;
  p.inputs = 1;
  p.inverted_inputs = false;
  p.hidden = {2};
  p.outputs = 1;
  auto net = circuits::build_drn(p, 1);
  Eigen::MatrixXd voltages(1, 1);
  voltages << 2.0;
  solvers::LayeredState a, b;
  a.layers = {Eigen::MatrixXd(1, 2), Eigen::MatrixXd(1, 1)};
  b.layers = {Eigen::MatrixXd(1, 2), Eigen::MatrixXd(1, 1)};
  a.layers[0] << 1.0, -0.5;
  a.layers[1] << 0.25;
  b.layers[0] << 0.5, -1.0;
  b.layers[1] << 0.75;
  auto g = learning::ParameterGradient::zeros_like(net);
  learning::energy_contrast(net, voltages, a, b, 2.0, g);
  // Input -> hidden 0: 2 * 1/2 [(2 - 1)^2 - (2 - 0.5)^2] = 1 - 2.25 = -1.25
  CHECK(g.weights[0](0, 0) == doctest::Approx(-1.25));
  // Input -> hidden 1: (2 + 0.5)^2 - (2 + 1)^2 = 6.25 - 9 = -2.75
  CHECK(g.weights[0](0, 1) == doctest::Approx(-2.75));
  // hidden 0 -> out: (1 - 0.25)^2 - (0.5 - 0.75)^2 = 0.5625 - 0.0625 = 0.5
  CHECK(g.weights[1](0, 0) == doctest::Approx(0.5));
  // hidden 1 -> out: (-0.5 - 0.25)^2 - (-1 - 0.75)^2 = 0.5625 - 3.0625 = -2.5
  CHECK(g.weights[1](1, 0) == doctest::Approx(-2.5));
  // Biases: dE/db = -v: 2 * (-(1) + 0.5) = -1 ; 2 * (0.5 - 1) ... per unit
  CHECK(g.biases[0](0) == doctest::Approx(-1.0));
  CHECK(g.biases[0](1) == doctest::Approx(-1.0));
  CHECK(g.biases[1](0) == doctest::Approx(1.0));
}
