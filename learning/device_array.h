#pragma once
/// What stands behind a network's trainable conductances, as the trainer (learning/trainer.h)
/// sees it: it programs the starting conductances, gives the phases what the devices hold (a
/// fresh read when reads are noisy), turns each optimiser step into the devices' change, and
/// saves and restores itself in checkpoints.
///   ideal  (the default, no chip section): the exact step, kept in [g_min, g_max], fused with
///          the optimiser's momentum update (learning/optimizer.h, apply) so the hot loop reads
///          every array once;
///   chip   a seeded device population (devices/chip.h) programmed by the learning controller
///          (learning/controller.h): pulses, their noise, levels, faults, drift.
/// Bias currents are sources, not devices: the trainer sets them exactly.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "core/schema.h"
#include "devices/chip.h"
#include "learning/controller.h"
#include "learning/optimizer.h"

namespace physlearn::learning {

class DeviceArray {
 public:
  virtual ~DeviceArray() = default;
  /// Takes the network's starting conductances `weights` (network units, already in
  /// [g_min, g_max]) and, when given, the conductances of a network to start from (`start`,
  /// orchestration/transfer.h's initial_network): `weights` receives what the devices hold.
  virtual void program_start(std::vector<Eigen::MatrixXd>& weights,
                             const std::vector<Eigen::MatrixXd>* start) = 0;
  /// Before a batch's phases: `weights` receives a fresh read of the devices when reads are
  /// noisy (else it already holds what they hold).
  virtual void read(std::vector<Eigen::MatrixXd>& weights) = 0;
  /// One optimiser step of layer `layer`'s conductances along `direction`, through the devices.
  virtual void step(int layer, SgdMomentum& optimizer, const Eigen::MatrixXd& direction,
                    Eigen::MatrixXd& weights) = 0;
  /// After an epoch (retention drift).
  virtual void end_epoch(std::vector<Eigen::MatrixXd>& weights) = 0;
  /// Programming figures since the last call (pulses, energy), or null for ideal devices.
  virtual json take_figures() = 0;
  /// The devices' noise-free conductances of layer `layer` (`weights`: what the phases saw).
  virtual Eigen::MatrixXd conductances(int layer, const Eigen::MatrixXd& weights) const = 0;
  /// Writes what belongs to the devices into the results folder (chip.json).
  virtual void save(const std::string& out_dir) const = 0;
  /// Its state in a checkpoint, into `state` (keys "chip" and "controller"); set_state restores
  /// it bit for bit, an Error naming `where` for a state of other devices.
  virtual void save_state(json& state) const = 0;
  virtual void set_state(const json& state, const std::string& where) = 0;
};

/// Ideal devices: the exact update, kept in [g_min, g_max].
std::unique_ptr<DeviceArray> make_ideal_devices(double g_min, double g_max);

/// A chip of `chip` parameters laid on `weights` (its starting conductances), programmed by a
/// learning controller of `controller` parameters.
std::unique_ptr<DeviceArray> make_chip_devices(const devices::ChipParams& chip,
                                               const ControllerParams& controller,
                                               const std::vector<Eigen::MatrixXd>& weights);

}  // namespace physlearn::learning
