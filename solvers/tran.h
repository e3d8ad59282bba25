#pragma once
/// A SPICE `.tran tstep tstop [tstart [tmax]] [UIC]` analysis of a circuit read from a netlist,
/// run by the transient solver (solvers/transient.h; capacitances from the C cards).
///
/// As in SPICE: without UIC the transient starts from the DC operating point (NewtonSolver), so a
/// circuit of DC sources stays there; with UIC every node starts at 0 V and the sources switch on
/// at t = 0 (a capacitor's IC= is not read). The internal step is capped at tmax, or when tmax is
/// not given at min(tstep, (tstop - tstart) / 50), ngspice's default. The waveform holds the
/// solver's own time points from tstart to tstop (every IDA step and every restart, as ngspice's
/// vectors hold its own time points), not a resampling at tstep.
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "circuits/circuit.h"
#include "circuits/spice.h"
#include "solvers/transient.h"

namespace physlearn::solvers {

struct TranWaveforms {
  std::vector<double> time;              ///< s
  std::vector<Eigen::VectorXd> voltages;  ///< V per node (circuit order), at each time
  TransientResult result;                 ///< the transient to tstop (energies, steps, events)
};

/// Runs the analysis; `rtol`/`atol` as TransientOptions (the netlist's .options reltol and vntol
/// may tighten them). Throws SolverError (time reached and reason) when the transient fails.
/// `functions`: the netlist's SIN and PULSE voltage sources (by source name). Their corners are
/// breakpoints (the integration restarts there, as SPICE's), and the internal step is also capped
/// at half the shortest stretch between a PULSE's corners.
TranWaveforms simulate_tran(const circuits::Circuit& circuit, const circuits::SpiceTran& tran,
                            double rtol = 1e-8, double atol = 1e-10,
                            const std::vector<circuits::SpiceSourceFunction>& functions = {});

/// The waveforms as CSV: a header "time,<node>,..." and one row per time point.
std::string tran_csv(const circuits::Circuit& circuit, const TranWaveforms& waves);

}  // namespace physlearn::solvers
