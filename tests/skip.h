#pragma once
/// A test that cannot run here (a dependency missing: the Fashion-MNIST package, ngspice,
/// gnuplot) reports itself as skipped, not as passed. Under CTest, tests/CMakeLists.txt sets
/// PHYSLEARN_CTEST and SKIP_RETURN_CODE 77: the case exits with 77 and CTest lists it as
/// "Not Run (Skipped)" with the reason in its output. Run directly (a test program with no
/// filter), the reason is printed and the rest of the case is left out.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace physlearn_test {

/// CTest's SKIP_RETURN_CODE for every test program (tests/CMakeLists.txt).
constexpr int kSkipReturnCode = 77;

inline void report_skip(const std::string& reason) {
  std::cout << "SKIPPED: " << reason << std::endl;
  if (std::getenv("PHYSLEARN_CTEST") != nullptr) {
    std::cerr.flush();
    std::_Exit(kSkipReturnCode);
  }
}

/// True when Debian's dataset-fashion-mnist package is installed.
inline bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") &&
         std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
}

/// True when `program` is on the PATH.
inline bool have_program(const std::string& program) {
  return std::system(("command -v " + program + " > /dev/null 2>&1").c_str()) == 0;
}

}  // namespace physlearn_test

/// Ends the current test case as skipped, saying why (see above).
#define PHYSLEARN_SKIP(reason)              \
  do {                                      \
    ::physlearn_test::report_skip(reason);  \
    return;                                 \
  } while (false)
