#pragma once
// Files and experiments for the orchestration tests (tests/orchestration_*_test.cpp).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "orchestration/experiment.h"

namespace orchestration_test {

/// A folder for test file `file`'s case `name` under the temporary folder, removed if it was
/// there (physlearn_test_orchestration_<file>_<name>: unique across test files, which ctest runs
/// in parallel); `create`: made empty.
inline std::filesystem::path scratch(const std::string& file, const std::string& name,
                                     bool create = false) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("physlearn_test_orchestration_" + file + "_" + name);
  std::filesystem::remove_all(dir);
  if (create) std::filesystem::create_directories(dir);
  return dir;
}

/// The whole text of `file` ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// experiments/xor.json with `epochs` epochs, no progress lines, then `overrides` ("a.b=value").
inline physlearn::orchestration::ExperimentConfig xor_experiment(
    int epochs, const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"learning.epochs=" + std::to_string(epochs),
                                  "output.progress_seconds=0"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return physlearn::orchestration::load_experiment(
      std::string(PHYSLEARN_SOURCE_DIR) + "/experiments/xor.json", all);
}

}  // namespace orchestration_test
