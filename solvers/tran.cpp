#include "solvers/tran.h"

#include <algorithm>
#include <sstream>

#include "circuits/elements/voltage_source.h"
#include "core/error.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

TranWaveforms simulate_tran(const circuits::Circuit& circuit, const circuits::SpiceTran& tran,
                            double rtol, double atol,
                            const std::vector<circuits::SpiceSourceFunction>& functions) {
  TransientOptions o;
  o.rtol = rtol;
  o.atol = atol;
  o.settle = SettleCriterion::Slew;  // not watched: the run ends at stop_time
  o.stop_time = tran.stop;
  o.max_step =
      tran.max_step > 0.0 ? tran.max_step : std::min(tran.step, (tran.stop - tran.start) / 50.0);
  // The sources' functions become their waveforms, in a copy of the circuit.
  circuits::Circuit driven = circuit;
  auto& sources = driven.list<circuits::VoltageSource>();
  for (const auto& f : functions) {
    std::size_t k = 0;
    while (k < sources.size() && sources[k].name != f.source) ++k;
    if (k == sources.size())
      throw Error(cat(".tran: the transient function of ", f.source, " (line ", f.line,
                      ") belongs to no voltage source of the circuit"));
    sources[k].waveform = f.waveform(tran.step, tran.stop);
    o.max_step = std::min(o.max_step, 0.5 * f.shortest_segment(tran.step, tran.stop));
    const std::vector<double> corners = f.corners(tran.step, tran.stop);
    o.breakpoints.insert(o.breakpoints.end(), corners.begin(), corners.end());
  }
  o.max_steps = std::max<long>(1000000, static_cast<long>(20.0 * tran.stop / o.max_step));
  TranWaveforms waves;
  o.observer = [&](double t, const Eigen::VectorXd& x) {
    if (t < tran.start) return;
    waves.time.push_back(t);
    waves.voltages.push_back(x.head(circuit.num_nodes()));
  };
  // From the DC operating point (every unknown: currents that cannot jump carry over), or with
  // UIC from 0 V (and the elements' initial states).
  Eigen::VectorXd initial = Eigen::VectorXd::Zero(circuit.num_nodes());
  if (!tran.uic) {
    NewtonSolver dc(driven);
    initial = dc.solve(driven).unknowns;
  }
  TransientSolver solver(driven, o);
  waves.result = solver.run(driven, {}, initial, ".tran");
  return waves;
}

std::string tran_csv(const circuits::Circuit& circuit, const TranWaveforms& waves) {
  std::ostringstream out;
  out << "time";
  for (int n = 0; n < circuit.num_nodes(); ++n) out << "," << circuit.node_name(n);
  out << "\n";
  out.precision(12);
  for (std::size_t k = 0; k < waves.time.size(); ++k) {
    out << waves.time[k];
    for (Eigen::Index n = 0; n < waves.voltages[k].size(); ++n) out << "," << waves.voltages[k](n);
    out << "\n";
  }
  return out.str();
}

}  // namespace physlearn::solvers
