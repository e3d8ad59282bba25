// The model factory (orchestration/models.h): which model an experiment trains (the fused
// layered model where it applies, else the circuit model), at which precision, and that the fused
// model trains as the circuit model does.
#include <doctest/doctest.h>

#include "orchestration/experiment.h"
#include "orchestration/models.h"

using namespace physlearn;

namespace {

json xor_experiment() {
  return json::parse(R"({
    "name": "fused", "seed": 3,
    "network": {"type": "drn", "inputs": 2, "input_gain": 5.0, "hidden": [8], "outputs": 2,
                "init": "uniform", "init_low": 0.1, "init_high": 1.0, "bias_init": 0.1},
    "solver": {"type": "layered", "sweeps": 6, "precision": "float64"},
    "learning": {"beta": 0.1, "batch_size": 4, "momentum": 0.9, "lr_weights": [0.1],
                 "lr_biases": [0.05], "g_min": 0.05},
    "data": {"type": "xor"}
  })");
}

std::unique_ptr<learning::Model> model_for(const json& experiment) {
  return orchestration::make_model(orchestration::parse_experiment(experiment), 2, 2);
}

}  // namespace

TEST_CASE("the fused model trains as CircuitModel does: float64 to rounding, float32 closely") {
  json reference_json = xor_experiment();
  // Alignment logging keeps an EP experiment on CircuitModel (it needs the gradient array); it
  // measures without changing the training.
  reference_json["learning"]["alignment_every"] = 1000000;
  json float32_json = xor_experiment();
  float32_json["solver"]["precision"] = "float32";
  REQUIRE_FALSE(orchestration::fused_model_applies(orchestration::parse_experiment(reference_json)));
  REQUIRE(orchestration::fused_model_applies(orchestration::parse_experiment(xor_experiment())));
  auto reference = model_for(reference_json);
  auto fused = model_for(xor_experiment());
  auto fast = model_for(float32_json);
  CHECK(fused->description().find("float64, fused") != std::string::npos);
  CHECK(fast->description().find("float32, fused") != std::string::npos);
  CHECK(fused->num_parameters() == reference->num_parameters());

  Eigen::MatrixXd x(4, 2), y = Eigen::MatrixXd::Zero(4, 2);
  x << 0, 0, 0, 1, 1, 0, 1, 1;
  for (int b = 0; b < 4; ++b) y(b, (b == 1 || b == 2) ? 1 : 0) = 1.0;
  Eigen::MatrixXd a, f, g;
  double worst64 = 0.0, worst32 = 0.0, first32 = 0.0;
  for (int step = 0; step < 60; ++step) {
    reference->train_batch(x, y, a);
    fused->train_batch(x, y, f);
    fast->train_batch(x, y, g);
    worst64 = std::max(worst64, (a - f).cwiseAbs().maxCoeff());
    worst32 = std::max(worst32, (a - g).cwiseAbs().maxCoeff());
    if (step < 5) first32 = worst32;
    if (step % 20 == 19) {
      reference->end_epoch();
      fused->end_epoch();
      fast->end_epoch();
    }
  }
  MESSAGE("largest output difference: float64 fused " << worst64 << "; float32 " << first32
                                                      << " in 5 steps, " << worst32 << " in 60");
  CHECK(worst64 < 1e-10);
  // float32 rounding, then its growth through 60 steps of training at a large learning rate.
  CHECK(first32 < 1e-5);
  CHECK(worst32 < 2e-3);
  reference->predict(x, a);
  fused->predict(x, f);
  CHECK((a - f).cwiseAbs().maxCoeff() < 1e-10);
  const auto conductances = fast->conductances();
  REQUIRE(conductances.size() == 2);
  CHECK(conductances[0]->rows() == 4);
  CHECK(conductances[0]->minCoeff() >= 0.05 - 1e-7);
}

TEST_CASE("precision auto: float32 where the fused path or the baseline trains, else float64") {
  json automatic = xor_experiment();
  automatic["solver"]["precision"] = "auto";
  CHECK(orchestration::model_precision(orchestration::parse_experiment(automatic)) == "float32");
  CHECK(model_for(automatic)->description().find("float32, fused") != std::string::npos);
  automatic["learning"]["rule"] = "backprop";
  CHECK(orchestration::model_precision(orchestration::parse_experiment(automatic)) == "float32");
  automatic["learning"]["rule"] = "chl";
  CHECK(orchestration::model_precision(orchestration::parse_experiment(automatic)) == "float64");
  CHECK(model_for(automatic)->description().find("rule chl") != std::string::npos);
  CHECK(solvers::SolverParams().precision == "auto");
}

TEST_CASE("float32 needs the fused path: other rules and devices are refused by name") {
  json chl = xor_experiment();
  chl["solver"]["precision"] = "float32";
  chl["learning"]["rule"] = "chl";
  CHECK_THROWS_WITH_AS(model_for(chl), doctest::Contains("solver.precision"), ConfigError);
  json newton = xor_experiment();
  newton["solver"]["precision"] = "float32";
  newton["solver"]["type"] = "newton";
  newton["solver"].erase("sweeps");  // a key of the layered type only
  CHECK_THROWS_WITH_AS(model_for(newton), doctest::Contains("solver.type"), ConfigError);
  json backprop = xor_experiment();
  backprop["solver"]["precision"] = "float32";
  backprop["learning"]["rule"] = "backprop";
  CHECK(model_for(backprop)->description().find("float32") != std::string::npos);
}
