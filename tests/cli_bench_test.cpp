// `physlearn bench epoch | roofline | scaling | crossbar` on a tiny experiment: each prints one
// valid JSON object with its figures.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cli_support.h"

using json = nlohmann::json;

namespace {

json bench(const std::string& arguments, const std::string& name) {
  const auto dir = cli_test::scratch("cli_bench_" + name);
  const cli_test::Outcome r = cli_test::physlearn("bench " + arguments, dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("bench epoch times the rule and backprop on the same data, with peak memory") {
  const json out =
      bench("epoch experiments/xor.json --epochs 2 --set solver.precision=float32", "epoch");
  CHECK(out["case"] == "epoch");
  CHECK(out["precision"] == "float32");
  CHECK(out["samples"] == 4);
  for (const char* side : {"circuit", "backprop"}) {
    CAPTURE(side);
    CHECK(out[side]["train_seconds_per_epoch"].get<double>() > 0.0);
    CHECK(out[side]["epochs"].size() == 2);
    CHECK(out[side].contains("train_seconds_per_60000_samples_extrapolated"));
  }
  CHECK(out["circuit"]["model"].get<std::string>().find("fused") != std::string::npos);
  CHECK(out["ratio"].get<double>() > 0.0);
  CHECK(out["peak_resident_mib"].get<double>() > 1.0);
}

TEST_CASE("bench roofline compares EP steps with matrix products, scaling fits an exponent") {
  const json roofline = bench("roofline experiments/xor.json --repeats 1", "roofline");
  CHECK(roofline["flops_per_step"]["total"].get<double>() > 0.0);
  CHECK(roofline["fraction_of_attainable"].get<double>() > 0.0);
  CHECK(roofline["reference_products"]["drive"]["shape"] == "4-2-16");

  const json scaling = bench("scaling experiments/xor.json --repeats 1 --hidden 4,8,16", "scaling");
  REQUIRE(scaling["points"].size() == 3);
  CHECK(scaling["points"][2]["hidden"] == 16);
  CHECK(scaling["points"][2]["conductances"].get<double>() == 4 * 16 + 16 * 2);
  CHECK(scaling.contains("exponent"));

  // The training benchmarks need the fused path.
  const auto dir = cli_test::scratch("cli_bench_errors");
  const auto bad =
      cli_test::physlearn("bench roofline experiments/xor.json --set learning.rule=chl", dir);
  CHECK(bad.status == 1);
  CHECK(bad.err.find("learning.rule") != std::string::npos);
}

TEST_CASE("bench crossbar parses its options and prints one array's figures") {
  const json out = bench("crossbar experiments/xor.json --rows 5 --cols 3 --batch 2 --wire 1.5 "
                         "--repeats 1 --ngspice-max-devices 10",
                         "crossbar");
  CHECK(out["case"] == "crossbar");
  CHECK(out["rows"] == 5);
  CHECK(out["cols"] == 3);
  CHECK(out["devices"] == 15);
  CHECK(out["batch"] == 2);
  CHECK(out["wire_resistance"] == 1.5);
  CHECK(out["max_abs_dv"].get<double>() < 1e-8);
  CHECK(out["ngspice_skipped"] == "above the limit of 10 devices");

  const json sizes =
      bench("crossbar experiments/fmnist-crossbar.json --sizes 2,4 --batch 2 --wire 1 --repeats 1 "
            "--memory-limit-gib 1e-12 --ngspice-max-devices 0 --set crossbar.solver=dense",
            "crossbar_sizes");
  REQUIRE(sizes["sizes"].size() == 2);
  CHECK(sizes["sizes"][1].contains("native_skipped"));
  CHECK(sizes["exponent"].is_null());
}
