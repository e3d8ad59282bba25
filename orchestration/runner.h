#pragma once
/// The run of one experiment: the epoch loop (the data order, mini-batches, evaluation), the
/// progress on stderr and the result files (results.json, history.csv, the conductance
/// histograms, what the model saves), checkpoints included. compare, transfer and sweep are
/// plans of such runs (orchestration/plan.h).
#include <Eigen/Dense>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "learning/model.h"
#include "orchestration/experiment.h"

namespace physlearn::orchestration {

using learning::LayerAlignment;
using learning::Model;

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0.0;   ///< mean 1/2 ||o - y||^2 over the epoch's mini-batches (free phase)
  double train_error = 0.0;  ///< fraction misclassified during the epoch (free phase, before update)
  double test_loss = 0.0;
  double test_error = 0.0;
  double wall_seconds = 0.0; ///< seconds of this epoch (training and evaluation)
  std::vector<LayerAlignment> alignment;  ///< per layer, when learning.alignment_every > 0
  json devices;  ///< programming figures of the epoch when a chip is used (else null)
  json physics;  ///< analog and digital figures when solver.type is "transient" (else null)
};

/// One epoch as written in results.json (and in checkpoints).
json to_json(const EpochRecord& record);

struct RunResult {
  std::vector<EpochRecord> epochs;
  double final_train_error = 0.0;  ///< error on the whole training set after the last epoch
  double final_test_error = 0.0;
  double final_train_loss = 0.0;
  double final_test_loss = 0.0;
  double wall_seconds = 0.0;
  bool complete = false;  ///< every epoch and the final evaluation done (written as "complete")
  json to_json(const ExperimentConfig& config) const;
};

struct Checkpoint;

struct RunOptions {
  bool quiet = false;        ///< no progress on stderr
  int checkpoint_every = 0;  ///< write DIR/checkpoint.json every this many epochs (0: never)
  /// Continue from this checkpoint (read_checkpoint) instead of starting afresh.
  const Checkpoint* resume = nullptr;
};

/// Trains and evaluates; writes DIR/config.resolved.json and DIR/conductances_start.csv before
/// training, DIR/history.csv and DIR/results.json (atomically) after every epoch, and at the end
/// DIR/conductances_end.csv and what the model saves (chip.json). Progress goes to stderr.
/// With checkpoints (orchestration/checkpoint.h) the run can be killed at any point and resumed to the
/// same results; a finished run removes its checkpoint.
RunResult run_experiment(ExperimentConfig& config, const std::string& out_dir, const RunOptions& options);
RunResult run_experiment(ExperimentConfig& config, const std::string& out_dir, bool quiet = false);

/// The free phase (inference) over the whole of `d`, in batches of `batch_size`, in file order:
/// the mean loss 1/2 ||o - y||^2 and the fraction misclassified.
struct Evaluation {
  double loss = 0.0;
  double error = 0.0;
};
Evaluation evaluate(learning::Model& model, const data::Dataset& d, int batch_size);

/// One training epoch over `d` in the order `order` (mini-batches of `batch_size`); the mean
/// loss and the error of the free phase before each update. `after_batch(batch, samples done,
/// loss sum, errors)` is called after every mini-batch (progress).
struct EpochFigures {
  double loss = 0.0;
  double error = 0.0;
};
EpochFigures train_epoch(learning::Model& model, const data::Dataset& d,
                         const std::vector<int>& order, int batch_size,
                         const std::function<void(std::size_t, std::size_t, double, long)>&
                             after_batch = {});

}  // namespace physlearn::orchestration
