// Physics of training in time (learning/physics.h): the digital network's multiply-accumulates
// and the analog figures of several epochs combined by their samples.
#include <doctest/doctest.h>

#include "learning/physics.h"

using namespace physlearn;

TEST_CASE("digital multiply-accumulates: forward, backward without the inputs, weight gradients") {
  CHECK(learning::digital_macs_per_sample({2, 16, 2}) == 3 * (32 + 32) - 32);
  CHECK(learning::digital_macs_per_sample({784, 100, 10}) == 3 * (78400 + 1000) - 78400);
  CHECK(learning::digital_macs_per_sample({5, 3}) == 2 * 15);  // one layer: forward + gradient
}

TEST_CASE("physics: epochs' figures combine weighted by their samples and phases") {
  const json a = {{"samples", 1}, {"phases_free", 1}, {"phases_nudged", 2},
                  {"settling_time_free", 1.0}, {"settling_time_nudged", 2.0},
                  {"time_per_sample", 5.0}, {"energy_per_sample", 3.0},
                  {"energy_sources_per_sample", 2.0}, {"energy_nudge_per_sample", 1.0},
                  {"mean_power", 1.0}, {"digital_macs_per_sample", 10},
                  {"digital_energy_per_mac", 1e-12}, {"digital_energy_per_sample", 1e-11}};
  json b = a;
  b["samples"] = 3;
  b["phases_free"] = 3;
  b["phases_nudged"] = 6;
  b["energy_sources_per_sample"] = 6.0;
  b["energy_per_sample"] = 7.0;
  b["mean_power"] = 3.0;
  const json c = learning::combine_physics({a, nullptr, b});
  CHECK(c["samples"] == 4);
  CHECK(c["energy_per_sample"].get<double>() == doctest::Approx((3.0 + 3 * 7.0) / 4));
  CHECK(c["mean_power"].get<double>() == doctest::Approx((3 * 1.0 + 9 * 3.0) / 12));
  CHECK(c["digital_energy_per_sample"].get<double>() == 1e-11);
  CHECK(learning::combine_physics({nullptr}).is_null());
}
