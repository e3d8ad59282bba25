#pragma once
/// Errors of physlearn. User mistakes (bad config, bad circuit, missing data, a solver that does not
/// converge) are thrown as physlearn::Error with a message written for the person who made them:
/// it names the JSON path or element, the value and the rule it broke.
#include <sstream>
#include <stdexcept>
#include <string>

namespace physlearn {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration value broke a rule. what() reads "<path>: <value>: <rule>".
class ConfigError : public Error {
 public:
  ConfigError(const std::string& path, const std::string& value, const std::string& rule)
      : Error(path + ": " + value + ": " + rule), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A solver failed (non-convergence, singular system, floating node).
class SolverError : public Error {
 public:
  using Error::Error;
};

/// Builds a message from stream pieces: throw Error(cat("node ", name, " floats")).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  out.precision(10);
  (out << ... << args);
  return out.str();
}

}  // namespace physlearn
