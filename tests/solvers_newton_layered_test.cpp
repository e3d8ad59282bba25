// The "newton" layered solver (solvers/newton_layered.h): Newton on the lowered DRN against the
// closed form of a linear one-layer network, against exact coordinate descent (ideal diodes; free,
// nudged and clamped phases), Kirchhoff's current law with Shockley diodes written out by hand
// from the layered state, its options, warm starts and iteration counts.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/error.h"
#include "solvers/equilibrium.h"
#include "solvers/newton_layered.h"
#include "solvers_support.h"

using namespace physlearn;
using solvers_test::one_hot;
using solvers_test::random_inputs;
using solvers_test::small_drn;

namespace {

std::unique_ptr<solvers::EquilibriumSolver> newton_solver(const circuits::LayeredNetwork& net) {
  solvers::SolverParams params;
  params.type = "newton";
  return solvers::make_solver(params, net);
}

}  // namespace

TEST_CASE(
    "newton layered: a linear one-layer network has o = (W'V + b + beta y) / (sum W + beta)") {
  /// No hidden layer, no diodes: KCL at output i, sum_j W[j,i] (V_j - o_i) + b_i + beta (y_i - o_i)
  /// = 0, gives o_i = (sum_j W[j,i] V_j + b_i + beta y_i) / (sum_j W[j,i] + beta).
  circuits::DrnParams p;
  p.inputs = 3;
  p.hidden = {};
  p.outputs = 2;
  p.diode = "none";
  p.init = "uniform";
  p.init_low = 0.1;
  p.init_high = 1.0;
  p.bias_init = 0.3;
  const auto net = circuits::build_drn(p, 21);
  REQUIRE(net.sizes == std::vector<int>{6, 2});
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(4, 3, 5));
  const Eigen::MatrixXd y = one_hot(4, 2);
  auto newton = solvers::make_newton_layered_solver(solvers::NewtonOptions{}, net);
  CHECK(newton->name() == "newton");
  newton->set_inputs(net, v);
  for (double beta : {0.0, 0.7, -0.2}) {
    CAPTURE(beta);
    auto state = solvers::LayeredState::zeros(net, 4);
    newton->relax(net, solvers::PhaseNudge::nudge(beta, y), state);
    const Eigen::MatrixXd& w = net.weights[0];
    for (Eigen::Index b = 0; b < 4; ++b)
      for (Eigen::Index i = 0; i < 2; ++i) {
        const double expected = ((v.row(b) * w.col(i))(0) + net.biases[0](i) + beta * y(b, i)) /
                                (w.col(i).sum() + beta);
        CHECK(state.outputs()(b, i) == doctest::Approx(expected).epsilon(1e-12));
      }
  }
}

TEST_CASE("layered coordinate descent and Newton give the same node potentials") {
  for (auto hidden : std::vector<std::vector<int>>{{6}, {8, 4}, {4, 6, 4}}) {
    auto net = small_drn(hidden, 11);
    const Eigen::MatrixXd x = random_inputs(6, 5, 3);
    const Eigen::MatrixXd y = one_hot(6, 3);
    const Eigen::MatrixXd v = net.input_voltages(x);
    solvers::CoordinateDescentSolver bcd(1, 1e-13, 1000000);
    solvers::SolverParams newton_params;
    newton_params.type = "newton";
    auto newton = solvers::make_solver(newton_params, net);
    for (double beta : {0.0, 0.3, -0.3}) {
      CAPTURE(beta);
      CAPTURE(hidden.size());
      auto a = solvers::LayeredState::zeros(net, 6);
      auto b = solvers::LayeredState::zeros(net, 6);
      bcd.set_inputs(net, v);
      bcd.relax(net, {beta, &y}, a);
      newton->set_inputs(net, v);
      newton->relax(net, {beta, &y}, b);
      for (std::size_t l = 0; l < a.layers.size(); ++l)
        CHECK((a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-9);
      // Some hidden units sit on their diode (the nonlinearity is exercised).
      CHECK((a.layers[0].array() == 0.0).count() > 0);
    }
  }
}

TEST_CASE("clamped outputs: coordinate descent and Newton agree, outputs stay at the clamp") {
  auto net = small_drn({6, 4}, 8);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(4, 5, 6));
  const Eigen::MatrixXd clamp = one_hot(4, 3) * 0.7;
  solvers::CoordinateDescentSolver bcd(1, 1e-13, 1000000);
  solvers::SolverParams newton_params;
  newton_params.type = "newton";
  auto newton = solvers::make_solver(newton_params, net);
  auto a = solvers::LayeredState::zeros(net, 4);
  auto b = solvers::LayeredState::zeros(net, 4);
  bcd.set_inputs(net, v);
  bcd.relax(net, solvers::PhaseNudge::clamped(clamp), a);
  newton->set_inputs(net, v);
  newton->relax(net, solvers::PhaseNudge::clamped(clamp), b);
  CHECK(a.outputs() == clamp);
  for (std::size_t l = 0; l < a.layers.size(); ++l)
    CHECK((a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-9);
  // A free phase afterwards on the same Newton solver still works (its own circuit).
  auto c = solvers::LayeredState::zeros(net, 4);
  auto d = solvers::LayeredState::zeros(net, 4);
  bcd.set_inputs(net, v);
  bcd.relax(net, {}, c);
  newton->set_inputs(net, v);
  newton->relax(net, {}, d);
  CHECK((c.outputs() - d.outputs()).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("newton layered: Shockley DRN states satisfy KCL written out from the layered view") {
  /// One hidden layer h, outputs o, Shockley diodes I(V) = Is (exp(V / n Vt) - 1) + gmin V with
  /// V = anode - cathode: a unit of polarity +1 has its diode from ground to the node (current
  /// I(-h) flows in), one of polarity -1 from the node to ground (I(h) flows out). At each node
  /// the inflow vanishes:
  ///   hidden i:  sum_j W0[j,i] (V_j - h_i) + sum_k W1[i,k] (o_k - h_i) + b0_i +- I(-+h_i) = 0
  ///   output k:  sum_i W1[i,k] (h_i - o_k) + b1_k + beta (y_k - o_k) = 0
  /// A saturation current of 1e-6 (network units) makes the diodes conduct well below 1 V.
  circuits::DrnParams params;
  params.inputs = 5;
  params.input_gain = 3.0;
  params.hidden = {6};
  params.outputs = 3;
  params.diode = "shockley";
  params.diode_saturation_current = 1e-6;
  params.init = "uniform";
  params.init_low = 0.05;
  params.init_high = 1.0;
  params.bias_init = 0.5;
  const auto net = circuits::build_drn(params, 4);
  REQUIRE_FALSE(net.ideal_diodes);
  const Eigen::Index batch = 3;
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(batch, 5, 2));
  const Eigen::MatrixXd y = one_hot(batch, 3);
  auto newton = newton_solver(net);
  newton->set_inputs(net, v);
  circuits::Diode diode;
  diode.model = circuits::DiodeModel::Shockley;
  diode.saturation_current = net.params.diode_saturation_current;
  diode.emission = net.params.diode_emission;
  diode.temperature = net.params.diode_temperature;
  const Eigen::MatrixXd& w0 = net.weights[0];
  const Eigen::MatrixXd& w1 = net.weights[1];
  for (double beta : {0.0, 0.5}) {
    CAPTURE(beta);
    auto state = solvers::LayeredState::zeros(net, batch);
    newton->relax(net, solvers::PhaseNudge::nudge(beta, y), state);
    const Eigen::MatrixXd& h = state.layers[0];
    const Eigen::MatrixXd& o = state.layers[1];
    double worst = 0.0, diode_current = 0.0;
    for (Eigen::Index b = 0; b < batch; ++b) {
      for (Eigen::Index i = 0; i < net.sizes[1]; ++i) {
        double inflow = net.biases[0](i);
        for (Eigen::Index j = 0; j < net.sizes[0]; ++j) inflow += w0(j, i) * (v(b, j) - h(b, i));
        for (Eigen::Index k = 0; k < net.sizes[2]; ++k) inflow += w1(i, k) * (o(b, k) - h(b, i));
        const int polarity = net.polarity[0](i);
        REQUIRE(polarity != 0);
        const double through =
            polarity > 0 ? circuits::shockley(diode, -h(b, i)).current
                         : -circuits::shockley(diode, h(b, i)).current;
        diode_current = std::max(diode_current, std::abs(through));
        worst = std::max(worst, std::abs(inflow + through));
      }
      for (Eigen::Index k = 0; k < net.sizes[2]; ++k) {
        double inflow = net.biases[1](k) + beta * (y(b, k) - o(b, k));
        for (Eigen::Index i = 0; i < net.sizes[1]; ++i) inflow += w1(i, k) * (h(b, i) - o(b, k));
        worst = std::max(worst, std::abs(inflow));
      }
    }
    CHECK(worst < 1e-10);
    /// Some diode carries current: the nonlinearity is exercised.
    CHECK(diode_current > 1e-3);
  }
}

TEST_CASE(
    "newton layered: its options reach Newton, warm starts take fewer iterations, counts add up") {
  const auto net = small_drn({6}, 4, "shockley");
  const Eigen::Index batch = 3;
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(batch, 5, 7));

  /// A Shockley network cannot converge in one iteration: convergence needs the last update below
  /// tolerance as well, after a first step from 0 V.
  solvers::NewtonOptions one_iteration;
  one_iteration.max_iterations = 1;
  auto starved = solvers::make_newton_layered_solver(one_iteration, net);
  starved->set_inputs(net, v);
  auto unused = solvers::LayeredState::zeros(net, batch);
  CHECK_THROWS_AS(starved->relax(net, solvers::PhaseNudge::free(), unused), SolverError);

  /// From zeros, then from the solution (the warm start the nudged phases get): the same state,
  /// in fewer iterations.
  auto newton = newton_solver(net);
  newton->set_inputs(net, v);
  auto state = solvers::LayeredState::zeros(net, batch);
  newton->relax(net, solvers::PhaseNudge::free(), state);
  const long from_zeros = newton->last_iterations();
  auto again = state;
  newton->relax(net, solvers::PhaseNudge::free(), again);
  const long from_solution = newton->last_iterations();
  for (std::size_t l = 0; l < state.layers.size(); ++l)
    CHECK((again.layers[l] - state.layers[l]).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(from_solution < from_zeros);

  /// last_iterations of a batch is the sum of those of its samples solved one by one.
  long sum = 0;
  for (Eigen::Index b = 0; b < batch; ++b) {
    newton->set_inputs(net, v.row(b));
    auto one = solvers::LayeredState::zeros(net, 1);
    newton->relax(net, solvers::PhaseNudge::free(), one);
    sum += newton->last_iterations();
    for (std::size_t l = 0; l < state.layers.size(); ++l)
      CHECK((one.layers[l].row(0) - state.layers[l].row(b)).cwiseAbs().maxCoeff() < 1e-12);
  }
  CHECK(sum == from_zeros);

  /// newton_options reads the "newton" section of the solver parameters.
  solvers::SolverParams params;
  params.options<solvers::NewtonOptions>("newton").max_iterations = 1;
  CHECK(solvers::newton_options(params).max_iterations == 1);
  params.type = "newton";
  auto from_params = solvers::make_solver(params, net);
  from_params->set_inputs(net, v);
  auto other = solvers::LayeredState::zeros(net, batch);
  CHECK_THROWS_AS(from_params->relax(net, solvers::PhaseNudge::free(), other), SolverError);
}
