#pragma once
/// `physlearn solve FILE`: a circuit file solved on its own, outside any experiment. A ".json"
/// file (any case) is a JSON circuit (circuits/circuit_json.h, the object itself or under
/// "circuit"); anything else is read as a SPICE netlist (circuits/spice.h), whose .options can only
/// tighten Newton's tolerances (reltol, abstol, vntol) and raise its iteration limit (itl1).
///   - operating point: Newton (`backend` "native") or ngspice's op in process ("ngspice");
///     `report` gets {"nodes": {"<node>": V, ...}, "branches": {"<V or E source>": A, ...}},
///     ground omitted, numbers with 17 significant digits, branch currents with SPICE's sign
///     (positive into the plus terminal);
///   - a netlist with .tran: the native transient (solvers/tran.h), every node's waveform as CSV,
///     to `report` when `out_dir` is empty, else to out_dir/waveforms.csv with a JSON summary
///     (rows, stop time, steps, final voltages) to `report`.
/// The netlist's warnings (ignored options) go to `warnings`. Errors (a bad card, a floating node,
/// no convergence, .tran on ngspice) are physlearn::Error.
#include <ostream>
#include <string>

namespace physlearn::orchestration {

void solve_circuit_file(const std::string& file, const std::string& backend, const std::string& out_dir,
                        std::ostream& report, std::ostream& warnings);

}  // namespace physlearn::orchestration
