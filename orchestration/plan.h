#pragma once
/// Plans of runs. `compare`, `transfer` and `sweep` are each a list of runs of one experiment (a
/// configuration and a folder), executed by one plan runner and summarised by one table writer:
///   compare   one run per rule, in this process (orchestration/compare.h)
///   transfer  the steps of the transfer protocol, in this process, in order: a step may start
///             from the network.json of an earlier one (orchestration/transfer.h)
///   sweep     points x seeds of a study, as child processes of the physlearn program, N at a
///             time; a run that finished before is skipped and one that left a checkpoint resumed
///             (orchestration/sweep.h)
/// Each run is `physlearn run` (orchestration/runner.h) in DIR/<run dir>/; after every run the
/// plan's callback reads that run's results.json and rewrites the plan's summary files.
#include <functional>
#include <string>
#include <vector>

#include "core/schema.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

/// One run of a plan.
struct PlannedRun {
  std::string dir;          ///< its folder, relative to the plan's folder
  ExperimentConfig config;  ///< what runs in this process
  /// Child processes: the experiment file the child reads (written as <dir>/experiment.json).
  json experiment;
};

/// What became of a run.
enum class RunStatus { pending, finished, failed };

struct PlanOptions {
  std::string name = "plan";  ///< the progress lines' prefix ("compare", "transfer", "sweep")
  bool quiet = false;         ///< no progress on stderr (the runs' own progress included)
  /// 0: the runs in this process, in order (an error ends the plan); N >= 1: as child processes
  /// of `program`, N at a time, each with its output in <dir>/log.txt (a failed run is recorded
  /// and the others go on).
  int jobs = 0;
  std::string program;       ///< child processes: the physlearn program (default: this program)
  int checkpoint_every = 0;  ///< every run checkpoints every this many epochs (0: never)
  /// Called once the plan knows which runs it will run (skipped runs: finished), before the first
  /// starts; child processes: while holding the folder's lock.
  std::function<void(const std::vector<RunStatus>& statuses)> on_start;
};

/// Called after each run ends (in the order they end) with its index, its status and, for a
/// failed run, why (its exit and the last error line of its log).
using RunEnded = std::function<void(std::size_t run, RunStatus status, const std::string& why)>;

/// Executes `runs` in `dir`. Child processes: one plan at a time holds `dir` (a lock on
/// DIR/.sweep.lock; a second is refused); a run whose folder holds a complete results.json for the
/// same experiment (experiment.json) is not run again, one whose folder holds a checkpoint of the
/// same experiment is resumed (`physlearn resume`), any other folder is cleared first. Children
/// die with this process (PR_SET_PDEATHSIG). `statuses` goes out with what became of each run
/// (skipped runs: finished); `ended` is called for every run that ran. Returns the number of
/// failed runs.
std::size_t execute_plan(const std::vector<PlannedRun>& runs, const std::string& dir,
                         const PlanOptions& options, std::vector<RunStatus>& statuses,
                         const RunEnded& ended);

/// "pending", "finished", "failed".
const char* status_name(RunStatus status);

/// One column of a CSV table: its header and how a row (a JSON object of the summary) gives
/// its value.
struct Column {
  std::string name;
  std::function<json(const json& row)> value;
};
/// A column holding the value at `pointer` ("/a/b/0") in the row; absent: an empty field.
Column field(const std::string& name, const std::string& pointer);
/// A column holding the row's `key`.
Column field(const std::string& key);
/// `key` as one token of a JSON pointer ('~' and '/' escaped).
std::string pointer_token(const std::string& key);

/// One CSV file of a summary: a header line, then a line per row of `rows`.
struct CsvTable {
  std::string file;  ///< relative to the summary's folder
  json rows;         ///< an array of JSON objects
  std::vector<Column> columns;
};

/// The one summary writer of every plan: DIR/<json_file> (the document, indented) and each
/// table's CSV, every file written atomically (complete or absent). CSV fields: numbers with up
/// to 10 significant digits, null as an empty field, text quoted where it holds a comma, a quote
/// or a newline.
void write_tables(const std::string& dir, const std::string& json_file, const json& document,
                  const std::vector<CsvTable>& tables);

/// A value as a CSV field (the rules of write_tables).
std::string csv_value(const json& value);

}  // namespace physlearn::orchestration
