/// physlearn: the command-line program.
///   physlearn run EXPERIMENT.json [--out DIR] [--set key=value ...]
///   physlearn gradcheck EXPERIMENT.json [--beta B] [--variant V] [--batch N] [--set key=value ...]
///   physlearn solve CIRCUIT.json
///   physlearn schema [SECTION]
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>

#include "circuits/circuit_json.h"
#include "core/error.h"
#include "learning/compare.h"
#include "learning/experiment.h"
#include "learning/gradcheck.h"
#include "solvers/newton.h"

namespace {

using namespace physlearn;

int run_command(const std::string& file, const std::string& out, const std::vector<std::string>& sets,
                bool quiet) {
  learning::ExperimentConfig config = learning::load_experiment(file, sets);
  const std::string dir = !out.empty() ? out : !config.output.dir.empty() ? config.output.dir
                                                                          : "runs/" + config.name;
  learning::RunResult result = learning::run_experiment(config, dir, quiet);
  std::cout << std::fixed << std::setprecision(2) << "test error " << 100.0 * result.final_test_error
            << "%  train error " << 100.0 * result.final_train_error << "%  ("
            << result.epochs.size() << " epochs, " << std::setprecision(1) << result.wall_seconds
            << " s)  results in " << dir << "/results.json\n";
  return 0;
}

int compare_command(const std::string& file, const std::string& rules, const std::string& out,
                    const std::vector<std::string>& sets, bool quiet) {
  learning::ExperimentConfig config = learning::load_experiment(file, sets);
  const auto names = learning::parse_rule_list(rules);
  const std::string dir = !out.empty() ? out : "runs/" + config.name + "-compare";
  const json comparison = learning::compare_rules(config, names, dir, quiet);
  std::cout << learning::compare_table(comparison) << "results in " << dir << "/compare.json, "
            << dir << "/compare.csv\n";
  return 0;
}

int gradcheck_command(const std::string& file, const std::vector<std::string>& sets,
                      const learning::GradcheckOptions& options) {
  learning::ExperimentConfig config = learning::load_experiment(file, sets);
  std::cout << learning::gradcheck(config, options).dump(2) << "\n";
  return 0;
}

int solve_command(const std::string& file) {
  json j = load_json_file(file);
  circuits::Circuit circuit = circuits::circuit_from_json(j.contains("circuit") ? j["circuit"] : j,
                                                          j.contains("circuit") ? "circuit" : "");
  circuit.validate();
  solvers::NewtonSolver solver(circuit);
  solvers::OperatingPoint op = solver.solve(circuit);
  json out;
  out["nodes"] = json::object();
  for (int n = 0; n < circuit.num_nodes(); ++n) out["nodes"][circuit.node_name(n)] = op.voltages(n);
  out["branches"] = json::object();
  for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k)
    out["branches"][circuit.voltage_sources[k].name] = op.source_currents[k];
  for (std::size_t k = 0; k < circuit.vcvs.size(); ++k)
    out["branches"][circuit.vcvs[k].name] = op.vcvs_currents[k];
  std::cout << std::setprecision(17) << out.dump(2) << "\n";
  return 0;
}

int schema_command(const std::string& section) {
  learning::ExperimentConfig config;
  Schema schema;
  learning::describe(schema, config);
  for (const auto& f : schema.fields()) {
    if (!section.empty() && f->key != section) continue;
    Schema one;
    one.add(f);
    one.document(std::cout, "");
    if (!section.empty()) return 0;
  }
  if (!section.empty()) {
    std::cerr << "physlearn: error: schema: unknown section \"" << section << "\"\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"physlearn: learning in analog physical systems (resistive networks trained by "
               "Equilibrium Propagation)"};
  app.require_subcommand(1);

  std::string file, out, section;
  std::vector<std::string> sets;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "train and evaluate an experiment");
  run->add_option("experiment", file, "experiment JSON file")->required();
  run->add_option("--out", out, "results folder (default: output.dir or runs/<name>)");
  run->add_option("--set", sets, "override a config key: --set learning.epochs=3")->allow_extra_args(false);
  run->add_flag("--quiet", quiet, "no progress on stderr");

  learning::GradcheckOptions check;
  auto* grad = app.add_subcommand("gradcheck", "EP estimate against the exact gradient, one mini-batch");
  grad->add_option("experiment", file, "experiment JSON file")->required();
  grad->add_option("--beta", check.beta, "nudging strength (default: learning.beta)");
  grad->add_option("--variant", check.variant, "positive, negative or centered (default: learning.variant)");
  grad->add_option("--batch", check.batch, "mini-batch size (default: learning.batch_size)");
  grad->add_option("--tolerance", check.tolerance, "convergence of every phase, volts");
  grad->add_option("--set", sets, "override a config key")->allow_extra_args(false);

  std::string rules = "ep-centered,ep-positive,chl,cl,backprop,exact";
  auto* cmp = app.add_subcommand("compare", "train several rules on the same data and seed; a table");
  cmp->add_option("experiment", file, "experiment JSON file")->required();
  cmp->add_option("--rules", rules, "comma-separated: ep-centered, ep-positive, ep-negative, chl, cl, "
                                    "cl-negative, cl-centered, exact, backprop")->capture_default_str();
  cmp->add_option("--out", out, "results folder (default runs/<name>-compare)");
  cmp->add_option("--set", sets, "override a config key")->allow_extra_args(false);
  cmp->add_flag("--quiet", quiet, "no progress on stderr");

  auto* solve = app.add_subcommand("solve", "steady state of a circuit given in JSON; prints JSON");
  solve->add_option("circuit", file, "circuit JSON file")->required();

  auto* schema = app.add_subcommand("schema", "every config key: type, default, unit, rule, doc");
  schema->add_option("section", section, "only this section (network, solver, learning, data, output)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*run) return run_command(file, out, sets, quiet);
    if (*grad) return gradcheck_command(file, sets, check);
    if (*cmp) return compare_command(file, rules, out, sets, quiet);
    if (*solve) return solve_command(file);
    if (*schema) return schema_command(section);
  } catch (const physlearn::Error& e) {
    std::cerr << "physlearn: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "physlearn: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
