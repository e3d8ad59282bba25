#pragma once
// Helpers shared by the device tests (tests/devices_*_test.cpp).
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "devices/chip.h"

namespace devices_test {

/// Purely relative comparison: |a - b| < epsilon max(|a|, |b|) (doctest's default scale of 1
/// would make small quantities compare equal).
inline doctest::Approx rel(double value, double epsilon) {
  return doctest::Approx(value).epsilon(epsilon).scale(0.0);
}

/// A chip section read from JSON text at path "chip".
inline physlearn::devices::ChipParams parse(const std::string& text) {
  physlearn::devices::ChipParams p;
  physlearn::Schema s;
  describe(s, p);
  s.read(physlearn::json::parse(text), "chip");
  return p;
}

/// The key path of the ConfigError that f throws.
inline std::string config_error_path(const std::function<void()>& f) {
  try {
    f();
  } catch (const physlearn::ConfigError& e) {
    return e.path();
  }
  return "(no ConfigError)";
}

}  // namespace devices_test
