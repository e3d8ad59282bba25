#include <doctest/doctest.h>

#include "learning/controller.h"

using namespace physlearn;

namespace {

devices::ChipParams constant_step_chip(double c2c) {
  devices::ChipParams p;
  p.seed = 5;
  p.device.model = "constant-step";
  p.device.constant_step.g_min = 0.0;
  p.device.constant_step.g_max = 1e-4;
  p.device.constant_step.dg = 1e-6;
  p.device.constant_step.max_pulses = 1000;
  p.variability.c2c_sigma = c2c;
  p.g_unit = 1e-4;  // one network unit = 100 uS: a pulse is 0.01 units
  return p;
}

}  // namespace

TEST_CASE("deterministic rounding sends round(|dg| / step) pulses, the budget caps them") {
  std::vector<Eigen::MatrixXd> w{Eigen::MatrixXd::Constant(2, 2, 0.5)};
  devices::Chip chip(constant_step_chip(0.0), w);
  learning::ControllerParams params;
  params.max_pulses = 3;
  learning::LearningController controller(params, chip, 1);
  Eigen::MatrixXd desired(2, 2);
  desired << 0.0149, -0.021, 0.1, -0.1;  // 1.49, -2.1, 10, -10 pulses' worth
  controller.program(0, w[0], desired);
  CHECK(w[0](0, 0) == doctest::Approx(0.51));
  CHECK(w[0](0, 1) == doctest::Approx(0.48));
  CHECK(w[0](1, 0) == doctest::Approx(0.53));  // capped at 3 pulses
  CHECK(w[0](1, 1) == doctest::Approx(0.47));
  CHECK(controller.take_stats().pulses == 1 + 2 + 3 + 3);
}

TEST_CASE("stochastic rounding is unbiased") {
  std::vector<Eigen::MatrixXd> w{Eigen::MatrixXd::Constant(100, 100, 0.5)};
  devices::Chip chip(constant_step_chip(0.0), w);
  learning::ControllerParams params;
  params.rounding = "stochastic";
  learning::LearningController controller(params, chip, 7);
  const Eigen::MatrixXd desired = Eigen::MatrixXd::Constant(100, 100, 0.0025);  // a quarter pulse
  controller.program(0, w[0], desired);
  const double mean_change = (w[0].array() - 0.5).mean();
  CHECK(mean_change == doctest::Approx(0.0025).epsilon(0.1));
  // Each device moved by 0 or 1 whole pulse.
  for (Eigen::Index i = 0; i < w[0].size(); ++i) {
    const double pulses = (w[0].data()[i] - 0.5) / 0.01;
    CHECK(std::abs(pulses - std::round(pulses)) < 1e-9);
  }
}

TEST_CASE("write-verify brings noisy devices closer to their targets than open loop") {
  auto error_after = [](int rounds) {
    std::vector<Eigen::MatrixXd> w{Eigen::MatrixXd::Constant(30, 30, 0.2)};
    devices::Chip chip(constant_step_chip(0.5), w);
    learning::ControllerParams params;
    params.verify_iterations = rounds;
    learning::LearningController controller(params, chip, 3);
    const Eigen::MatrixXd desired = Eigen::MatrixXd::Constant(30, 30, 0.3);  // 30 pulses
    controller.program(0, w[0], desired);
    return (w[0].array() - 0.5).abs().mean();
  };
  const double open = error_after(0), verified = error_after(5);
  CHECK(verified < 0.5 * open);
}
