#pragma once
/// Checkpoints: the complete state of a training run at the end of an epoch, in
/// DIR/checkpoint.json, so that a run killed at any point resumes (`physlearn resume DIR`) to the
/// same results.json as a run never interrupted (apart from the wall_seconds timings).
///
/// The file (written atomically: a temporary file, then a rename):
///   {"format": "physlearn-checkpoint", "version": 2,
///    "config_hash": "fnv1a64:<16 hex digits>",   // of the resolved configuration's JSON text
///    "config": {...},                            // the resolved configuration
///    "checkpoint_every": N, "epochs_done": E,
///    "wall_seconds": s,                          // training time so far (a timing)
///    "order_size": n, "order": base64 of the int32 data order after the last shuffle,
///    "order_rng": "<the shuffle generator's state>",
///    "epochs": [records as in results.json],
///    "model": Model::save_state()}               // parameters, optimiser, chip, controller
/// Arrays are base64 of little-endian binary (core/binary.h): values come back bit for bit.
/// read_checkpoint refuses, with the reason, a file that is missing, truncated or malformed, of
/// another format or version, whose configuration does not match its hash, or whose configuration
/// differs from the folder's config.resolved.json.
///
/// Versions: 2, the solver section a variant keyed by "type" ({"type", "precision", ...that
/// type's keys}); 1, the solver section one flat list of every type's keys with newton_,
/// ngspice_ and transient_ prefixes.
#include <random>
#include <string>
#include <vector>

#include "core/schema.h"
#include "orchestration/runner.h"

namespace physlearn::orchestration {

constexpr int kCheckpointVersion = 2;

/// Everything needed to continue a run after its epoch `epochs.size()`.
struct Checkpoint {
  ExperimentConfig config;
  int checkpoint_every = 0;
  double wall_seconds = 0.0;
  std::vector<int> order;
  std::mt19937_64 order_rng;
  std::vector<EpochRecord> epochs;
  json model;  ///< Model::save_state()
};

/// "fnv1a64:<hex>" of the resolved configuration's JSON text: equal exactly when every key is.
std::string config_hash(ExperimentConfig& config);

std::string checkpoint_file(const std::string& dir);

/// Writes DIR/checkpoint.json (atomically).
void write_checkpoint(const std::string& dir, ExperimentConfig& config, const Model& model,
                      int checkpoint_every, double wall_seconds, const std::vector<int>& order,
                      const std::mt19937_64& order_rng, const std::vector<EpochRecord>& epochs);

/// Reads and checks DIR/checkpoint.json; a physlearn::Error says why it cannot be resumed.
Checkpoint read_checkpoint(const std::string& dir);

/// True when DIR/results.json exists, parses and says "complete": true.
bool run_complete(const std::string& dir);

}  // namespace physlearn::orchestration
