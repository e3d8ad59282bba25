// Long training runs: labelled "slow" (a doctest test suite becomes a CTest label) and left out of
// the default test run. Run them with: ctest --test-dir build -L slow
#include <doctest/doctest.h>

#include "skip.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

TEST_SUITE("slow") {
  TEST_CASE("fmnist-drn-xs.json in full reaches a Fashion-MNIST test error of 13.5% or lower") {
    if (!physlearn_test::have_fashion_mnist())
      PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
    const fs::path dir = fs::temp_directory_path() / "physlearn_slow_fmnist_drn_xs";
    fs::remove_all(dir);
    const std::string command = std::string("cd '") + PHYSLEARN_SOURCE_DIR + "' && '" +
                                PHYSLEARN_BINARY + "' run experiments/fmnist-drn-xs.json --out '" +
                                dir.string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    std::ifstream in(dir / "results.json");
    const auto results = nlohmann::json::parse(in);
    MESSAGE("test error " << results["final"]["test_error"].get<double>());
    CHECK(results["final"]["test_error"].get<double>() <= 0.135);
  }
}
