// The executors (learning/executor.h): every rule's plan run on the layered view, against
// hand-computed values on a tiny circuit.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "learning/executor.h"
#include "learning/rule.h"

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
    learning::layered_direction(learning::make_plan({rule, variant, beta, eta}), net, solver,
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

TEST_CASE("the layered executor runs a plan as layered_direction does, and predicts the free phase") {
  Tiny t;
  const learning::PhasePlan plan = learning::make_plan({"cl", "centered", 1.0, 0.5});
  auto executor =
      learning::make_layered_executor(std::make_unique<solvers::CoordinateDescentSolver>(1, 1e-15, 1000));
  CHECK(executor->name() == "layered");
  Eigen::MatrixXd outputs;
  auto d = learning::ParameterGradient::zeros_like(t.net);
  executor->direction(plan, t.net, t.voltages, t.targets, outputs, d);
  CHECK(outputs(0, 0) == doctest::Approx(0.25));
  CHECK((d.weights[0] - t.direction("cl", "centered", 1.0, 0.5)).cwiseAbs().maxCoeff() == 0.0);
  REQUIRE(executor->free_state() != nullptr);
  CHECK(executor->free_state()->outputs()(0, 0) == doctest::Approx(0.25));
  Eigen::MatrixXd predicted;
  executor->predict(t.net, t.voltages, predicted);
  CHECK(predicted(0, 0) == doctest::Approx(0.25));
  // Steady-state solvers report no physics.
  CHECK(executor->take_physics({2, 1}, 1e-12).is_null());
}

TEST_CASE("run_layered_plan: every phase after the free one starts from the free state") {
  Tiny t;
  const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 1.0, 0.5});
  solvers::CoordinateDescentSolver solver(1, 1e-15, 1000);
  solver.set_inputs(t.net, t.voltages);
  std::vector<solvers::LayeredState> states(1, solvers::LayeredState::zeros(t.net, 1));
  std::vector<Eigen::MatrixXd> clamps;
  std::vector<double> starts;
  learning::run_layered_plan(plan, t.targets, states, clamps,
                             [&](const solvers::PhaseNudge& nudge, solvers::LayeredState& s) {
                               starts.push_back(s.outputs()(0, 0));
                               solver.relax(t.net, nudge, s);
                             });
  REQUIRE(states.size() == 3);
  CHECK(starts == std::vector<double>{0.0, states[0].outputs()(0, 0), states[0].outputs()(0, 0)});
  CHECK(states[1].outputs()(0, 0) == doctest::Approx(0.4));         // (1 + 1) / 5
  CHECK(std::abs(states[2].outputs()(0, 0)) < 1e-12);               // (1 - 1) / (4 - 1)
}

