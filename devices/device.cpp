#include "devices/device.h"

namespace physlearn::devices {

void describe(Schema& schema, ConductanceBounds& bounds) {
  schema.field("g_min", bounds.g_min, "lower bound of every trainable conductance").min(0.0);
  schema.field("g_max", bounds.g_max, "upper bound of every trainable conductance")
      .greater(0.0);
}

IdealDeviceArray::IdealDeviceArray(ConductanceBounds bounds) : bounds_(bounds) {
  if (!(bounds_.g_min >= 0.0))
    throw ConfigError("g_min", std::to_string(bounds_.g_min), "must be >= 0");
  if (!(bounds_.g_max > bounds_.g_min))
    throw ConfigError("g_max", std::to_string(bounds_.g_max), "must be > g_min");
}

void IdealDeviceArray::program(Eigen::Ref<Eigen::MatrixXd> conductances,
                               const Eigen::Ref<const Eigen::MatrixXd>& desired_change) {
  conductances = (conductances + desired_change).cwiseMax(bounds_.g_min).cwiseMin(bounds_.g_max);
}

}  // namespace physlearn::devices
