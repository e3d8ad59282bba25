#pragma once
/// Devices stand behind trainable conductances. The learning controller asks for a change of each
/// conductance; the device decides what change really happens. The ideal device makes the exact
/// change and keeps the conductance in [g_min, g_max]; device models with steps, noise, variability
/// and faults plug in behind the same interface: devices/chip.h (a seeded device population laid on
/// the network's conductances, ChipLayer is its DeviceArray) and devices/models.h (update models).
#include <Eigen/Dense>
#include <limits>
#include <memory>
#include <string>

#include "core/schema.h"

namespace physlearn::devices {

/// Range of a trainable conductance, in the network's units of conductance.
struct ConductanceBounds {
  double g_min = 0.0;
  double g_max = 1e9;  ///< large enough to mean "unbounded" for the DRN units
};

void describe(Schema& schema, ConductanceBounds& bounds);

/// A population of devices behind one array of trainable conductances.
class DeviceArray {
 public:
  virtual ~DeviceArray() = default;
  virtual std::string model_name() const = 0;
  /// Programs every device: `conductances` holds the present values and receives the new ones;
  /// `desired_change` is what the learning rule asks for, element by element.
  virtual void program(Eigen::Ref<Eigen::MatrixXd> conductances,
                       const Eigen::Ref<const Eigen::MatrixXd>& desired_change) = 0;
};

/// Exact update, clipped to the bounds: g <- min(g_max, max(g_min, g + dg)).
class IdealDeviceArray final : public DeviceArray {
 public:
  explicit IdealDeviceArray(ConductanceBounds bounds);
  std::string model_name() const override { return "ideal"; }
  void program(Eigen::Ref<Eigen::MatrixXd> conductances,
               const Eigen::Ref<const Eigen::MatrixXd>& desired_change) override;
  const ConductanceBounds& bounds() const { return bounds_; }

 private:
  ConductanceBounds bounds_;
};

}  // namespace physlearn::devices
