#pragma once
/// ngspice as an in-process solver, through its shared library (libngspice, ngspice 39): a
/// circuit is exported (circuits/spice_export.h), loaded with ngSpice_Circ, solved with the "op"
/// command, read back by vector name, and removed ("remcirc", "destroy all": without them the
/// time per circuit grows tenfold over a few thousand circuits).
///
/// Process-wide facts (ngspice manual, "ngspice as shared library or dynamic link library", and
/// sharedspice.h; the rest measured on ngspice 39):
/// - the library is initialised once per process (ngSpice_Init) and never sent "quit" (a later
///   initialisation would crash); its spinit loads the XSPICE code models, once;
/// - one library instance is not thread-safe: every call here holds one global mutex, so calls
///   from several threads run one at a time;
/// - ngSpice_Circ and ngSpice_Command return 0 even when they fail: failures are read from the
///   "stderr" lines ngspice sends to the SendChar callback during the call (see below);
/// - ngspice's output is swallowed unless NgspiceOptions::verbose (then echoed to stderr).
///
/// What counts as a failure (physlearn::SolverError carrying ngspice's lines): a stderr line
/// containing "error", "singular matrix" (a floating node or a loop of voltage sources: ngspice
/// goes on with gmin and source stepping and may even return a number, which is meaningless),
/// "can't find", "cannot", "could not", "unknown", "no such", "not found", "illegal",
/// "aborted", "too small", or "failed" outside the stepping notes; a stdout line "DC solution
/// failed"; ngspice asking to exit; or a vector missing after the op. Harmless and ignored:
/// ngspice's notes on its convergence aids ("Note: Starting dynamic gmin stepping", "Trying
/// gmin = ...", "Warning: Further gmin increment", "Warning: Dynamic gmin stepping failed",
/// "Warning: source stepping failed", "Supplies reduced to ...", "Note: Transient op started /
/// finished successfully"): when one aid fails ngspice tries the next, and an op that still
/// fails ends in "Error" / "DC solution failed", which are caught. Other stderr lines are not
/// failures (they are echoed when verbose). The error message lists the failure lines once each
/// (at most six, progress prefixes dropped; a line ending in ':' keeps the card that follows it),
/// and names the circuit's node where ngspice says "check node <spice name>".
#include <string>
#include <vector>

#include "circuits/spice_export.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

struct NgspiceOptions {
  /// The netlist: tolerances (.options), temperature, the ideal-diode approximation. The
  /// defaults here are tight, for comparisons with the native solvers: reltol 1e-12, abstol
  /// 1e-15 A, vntol 1e-12 V, itl1 200.
  circuits::SpiceExportOptions netlist = tight_netlist_options();
  bool verbose = false;  ///< echo ngspice's output lines to stderr

  static circuits::SpiceExportOptions tight_netlist_options();
};

/// Wall-clock seconds of the parts of one ngspice_operating_point call.
struct NgspiceTimings {
  double export_seconds = 0.0;  ///< writing the netlist text
  double load_seconds = 0.0;    ///< ngSpice_Circ: parsing and building the circuit
  double op_seconds = 0.0;      ///< the "op" command: setup, ordering, Newton iterations
  double read_seconds = 0.0;    ///< reading the vectors back, "remcirc", "destroy all"
  int lines = 0;                ///< netlist lines sent
};

/// DC operating point of `circuit` by ngspice, with EP nudges (each: the current
/// beta (target - v) into the node, exported as a conductance beta (negative allowed) from the
/// node to ground and a current source beta * target into the node, the Norton form of a
/// conductance beta to a source at the target). Fills voltages (per node), unknowns (the branch
/// currents from ngspice's "#branch" vectors, SPICE's sign, as NewtonSolver; an ideal diode's
/// current computed from its exported model at the returned voltages: the steep
/// approximation's current, whose relative accuracy is only about vntol / (N Vt)), iterations
/// (ngspice's "Total iterations") and residual_norm (kcl_residual of newton.h at the returned
/// point). Throws physlearn::SolverError with ngspice's message when it fails (see above), e.g.
/// for a floating node "ngspice: singular matrix: check node c".
OperatingPoint ngspice_operating_point(const circuits::Circuit& circuit,
                                       const NgspiceOptions& options = {},
                                       const std::vector<Nudge>& nudges = {},
                                       NgspiceTimings* timings = nullptr);

/// Runs already-written netlist lines (title first, ".end" last) through ngspice's op and returns
/// the values of the named vectors (e.g. "a", "v1#branch"), in order. Same error handling.
std::vector<double> ngspice_run_op(const std::vector<std::string>& lines,
                                   const std::vector<std::string>& vectors, bool verbose = false,
                                   NgspiceTimings* timings = nullptr);

/// Waveforms of an ngspice transient: its time points and each vector's value at them.
struct NgspiceWaveforms {
  std::vector<double> time;
  std::vector<std::vector<double>> values;  ///< per vector asked for
};

/// Runs netlist lines holding a .tran card (title first, ".end" last) with ngspice's "run" and
/// returns the time vector and the named vectors (e.g. "a"). Error handling as ngspice_run_op.
NgspiceWaveforms ngspice_run_tran(const std::vector<std::string>& lines,
                                  const std::vector<std::string>& vectors, bool verbose = false);

/// Options of solver.type "ngspice" (the keys of the solver section with that type).
struct NgspiceSolverOptions {
  double reltol = 1e-12;               ///< .options reltol
  double abstol = 1e-15;               ///< A: .options abstol
  double vntol = 1e-12;                ///< V: .options vntol
  double ideal_diode_emission = 1e-8;  ///< N of the steep Shockley model of ideal diodes
  bool verbose = false;                ///< echo ngspice's output to stderr
};

void describe(Schema& schema, NgspiceSolverOptions& options);

/// The in-process options these give: NgspiceOptions' tight netlist options with these
/// tolerances, emission coefficient and verbosity.
NgspiceOptions ngspice_options(const NgspiceSolverOptions& options);

/// The "ngspice" solver type for layered networks: every sample of every phase is the lowered
/// circuit (circuits::lower_to_circuit) with that sample's inputs, exported and solved by
/// ngspice's op. Nudges as in ngspice_operating_point; clamped phases hold the outputs by
/// voltage sources. The starting state handed to relax is not used (SPICE starts from its own
/// initial guess). Ideal diodes use the steep approximation of circuits/spice_export.h with
/// NgspiceSolverOptions::ideal_diode_emission; Shockley diodes are exact.
std::unique_ptr<EquilibriumSolver> make_ngspice_layered_solver(const NgspiceSolverOptions& options,
                                                               const circuits::LayeredNetwork& net);

}  // namespace physlearn::solvers
