#pragma once
/// `physlearn resume DIR [--checkpoint-every N] [--quiet]`: continues the run in DIR from
/// DIR/checkpoint.json (written by `run --checkpoint-every N`) with the configuration saved in it,
/// to the same results as a run never interrupted (orchestration/checkpoint.h). It keeps the run's
/// checkpoint interval unless given another. A complete run (results.json "complete") is left as
/// it is. A missing, truncated, damaged or mismatched checkpoint is an error naming the reason.
#include <CLI/CLI.hpp>
#include <string>

#include "orchestration/experiment.h"
#include "orchestration/runner.h"

namespace physlearn::cli {

struct ResumeArgs {
  std::string dir;
  int checkpoint_every = -1;  ///< -1: the checkpoint's own
  bool quiet = false;
};

CLI::App* add_resume_subcommand(CLI::App& app, ResumeArgs& args);
int resume_command(const ResumeArgs& args);

/// The line `run` and `resume` print on stdout: test and train error, epochs, time, results file.
void print_run_result(const orchestration::RunResult& result, const std::string& dir);

}  // namespace physlearn::cli
