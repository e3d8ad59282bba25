#pragma once
/// What the training loop trains: a resistive network with a local rule (learning/trainer.h, or
/// its fused kernel learning/fused_model.h), or the digital baseline (learning/baseline.h). The
/// loop (orchestration/runner.h) gives every model the same data order, epochs and batch size.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "core/schema.h"

namespace physlearn::learning {

/// Per-layer agreement between a rule's update direction and the exact gradient.
struct LayerAlignment {
  double cosine = 0.0;
  double norm_ratio = 0.0;  ///< |rule| / |exact|
};

class Model {
 public:
  virtual ~Model() = default;
  virtual long num_parameters() const = 0;
  /// One line for the progress header, e.g. "DRN 1568-100-10, ep-centered, solver layered".
  virtual std::string description() const = 0;
  /// One training step. `outputs` receives the outputs before the update (the free phase).
  virtual void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                           Eigen::MatrixXd& outputs) = 0;
  /// Inference: the outputs for a batch (the free phase for a circuit).
  virtual void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) = 0;
  virtual void end_epoch() = 0;
  /// Mean alignment per layer over the batches measured since the last call (empty when off).
  virtual std::vector<LayerAlignment> take_alignment() { return {}; }
  /// Programming figures since the last call (pulses, energy) when devices are modelled; else null.
  virtual json take_device_figures() { return nullptr; }
  /// Physics of the training steps since the last call when the phases are simulated in time
  /// (solver.type "transient"; see learning/physics.h); else null.
  virtual json take_physics() { return nullptr; }
  /// Writes what belongs to the trained model into the results folder (the chip, if any).
  virtual void save(const std::string& /*out_dir*/) {}
  /// Trainable conductances per layer (for histograms and checks); empty for the baseline.
  virtual std::vector<const Eigen::MatrixXd*> conductances() const { return {}; }
  /// The complete training state for a checkpoint (orchestration/checkpoint.h): parameters, optimiser
  /// (velocities, decayed rates), devices and every random generator, counters; values exact.
  virtual json save_state() const {
    throw Error("checkpoints: the model " + description() + " cannot save its state");
  }
  /// Restores a state written by save_state() into a model made from the same configuration,
  /// bit for bit; a state of another shape or kind is a physlearn::Error naming `where`.
  virtual void load_state(const json& /*state*/, const std::string& where) {
    throw Error(where + ": the model " + description() + " cannot load a state");
  }
};

/// For Model::load_state: throws physlearn::Error naming `where` unless state["kind"] is `kind`
/// (the state of another model).
void expect_state_kind(const json& state, const std::string& kind, const std::string& where);

}  // namespace physlearn::learning
