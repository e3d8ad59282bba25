#include <doctest/doctest.h>

#include <filesystem>

#include "core/binary.h"
#include "data/dataset.h"
#include "orchestration/checkpoint.h"
#include "orchestration/experiment.h"
#include "learning/model.h"
#include "orchestration/models.h"

using namespace physlearn;

namespace {

/// XOR with every random stream of a run in use: a chip with device-to-device, cycle-to-cycle
/// and read noise, stochastic rounding, drift; momentum and a decaying rate; alignment logging.
orchestration::ExperimentConfig noisy_xor(const std::string& rule) {
  return orchestration::parse_experiment(json::parse(R"({
    "name": "xor", "seed": 3,
    "network": {"type": "drn", "inputs": 2, "input_gain": 5, "inverted_inputs": true,
                "hidden": [8], "outputs": 2, "init": "uniform", "init_low": 0.1, "init_high": 1.0},
    "solver": {"type": "layered", "sweeps": 10},
    "learning": {"rule": ")" + rule + R"(", "beta": 0.1, "epochs": 4, "batch_size": 2,
                 "momentum": 0.9, "lr_weights": [0.1], "lr_biases": [0.1], "lr_decay": 0.9,
                 "alignment_every": 3},
    "data": {"type": "xor"},
    "chip": {"seed": 5, "g_unit": 1e-4,
             "device": {"model": "soft-bounds", "g_min": 1e-6, "g_max": 1e-4, "dg": 1e-6},
             "variability": {"d2d_sigma": 0.2, "c2c_sigma": 0.3, "read_sigma": 0.01,
                             "drift_nu": 0.05}},
    "controller": {"rounding": "stochastic", "max_pulses": 20, "drift_seconds": 10}
  })"));
}

/// Trains `batches` mini-batches of XOR (an epoch every 2 batches).
void train(learning::Model& model, int batches) {
  const data::Split split = data::load(data::DataParams{}, 1);
  Eigen::MatrixXd inputs = split.train.inputs.cast<double>(), targets, outputs;
  targets.setZero(inputs.rows(), 2);
  for (Eigen::Index r = 0; r < inputs.rows(); ++r) targets(r, split.train.labels[r]) = 1.0;
  for (int b = 0; b < batches; ++b) {
    const Eigen::Index first = 2 * (b % 2);
    model.train_batch(inputs.middleRows(first, 2), targets.middleRows(first, 2), outputs);
    if (b % 2 == 1) {
      model.end_epoch();
      model.take_alignment();
      model.take_device_figures();
    }
  }
}

}  // namespace

TEST_CASE("a model's saved state continues bit for bit: circuit with a noisy chip, and backprop") {
  for (const std::string rule : {"ep", "backprop"}) {
    CAPTURE(rule);
    orchestration::ExperimentConfig config = rule == "ep" ? noisy_xor(rule) : [] {
      auto c = noisy_xor("backprop");
      c.has_chip = false;
      c.learning.alignment_every = 0;
      return c;
    }();
    auto a = orchestration::make_model(config, 2, 2);
    train(*a, 5);
    const json saved = json::parse(a->save_state().dump());  // through text, as in a file
    auto b = orchestration::make_model(config, 2, 2);
    b->load_state(saved, "state");
    CHECK(b->save_state() == a->save_state());
    train(*a, 7);
    train(*b, 7);
    CHECK(b->save_state() == a->save_state());
    CHECK(a->take_device_figures() == b->take_device_figures());
    if (rule == "ep") CHECK(a->save_state().contains("chip"));
  }
}

TEST_CASE("a state of another model or shape is refused with the reason") {
  orchestration::ExperimentConfig config = noisy_xor("ep");
  auto model = orchestration::make_model(config, 2, 2);
  json state = model->save_state();
  state["kind"] = "relu-baseline";
  CHECK_THROWS_WITH(model->load_state(state, "cp: model"),
                    doctest::Contains("the state of another model"));
  config.network.hidden = {4};
  auto smaller = orchestration::make_model(config, 2, 2);
  CHECK_THROWS_WITH(smaller->load_state(model->save_state(), "cp: model"),
                    doctest::Contains("cp: model.weights[0]: shape"));
}

TEST_CASE("config_hash changes with any key") {
  orchestration::ExperimentConfig a = noisy_xor("ep"), b = noisy_xor("ep");
  CHECK(orchestration::config_hash(a) == orchestration::config_hash(b));
  CHECK(orchestration::config_hash(a).rfind("fnv1a64:", 0) == 0);
  b.chip.variability.c2c_sigma = 0.31;
  CHECK(orchestration::config_hash(a) != orchestration::config_hash(b));
}
