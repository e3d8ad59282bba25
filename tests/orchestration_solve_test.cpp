// A circuit file solved on its own (orchestration/solve.h), called as a library on files written
// to a scratch folder: a JSON divider and a SPICE netlist against node voltages and branch
// currents worked out by hand (SPICE's sign), ngspice against the same answers, a .tran netlist's
// waveforms against the RC step response, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/schema.h"
#include "orchestration/solve.h"
#include "orchestration_support.h"

namespace fs = std::filesystem;
using namespace physlearn;
using orchestration::solve_circuit_file;
using orchestration_test::slurp;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("solve", name, true); }

fs::path write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
  return file;
}

/// What solve_circuit_file printed to the report, and to the warnings.
struct Solved {
  std::string report, warnings;
};

Solved solve(const fs::path& file, const std::string& backend = "native", const std::string& out = "") {
  std::ostringstream report, warnings;
  solve_circuit_file(file.string(), backend, out, report, warnings);
  return {report.str(), warnings.str()};
}

/// 6 V across 2 kOhm over 1 kOhm, under "circuit" and with a ".Json" extension (any case).
constexpr const char* kDivider = R"({"circuit": {"elements": [
  {"type": "voltage_source", "name": "V1", "nodes": ["in", "0"], "volts": 6.0},
  {"type": "resistor", "name": "R1", "nodes": ["in", "mid"], "r": 2000},
  {"type": "resistor", "name": "R2", "nodes": ["mid", "gnd"], "r": 1000}]}})";

/// Node out: (10 - v) / 3k + 1 mA = v / 1k, so v = 3.25 V and V1 delivers (10 - 3.25) / 3k =
/// 2.25 mA (its branch current, into the plus terminal, is -2.25 mA). Node b: I2 pushes 5 mA in,
/// R3 takes 2 V / 1 kOhm = 2 mA, the other 3 mA flow into V2's plus terminal (+3 mA).
constexpr const char* kNetlist =
    "two sources\n"
    "V1 in 0 DC 10\n"
    "R1 in out 3k\n"
    "R2 out 0 1k\n"
    "I1 0 out 1m\n"
    "V2 b 0 DC 2\n"
    "I2 0 b 5m\n"
    "R3 b 0 1k\n"
    ".op\n"
    ".end\n";

}  // namespace

TEST_CASE("solve_circuit_file: a JSON divider's node voltages and its source's branch current") {
  const fs::path dir = scratch("json");
  const Solved s = solve(write(dir / "divider.Json", kDivider));
  const json out = json::parse(s.report);
  /// Ground ("gnd" here) is left out; the other nodes are in the file's order.
  CHECK(out["nodes"].size() == 2);
  CHECK(out["nodes"]["in"].get<double>() == doctest::Approx(6.0).epsilon(1e-12));
  /// By hand: 6 V x 1k / (2k + 1k) = 2 V.
  CHECK(out["nodes"]["mid"].get<double>() == doctest::Approx(2.0).epsilon(1e-12));
  /// 2 mA flow out of V1's plus terminal: with SPICE's sign, -2 mA.
  REQUIRE(out["branches"].size() == 1);
  CHECK(out["branches"]["V1"].get<double>() == doctest::Approx(-2e-3).epsilon(1e-12));
  CHECK(s.warnings.empty());
}

TEST_CASE("solve_circuit_file: a SPICE netlist, both branch current signs, native and ngspice") {
  const fs::path dir = scratch("spice");
  const fs::path file = write(dir / "two.cir", kNetlist);
  for (const std::string backend : {"native", "ngspice"}) {
    CAPTURE(backend);
    const json out = json::parse(solve(file, backend).report);
    CHECK(std::abs(out["nodes"]["in"].get<double>() - 10.0) < 1e-9);
    CHECK(std::abs(out["nodes"]["out"].get<double>() - 3.25) < 1e-9);
    CHECK(std::abs(out["nodes"]["b"].get<double>() - 2.0) < 1e-9);
    /// Current sources have no branch current: only V1 and V2 are listed, named as written.
    const json& branches = out["branches"];
    CHECK(branches.size() == 2);
    REQUIRE(branches.contains("V1"));
    REQUIRE(branches.contains("V2"));
    CHECK(std::abs(branches["V1"].get<double>() - (-2.25e-3)) < 1e-12);
    CHECK(std::abs(branches["V2"].get<double>() - 3e-3) < 1e-12);
  }
  /// An ignored option is a warning on its own stream; the report is still the solution.
  const Solved w = solve(write(dir / "warn.cir", "warn\n.options method=gear\nV1 a 0 1\nR1 a 0 1k\n"));
  CHECK(w.warnings.find("physlearn: warning: ") == 0);
  CHECK(w.warnings.find("method") != std::string::npos);
  CHECK(json::parse(w.report)["nodes"]["a"].get<double>() == doctest::Approx(1.0));
}

TEST_CASE("solve_circuit_file: a .tran netlist writes waveforms.csv that follows 1 - exp(-t/RC)") {
  const fs::path dir = scratch("tran");
  /// RC = 1 kOhm x 1 nF = 1 us; UIC: from 0 V, the source switched on at t = 0.
  const fs::path file =
      write(dir / "rc.cir", "rc\nV1 in 0 1\nR1 in a 1k\nC1 a 0 1n\n.tran 10n 5u uic\n");
  const Solved s = solve(file, "native", (dir / "out").string());
  const std::string csv = slurp(dir / "out" / "waveforms.csv");
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  CHECK(header == "time,in,a");
  std::size_t rows = 0;
  double worst = 0.0, last_time = -1.0, last_a = 0.0;
  for (std::string line; std::getline(lines, line); ++rows) {
    std::istringstream cells(line);
    double t = 0.0, in = 0.0, a = 0.0;
    char comma = 0;
    cells >> t >> comma >> in >> comma >> a;
    REQUIRE_MESSAGE(!cells.fail(), line);
    CHECK(t > last_time);
    worst = std::max(worst, std::abs(a - (1.0 - std::exp(-t / 1e-6))));
    last_time = t;
    last_a = a;
  }
  MESSAGE("RC: largest |v(a) - (1 - exp(-t / RC))| = " << worst << " V over " << rows << " rows");
  CHECK(rows > 50);
  CHECK(worst < 1e-6);
  CHECK(last_time == doctest::Approx(5e-6).epsilon(1e-12));
  /// The summary on the report: the file, its rows, the stop time, the final voltages.
  const json summary = json::parse(s.report);
  CHECK(summary["analysis"] == "tran");
  CHECK(summary["file"] == "waveforms.csv");
  CHECK(summary["rows"] == rows);
  CHECK(summary["stop_time"].get<double>() == doctest::Approx(5e-6).epsilon(1e-12));
  CHECK(summary["steps"].get<long>() > 0);
  CHECK(summary["final_voltages"]["in"].get<double>() == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(summary["final_voltages"]["a"].get<double>() ==
        doctest::Approx(1.0 - std::exp(-5.0)).epsilon(1e-6));
  CHECK(summary["final_voltages"]["a"].get<double>() == doctest::Approx(last_a).epsilon(1e-9));
  /// Without a folder the same CSV goes to the report.
  CHECK(solve(file).report == csv);
}

TEST_CASE("solve_circuit_file: errors name the backend, the file, the JSON path or the node") {
  const fs::path dir = scratch("errors");
  /// .tran runs natively only, and then nothing is written.
  const fs::path tran = write(dir / "rc.cir", "rc\nV1 in 0 1\nR1 in a 1k\nC1 a 0 1n\n.tran 10n 5u\n");
  CHECK_THROWS_WITH_AS(solve(tran, "ngspice", (dir / "out").string()),
                       "solve: a .tran netlist runs on --backend native only", Error);
  CHECK_FALSE(fs::exists(dir / "out"));
  /// An unknown backend is named, before the file is read.
  CHECK_THROWS_WITH_AS(solve(tran, "xyce", (dir / "out").string()),
                       "--backend: \"xyce\": must be one of: native, ngspice", ConfigError);
  /// A JSON mistake names its path under "circuit".
  const fs::path negative = write(dir / "negative.json", R"({"circuit": {"elements": [
    {"type": "voltage_source", "name": "V1", "nodes": ["in", "0"], "volts": 1.0},
    {"type": "resistor", "name": "R1", "nodes": ["in", "0"], "r": -5}]}})");
  CHECK_THROWS_WITH_AS(solve(negative), doctest::Contains("circuit.elements[1].r"), ConfigError);
  /// A floating node names the node.
  const fs::path floating = write(dir / "floating.cir", "f\nV1 a 0 1\nR1 a 0 1k\nI1 0 island 1m\n");
  CHECK_THROWS_WITH_AS(solve(floating), doctest::Contains("island"), Error);
  /// A bad card names the file and line.
  const fs::path bad = write(dir / "bad.cir", "bad\nV1 a 0 1\nR1 a 0 1k5\n");
  CHECK_THROWS_WITH_AS(solve(bad), doctest::Contains("bad.cir:3"), Error);
  /// A missing file is named.
  CHECK_THROWS_WITH_AS(solve(dir / "none.cir"), doctest::Contains("none.cir"), Error);
}
