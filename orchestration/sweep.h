#pragma once
/// Studies: one base experiment run at many points (values of any config keys) and seeds, by
/// `physlearn sweep STUDY.json --out DIR`. A study file:
///
///   {"name": "variability",                         // default: the file's name
///    "base": "xor.json",                             // relative to the study file, or {inline}
///    "set": {"learning.epochs": 50},                 // fixed overrides (optional)
///    "grid": {"chip.variability.d2d_sigma": [0, 0.1, 0.3],
///             "learning.beta": [0.1, 0.2]},          // cartesian product (optional)
///    "points": [{"label": "ideal", "chip": null},    // explicit points (optional)
///               {"chip.variability.levels": 16}],
///    "seeds": [1, 2],                                // or a count n: seeds 1..n (default 1)
///    "seed_keys": ["seed", "chip.seed"]}             // what a seed sets (this is the default)
///
/// Keys are the dotted paths of `run --set`; a null value removes the key (no chip section).
/// The runs are points x grid x seeds (a study with neither has one point: the base). A run's
/// configuration is the base, then "set", then `sweep --set`, then its grid values, then its
/// point's keys, then the seed: every key of seed_keys is set to the seed, each only where the
/// object holding it exists (chip.seed only with a chip section). A key may not be both in the
/// grid and in a point, and "set", "grid", "points" and `--set` may not set a seed key.
///
/// Runs go to DIR/<NNN>-<label>/seed-<S>/ (experiment.json, log.txt and run's result files). The
/// summary: DIR/summary.csv (one row per run), DIR/summary_points.csv (one row per point: mean and
/// sample standard deviation across seeds) and DIR/summary.json (both, plus the swept keys).
#include <ostream>
#include <string>
#include <vector>

#include "core/schema.h"
#include "orchestration/plan.h"

namespace physlearn::orchestration {

struct StudyPoint {
  std::string label;
  std::string dir;                    ///< "<NNN>-<slug of the label>"
  std::vector<std::string> set_keys;  ///< the swept keys this point sets (grid values and its own)
  json overrides;                     ///< key path -> value, in the order applied
  json values;                        ///< every swept key -> its value in the run's resolved config
};

struct StudyRun {
  int point = 0;  ///< index into Study::points
  long seed = 0;
  std::string dir;  ///< relative to the sweep folder: "<point dir>/seed-<S>"
  json config;      ///< the complete experiment JSON of the run
};

struct Study {
  std::string name;
  std::string file;
  std::vector<std::string> keys;  ///< swept keys: the grid's, then the points', as first written
  std::vector<long> seeds;
  std::vector<std::string> seed_keys;
  std::vector<StudyPoint> points;
  std::vector<StudyRun> runs;  ///< point-major, seeds inner
  json to_json() const;
};

/// Reads a study file and expands every run; each run's configuration is validated before
/// anything runs, errors naming the study file, the point (index and label), the seed and the key.
/// `overrides` ("a.b=value", as `run --set`) join the study's "set", after it.
Study load_study(const std::string& file, const std::vector<std::string>& overrides = {});

/// The study file's keys, documented (for `physlearn schema study`).
void document_study(std::ostream& out);

/// Figures of a finished run from its results.json, in column order: test_error, train_error,
/// test_loss, train_loss, wall_seconds, epochs, then the sums over epochs of every numeric
/// "devices" figure (devices.pulses, devices.programming_energy, ...) and any other number under
/// "final" or "physics" (final.<key>, physics.<key>).
std::vector<std::pair<std::string, double>> run_figures(const json& results);

/// Writes DIR/summary.csv, DIR/summary_points.csv and DIR/summary.json (atomically) from the
/// results.json of every finished run; `status` and `messages` (a failed run's reason) per run.
/// Returns summary.json.
json write_summary(const Study& study, const std::string& dir, const std::vector<RunStatus>& status,
                   const std::vector<std::string>& messages);

/// Runs every run of the study as a child process of the physlearn program (a plan of runs,
/// orchestration/plan.h: `options.jobs` at a time, finished runs skipped, checkpointed runs
/// resumed), writes DIR/study.resolved.json, and rewrites the summary after every run. Progress
/// on stderr unless options.quiet. Returns the number of failed runs.
std::size_t run_study(const Study& study, const std::string& dir, const PlanOptions& options);

/// One line per point: label, finished seeds, test and train error (mean +- std, %).
std::string summary_table(const json& summary);

}  // namespace physlearn::orchestration
