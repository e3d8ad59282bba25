// The trainer of a resistive network (learning/trainer.h): one training step is the rule's
// direction followed by the optimiser's step through the devices, EP's direction with a small
// beta is the gradient of the loss, and a saved state continues bit for bit.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "core/binary.h"
#include "learning/executor.h"
#include "learning/gradient.h"
#include "learning/trainer.h"

using namespace physlearn;

namespace {

/// 3 inputs with inverted copies (6 sources, gain 2), 4 hidden units (2 with v >= 0, 2 with
/// v <= 0), 2 outputs, biases; conductances U(0.1, 1).
circuits::LayeredNetwork tiny_drn(std::uint64_t seed, int hidden = 4) {
  circuits::DrnParams p;
  p.inputs = 3;
  p.input_gain = 2.0;
  p.inverted_inputs = true;
  p.hidden = {hidden};
  p.outputs = 2;
  p.init = "uniform";
  p.init_low = 0.1;
  p.init_high = 1.0;
  p.bias_init = 0.2;
  return circuits::build_drn(p, seed);
}

/// Batch `k` of 4 samples: inputs in [0, 1], one-hot targets.
Eigen::MatrixXd batch_inputs(int k) {
  std::srand(static_cast<unsigned>(40 + k));
  return (Eigen::MatrixXd::Random(4, 3).array() + 1.0) / 2.0;
}

Eigen::MatrixXd batch_targets(int k) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(4, 2);
  for (int b = 0; b < 4; ++b) y(b, (b + k) % 2) = 1.0;
  return y;
}

/// A trainer on the layered view (coordinate descent: `sweeps` fixed sweeps when `tolerance`
/// is 0, else to `tolerance`) with `devices`.
std::unique_ptr<learning::Trainer> make_trainer(const circuits::LayeredNetwork& net,
                                                const learning::PhasePlan& plan,
                                                const learning::OptimizerSettings& optimizer,
                                                std::unique_ptr<learning::DeviceArray> devices,
                                                int alignment_every, int sweeps,
                                                double tolerance) {
  auto executor = learning::make_layered_executor(
      std::make_unique<solvers::CoordinateDescentSolver>(sweeps, tolerance, 1000000));
  return std::make_unique<learning::Trainer>(net, nullptr, plan, std::move(executor),
                                             std::move(devices), optimizer, alignment_every,
                                             net.sizes, 1e-12, false);
}

/// The trainer's bias currents, read from its checkpoint state.
std::vector<Eigen::RowVectorXd> biases_of(const learning::Model& model, std::size_t layers) {
  std::vector<Eigen::RowVectorXd> biases(layers);
  decode_matrices(model.save_state()["biases"], biases, false, "biases");
  return biases;
}

/// The mean loss 1/B sum_b 1/2 ||o_b - y_b||^2 at the converged free state of `net`.
double converged_loss(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& voltages,
                      const Eigen::MatrixXd& targets) {
  solvers::CoordinateDescentSolver solver(1, 1e-15, 10000000);
  auto state = solvers::LayeredState::zeros(net, voltages.rows());
  solver.set_inputs(net, voltages);
  solver.relax(net, solvers::PhaseNudge::free(), state);
  return learning::batch_loss(state.outputs(), targets);
}

/// Trains `model` on batches [first, last), with an end of epoch after every odd batch; returns
/// the outputs of every batch, one after the other.
std::vector<Eigen::MatrixXd> train(learning::Model& model, int first, int last) {
  std::vector<Eigen::MatrixXd> outputs;
  for (int k = first; k < last; ++k) {
    Eigen::MatrixXd o;
    model.train_batch(batch_inputs(k), batch_targets(k), o);
    outputs.push_back(o);
    if (k % 2 == 1) model.end_epoch();
  }
  return outputs;
}

/// A noisy chip on the conductances (soft-bounds devices, every kind of noise) and a
/// stochastically rounding controller.
devices::ChipParams noisy_chip() {
  devices::ChipParams chip;
  chip.seed = 5;
  chip.device.model = "soft-bounds";
  chip.device.soft_bounds.g_min = 1e-6;
  chip.device.soft_bounds.g_max = 1e-4;
  chip.device.soft_bounds.dg = 1e-6;
  chip.g_unit = 1e-4;
  chip.variability.d2d_sigma = 0.2;
  chip.variability.c2c_sigma = 0.3;
  chip.variability.read_sigma = 0.01;
  chip.variability.drift_nu = 0.05;
  return chip;
}

learning::ControllerParams stochastic_controller() {
  learning::ControllerParams controller;
  controller.rounding = "stochastic";
  controller.max_pulses = 20;
  controller.drift_seconds = 10.0;
  return controller;
}

}  // namespace

TEST_CASE("trainer: a step is the EP direction, then momentum SGD clipped to [g_min, g_max]") {
  /// Reference, independent of the trainer: layered_direction gives EP's direction d of the
  /// batch (the same plan and solver settings), and the optimiser's step is written out here:
  ///   v <- m v + d;  w <- clip(w - lr_l v, g_min, g_max);  b <- b - lr_b,l v_b  (unbounded),
  /// with the rates multiplied by lr_decay at every end of epoch. The trainer's outputs are the
  /// free phase's, before the update.
  const double g_min = 0.15, g_max = 0.9, momentum = 0.8, decay = 0.5;
  const std::vector<double> lr_weights{0.3, 0.4}, lr_biases{0.1, 0.2};
  circuits::LayeredNetwork reference = tiny_drn(3);
  for (auto& w : reference.weights) w = w.cwiseMax(g_min).cwiseMin(g_max);
  const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.5, 0.5});
  auto trainer = make_trainer(reference, plan, {momentum, lr_weights, lr_biases, decay},
                              learning::make_ideal_devices(g_min, g_max), 0, 8, 0.0);
  CHECK(trainer->description() == "DRN 6-4-2, rule ep-centered, solver layered");
  CHECK(trainer->num_parameters() == 6 * 4 + 4 * 2 + 4 + 2);

  solvers::CoordinateDescentSolver solver(8, 0.0, 1000000);
  auto direction = learning::ParameterGradient::zeros_like(reference);
  auto velocity = learning::ParameterGradient::zeros_like(reference);
  std::vector<double> rates_w = lr_weights, rates_b = lr_biases;
  long clipped = 0;
  for (int k = 0; k < 5; ++k) {
    CAPTURE(k);
    const Eigen::MatrixXd x = batch_inputs(k), y = batch_targets(k);
    solvers::LayeredState free;
    learning::layered_direction(plan, reference, solver, reference.input_voltages(x), y, free,
                                direction);
    for (std::size_t l = 0; l < 2; ++l) {
      velocity.weights[l] = momentum * velocity.weights[l] + direction.weights[l];
      reference.weights[l] =
          (reference.weights[l] - rates_w[l] * velocity.weights[l]).cwiseMax(g_min).cwiseMin(g_max);
      velocity.biases[l] = momentum * velocity.biases[l] + direction.biases[l];
      reference.biases[l] -= rates_b[l] * velocity.biases[l];
    }
    Eigen::MatrixXd outputs;
    trainer->train_batch(x, y, outputs);
    CHECK((outputs - free.outputs()).cwiseAbs().maxCoeff() < 1e-12);
    const auto conductances = trainer->conductances();
    const auto biases = biases_of(*trainer, 2);
    for (std::size_t l = 0; l < 2; ++l) {
      CHECK((*conductances[l] - reference.weights[l]).cwiseAbs().maxCoeff() < 1e-12);
      CHECK((biases[l] - reference.biases[l]).cwiseAbs().maxCoeff() < 1e-12);
      clipped += (reference.weights[l].array() == g_min).count() +
                 (reference.weights[l].array() == g_max).count();
    }
    if (k % 2 == 1) {
      trainer->end_epoch();
      for (double& r : rates_w) r *= decay;
      for (double& r : rates_b) r *= decay;
    }
  }
  CHECK(clipped > 0);                               // the bounds were exercised
  CHECK(trainer->take_alignment().empty());         // alignment off
  CHECK(trainer->take_device_figures().is_null());  // ideal devices
  CHECK(trainer->take_physics().is_null());         // a steady-state solver
}

TEST_CASE("trainer: with a small beta, EP's direction is the loss gradient, as alignment says") {
  /// Plain SGD (momentum 0, rate lr) recovers the trainer's direction from one step:
  ///   d = (theta_before - theta_after) / lr.
  /// Centered EP's bias is O(beta^2), so with beta = 1e-4 and converged phases d equals
  ///   - the central finite differences of the loss (L(theta + h) - L(theta - h)) / 2h, and
  ///   - the exact gradient by implicit differentiation (learning/gradient.h).
  /// With alignment_every 1 the trainer measures cos(d, exact) ~ 1 and |d| / |exact| ~ 1.
  const double lr = 1e-3;
  circuits::LayeredNetwork net = tiny_drn(4);
  const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 1e-4, 0.5});
  auto trainer = make_trainer(net, plan, {0.0, {lr, lr}, {lr, lr}, 1.0},
                              learning::make_ideal_devices(0.0, 10.0), 1, 1, 1e-14);
  const Eigen::MatrixXd x = batch_inputs(0), y = batch_targets(0);
  Eigen::MatrixXd outputs;
  trainer->train_batch(x, y, outputs);
  const auto after_weights = trainer->conductances();
  const auto after_biases = biases_of(*trainer, 2);
  auto recovered = learning::ParameterGradient::zeros_like(net);
  for (std::size_t l = 0; l < 2; ++l) {
    recovered.weights[l] = (net.weights[l] - *after_weights[l]) / lr;
    recovered.biases[l] = (net.biases[l] - after_biases[l]) / lr;
  }

  // Finite differences of the loss, parameter by parameter.
  const Eigen::MatrixXd v = net.input_voltages(x);
  const double h = 1e-6;
  auto finite_difference = learning::ParameterGradient::zeros_like(net);
  circuits::LayeredNetwork probe = net;
  auto central = [&](double& parameter) {
    const double original = parameter;
    parameter = original + h;
    const double up = converged_loss(probe, v, y);
    parameter = original - h;
    const double down = converged_loss(probe, v, y);
    parameter = original;
    return (up - down) / (2 * h);
  };
  for (std::size_t l = 0; l < 2; ++l) {
    for (Eigen::Index i = 0; i < probe.weights[l].size(); ++i)
      finite_difference.weights[l].data()[i] = central(probe.weights[l].data()[i]);
    for (Eigen::Index i = 0; i < probe.biases[l].size(); ++i)
      finite_difference.biases[l](i) = central(probe.biases[l](i));
  }
  solvers::CoordinateDescentSolver solver(1, 1e-15, 10000000);
  auto free = solvers::LayeredState::zeros(net, v.rows());
  solver.set_inputs(net, v);
  solver.relax(net, solvers::PhaseNudge::free(), free);
  CHECK((outputs - free.outputs()).cwiseAbs().maxCoeff() < 1e-12);
  const Eigen::VectorXd exact = learning::exact_gradient(net, v, free, y).flatten();
  const Eigen::VectorXd d = recovered.flatten(), fd = finite_difference.flatten();
  CHECK(fd.norm() > 1e-2);  // a gradient worth comparing
  CHECK((d - fd).cwiseAbs().maxCoeff() < 1e-7);
  CHECK((d - exact).cwiseAbs().maxCoeff() < 1e-7);

  const auto alignment = trainer->take_alignment();
  REQUIRE(alignment.size() == 2);
  for (int l = 0; l < 2; ++l) {
    CAPTURE(l);
    const Eigen::VectorXd dl = recovered.flatten_layer(l), fdl = finite_difference.flatten_layer(l);
    CHECK(alignment[l].cosine == doctest::Approx(learning::cosine(dl, fdl)).epsilon(1e-8));
    CHECK(alignment[l].cosine > 1.0 - 1e-8);
    CHECK(alignment[l].norm_ratio == doctest::Approx(dl.norm() / fdl.norm()).epsilon(1e-5));
    CHECK(alignment[l].norm_ratio == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(trainer->take_alignment().empty());  // the sums start again
}

TEST_CASE("trainer: save_state and load_state continue bit for bit (ideal devices, noisy chip)") {
  /// The uninterrupted run is the reference: a trainer restored from the state after 3 batches
  /// (through JSON text, as a checkpoint file) gives the same outputs, parameters, alignment
  /// sums and device figures for the next 3 batches, to the bit.
  for (bool chip : {false, true}) {
    CAPTURE(chip);
    const circuits::LayeredNetwork net = tiny_drn(6);
    const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.3, 0.5});
    const learning::OptimizerSettings optimizer{0.9, {0.1, 0.08}, {0.05, 0.05}, 0.9};
    auto devices = [&] {
      return chip ? learning::make_chip_devices(noisy_chip(), stochastic_controller(), net.weights)
                  : learning::make_ideal_devices(0.1, 1.0);
    };
    auto uninterrupted = make_trainer(net, plan, optimizer, devices(), 2, 6, 0.0);
    train(*uninterrupted, 0, 3);
    const json saved = json::parse(uninterrupted->save_state().dump());
    CHECK(saved.contains("chip") == chip);
    auto restored = make_trainer(net, plan, optimizer, devices(), 2, 6, 0.0);
    restored->load_state(saved, "state");
    CHECK(restored->save_state() == uninterrupted->save_state());
    const auto expected = train(*uninterrupted, 3, 6);
    const auto outputs = train(*restored, 3, 6);
    for (std::size_t k = 0; k < outputs.size(); ++k) CHECK(outputs[k] == expected[k]);
    CHECK(restored->save_state() == uninterrupted->save_state());
    const auto a = uninterrupted->take_alignment(), b = restored->take_alignment();
    REQUIRE(a.size() == 2);
    REQUIRE(b.size() == 2);
    for (std::size_t l = 0; l < 2; ++l) {
      CHECK(a[l].cosine == b[l].cosine);
      CHECK(a[l].norm_ratio == b[l].norm_ratio);
    }
    CHECK(restored->take_device_figures() == uninterrupted->take_device_figures());
  }
}

TEST_CASE("trainer: a state of another model, shape or device array is refused, naming where") {
  const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.3, 0.5});
  const learning::OptimizerSettings optimizer{0.9, {0.1, 0.1}, {0.05, 0.05}, 1.0};
  const circuits::LayeredNetwork net = tiny_drn(6);
  auto trainer = make_trainer(net, plan, optimizer, learning::make_ideal_devices(0.1, 1.0), 0, 4,
                              0.0);
  json other_kind = trainer->save_state();
  other_kind["kind"] = "relu-baseline";
  CHECK_THROWS_WITH_AS(trainer->load_state(other_kind, "state"),
                       doctest::Contains("state: the state of another model"), Error);
  auto wider = make_trainer(tiny_drn(6, 6), plan, optimizer, learning::make_ideal_devices(0.1, 1.0),
                            0, 4, 0.0);
  CHECK_THROWS_WITH_AS(trainer->load_state(wider->save_state(), "state"),
                       doctest::Contains("state.weights[0]: shape 6x6, expected 6x4"), Error);
  auto on_chip = make_trainer(
      net, plan, optimizer,
      learning::make_chip_devices(noisy_chip(), stochastic_controller(), net.weights), 0, 4, 0.0);
  CHECK_THROWS_WITH_AS(trainer->load_state(on_chip->save_state(), "state"),
                       doctest::Contains("state: a chip state (the run has no chip)"), Error);
  CHECK_THROWS_WITH_AS(on_chip->load_state(trainer->save_state(), "state"),
                       doctest::Contains("state: no chip state (the run has a chip)"), Error);
}

TEST_CASE("trainer: a network to start from, and alignment logging needs the exact gradient") {
  /// The start network's biases are taken exactly and its conductances go through the devices
  /// (ideal: as they are, clipped only by training).
  const learning::PhasePlan plan = learning::make_plan({"ep", "centered", 0.3, 0.5});
  const learning::OptimizerSettings optimizer{0.0, {0.1, 0.1}, {0.1, 0.1}, 1.0};
  const circuits::LayeredNetwork net = tiny_drn(6), start = tiny_drn(7);
  learning::Trainer trainer(net, &start, plan,
                            learning::make_layered_executor(
                                std::make_unique<solvers::CoordinateDescentSolver>(4, 0.0, 1)),
                            learning::make_ideal_devices(0.0, 2.0), optimizer, 0, net.sizes, 0.0,
                            false);
  const auto conductances = trainer.conductances();
  const auto biases = biases_of(trainer, 2);
  for (std::size_t l = 0; l < 2; ++l) {
    CHECK(*conductances[l] == start.weights[l]);
    CHECK(biases[l] == start.biases[l]);
  }
  // Shockley diodes have no exact gradient here: alignment logging is refused by its key.
  circuits::DrnParams shockley = net.params;
  shockley.diode = "shockley";
  const circuits::LayeredNetwork smooth = circuits::build_drn(shockley, 6);
  CHECK_THROWS_WITH_AS(
      learning::Trainer(smooth, nullptr, plan,
                        learning::make_layered_executor(
                            std::make_unique<solvers::CoordinateDescentSolver>(4, 0.0, 1)),
                        learning::make_ideal_devices(0.0, 2.0), optimizer, 5, smooth.sizes, 0.0,
                        false),
      doctest::Contains("learning.alignment_every: 5: needs network.diode"), ConfigError);
}
