#include "orchestration/solve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "circuits/circuit_json.h"
#include "circuits/spice.h"
#include "core/error.h"
#include "solvers/newton.h"
#include "solvers/ngspice.h"
#include "solvers/tran.h"

namespace physlearn::orchestration {
namespace {

/// A number with 17 significant digits ("%.17g": reads back to the same double); null if not
/// finite.
std::string number_17(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

/// Prints {"nodes": {"<node>": volts, ...}, "branches": {"<V or E source>": amps, ...}}, ground
/// omitted, numbers with 17 significant digits, branch currents with SPICE's sign (positive into
/// the plus terminal).
void print_operating_point(std::ostream& out, const circuits::Circuit& circuit,
                           const solvers::OperatingPoint& op) {
  auto entry = [&](bool first, const std::string& name, double value) {
    out << (first ? "\n" : ",\n") << "    " << json(name).dump() << ": " << number_17(value);
  };
  out << "{\n  \"nodes\": {";
  for (int n = 0; n < circuit.num_nodes(); ++n) entry(n == 0, circuit.node_name(n), op.voltages(n));
  out << (circuit.num_nodes() > 0 ? "\n  },\n" : "},\n") << "  \"branches\": {";
  bool first = true;
  const circuits::UnknownLayout layout(circuit);
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const auto& group = circuit.group(kind);
    if (!group.branch_output()) continue;
    for (std::size_t k = 0; k < group.size(); ++k, first = false)
      entry(first, group.name(k), op.unknowns[layout.first(kind)[k]]);
  }
  out << (first ? "}\n}\n" : "\n  }\n}\n");
}

/// A ".json" file (any case) is a JSON circuit; anything else is read as a SPICE netlist.
bool is_json_file(const std::string& file) {
  std::string tail = file.size() >= 5 ? file.substr(file.size() - 5) : std::string();
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".json";
}

}  // namespace

void solve_circuit_file(const std::string& file, const std::string& backend, const std::string& out,
                        std::ostream& report, std::ostream& warnings) {
  if (backend != "native" && backend != "ngspice")
    throw ConfigError("--backend", "\"" + backend + "\"", "must be one of: native, ngspice");
  circuits::Circuit circuit;
  solvers::NewtonOptions newton;
  std::optional<circuits::SpiceTran> tran;
  std::vector<circuits::SpiceSourceFunction> source_functions;  // SIN and PULSE sources
  if (is_json_file(file)) {
    json j = load_json_file(file);
    circuit = circuits::circuit_from_json(j.contains("circuit") ? j["circuit"] : j,
                                          j.contains("circuit") ? "circuit" : "");
  } else {
    circuits::SpiceOptions spice;
    circuit = circuits::read_spice_file(file, &spice);
    for (const auto& warning : spice.warnings)
      warnings << "physlearn: warning: " << warning << "\n";
    // SPICE's tolerances bound the error from above and Newton's defaults are far tighter
    // (reltol 1e-12): a netlist can only tighten them, and raise the iteration limit.
    if (spice.reltol > 0.0) newton.reltol = std::min(newton.reltol, spice.reltol);
    if (spice.abstol > 0.0) newton.abstol = std::min(newton.abstol, spice.abstol);
    if (spice.vntol > 0.0) newton.vntol = std::min(newton.vntol, spice.vntol);
    newton.max_iterations = std::max(newton.max_iterations, spice.itl1);
    tran = spice.tran;
    source_functions = spice.source_functions;
  }
  circuit.validate();
  if (tran) {  // .tran: waveforms of every node (solvers/tran.h)
    if (backend != "native") throw Error("solve: a .tran netlist runs on --backend native only");
    const solvers::TranWaveforms waves =
        solvers::simulate_tran(circuit, *tran, 1e-8, 1e-10, source_functions);
    const std::string csv = solvers::tran_csv(circuit, waves);
    if (out.empty()) {
      report << csv;
      return;
    }
    std::filesystem::create_directories(out);
    write_file_atomic(out + "/waveforms.csv", csv);
    json final_voltages = json::object();
    for (int n = 0; n < circuit.num_nodes(); ++n)
      final_voltages[circuit.node_name(n)] = waves.result.voltages(n);
    report << json({{"analysis", "tran"},
                       {"file", "waveforms.csv"},
                       {"rows", waves.time.size()},
                       {"stop_time", waves.result.end_time},
                       {"steps", waves.result.steps},
                       {"final_voltages", final_voltages}})
                     .dump(2)
              << "\n";
    return;
  }
  solvers::OperatingPoint op;
  if (backend == "ngspice") {
    op = solvers::ngspice_operating_point(circuit);
  } else {
    solvers::NewtonSolver solver(circuit, newton);
    op = solver.solve(circuit);
  }
  print_operating_point(report, circuit, op);
}


}  // namespace physlearn::orchestration
