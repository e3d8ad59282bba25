#include <doctest/doctest.h>

#include "circuits/drn.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers_support.h"

using namespace physlearn;
using solvers_test::one_hot;
using solvers_test::random_inputs;

namespace {

circuits::LayeredNetwork small_drn(std::vector<int> hidden, std::uint64_t seed, std::string diode = "ideal") {
  circuits::DrnParams p;
  p.inputs = 5;
  p.input_gain = 3.0;
  p.hidden = std::move(hidden);
  p.outputs = 3;
  p.diode = diode;
  p.init = "uniform";
  p.init_low = 0.05;
  p.init_high = 1.0;
  p.bias_init = 0.5;
  return circuits::build_drn(p, seed);
}

}  // namespace

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

TEST_CASE("the layered solution satisfies KCL and the diode constraints in the lowered circuit") {
  auto net = small_drn({8}, 5);
  const Eigen::MatrixXd x = random_inputs(4, 5, 9);
  const Eigen::MatrixXd v = net.input_voltages(x);
  solvers::CoordinateDescentSolver bcd(1, 1e-14, 1000000);
  auto state = solvers::LayeredState::zeros(net, 4);
  bcd.set_inputs(net, v);
  bcd.relax(net, {}, state);
  auto lowered = circuits::lower_to_circuit(net);
  for (Eigen::Index b = 0; b < 4; ++b) {
    lowered.update(net, v.row(b));
    // KCL at every free node: conductance currents plus bias; a clamped node's imbalance is the
    // diode's current and must flow in the diode's forward direction.
    for (int l = 0; l < net.num_weight_layers(); ++l)
      for (int i = 0; i < net.sizes[l + 1]; ++i) {
        const double vi = state.layers[l](b, i);
        const Eigen::VectorXd below = l == 0 ? Eigen::VectorXd(v.row(b).transpose())
                                             : Eigen::VectorXd(state.layers[l - 1].row(b).transpose());
        double inflow = ((below.array() - vi) * net.weights[l].col(i).array()).sum() + net.biases[l](i);
        if (l + 1 < net.num_weight_layers())
          inflow += ((state.layers[l + 1].row(b).transpose().array() - vi) *
                     net.weights[l + 1].row(i).transpose().array()).sum();
        const int polarity = net.polarity[l](i);
        if (polarity == 0 || vi != 0.0) {
          CHECK(std::abs(inflow) < 1e-10);
          CHECK(vi * polarity >= 0.0);
        } else {
          // Diode conducting: a v>=0 node pushed negative draws current from ground (inflow < 0).
          CHECK(inflow * polarity <= 1e-10);
        }
      }
  }
}

TEST_CASE("Newton's operating point of the lowered DRN has a tiny KCL residual") {
  auto net = small_drn({6}, 2);
  auto lowered = circuits::lower_to_circuit(net);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(1, 5, 1));
  lowered.update(net, v.row(0));
  solvers::NewtonSolver newton(lowered.circuit);
  auto op = newton.solve(lowered.circuit);
  CHECK(solvers::kcl_residual(lowered.circuit, op) < 1e-10);
}

TEST_CASE("Shockley-diode DRNs run on Newton; the layered solver refuses them") {
  auto net = small_drn({6}, 4, "shockley");
  solvers::SolverParams p;
  CHECK_THROWS_AS(solvers::make_solver(p, net), ConfigError);
  p.type = "newton";
  auto newton = solvers::make_solver(p, net);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(3, 5, 2));
  auto state = solvers::LayeredState::zeros(net, 3);
  newton->set_inputs(net, v);
  newton->relax(net, {}, state);
  // Soft diodes: potentials may go slightly past 0 (junction drop), never far.
  for (Eigen::Index i = 0; i < 3; ++i) CHECK(state.layers[0](0, i) > -1.0);
  for (Eigen::Index i = 3; i < 6; ++i) CHECK(state.layers[0](0, i) < 1.0);
}

TEST_CASE("fixed sweeps stop early; a tolerance converges or reports the sweep budget") {
  auto net = small_drn({8, 8}, 3);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(2, 5, 4));
  solvers::CoordinateDescentSolver four(4, 0.0, 1);
  auto s = solvers::LayeredState::zeros(net, 2);
  four.set_inputs(net, v);
  four.relax(net, {}, s);
  CHECK(four.last_iterations() == 4);
  solvers::CoordinateDescentSolver tight(1, 1e-300, 3);
  auto t = solvers::LayeredState::zeros(net, 2);
  tight.set_inputs(net, v);
  CHECK_THROWS_WITH_AS(tight.relax(net, {}, t), doctest::Contains("no convergence"), SolverError);
}

TEST_CASE("a negative nudge larger than the output conductance is refused with a reason") {
  auto net = small_drn({4}, 1);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(1, 5, 4));
  const Eigen::MatrixXd y = one_hot(1, 3);
  solvers::CoordinateDescentSolver bcd(4, 0.0, 1);
  auto s = solvers::LayeredState::zeros(net, 1);
  bcd.set_inputs(net, v);
  CHECK_THROWS_WITH_AS(bcd.relax(net, {-100.0, &y}, s), doctest::Contains("beta"), SolverError);
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
