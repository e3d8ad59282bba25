#pragma once
/// The one trainer of a resistive network: a rule's phase plan (learning/rule.h) run by a view's
/// executor (learning/executor.h: layered or crossbar), the optimiser (learning/optimizer.h) and
/// the device array behind the conductances (learning/device_array.h: ideal, or a chip). One
/// training step:
///   devices.read          the conductances the phases see (a fresh read when reads are noisy)
///   executor.direction    the plan's phases and its contrast: the rule's direction
///   (alignment)           every N batches, the direction against the exact gradient
///   devices.step          per layer, the optimiser's step through the devices
///   optimiser.apply       the bias currents (sources), set exactly, unbounded
/// The fused float32 path (learning/fused_model.h) is the optimised kernel of one case of this
/// (EP, the layered view, ideal devices) behind the same Model interface.
#include <memory>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "learning/device_array.h"
#include "learning/executor.h"
#include "learning/model.h"
#include "learning/optimizer.h"
#include "learning/rule.h"

namespace physlearn::learning {

/// The optimiser's settings: SGD with momentum, a rate per layer (conductances and biases
/// apart), decayed after every epoch.
struct OptimizerSettings {
  double momentum = 0.0;
  std::vector<double> lr_weights;
  std::vector<double> lr_biases;
  double lr_decay = 1.0;
};

class Trainer final : public Model {
 public:
  /// `net`: the network at its starting conductances (already in [g_min, g_max]); `start`: a
  /// network to start from, programmed through the devices (null: none; its biases are taken
  /// exactly). `alignment_every` > 0 compares the direction with the exact gradient every that
  /// many batches (the layered view with ideal diodes or none; else a ConfigError).
  /// `digital_sizes` and `energy_per_mac`: the digital comparison of the physics figures.
  Trainer(circuits::LayeredNetwork net, const circuits::LayeredNetwork* start, PhasePlan plan,
          std::unique_ptr<PhaseExecutor> executor, std::unique_ptr<DeviceArray> devices,
          const OptimizerSettings& optimizer, int alignment_every, std::vector<int> digital_sizes,
          double energy_per_mac, bool on_crossbars);

  long num_parameters() const override { return net_.num_parameters(); }
  std::string description() const override;
  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override;
  void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) override;
  void end_epoch() override;
  std::vector<LayerAlignment> take_alignment() override;
  json take_device_figures() override { return devices_->take_figures(); }
  json take_physics() override;
  void save(const std::string& out_dir) override;
  std::vector<const Eigen::MatrixXd*> conductances() const override;
  json save_state() const override;
  void load_state(const json& state, const std::string& where) override;

 private:
  /// The exact gradient at the converged free state, against the rule's direction, per layer.
  void measure_alignment(const Eigen::MatrixXd& targets);

  circuits::LayeredNetwork net_;
  PhasePlan plan_;
  std::unique_ptr<PhaseExecutor> executor_;
  std::unique_ptr<DeviceArray> devices_;
  SgdMomentum optimizer_;
  int alignment_every_ = 0;
  std::vector<int> digital_sizes_;
  double energy_per_mac_ = 0.0;
  bool on_crossbars_ = false;
  std::unique_ptr<solvers::CoordinateDescentSolver> reference_;
  ParameterGradient direction_;
  Eigen::MatrixXd voltages_;
  std::vector<LayerAlignment> sums_;
  long batch_ = 0;
  int measured_ = 0;
};

}  // namespace physlearn::learning
