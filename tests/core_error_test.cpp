// The error types of physlearn (core/error.h): ConfigError's message and path, the hierarchy the
// callers catch by, and cat(), the message builder.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "core/error.h"

using physlearn::cat;
using physlearn::ConfigError;
using physlearn::Error;
using physlearn::SolverError;

TEST_CASE("ConfigError reads \"<path>: <value>: <rule>\" and keeps the path") {
  const ConfigError e("learning.beta", "-1", "must be > 0");
  /// The message is the three parts joined by ": ", written out by hand.
  CHECK(std::string(e.what()) == "learning.beta: -1: must be > 0");
  /// path() is the first part alone, not the message.
  CHECK(e.path() == "learning.beta");
  /// An empty path still gives the same layout (the message starts with ": ").
  const ConfigError root("", "\"x\"", "must be an object");
  CHECK(std::string(root.what()) == ": \"x\": must be an object");
  CHECK(root.path().empty());
}

TEST_CASE("ConfigError and SolverError are caught as physlearn::Error and std::runtime_error") {
  /// A ConfigError thrown is caught by the Error handler with its message and, cast back, its
  /// path.
  try {
    throw ConfigError("network.hidden[1]", "0", "must be >= 1");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "network.hidden[1]: 0: must be >= 1");
    const auto* config = dynamic_cast<const ConfigError*>(&e);
    REQUIRE(config != nullptr);
    CHECK(config->path() == "network.hidden[1]");
  }
  /// A SolverError carries its message unchanged and is an Error but not a ConfigError.
  try {
    throw SolverError("node 'a' floats");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "node 'a' floats");
    CHECK(dynamic_cast<const Error*>(&e) != nullptr);
    CHECK(dynamic_cast<const ConfigError*>(&e) == nullptr);
  }
  /// A plain Error is neither of the two.
  CHECK_THROWS_WITH_AS(throw Error("plain"), "plain", Error);
  try {
    throw Error("plain");
  } catch (const Error& e) {
    CHECK(dynamic_cast<const SolverError*>(&e) == nullptr);
  }
}

TEST_CASE("cat joins stream pieces with 10 significant digits") {
  /// Text, characters and integers are written as they are.
  CHECK(cat("node ", std::string("h1_3"), ' ', "floats") == "node h1_3 floats");
  CHECK(cat("--sample ", 9, ": must be in [0, ", 3, "]") == "--sample 9: must be in [0, 3]");
  CHECK(cat(-42L, "/", 7u) == "-42/7");
  /// Doubles with 10 significant digits (by hand: 1/3 = 0.3333333333..., 2/3 rounds up).
  CHECK(cat(1.0 / 3.0) == "0.3333333333");
  CHECK(cat(2.0 / 3.0) == "0.6666666667");
  /// 0.1 + 0.2 (0.30000000000000004) prints as 0.3 at 10 digits.
  CHECK(cat(0.1 + 0.2) == "0.3");
  /// 11 digits do not fit in 10: the stream's general format switches to an exponent.
  CHECK(cat(12345678901.0) == "1.23456789e+10");
  CHECK(cat(1e-15) == "1e-15");
  CHECK(cat(2.5, " V") == "2.5 V");
}
