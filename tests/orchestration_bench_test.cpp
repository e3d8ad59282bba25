// The benchmarks as a library (orchestration/bench.h), on experiments/xor.json, for what they
// report besides time: the figures' structure, each ratio the quotient of the two measured times
// as reported, the best epoch the fastest of those listed, the models trained as a run trains
// them (the same test errors), the scaling exponent the fit of the reported points, bench spice's
// choice of native solver, bench crossbar's keys, agreement with Newton and memory refusal;
// errors. No time is compared with anything.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "orchestration/bench.h"
#include "orchestration/runner.h"
#include "orchestration_support.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::xor_experiment;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("bench", name); }

}  // namespace

TEST_CASE("bench epoch: ratios are the quotients of the reported times, the models train as a run") {
  const int epochs = 40;
  const ExperimentConfig config = xor_experiment(epochs, {"learning.shuffle=false"});
  BenchOptions options;
  options.epochs = epochs;
  const json out = bench("epoch", config, options);
  CHECK(out["case"] == "epoch");
  CHECK(out["experiment"] == "xor");
  CHECK(out["network"] == "4-16-2");
  CHECK(out["rule"] == "ep-centered");
  CHECK(out["samples"] == 4);
  CHECK(out["test_samples"] == 4);
  CHECK(out["batch_size"] == 4);
  for (const char* side : {"circuit", "backprop"}) {
    CAPTURE(side);
    const json& s = out[side];
    REQUIRE(s["epochs"].size() == static_cast<std::size_t>(epochs));
    /// The best epoch is the fastest of the epochs listed.
    double fastest = s["epochs"][0]["train_seconds"].get<double>();
    for (const json& e : s["epochs"]) fastest = std::min(fastest, e["train_seconds"].get<double>());
    CHECK(s["train_seconds_per_epoch"].get<double>() == fastest);
    /// 4 samples, not 60000: the per-60000 figure is extrapolated (x 15000) and says so.
    CHECK_FALSE(s.contains("train_seconds_per_60000_samples"));
    CHECK(s["train_seconds_per_60000_samples_extrapolated"].get<double>() ==
          doctest::Approx(15000.0 * fastest).epsilon(1e-12));
    /// The last test pass is the last epoch's.
    CHECK(s["test_error"] == s["epochs"][static_cast<std::size_t>(epochs - 1)]["test_error"]);
  }
  /// The ratios are the quotients of the two sides' reported figures.
  CHECK(out["ratio"].get<double>() == out["circuit"]["train_seconds_per_epoch"].get<double>() /
                                          out["backprop"]["train_seconds_per_epoch"].get<double>());
  CHECK(out["ratio_cpu"].get<double>() ==
        out["circuit"]["train_cpu_seconds_per_epoch"].get<double>() /
            out["backprop"]["train_cpu_seconds_per_epoch"].get<double>());
  /// The peak memory recorded is at most the process's peak now (a peak only grows).
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  CHECK(out["peak_resident_mib"].get<double>() <= static_cast<double>(usage.ru_maxrss) / 1024.0);
  CHECK(out["peak_resident_mib"].get<double>() > 0.0);

  /// Each side's test errors, epoch by epoch, are those of a run of the same experiment (XOR's
  /// 4 points are one mini-batch, in file order either way).
  for (const std::string rule : {"ep", "backprop"}) {
    CAPTURE(rule);
    ExperimentConfig run = config;
    run.learning.rule = rule;
    const RunResult result = run_experiment(run, scratch("run_" + rule).string(), true);
    const json& side = out[rule == "ep" ? "circuit" : "backprop"]["epochs"];
    REQUIRE(result.epochs.size() == static_cast<std::size_t>(epochs));
    std::string bench_errors, run_errors;
    for (int e = 0; e < epochs; ++e) {
      bench_errors += std::to_string(side[static_cast<std::size_t>(e)]["test_error"].get<double>()) + " ";
      run_errors += std::to_string(result.epochs[static_cast<std::size_t>(e)].test_error) + " ";
    }
    MESSAGE(rule << ": test errors per epoch " << bench_errors);
    CHECK(bench_errors == run_errors);
  }
}

TEST_CASE("bench scaling: one point per hidden size, the exponent the fit of those points") {
  ExperimentConfig config = xor_experiment(1);
  BenchOptions options;
  options.repeats = 1;
  options.hidden = {4, 8, 32};
  const json out = bench("scaling", config, options);
  CHECK(out["case"] == "scaling");
  CHECK_FALSE(out.contains("network"));
  CHECK(out["samples"] == 4);
  REQUIRE(out["points"].size() == 3);
  std::vector<double> x, y;
  for (std::size_t k = 0; k < 3; ++k) {
    const json& p = out["points"][k];
    const int h = options.hidden[k];
    CHECK(p["hidden"] == h);
    /// By hand: 4 sources and 2 outputs, each joined to every one of h hidden units.
    CHECK(p["conductances"].get<double>() == 6.0 * h);
    x.push_back(std::log(p["conductances"].get<double>()));
    y.push_back(std::log(p["seconds_per_sample"].get<double>()));
  }
  /// The least-squares slope of log time against log conductances, from the reported points.
  const double mx = (x[0] + x[1] + x[2]) / 3.0, my = (y[0] + y[1] + y[2]) / 3.0;
  double sxy = 0.0, sxx = 0.0;
  for (int k = 0; k < 3; ++k) {
    sxy += (x[static_cast<std::size_t>(k)] - mx) * (y[static_cast<std::size_t>(k)] - my);
    sxx += (x[static_cast<std::size_t>(k)] - mx) * (x[static_cast<std::size_t>(k)] - mx);
  }
  CHECK(out["exponent"].get<double>() == doctest::Approx(sxy / sxx).epsilon(1e-9));
}

TEST_CASE("bench spice: the native figure is the faster converged solver's, speedup the quotient") {
  BenchOptions options;
  options.repeats = 1;
  const json out = bench("spice", xor_experiment(1), options);
  CHECK(out["case"] == "spice");
  CHECK(out["network"] == "4-16-2");
  /// By hand: 4 input nodes, 16 hidden, 2 outputs; 4 x 16 + 16 x 2 conductances, none 0 S
  /// (xor.json draws them from U(0.1, 1)).
  CHECK(out["nodes"] == 22);
  CHECK(out["conductances"] == 96);
  CHECK(out["repeats"] == 1);
  REQUIRE(out["ngspice"]["runs_seconds"].size() == 1);
  CHECK(out["ngspice_seconds"] == out["ngspice"]["runs_seconds"][0]);
  /// The native figure is Newton's or the converged layered solver's, whichever took less, and
  /// its max_abs_dv is that solver's.
  const json& solvers = out["solvers"];
  const double newton = solvers["newton"]["seconds"].get<double>();
  const double layered = solvers["layered_converged"]["seconds"].get<double>();
  const std::string chosen = newton <= layered ? "newton" : "layered-converged";
  const std::string key = newton <= layered ? "newton" : "layered_converged";
  CHECK(out["native_solver"] == chosen);
  CHECK(out["native_seconds"].get<double>() == std::min(newton, layered));
  CHECK(out["max_abs_dv"] == solvers[key]["max_abs_dv"]);
  CHECK(out["speedup"].get<double>() ==
        out["ngspice_seconds"].get<double>() / out["native_seconds"].get<double>());
  /// Every solver agrees with ngspice to its steep-diode stand-in for the ideal diodes.
  CHECK(solvers["newton"]["max_abs_dv"].get<double>() < 1e-6);
  CHECK(solvers["layered_converged"]["max_abs_dv"].get<double>() < 1e-6);
  /// The experiment's own settings: 20 fixed sweeps, not a converged steady state.
  CHECK(solvers["layered_experiment"]["sweeps"] == 20);
  CHECK(solvers["layered_experiment"]["converged"] == false);
}

TEST_CASE("bench: an unknown case names bench, a step case refuses a solver tolerance") {
  const ExperimentConfig config = xor_experiment(1);
  CHECK_THROWS_WITH_AS(bench("latency", config, BenchOptions{}),
                       "bench: \"latency\": unknown case (known: spice, epoch, roofline, scaling, crossbar)",
                       ConfigError);
  /// roofline and scaling count fixed sweeps.
  BenchOptions options;
  options.repeats = 1;
  options.hidden = {4};
  CHECK_THROWS_WITH_AS(
      bench("scaling", xor_experiment(1, {"solver.tolerance=1e-6"}), options),
      doctest::Contains("bench scaling counts fixed sweeps: needs solver.tolerance 0"), ConfigError);
  CHECK_THROWS_WITH_AS(
      bench("roofline", xor_experiment(1, {"solver.tolerance=1e-6"}), options),
      doctest::Contains("solver.tolerance"), ConfigError);
}

TEST_CASE("bench crossbar: every key, devices rows x cols, the native phase agrees with Newton") {
  BenchOptions options;
  options.repeats = 1;
  options.rows = 8;
  options.cols = 6;
  options.batch = 4;
  options.wire = 2.0;
  const json out = bench("crossbar", xor_experiment(1), options);
  for (const char* key :
       {"case", "rows", "cols", "devices", "batch", "wire_resistance", "solver", "native_seconds",
        "native_seconds_per_sample", "ngspice_seconds", "speedup", "max_abs_dv", "peak_rss_mib",
        "ngspice_largest", "reference", "ngspice_max_abs_dv", "method", "solver_mib",
        "max_kcl_residual_amps"}) {
    CAPTURE(key);
    CHECK(out.contains(key));
  }
  CHECK(out["case"] == "crossbar");
  CHECK(out["rows"] == 8);
  CHECK(out["cols"] == 6);
  CHECK(out["devices"] == 48);
  CHECK(out["batch"] == 4);
  CHECK(out["wire_resistance"] == 2.0);
  CHECK(out["solver"] == "sparse");
  CHECK(out["rule"] == "ep-centered");
  CHECK(out["phases"] == 3);
  CHECK_FALSE(out.contains("native_skipped"));
  CHECK_FALSE(out.contains("ngspice_skipped"));
  CHECK(out["ngspice_largest"] == "8x6");
  /// By hand: 8 sources and 6 outputs, two wire nodes per device.
  CHECK(out["nodes"] == 8 + 6 + 2 * 48);
  /// 6 outputs and no diode: the sparse solver reduces onto the neurons, and only the dense
  /// solver carries a memory estimate.
  CHECK(out["method"] == "sparse-neurons");
  CHECK_FALSE(out.contains("native_memory_estimate_bytes"));
  /// Kirchhoff's law on the circuit's own elements holds at every node (amperes).
  CHECK(out["max_kcl_residual_amps"].get<double>() < 1e-13);  // currents are about 1e-5 A
  CHECK(out["reference"] == "newton");
  CHECK(out["max_abs_dv"].get<double>() < 1e-8);
  CHECK(out["native_seconds_per_sample"].get<double>() == out["native_seconds"].get<double>() / 4);
  CHECK(out["speedup"].get<double>() == out["ngspice_seconds"].get<double>() /
                                            out["native_seconds_per_sample"].get<double>());
  CHECK(out["peak_rss_mib"].get<double>() > 0.0);
}

TEST_CASE("bench crossbar: the dense solver's memory estimate refuses a size before allocating") {
  BenchOptions options;
  options.repeats = 1;
  options.batch = 2;
  options.wire = 1.0;
  ExperimentConfig dense = xor_experiment(1);
  dense.has_crossbar = true;  // the defaults but the solver; the wires are options.wire
  dense.crossbar.solver = "dense";
  SUBCASE("the sparse solver has no dense estimate: a tiny limit does not stop it") {
    options.rows = 8;
    options.cols = 6;
    options.memory_limit_gib = 1e-9;
    const json out = bench("crossbar", xor_experiment(1), options);
    CHECK_FALSE(out.contains("native_skipped"));
    CHECK(out["max_abs_dv"].get<double>() < 1e-8);
  }
  SUBCASE("the dense solver agrees with Newton and states its estimate") {
    options.rows = 8;
    options.cols = 6;
    const json out = bench("crossbar", dense, options);
    CHECK(out["method"] == "dense");
    /// By hand: M (96 wire nodes x 14 terminals, three copies) and Y (14 x 14).
    CHECK(out["native_memory_estimate_bytes"].get<double>() ==
          8.0 * (3.0 * 96.0 * 14.0 + 14.0 * 14.0));
    CHECK(out["max_abs_dv"].get<double>() < 1e-8);
  }
  SUBCASE("a tiny limit refuses the dense solver, ngspice still runs") {
    options.rows = 8;
    options.cols = 6;
    options.memory_limit_gib = 1e-9;
    const json out = bench("crossbar", dense, options);
    REQUIRE(out.contains("native_skipped"));
    CHECK(out["native_skipped"]["estimated_bytes"] == out["native_memory_estimate_bytes"]);
    CHECK(out["native_skipped"]["limit_gib"] == 1e-9);
    CHECK(out["native_seconds"].is_null());
    CHECK(out["max_abs_dv"].is_null());
    CHECK(out["speedup"].is_null());
    CHECK(out["ngspice_seconds"].get<double>() > 0.0);
  }
  SUBCASE("1024 x 1024 is refused at the default 4 GiB, ngspice above its device limit") {
    options.rows = 1024;
    options.cols = 1024;
    const json out = bench("crossbar", dense, options);
    CHECK(out["devices"] == 1048576);
    REQUIRE(out.contains("native_skipped"));
    CHECK(out["native_skipped"]["estimated_bytes"].get<double>() ==
          crossbar_reduced_bytes(1024, 1024, true, false));
    CHECK(out["native_skipped"]["estimated_gib"].get<double>() > 4.0);
    CHECK(out["native_seconds"].is_null());
    CHECK(out["ngspice_skipped"] == "above the limit of 16384 devices");
    CHECK(out["ngspice_largest"].is_null());
  }
  SUBCASE("sizes: one object per size, the exponent the fit of the sizes that ran") {
    options.sizes = {3, 5, 9};
    const json out = bench("crossbar", xor_experiment(1), options);
    REQUIRE(out["sizes"].size() == 3);
    std::vector<double> x, y;
    for (std::size_t k = 0; k < 3; ++k) {
      const json& s = out["sizes"][k];
      CHECK(s["rows"] == options.sizes[k]);
      CHECK(s["cols"] == options.sizes[k]);
      CHECK(s["max_abs_dv"].get<double>() < 1e-8);
      x.push_back(std::log(s["devices"].get<double>()));
      y.push_back(std::log(s["native_seconds"].get<double>()));
    }
    CHECK(out["ngspice_largest"] == "9x9");
    const double mx = (x[0] + x[1] + x[2]) / 3.0, my = (y[0] + y[1] + y[2]) / 3.0;
    double sxy = 0.0, sxx = 0.0;
    for (std::size_t k = 0; k < 3; ++k) {
      sxy += (x[k] - mx) * (y[k] - my);
      sxx += (x[k] - mx) * (x[k] - mx);
    }
    CHECK(out["exponent"].get<double>() == doctest::Approx(sxy / sxx).epsilon(1e-9));
  }
}

TEST_CASE("bench crossbar: errors name the option") {
  BenchOptions options;
  options.repeats = 1;
  /// xor.json has no crossbar section: --wire is needed.
  CHECK_THROWS_WITH_AS(bench("crossbar", xor_experiment(1), options),
                       doctest::Contains("needs a crossbar section in the experiment or --wire"),
                       ConfigError);
  options.wire = 1.0;
  options.sizes = {4, 0};
  CHECK_THROWS_WITH_AS(bench("crossbar", xor_experiment(1), options),
                       doctest::Contains("--sizes"), ConfigError);
  options.sizes.clear();
  options.batch = -1;
  CHECK_THROWS_WITH_AS(bench("crossbar", xor_experiment(1), options),
                       doctest::Contains("--batch"), ConfigError);
}
