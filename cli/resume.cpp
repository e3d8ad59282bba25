#include "cli/resume.h"

#include <iomanip>
#include <iostream>

#include "orchestration/checkpoint.h"

namespace physlearn::cli {

void print_run_result(const orchestration::RunResult& result, const std::string& dir) {
  std::cout << std::fixed << std::setprecision(2) << "test error "
            << 100.0 * result.final_test_error << "%  train error "
            << 100.0 * result.final_train_error << "%  (" << result.epochs.size() << " epochs, "
            << std::setprecision(1) << result.wall_seconds << " s)  results in " << dir
            << "/results.json\n";
}

CLI::App* add_resume_subcommand(CLI::App& app, ResumeArgs& args) {
  auto* resume = app.add_subcommand(
      "resume", "continue an interrupted run from DIR/checkpoint.json (run --checkpoint-every)");
  resume->add_option("dir", args.dir, "the run's results folder")->required();
  resume
      ->add_option("--checkpoint-every", args.checkpoint_every,
                   "checkpoint every N epochs from here on (default: as the run did)")
      ->check(CLI::NonNegativeNumber);
  resume->add_flag("--quiet", args.quiet, "no progress on stderr");
  return resume;
}

int resume_command(const ResumeArgs& args) {
  if (orchestration::run_complete(args.dir)) {
    std::cerr << "physlearn: " << args.dir
              << ": the run is complete (results.json); nothing to resume\n";
    return 0;
  }
  orchestration::Checkpoint checkpoint = orchestration::read_checkpoint(args.dir);
  orchestration::RunOptions options;
  options.quiet = args.quiet;
  options.checkpoint_every =
      args.checkpoint_every >= 0 ? args.checkpoint_every : checkpoint.checkpoint_every;
  options.resume = &checkpoint;
  const orchestration::RunResult result = orchestration::run_experiment(checkpoint.config, args.dir, options);
  print_run_result(result, args.dir);
  return 0;
}

}  // namespace physlearn::cli
