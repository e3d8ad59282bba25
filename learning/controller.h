#pragma once
/// The learning controller: turns each conductance's desired change (the rule's update after the
/// optimiser) into programming pulses on its device of the chip, and keeps the count.
///   pulses n = |dg| / step of the device model in that direction, rounded deterministically
///   (half up, in the chip) or stochastically (floor + Bernoulli of the fraction, unbiased);
///   capped at max_pulses per device and update (the pulse budget);
///   optional write-verify: read back (with the chip's read noise) and send corrective pulses, up
///   to verify_iterations rounds, to devices further than verify_tolerance steps from the target.
/// Bias currents are sources, not devices: they are set exactly.
#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <string>

#include "core/schema.h"
#include "devices/chip.h"

namespace physlearn::learning {

/// The "controller" section.
struct ControllerParams {
  std::string rounding = "deterministic";  ///< "deterministic" or "stochastic"
  int max_pulses = 0;                      ///< per device and update (0: the device model's own cap)
  int verify_iterations = 0;               ///< write-verify rounds (0: open loop)
  double verify_tolerance = 0.5;           ///< in nominal steps
  double drift_seconds = 0.0;              ///< retention time that passes after every epoch
};

void describe(Schema& schema, ControllerParams& params);

class LearningController {
 public:
  LearningController(const ControllerParams& params, devices::Chip& chip, std::uint64_t seed);

  /// True when reads are noisy, so that each phase must read the chip anew.
  bool noisy_reads() const;
  /// What the phases see: the chip's conductances, with read noise when it is modelled.
  void read(int layer, Eigen::Ref<Eigen::MatrixXd> weights);
  /// Programs a layer with the desired change (network units); `weights` receives the devices'
  /// new noise-free conductances.
  void program(int layer, Eigen::Ref<Eigen::MatrixXd> weights, const Eigen::MatrixXd& desired);
  /// Lets the epoch's retention time pass; `weights` receive the drifted conductances.
  void end_epoch(std::vector<Eigen::MatrixXd>& weights);
  /// Statistics since the last call.
  devices::ProgramStats take_stats();

  /// Its own state for checkpoints (the rounding generator and the statistics not yet taken);
  /// the chip is saved apart (devices::Chip::to_json).
  json state() const;
  void set_state(const json& state, const std::string& where);

 private:
  Eigen::MatrixXd pulses_for(const Eigen::MatrixXd& desired);
  ControllerParams params_;
  devices::Chip& chip_;
  std::mt19937_64 rng_;
  double step_up_ = 0.0, step_down_ = 0.0;  ///< nominal steps in network units
  devices::ProgramStats stats_;
  Eigen::MatrixXd target_, work_;
};

}  // namespace physlearn::learning
