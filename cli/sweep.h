#pragma once
/// `physlearn sweep STUDY.json [--out DIR] [--jobs N] [--set key=value ...] [--checkpoint-every N]
/// [--quiet]`: every run of a study (orchestration/sweep.h) as a child process of this program
/// (`physlearn run`, or `physlearn resume` where a run left a checkpoint), up to N at a time, each
/// in its own folder DIR/<NNN>-<label>/seed-<S>/ with its output in log.txt; the summary is
/// rewritten after every run. Started again with the same command, a sweep skips the runs that
/// finished (results.json complete, for the same configuration) and resumes those that left a
/// checkpoint. Children die with the sweep (PR_SET_PDEATHSIG); one sweep at a time holds DIR (a
/// lock on DIR/.sweep.lock). Exit status: 0 when every run finished, 1 when some failed (the others
/// still run).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace physlearn::cli {

struct SweepArgs {
  std::string study;
  std::string out;  ///< default runs/<study name>
  int jobs = 1;
  std::vector<std::string> sets;  ///< overrides of every run, after the study's "set"
  int checkpoint_every = 0;       ///< passed to every run (0: none)
  bool quiet = false;
};

CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args);
int sweep_command(const SweepArgs& args);

}  // namespace physlearn::cli
