// The EP estimate against the exact gradient (orchestration/gradcheck.h) on experiments/xor.json:
// the exact gradient's norm against finite differences of the loss, EP's agreement with it as
// beta shrinks (centered: second order, one-sided: first order), the report's figures, and
// options that are refused naming the option.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/error.h"
#include "data/dataset.h"
#include "orchestration/gradcheck.h"
#include "orchestration_support.h"
#include "solvers/equilibrium.h"

using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::xor_experiment;

namespace {

GradcheckOptions with(double beta, const std::string& variant) {
  GradcheckOptions o;
  o.beta = beta;
  o.variant = variant;
  return o;
}

/// The gradient of the batch loss 1/B sum_b 1/2 ||o_b - y_b||^2 over XOR's first `batch` points
/// by central finite differences of converged free phases, every conductance and bias of the
/// network built from `config`: nothing of the implicit differentiation gradcheck uses.
Eigen::VectorXd finite_difference_gradient(const ExperimentConfig& config, int batch) {
  circuits::LayeredNetwork net =
      circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  const data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  const Eigen::MatrixXd inputs = split.train.inputs.topRows(batch).cast<double>();
  Eigen::MatrixXd targets = Eigen::MatrixXd::Zero(inputs.rows(), 2);
  for (Eigen::Index r = 0; r < inputs.rows(); ++r)
    targets(r, split.train.labels[static_cast<std::size_t>(r)]) = 1.0;
  const Eigen::MatrixXd voltages = net.input_voltages(inputs);
  auto loss = [&]() {
    solvers::CoordinateDescentSolver solver(1, 1e-14, 1000000);
    solver.set_inputs(net, voltages);
    solvers::LayeredState state = solvers::LayeredState::zeros(net, inputs.rows());
    solver.relax(net, solvers::PhaseNudge::free(), state);
    const Eigen::MatrixXd d = state.outputs() - targets;
    return 0.5 * d.squaredNorm() / static_cast<double>(inputs.rows());
  };
  std::vector<double*> parameters;
  for (auto& w : net.weights)
    for (Eigen::Index i = 0; i < w.size(); ++i) parameters.push_back(w.data() + i);
  for (auto& b : net.biases)
    for (Eigen::Index i = 0; i < b.size(); ++i) parameters.push_back(b.data() + i);
  Eigen::VectorXd g(static_cast<Eigen::Index>(parameters.size()));
  const double h = 1e-5;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const double keep = *parameters[k];
    *parameters[k] = keep + h;
    const double up = loss();
    *parameters[k] = keep - h;
    const double down = loss();
    *parameters[k] = keep;
    g(static_cast<Eigen::Index>(k)) = (up - down) / (2.0 * h);
  }
  return g;
}

/// xor.json with random bias currents. With xor.json's zero biases the point (0, 0) drives
/// nothing: every hidden node rests at 0 V, on its ideal diode's kink, where the loss has no
/// gradient (the one-sided derivatives differ: gradcheck's "exact" gradient holds those nodes
/// fixed, central differences average the two sides, any nudge opens some of the diodes), and
/// EP's relative error stays near 6 % however small beta. Random biases move the nodes off it.
ExperimentConfig xor_biased() { return xor_experiment(1, {"network.bias_init=0.1"}); }

/// |e - x|^2 from the report's norms and cosine, relative to |x|^2 (the law of cosines).
double relative_error_from_cosine(const json& out) {
  const double e = out["estimate_norm"].get<double>(), x = out["exact_norm"].get<double>();
  return std::sqrt(e * e + x * x - 2.0 * out["cosine"].get<double>() * e * x) / x;
}

}  // namespace

TEST_CASE("gradcheck on XOR: the exact gradient's norm is that of finite differences") {
  const ExperimentConfig config = xor_biased();
  for (int batch : {4, 2}) {
    CAPTURE(batch);
    GradcheckOptions options = with(0.01, "centered");
    options.batch = batch;
    const json out = gradcheck(config, options);
    const Eigen::VectorXd fd = finite_difference_gradient(config, batch);
    /// Counted by hand: 4 x 16 + 16 x 2 conductances, 16 + 2 biases (xor.json: 2 inputs doubled).
    CHECK(out["parameters"] == 114);
    REQUIRE(fd.size() == 114);
    CHECK(out["batch"] == batch);
    CHECK(out["exact_norm"].get<double>() == doctest::Approx(fd.norm()).epsilon(1e-6));
  }
  /// A batch larger than the training set is the whole set (XOR's 4 points).
  GradcheckOptions large = with(0.01, "centered");
  large.batch = 100;
  CHECK(gradcheck(config, large)["batch"] == 4);
}

TEST_CASE("gradcheck on XOR: centered EP is the gradient for small beta, one-sided EP first order") {
  const ExperimentConfig config = xor_biased();
  std::vector<double> positive;
  for (double beta : {0.01, 0.003, 0.001}) {
    CAPTURE(beta);
    const json c = gradcheck(config, with(beta, "centered"));
    const json p = gradcheck(config, with(beta, "positive"));
    /// The options as given are reported.
    CHECK(c["beta"].get<double>() == beta);
    CHECK(c["variant"] == "centered");
    CHECK(p["variant"] == "positive");
    /// Below beta ~ 0.02 no diode switches in the nudged phases: the network is linear there
    /// and centered EP's contrast of quadratic energies is the gradient itself (to the phases'
    /// 1e-12 V convergence).
    CHECK(c["cosine"].get<double>() > 1.0 - 1e-9);
    CHECK(c["relative_error"].get<double>() < 1e-5);
    for (const json& layer : c["layers"]) CHECK(layer["cosine"].get<double>() > 1.0 - 1e-9);
    /// One-sided EP errs by O(beta): far more than centered.
    CHECK(p["relative_error"].get<double>() > 100.0 * c["relative_error"].get<double>());
    positive.push_back(p["relative_error"].get<double>());
  }
  /// The relative error shrinks with beta, in proportion: 0.01 -> 0.001 divides it by 10.
  CHECK(positive[1] < positive[0]);
  CHECK(positive[2] < positive[1]);
  CHECK(positive[2] / positive[0] == doctest::Approx(0.1).epsilon(0.05));
  /// Centered EP from large beta (diodes switch in the nudged phases) down: the error shrinks
  /// too, and is tiny once no diode switches.
  const double at_04 = gradcheck(config, with(0.4, "centered"))["relative_error"].get<double>();
  const double at_01 = gradcheck(config, with(0.1, "centered"))["relative_error"].get<double>();
  const double at_001 = gradcheck(config, with(0.01, "centered"))["relative_error"].get<double>();
  MESSAGE("centered EP, relative error at beta 0.4, 0.1, 0.01: " << at_04 << ", " << at_01 << ", "
                                                                  << at_001);
  CHECK(at_01 < at_04);
  CHECK(at_001 < 1e-3 * at_01);
}

TEST_CASE("gradcheck on XOR: the report's figures agree with each other and the experiment") {
  const ExperimentConfig config = xor_biased();
  /// No options: the experiment's beta (0.1), variant (centered) and batch size (4).
  const json out = gradcheck(config, GradcheckOptions{});
  CHECK(out["beta"].get<double>() == 0.1);
  CHECK(out["variant"] == "centered");
  CHECK(out["batch"] == 4);
  REQUIRE(out["layers"].size() == 2);
  CHECK(out["layers"][0]["layer"] == 0);
  CHECK(out["layers"][1]["layer"] == 1);
  /// A large beta (diodes switch): cosine, norms and relative error still fit the law of cosines.
  const json rough = gradcheck(config, with(0.4, "positive"));
  CHECK(rough["cosine"].get<double>() < 1.0 - 1e-6);
  CHECK(rough["relative_error"].get<double>() ==
        doctest::Approx(relative_error_from_cosine(rough)).epsilon(1e-6));
  /// The experiment's own solver section (20 sweeps, no tolerance), with its figures.
  const json& own = out["experiment_solver"];
  CHECK(own["type"] == "layered");
  CHECK(own["sweeps"] == 20);
  CHECK(own["tolerance"].get<double>() == 0.0);
  CHECK(own.contains("cosine"));
  CHECK(own.contains("relative_error"));
  /// The experiment's solver converged as gradcheck's own: the same figures; one sweep per
  /// phase: farther from the gradient.
  const json converged = gradcheck(
      xor_experiment(1, {"network.bias_init=0.1", "solver.tolerance=1e-13", "solver.max_sweeps=100000"}),
      GradcheckOptions{});
  CHECK(converged["experiment_solver"]["relative_error"].get<double>() ==
        doctest::Approx(converged["relative_error"].get<double>()).epsilon(1e-6));
  const json one_sweep = gradcheck(xor_experiment(1, {"network.bias_init=0.1", "solver.sweeps=1"}),
                                   GradcheckOptions{});
  CHECK(one_sweep["experiment_solver"]["relative_error"].get<double>() >
        2.0 * one_sweep["relative_error"].get<double>());
}

TEST_CASE("gradcheck: an unknown variant names --variant, Shockley diodes name network.diode") {
  const ExperimentConfig config = xor_biased();
  CHECK_THROWS_WITH_AS(gradcheck(config, with(0.01, "sideways")),
                       "--variant: \"sideways\": must be one of: positive, negative, centered",
                       ConfigError);
  try {
    gradcheck(config, with(0.01, "sideways"));
  } catch (const ConfigError& e) {
    CHECK(e.path() == "--variant");
  }
  /// Negative beta or batch, and a tolerance <= 0 (which would give one sweep per phase and an
  /// unsettled "converged" state), name their option.
  GradcheckOptions bad;
  bad.beta = -0.5;
  CHECK_THROWS_WITH_AS(gradcheck(config, bad), doctest::Contains("--beta: -0.5"), ConfigError);
  bad = GradcheckOptions{};
  bad.batch = -3;
  CHECK_THROWS_WITH_AS(gradcheck(config, bad), doctest::Contains("--batch: -3"), ConfigError);
  bad = GradcheckOptions{};
  bad.tolerance = 0.0;
  CHECK_THROWS_WITH_AS(gradcheck(config, bad), doctest::Contains("--tolerance: 0"), ConfigError);
  /// The exact gradient needs ideal diodes or none.
  const ExperimentConfig shockley =
      xor_experiment(1, {"network.diode=shockley", "solver.type=newton", "solver.sweeps=null"});
  CHECK_THROWS_WITH_AS(gradcheck(shockley, GradcheckOptions{}),
                       doctest::Contains("network.diode: \"shockley\""), ConfigError);
}
