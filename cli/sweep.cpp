#include "cli/sweep.h"

#include <iostream>

#include "orchestration/sweep.h"

namespace physlearn::cli {

CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args) {
  auto* sweep = app.add_subcommand(
      "sweep",
      "run a study: a base experiment at every point of a grid or list, for several "
      "seeds; summary.csv and summary.json (see physlearn schema study)");
  sweep->add_option("study", args.study, "study JSON file")->required();
  sweep->add_option("--out", args.out, "sweep folder (default runs/<study name>)");
  sweep->add_option("--jobs", args.jobs, "runs at a time (child processes)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  sweep
      ->add_option("--set", args.sets,
                   "override a config key of every run (after the study's \"set\")")
      ->allow_extra_args(false);
  sweep
      ->add_option("--checkpoint-every", args.checkpoint_every,
                   "every run checkpoints every N epochs, so that an interrupted sweep resumes "
                   "its runs where they were (0: runs restart)")
      ->check(CLI::NonNegativeNumber);
  sweep->add_flag("--quiet", args.quiet, "no progress on stderr");
  return sweep;
}

int sweep_command(const SweepArgs& args) {
  const orchestration::Study study = orchestration::load_study(args.study, args.sets);
  const std::string dir = args.out.empty() ? "runs/" + study.name : args.out;
  orchestration::PlanOptions options;
  options.quiet = args.quiet;
  options.jobs = args.jobs;
  options.checkpoint_every = args.checkpoint_every;
  const std::size_t failed = orchestration::run_study(study, dir, options);
  const json summary = load_json_file(dir + "/summary.json");
  std::cout << orchestration::summary_table(summary) << "summary in " << dir << "/summary.csv, " << dir
            << "/summary_points.csv, " << dir << "/summary.json\n";
  if (failed > 0) {
    std::cerr << "physlearn: error: sweep: " << failed << " of " << study.runs.size()
              << " runs failed (their log.txt says why)\n";
    return 1;
  }
  return 0;
}

}  // namespace physlearn::cli
