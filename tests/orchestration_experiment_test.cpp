// Experiment files and their solver section: each file takes another solver type by
// --set solver.type alone (the keys of one type are unknown to another), and the resolved
// configuration reads back to the same experiment.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "orchestration/experiment.h"
#include "solvers/transient_layered.h"

using namespace physlearn;

namespace {

std::string experiment_file(const std::string& name) {
  return std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/" + name;
}

const std::vector<std::string> kSolverTypes = {"layered", "newton", "ngspice", "transient"};

}  // namespace

TEST_CASE("the Fashion-MNIST experiment files take every solver type by --set solver.type") {
  for (const char* name : {"quickstart.json", "fmnist-drn-xs.json", "fmnist-drn-1h.json",
                           "compare-rules.json", "mortal-transfer.json"}) {
    for (const auto& type : kSolverTypes) {
      CAPTURE(name);
      CAPTURE(type);
      orchestration::ExperimentConfig c =
          orchestration::load_experiment(experiment_file(name), {"solver.type=" + type});
      CHECK(c.solver.type == type);
      const json solver = orchestration::resolved_json(c)["solver"];
      CHECK(solver["type"] == type);
      CHECK(solver["precision"] == "auto");
      CHECK(solver.contains("sweeps") == (type == "layered"));
      CHECK(solver.contains("capacitance") == (type == "transient"));
    }
  }
  // A crossbar's phases are solved by Newton on the full circuit: only "newton" applies.
  for (const auto& type : kSolverTypes) {
    CAPTURE(type);
    const auto load = [&] {
      orchestration::load_experiment(experiment_file("fmnist-crossbar.json"), {"solver.type=" + type});
    };
    if (type == "newton") {
      CHECK_NOTHROW(load());
    } else {
      const std::string rule = "solver.type: \"" + type + "\": must be \"newton\"";
      CHECK_THROWS_WITH_AS(load(), doctest::Contains(rule.c_str()), Error);
    }
  }
}

TEST_CASE("the xor files keep their 20 sweeps: another type first drops that layered key") {
  for (const char* name : {"xor.json", "xor-vteam.json"}) {
    CAPTURE(name);
    const orchestration::ExperimentConfig c = orchestration::load_experiment(experiment_file(name), {});
    CHECK(c.solver.options<solvers::LayeredSolverOptions>("layered").sweeps == 20);
    CHECK_THROWS_WITH_AS(
        orchestration::load_experiment(experiment_file(name), {"solver.type=transient"}),
        doctest::Contains("solver.sweeps: 20: unknown key (known keys here: atol, capacitance, "
                          "final_tol, hold, max_duration, max_steps, precision, rtol, settle, "
                          "slew_tol, type)"),
        Error);
    const orchestration::ExperimentConfig t = orchestration::load_experiment(
        experiment_file(name),
        {"solver.type=transient", "solver.sweeps=null", "solver.capacitance=[2e-12]"});
    CHECK(t.solver.options<solvers::TransientSolverOptions>("transient").capacitance ==
          std::vector<double>{2e-12});
  }
}

TEST_CASE("a resolved configuration reads back to the same solver section") {
  orchestration::ExperimentConfig c = orchestration::load_experiment(
      experiment_file("quickstart.json"),
      {"solver.type=transient", "solver.capacitance=[2e-12,3e-12]", "solver.precision=float64"});
  const json resolved = orchestration::resolved_json(c);
  orchestration::ExperimentConfig again = orchestration::parse_experiment(resolved);
  CHECK(orchestration::resolved_json(again) == resolved);
  CHECK(again.solver.precision == "float64");
  CHECK(again.solver.options<solvers::TransientSolverOptions>("transient").capacitance ==
        std::vector<double>{2e-12, 3e-12});
}
