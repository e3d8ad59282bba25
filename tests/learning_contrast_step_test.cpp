#include <doctest/doctest.h>

#include "learning/contrast_step.h"
#include "learning/executor.h"
#include "learning/optimizer.h"
#include "solvers/equilibrium.h"

using namespace physlearn;

namespace {

circuits::LayeredNetwork drn(bool inverted_inputs) {
  circuits::DrnParams p;
  p.inputs = 6;
  p.input_gain = 3.0;
  p.inverted_inputs = inverted_inputs;
  p.hidden = {8, 6};
  p.outputs = 3;
  p.init = "uniform";
  p.init_low = 0.05;
  p.init_high = 1.0;
  p.bias_init = 0.3;
  return circuits::build_drn(p, 23);
}

}  // namespace

TEST_CASE("the fused contrast step equals energy_contrast followed by SGD momentum") {
  // With inverted inputs, batch 3's inputs are not exact copies (the step leaves its sum form
  // and comes back to it with a sum that is no longer one value per column), and the step is
  // restored from its state at batches 2 and 5 (in each of its two sum forms).
  for (bool inverted : {true, false}) {
    CAPTURE(inverted);
    auto reference = drn(inverted);
    auto fused = reference;
    const std::vector<double> lr_w{0.05, 0.04, 0.03}, lr_b{0.02, 0.02, 0.01};
    // g_min high enough that some conductances are clipped by the steps.
    const double g_min = 0.1, g_max = 0.9, momentum = 0.9;
    learning::SgdMomentum optimizer(momentum, lr_w, lr_b, 0.99);
    learning::ContrastStep<double> step(momentum, lr_w, lr_b, 0.99, g_min, g_max);
    solvers::CoordinateDescentSolver solver(6, 0.0, 1);
    auto direction = learning::ParameterGradient::zeros_like(reference);
    long clipped = 0;
    for (int batch = 0; batch < 7; ++batch) {
      std::srand(100 + batch);
      const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(4, 6).array() + 1.0) * 0.5;
      Eigen::MatrixXd y = Eigen::MatrixXd::Zero(4, 3);
      for (int b = 0; b < 4; ++b) y(b, (b + batch) % 3) = 1.0;
      Eigen::MatrixXd v = reference.input_voltages(x);
      if (inverted && batch == 3) v(1, 8) += 0.25;
      CHECK(solvers::inverted_copies(v) == (inverted && batch != 3));
      if (batch == 2 || batch == 5) {
        learning::ContrastStep<double> restored(momentum, lr_w, lr_b, 0.99, g_min, g_max);
        restored.set_state(json::parse(step.state().dump()), "step");
        step = restored;
      }
      // The reference: the rule's gradient, then the momentum step (both on `reference`).
      solvers::LayeredState free;
      const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.5, 0.5});
      learning::layered_direction(plan, reference, solver, v, y, free, direction);
      for (int l = 0; l < reference.num_weight_layers(); ++l) {
        optimizer.apply(l, false, direction.weights[l], reference.weights[l], g_min, g_max);
        optimizer.apply(l, true, direction.biases[l], reference.biases[l], -1e300, 1e300);
      }
      // The fused step from the same phases run on `fused`.
      solver.set_inputs(fused, v);
      std::vector<solvers::LayeredState> states(1, solvers::LayeredState::zeros(fused, 4));
      std::vector<Eigen::MatrixXd> clamps;
      learning::run_layered_plan(plan, y, states, clamps,
                                 [&](const solvers::PhaseNudge& n, solvers::LayeredState& s) {
                                   solver.relax(fused, n, s);
                                 });
      step.apply(fused.weights, fused.biases, true, v, states[plan.a], states[plan.b], plan.scale);
      for (int l = 0; l < reference.num_weight_layers(); ++l) {
        CHECK((reference.weights[l] - fused.weights[l]).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((reference.biases[l] - fused.biases[l]).cwiseAbs().maxCoeff() < 1e-12);
        clipped += (fused.weights[l].array() == g_min).count();
      }
      if (batch == 2) {
        optimizer.end_epoch();
        step.end_epoch();
      }
    }
    CHECK(clipped > 0);
  }
}
