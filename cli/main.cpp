/// physlearn: the command-line program.
///   physlearn run EXPERIMENT.json [--out DIR] [--set key=value ...] [--checkpoint-every N]
///   physlearn resume DIR
///   physlearn sweep STUDY.json [--out DIR] [--jobs N]
///   physlearn compare EXPERIMENT.json [--rules a,b,...]
///   physlearn transfer EXPERIMENT.json
///   physlearn plot DIR [--out FOLDER]
///   physlearn gradcheck EXPERIMENT.json [--beta B] [--variant V] [--batch N] [--set key=value ...]
///   physlearn solve CIRCUIT.json|NETLIST.cir [--backend native|ngspice] [--out DIR]  (.tran: waveforms)
///   physlearn simulate EXPERIMENT.json [--sample K] --out DIR [--nodes a,b,...]
///   physlearn export-spice EXPERIMENT.json [--sample K] [--phase free|nudged] [-o FILE]
///   physlearn schema [SECTION]
///   physlearn bench CASE EXPERIMENT.json [--repeats N] [--set key=value ...]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli/simulate.h"
#include "cli/bench.h"
#include "cli/plot.h"
#include "cli/resume.h"
#include "cli/sweep.h"
#include "core/error.h"
#include "orchestration/compare.h"
#include "orchestration/experiment.h"
#include "orchestration/sample.h"
#include "orchestration/solve.h"
#include "orchestration/gradcheck.h"
#include "orchestration/sweep.h"
#include "orchestration/transfer.h"

namespace {

using namespace physlearn;

int run_command(const std::string& file, const std::string& out, const std::vector<std::string>& sets,
                bool quiet, int checkpoint_every) {
  orchestration::ExperimentConfig config = orchestration::load_experiment(file, sets);
  const std::string dir = !out.empty() ? out : !config.output.dir.empty() ? config.output.dir
                                                                          : "runs/" + config.name;
  orchestration::RunOptions options;
  options.quiet = quiet;
  options.checkpoint_every = checkpoint_every;
  orchestration::RunResult result = orchestration::run_experiment(config, dir, options);
  physlearn::cli::print_run_result(result, dir);
  return 0;
}

int compare_command(const std::string& file, const std::string& rules, const std::string& out,
                    const std::vector<std::string>& sets, const std::vector<std::string>& rule_sets,
                    bool quiet, int alignment_every) {
  orchestration::ExperimentConfig config = orchestration::load_experiment(file, sets);
  const auto names = orchestration::parse_rule_list(rules);
  // Every configuration is read (and checked) before the first rule runs.
  const auto overrides = orchestration::parse_rule_sets(rule_sets, names);
  std::map<std::string, orchestration::ExperimentConfig> per_rule;
  for (const auto& [rule, own] : overrides) {
    std::vector<std::string> all = sets;
    all.insert(all.end(), own.begin(), own.end());
    per_rule.emplace(rule, orchestration::load_experiment(file, all));
  }
  const std::string dir = !out.empty() ? out : "runs/" + config.name + "-compare";
  const json comparison =
      orchestration::compare_rules(config, names, dir, quiet, alignment_every, per_rule, overrides);
  std::cout << orchestration::compare_table(comparison) << "results in " << dir << "/compare.json, "
            << dir << "/compare.csv\n";
  return 0;
}

int transfer_command(const std::string& file, const std::string& out,
                     const std::vector<std::string>& sets, bool quiet) {
  orchestration::ExperimentConfig config = orchestration::load_experiment(file, sets);
  const std::string dir = !out.empty() ? out : "runs/" + config.name;
  const json transfer = orchestration::run_transfer(config, dir, quiet);
  std::cout << orchestration::transfer_table(transfer) << "results in " << dir << "/transfer.json, "
            << dir << "/transfer.csv\n";
  return 0;
}

int gradcheck_command(const std::string& file, const std::vector<std::string>& sets,
                      const orchestration::GradcheckOptions& options) {
  orchestration::ExperimentConfig config = orchestration::load_experiment(file, sets);
  std::cout << orchestration::gradcheck(config, options).dump(2) << "\n";
  return 0;
}

/// The experiment's initial network with training sample `sample` as a netlist
/// (orchestration/sample.h), to standard output or to `output`.
int export_spice_command(const std::string& file, int sample, const std::string& phase,
                         const std::string& output) {
  const orchestration::ExperimentConfig config = orchestration::load_experiment(file, {});
  const std::string text = orchestration::sample_netlist(config, file, sample, phase);
  if (output.empty() || output == "-") {
    std::cout << text;
  } else {
    std::ofstream out(output, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw Error(cat("export-spice: cannot write \"", output, "\""));
  }
  return 0;
}

int schema_command(const std::string& section) {
  if (section == "study") {
    orchestration::document_study(std::cout);
    return 0;
  }
  orchestration::ExperimentConfig config;
  Schema schema;
  orchestration::describe(schema, config);
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
  int checkpoint_every = 0;
  run->add_option("--checkpoint-every", checkpoint_every,
                  "write DIR/checkpoint.json every N epochs (physlearn resume DIR continues)")
      ->check(CLI::NonNegativeNumber);

  orchestration::GradcheckOptions check;
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
  std::vector<std::string> rule_sets;
  cmp->add_option("--rule-set", rule_sets,
                  "override a config key for one rule: RULE:key=value (after --set), e.g. "
                  "chl:learning.lr_weights=[0.0002]")
      ->allow_extra_args(false);
  cmp->add_flag("--quiet", quiet, "no progress on stderr");
  int alignment_every = 10;
  cmp->add_option("--alignment-every", alignment_every,
                  "circuit rules: compare with the exact gradient every N mini-batches when "
                  "learning.alignment_every is 0 (0: off, the fast path)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  auto* transfer = app.add_subcommand(
      "transfer", "mortal computation: train on chip A, program onto chip B, fine-tune; a table");
  transfer->add_option("experiment", file, "experiment JSON file with chip and transfer sections")->required();
  transfer->add_option("--out", out, "results folder (default: runs/<name>)");
  transfer->add_option("--set", sets, "override a config key")->allow_extra_args(false);
  transfer->add_flag("--quiet", quiet, "no progress on stderr");

  std::string backend = "native";
  auto* solve = app.add_subcommand(
      "solve", "DC steady state of a circuit (JSON, or else a SPICE netlist); prints JSON");
  solve->add_option("circuit", file, "circuit: a .json file, or a SPICE netlist (.cir, .sp, ...)")
      ->required();
  solve->add_option("--backend", backend, "native (Newton) or ngspice (in process)")
      ->check(CLI::IsMember({"native", "ngspice"}))
      ->capture_default_str();
  solve->add_option("--out", out,
                    "with a .tran card: folder for waveforms.csv (time and every node; default: "
                    "the CSV on stdout)");

  int export_sample = 0;
  std::string export_phase = "free";
  auto* export_spice = app.add_subcommand(
      "export-spice", "an experiment's DRN with one training sample as a SPICE netlist");
  export_spice->add_option("experiment", file, "experiment JSON file")->required();
  export_spice->add_option("--sample", export_sample, "index of the training sample")
      ->capture_default_str();
  export_spice->add_option("--phase", export_phase, "free, or nudged (EP's nudge at the outputs)")
      ->check(CLI::IsMember({"free", "nudged"}))
      ->capture_default_str();
  export_spice->add_option("-o,--output", out, "netlist file (default: stdout)");

  auto* schema = app.add_subcommand("schema", "every config key: type, default, unit, rule, doc");
  schema->add_option("section", section,
                     "only this section (network, solver, learning, data, output, chip, controller), "
                     "or study: the keys of a study file (physlearn sweep)");

  physlearn::cli::BenchOptions bench_options;
  auto* bench = physlearn::cli::add_bench_command(app, bench_options);

  physlearn::cli::SimulateArgs simulate_args;
  auto* simulate = physlearn::cli::add_simulate_subcommand(app, simulate_args);

  physlearn::cli::ResumeArgs resume_args;
  auto* resume = physlearn::cli::add_resume_subcommand(app, resume_args);
  physlearn::cli::SweepArgs sweep_args;
  auto* sweep = physlearn::cli::add_sweep_subcommand(app, sweep_args);
  physlearn::cli::PlotArgs plot_args;
  auto* plot = physlearn::cli::add_plot_subcommand(app, plot_args);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*run) return run_command(file, out, sets, quiet, checkpoint_every);
    if (*resume) return physlearn::cli::resume_command(resume_args);
    if (*sweep) return physlearn::cli::sweep_command(sweep_args);
    if (*plot) return physlearn::cli::plot_command(plot_args);
    if (*grad) return gradcheck_command(file, sets, check);
    if (*cmp) return compare_command(file, rules, out, sets, rule_sets, quiet, alignment_every);
    if (*transfer) return transfer_command(file, out, sets, quiet);
    if (*solve) {
      orchestration::solve_circuit_file(file, backend, out, std::cout, std::cerr);
      return 0;
    }
    if (*export_spice) return export_spice_command(file, export_sample, export_phase, out);
    if (*schema) return schema_command(section);
    if (*simulate) return physlearn::cli::simulate_command(simulate_args);
    if (*bench) return physlearn::cli::bench_command(bench_options);
  } catch (const physlearn::Error& e) {
    std::cerr << "physlearn: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "physlearn: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
