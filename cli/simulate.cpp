#include "cli/simulate.h"

#include <iostream>

#include "orchestration/experiment.h"
#include "orchestration/simulate.h"

namespace physlearn::cli {

CLI::App* add_simulate_subcommand(CLI::App& app, SimulateArgs& args) {
  auto* sim = app.add_subcommand(
      "simulate", "one training step of one sample simulated in time (transients); waveforms");
  sim->add_option("experiment", args.experiment, "experiment JSON file")->required();
  sim->add_option("--sample", args.sample, "training sample index (default 0)");
  sim->add_option("--out", args.out, "results folder: waveforms.csv, simulate.json")->required();
  sim->add_option("--nodes", args.nodes,
                  "comma-separated nodes to record: in<k>, h<l>_<i>, out<i> (default: the "
                  "outputs and a few hidden nodes)");
  sim->add_option("--set", args.sets, "override a config key")->allow_extra_args(false);
  return sim;
}

int simulate_command(const SimulateArgs& args) {
  const orchestration::ExperimentConfig config =
      orchestration::load_experiment(args.experiment, args.sets);
  orchestration::simulate_step(config, {args.sample, args.out, args.nodes}, std::cout);
  return 0;
}

}  // namespace physlearn::cli
