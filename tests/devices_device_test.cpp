#include "devices/device.h"

#include <doctest/doctest.h>

using namespace physlearn;
using namespace physlearn::devices;

TEST_CASE("the ideal device array makes the exact change, clipped to the bounds") {
  IdealDeviceArray array({0.1, 2.0});
  CHECK(array.model_name() == "ideal");
  Eigen::MatrixXd g = (Eigen::MatrixXd(2, 2) << 0.5, 1.9, 0.2, 1.0).finished();
  array.program(g, (Eigen::MatrixXd(2, 2) << 0.25, 0.5, -0.5, -0.125).finished());
  CHECK(g(0, 0) == 0.75);
  CHECK(g(0, 1) == 2.0);
  CHECK(g(1, 0) == 0.1);
  CHECK(g(1, 1) == 0.875);
  CHECK_THROWS_AS(IdealDeviceArray({1.0, 0.5}), ConfigError);
}
