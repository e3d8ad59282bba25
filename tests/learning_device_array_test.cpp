// The device arrays behind a network's conductances (learning/device_array.h): ideal devices
// apply the optimiser's step exactly within [g_min, g_max]; a chip (devices/chip.h) programs it
// through its devices in whole pulses, on its levels and within its bounds, and counts them.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include "core/binary.h"
#include "learning/device_array.h"

using namespace physlearn;

namespace {

/// A 1 x 2 layer.
Eigen::MatrixXd pair_of(double first, double second) {
  Eigen::MatrixXd m(1, 2);
  m << first, second;
  return m;
}

/// A 2 x 2 layer, row by row.
Eigen::MatrixXd square_of(double a, double b, double c, double d) {
  Eigen::MatrixXd m(2, 2);
  m << a, b, c, d;
  return m;
}

/// Constant-step devices on [0, 100 uS] with g_unit 100 uS: network units [0, 1], one pulse
/// 0.01 units; no noise unless a test adds it.
devices::ChipParams constant_step_chip() {
  devices::ChipParams p;
  p.seed = 11;
  p.device.model = "constant-step";
  p.device.constant_step.g_min = 0.0;
  p.device.constant_step.g_max = 1e-4;
  p.device.constant_step.dg = 1e-6;
  p.device.constant_step.max_pulses = 1000;
  p.g_unit = 1e-4;
  return p;
}

/// Plain SGD with rate 1: the optimiser's step is -direction, so `direction = -desired change`.
learning::SgdMomentum unit_rate() { return learning::SgdMomentum(0.0, {1.0}, {1.0}, 1.0); }

/// Largest entry-wise difference.
double largest_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("ideal devices: the momentum step exactly, clipped to [g_min, g_max]") {
  /// w <- clip(w - lr v, g_min, g_max), v <- m v + d, with m = 1/2, lr = 1/4, [1/8, 7/8] and
  /// w0 = [1/2, 1/2]; by hand:
  ///   d1 = [1, -2]   v1 = [1, -2]       w1 = clip([0.25, 1.0])            = [0.25, 0.875]
  ///   d2 = [4, 0]    v2 = [4.5, -1]     w2 = clip([-0.875, 1.125])        = [0.125, 0.875]
  ///   d3 = [-8, 1]   v3 = [-5.75, 0.5]  w3 = clip([1.5625, 0.75])         = [0.875, 0.75]
  auto devices = learning::make_ideal_devices(0.125, 0.875);
  std::vector<Eigen::MatrixXd> weights{pair_of(0.5, 0.5)};
  devices->program_start(weights, nullptr);
  CHECK(weights[0] == pair_of(0.5, 0.5));  // nothing to program
  learning::SgdMomentum optimizer(0.5, {0.25}, {0.25}, 1.0);
  const std::vector<Eigen::MatrixXd> directions{pair_of(1, -2), pair_of(4, 0), pair_of(-8, 1)};
  const std::vector<Eigen::MatrixXd> expected{pair_of(0.25, 0.875), pair_of(0.125, 0.875),
                                              pair_of(0.875, 0.75)};
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    devices->read(weights);  // ideal reads are exact: nothing changes
    devices->step(0, optimizer, directions[k], weights[0]);
    CHECK(weights[0] == expected[k]);
  }
  devices->end_epoch(weights);  // no drift
  CHECK(weights[0] == expected[2]);
  CHECK(devices->conductances(0, weights[0]) == expected[2]);
  CHECK(devices->take_figures().is_null());
  // A network to start from is taken as it is.
  const std::vector<Eigen::MatrixXd> start{pair_of(0.3, 0.7)};
  devices->program_start(weights, &start);
  CHECK(weights[0] == start[0]);
}

TEST_CASE("ideal devices: no state in a checkpoint, and a chip's state is refused") {
  auto devices = learning::make_ideal_devices(0.0, 1.0);
  json state = json::object();
  devices->save_state(state);
  CHECK(state == json::object());
  CHECK_NOTHROW(devices->set_state(state, "model"));
  CHECK_THROWS_WITH_AS(devices->set_state(json{{"chip", json::object()}}, "model"),
                       doctest::Contains("model: a chip state (the run has no chip)"), Error);
}

TEST_CASE("chip devices: whole pulses, the model's pulse cap and the bounds, all counted") {
  /// Deterministic rounding: n = min(round(|dw| / 0.01), 3) pulses (the model's max_pulses 3),
  /// each 0.01 units, clipped to [0, 1]. Desired changes and what they become, by hand:
  ///   (0,0) 0.5   +0.0149 -> 1 pulse  -> 0.51
  ///   (0,1) 0.5   -0.021  -> 2 pulses -> 0.48
  ///   (1,0) 0.5   +0.1    -> 10, capped at 3 -> 0.53
  ///   (1,1) 0.995 +0.02   -> 2 pulses -> 1.005, held at g_max = 1
  /// Energy (NeuroSim's estimate) V^2 t_w sum over pulses of (G_before + G_after) / 2, in uS:
  ///   50.5 + (49.5 + 48.5) + (50.5 + 51.5 + 52.5) + (99.75 + 100) = 502.75 uS.
  devices::ChipParams chip = constant_step_chip();
  chip.device.constant_step.max_pulses = 3;
  chip.pulse_voltage = 2.0;
  chip.pulse_width = 1e-6;
  std::vector<Eigen::MatrixXd> weights{square_of(0.5, 0.5, 0.5, 0.995)};
  auto devices = learning::make_chip_devices(chip, learning::ControllerParams{}, weights);
  devices->program_start(weights, nullptr);  // reads what the devices hold
  CHECK(largest_difference(weights[0], square_of(0.5, 0.5, 0.5, 0.995)) < 1e-12);
  learning::SgdMomentum optimizer = unit_rate();
  devices->step(0, optimizer, -square_of(0.0149, -0.021, 0.1, 0.02), weights[0]);
  CHECK(largest_difference(weights[0], square_of(0.51, 0.48, 0.53, 1.0)) < 1e-12);
  CHECK(weights[0](1, 1) <= 1.0);
  CHECK(devices->conductances(0, weights[0]) == weights[0]);  // noise-free reads
  const json figures = devices->take_figures();
  CHECK(figures["pulses"] == 1 + 2 + 3 + 2);
  CHECK(figures["devices_pulsed"] == 4);
  CHECK(figures["capped"] == 1);
  CHECK(figures["programming_energy"].get<double>() ==
        doctest::Approx(2.0 * 2.0 * 1e-6 * 502.75e-6).epsilon(1e-12));
  // The figures are those since the last call.
  const json none = devices->take_figures();
  CHECK(none["pulses"] == 0);
  CHECK(none["devices_pulsed"] == 0);
  CHECK(none["programming_energy"].get<double>() == 0.0);
}

TEST_CASE("chip devices: the controller's pulse budget limits each update") {
  /// With the controller's max_pulses 3 (the model allows 1000), a desired change of 10 pulses
  /// moves the device by 3 pulses, and a change of 2 pulses by 2; the cut device is counted as
  /// capped.
  std::vector<Eigen::MatrixXd> weights{pair_of(0.5, 0.5)};
  learning::ControllerParams controller;
  controller.max_pulses = 3;
  auto devices = learning::make_chip_devices(constant_step_chip(), controller, weights);
  devices->program_start(weights, nullptr);
  learning::SgdMomentum optimizer = unit_rate();
  devices->step(0, optimizer, -pair_of(-0.1, 0.02), weights[0]);
  CHECK(largest_difference(weights[0], pair_of(0.47, 0.52)) < 1e-12);
  const json figures = devices->take_figures();
  CHECK(figures["pulses"] == 3 + 2);
  CHECK(figures["capped"] == 1);
}

TEST_CASE("chip devices: finite levels hold every conductance on a level") {
  /// 5 levels on [0, 1]: 0, 0.25, 0.5, 0.75, 1. The starting conductances go to the nearest
  /// level: 0.3 -> 0.25, 0.6 -> 0.5, 0.9 -> 1, 0.1 -> 0. A step's pulses move the device, and
  /// the result goes to the nearest level again:
  ///   0.25 + 20 pulses = 0.45 -> 0.5;  0.5 + 10 pulses = 0.6 -> 0.5 (lost);
  ///   1 - 40 pulses = 0.6 -> 0.5;      0 + 90 pulses = 0.9 -> 1.
  devices::ChipParams chip = constant_step_chip();
  chip.variability.levels = 5;
  std::vector<Eigen::MatrixXd> weights{square_of(0.3, 0.6, 0.9, 0.1)};
  auto devices = learning::make_chip_devices(chip, learning::ControllerParams{}, weights);
  devices->program_start(weights, nullptr);
  CHECK(largest_difference(weights[0], square_of(0.25, 0.5, 1.0, 0.0)) < 1e-12);
  learning::SgdMomentum optimizer = unit_rate();
  devices->step(0, optimizer, -square_of(0.2, 0.1, -0.4, 0.9), weights[0]);
  CHECK(largest_difference(weights[0], square_of(0.5, 0.5, 0.5, 1.0)) < 1e-12);
  CHECK(devices->take_figures()["pulses"] == 20 + 10 + 40 + 90);
}

TEST_CASE("chip devices: a network to start from is programmed through the devices") {
  /// From 0.5 everywhere to the start network: |start - 0.5| / 0.01 pulses per device,
  /// 3 + 3 + 0 + 12 = 18 pulses on 3 devices, counted with the first figures.
  std::vector<Eigen::MatrixXd> weights{Eigen::MatrixXd::Constant(2, 2, 0.5)};
  auto devices =
      learning::make_chip_devices(constant_step_chip(), learning::ControllerParams{}, weights);
  const std::vector<Eigen::MatrixXd> start{square_of(0.53, 0.47, 0.5, 0.62)};
  devices->program_start(weights, &start);
  CHECK(largest_difference(weights[0], start[0]) < 1e-12);
  CHECK(largest_difference(devices->conductances(0, weights[0]), start[0]) < 1e-12);
  const json figures = devices->take_figures();
  CHECK(figures["pulses"] == 18);
  CHECK(figures["devices_pulsed"] == 3);
}

TEST_CASE("chip devices: a chip of ideal analog devices programs what ideal devices compute") {
  /// The same momentum steps through two implementations: the ideal array's fused update
  /// (optimiser apply, clipped to [0.1, 0.9]) and a chip of analog "ideal" devices on
  /// [10 uS, 90 uS] (optimiser step, one write per device, clipped by the device). Equal to
  /// rounding; one write per device that changes.
  devices::ChipParams chip;
  chip.seed = 2;
  chip.device.model = "ideal";
  chip.device.ideal.g_min = 1e-5;
  chip.device.ideal.g_max = 9e-5;
  chip.g_unit = 1e-4;
  std::srand(5);
  const Eigen::MatrixXd initial = 0.1 + 0.8 * (Eigen::MatrixXd::Random(3, 4).array() + 1.0) / 2.0;
  std::vector<Eigen::MatrixXd> on_chip{initial}, ideal{initial};
  auto chip_devices = learning::make_chip_devices(chip, learning::ControllerParams{}, on_chip);
  auto ideal_devices = learning::make_ideal_devices(0.1, 0.9);
  chip_devices->program_start(on_chip, nullptr);
  ideal_devices->program_start(ideal, nullptr);
  learning::SgdMomentum chip_optimizer(0.8, {0.3}, {0.3}, 1.0), ideal_optimizer = chip_optimizer;
  long clipped = 0;
  for (int k = 0; k < 4; ++k) {
    Eigen::MatrixXd direction = Eigen::MatrixXd::Random(3, 4);
    direction(0, 0) = 0.0;  // a device left alone takes no write
    chip_devices->step(0, chip_optimizer, direction, on_chip[0]);
    ideal_devices->step(0, ideal_optimizer, direction, ideal[0]);
    CHECK(largest_difference(on_chip[0], ideal[0]) < 1e-12);
    CHECK(chip_devices->take_figures()["pulses"] == 11);
    clipped += (ideal[0].array() == 0.1).count() + (ideal[0].array() == 0.9).count();
  }
  CHECK(clipped > 0);  // the bounds were exercised
}

TEST_CASE("chip devices: noisy reads for the phases, noise-free conductances for the record") {
  /// With read noise, program_start and read() give the phases a fresh noisy read
  /// G (1 + 0.05 xi); conductances() stays the devices' noise-free value.
  devices::ChipParams chip = constant_step_chip();
  chip.variability.read_sigma = 0.05;
  const Eigen::MatrixXd initial = Eigen::MatrixXd::Constant(20, 20, 0.5);
  std::vector<Eigen::MatrixXd> weights{initial};
  auto devices = learning::make_chip_devices(chip, learning::ControllerParams{}, weights);
  devices->program_start(weights, nullptr);
  const Eigen::MatrixXd first_read = weights[0];
  devices->read(weights);
  CHECK(weights[0] != first_read);  // a fresh read
  CHECK(largest_difference(devices->conductances(0, weights[0]), initial) < 1e-12);
  // The relative spread of a read is read_sigma (400 devices: within 15%).
  const Eigen::ArrayXXd relative = weights[0].array() / initial.array() - 1.0;
  const double spread = std::sqrt(relative.square().mean());
  CHECK(spread == doctest::Approx(0.05).epsilon(0.15));
}

TEST_CASE("chip devices: retention drift after every epoch, G0 (t / t0)^-nu") {
  /// drift_nu 0.1, t0 1 s, 10 s per epoch: after one epoch w = 0.5 * 10^-0.1, after two
  /// 0.5 * 20^-0.1 (the device's age since it was last programmed).
  devices::ChipParams chip = constant_step_chip();
  chip.variability.drift_nu = 0.1;
  learning::ControllerParams controller;
  controller.drift_seconds = 10.0;
  std::vector<Eigen::MatrixXd> weights{Eigen::MatrixXd::Constant(2, 3, 0.5)};
  auto devices = learning::make_chip_devices(chip, controller, weights);
  devices->program_start(weights, nullptr);
  devices->end_epoch(weights);
  const Eigen::MatrixXd after_one = Eigen::MatrixXd::Constant(2, 3, 0.5 * std::pow(10.0, -0.1));
  CHECK(largest_difference(weights[0], after_one) < 1e-12);
  devices->end_epoch(weights);
  const Eigen::MatrixXd after_two = Eigen::MatrixXd::Constant(2, 3, 0.5 * std::pow(20.0, -0.1));
  CHECK(largest_difference(weights[0], after_two) < 1e-12);
}

TEST_CASE("chip devices: the checkpoint state continues bit for bit, a chipless state is refused") {
  /// Cycle-to-cycle and read noise and stochastic rounding: every random stream is in use. The
  /// array restored from the state after 2 steps continues as the uninterrupted one.
  devices::ChipParams chip = constant_step_chip();
  chip.variability.c2c_sigma = 0.3;
  chip.variability.read_sigma = 0.02;
  chip.variability.d2d_sigma = 0.1;
  learning::ControllerParams controller;
  controller.rounding = "stochastic";
  std::srand(9);
  const Eigen::MatrixXd initial = 0.2 + 0.6 * (Eigen::MatrixXd::Random(4, 3).array() + 1.0) / 2.0;
  std::vector<Eigen::MatrixXd> weights{initial};
  auto uninterrupted = learning::make_chip_devices(chip, controller, weights);
  uninterrupted->program_start(weights, nullptr);
  learning::SgdMomentum optimizer(0.9, {0.05}, {0.05}, 1.0);
  std::vector<Eigen::MatrixXd> directions;
  for (int k = 0; k < 4; ++k) directions.push_back(Eigen::MatrixXd::Random(4, 3));
  for (int k = 0; k < 2; ++k) {
    uninterrupted->read(weights);
    uninterrupted->step(0, optimizer, directions[k], weights[0]);
  }
  json state = json::object();
  uninterrupted->save_state(state);
  REQUIRE(state.contains("chip"));
  REQUIRE(state.contains("controller"));
  state = json::parse(state.dump());  // through text, as in a file
  std::vector<Eigen::MatrixXd> restored_weights{initial};
  auto restored = learning::make_chip_devices(chip, controller, restored_weights);
  restored->set_state(state, "model");
  restored_weights = weights;
  learning::SgdMomentum restored_optimizer = optimizer;
  for (int k = 2; k < 4; ++k) {
    uninterrupted->read(weights);
    uninterrupted->step(0, optimizer, directions[k], weights[0]);
    restored->read(restored_weights);
    restored->step(0, restored_optimizer, directions[k], restored_weights[0]);
  }
  CHECK(restored_weights[0] == weights[0]);
  CHECK(restored->take_figures() == uninterrupted->take_figures());
  json restored_state = json::object(), uninterrupted_state = json::object();
  restored->save_state(restored_state);
  uninterrupted->save_state(uninterrupted_state);
  CHECK(restored_state == uninterrupted_state);
  CHECK_THROWS_WITH_AS(restored->set_state(json::object(), "model"),
                       doctest::Contains("model: no chip state (the run has a chip)"), Error);
}
