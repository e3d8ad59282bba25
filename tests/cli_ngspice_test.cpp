// Training end to end with solver.type "ngspice" (every phase of every sample solved by ngspice in
// process) against the layered solver converged to 1e-13 V: the same learning curve, and
// `physlearn bench spice` printing its figures.
#include <doctest/doctest.h>

#include "cli_support.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Run = cli_test::Outcome;
using cli_test::slurp;

Run run_physlearn(const std::string& arguments, const fs::path& dir) {
  return cli_test::physlearn(arguments, dir);
}
fs::path fresh(const std::string& name) { return cli_test::scratch("ngspice_" + name); }

}  // namespace

TEST_CASE("cli: xor trained through ngspice follows the converged layered solver to 1e-6") {
  const fs::path spice = fresh("xor_spice"), layered = fresh("xor_layered");
  const std::string common = "run experiments/xor.json --quiet --set learning.epochs=25 ";
  const Run a = run_physlearn(common + "--set solver.type=ngspice --set solver.sweeps=null --out '" + spice.string() + "'",
                              spice / "log");
  INFO(a.err);
  REQUIRE(a.status == 0);
  const Run b = run_physlearn(common +
                                  "--set solver.tolerance=1e-13 --set solver.max_sweeps=1000000 "
                                  "--out '" +
                                  layered.string() + "'",
                              layered / "log");
  INFO(b.err);
  REQUIRE(b.status == 0);
  const json x = json::parse(slurp(spice / "results.json"));
  const json y = json::parse(slurp(layered / "results.json"));
  REQUIRE(x["epochs"].size() == 25);
  REQUIRE(y["epochs"].size() == 25);
  double worst = 0.0;
  for (std::size_t e = 0; e < 25; ++e)
    for (const char* key : {"train_loss", "test_loss"}) {
      const double p = x["epochs"][e][key].get<double>(), q = y["epochs"][e][key].get<double>();
      worst = std::max(worst, std::abs(p - q) / std::max(std::abs(q), 1e-12));
    }
  MESSAGE("largest relative difference of the per-epoch losses: " << worst);
  CHECK(worst < 1e-6);
  CHECK(x["final"]["test_error"] == y["final"]["test_error"]);
}

TEST_CASE("cli: bench spice prints ngspice and native timings") {
  const fs::path dir = fresh("bench");
  const Run r =
      run_physlearn("bench spice experiments/xor.json --repeats 2 --set data.type=two-moons", dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json out = json::parse(r.out);
  for (const char* key : {"ngspice_seconds", "native_seconds", "speedup", "max_abs_dv"})
    CHECK(out.contains(key));
  CHECK(out["ngspice_seconds"].get<double>() > 0.0);
  CHECK(out["native_seconds"].get<double>() > 0.0);
  CHECK(out["max_abs_dv"].get<double>() < 1e-6);
  CHECK(out["solvers"].contains("newton"));
  CHECK(out["solvers"].contains("layered_converged"));
  CHECK(out["solvers"].contains("layered_experiment"));

  const Run bad = run_physlearn("bench nosuchcase experiments/xor.json", dir);
  CHECK(bad.status == 1);
  CHECK(bad.err.find("unknown case") != std::string::npos);
}
