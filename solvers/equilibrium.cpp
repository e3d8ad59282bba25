#include "solvers/equilibrium.h"

#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"
#include "solvers/transient_layered.h"

namespace physlearn::solvers {

void describe(Schema& s, SolverParams& p) {
  s.field("type", p.type,
          "steady-state solver: layered (exact block coordinate descent, ideal diodes) or newton "
          "(Newton on the lowered circuit, any diode) or ngspice (the lowered circuit solved by "
          "ngspice's op, in process; ideal diodes as steep Shockley diodes) or transient (every "
          "phase simulated in time by IDA; transient_* keys)")
      .one_of({"layered", "newton", "ngspice", "transient"});
  s.field("sweeps", p.sweeps, "layered: sweeps per phase when tolerance is 0").min(1);
  s.field("tolerance", p.tolerance,
          "layered: sweep until the largest potential change is below this (0: fixed sweeps)")
      .unit("V").min(0.0);
  s.field("max_sweeps", p.max_sweeps, "layered: most sweeps when tolerance > 0").min(1);
  s.field("precision", p.precision,
          "arithmetic of the phases and the update: auto (float32 where the fused path trains, "
          "i.e. ep on the layered solver with ideal devices and no alignment logging, and for "
          "the backprop baseline; float64 elsewhere), float64, or float32 (an error where the "
          "fused path does not train); float32 gave the same test errors as float64 on "
          "Fashion-MNIST (docs/benchmarks.md)")
      .one_of({"auto", "float64", "float32"});
  s.field("newton_abstol", p.newton_abstol, "newton: KCL residual tolerance").unit("A").greater(0.0);
  s.field("newton_vntol", p.newton_vntol, "newton: potential update tolerance").unit("V").greater(0.0);
  s.field("newton_max_iterations", p.newton_max_iterations, "newton: most iterations").min(1);
  s.field("ngspice_reltol", p.ngspice_reltol, "ngspice: relative tolerance (.options reltol)")
      .greater(0.0);
  s.field("ngspice_abstol", p.ngspice_abstol, "ngspice: current tolerance (.options abstol)")
      .unit("A").greater(0.0);
  s.field("ngspice_vntol", p.ngspice_vntol, "ngspice: voltage tolerance (.options vntol)")
      .unit("V").greater(0.0);
  s.field("ngspice_ideal_diode_emission", p.ngspice_ideal_diode_emission,
          "ngspice: emission coefficient N of the steep Shockley diode standing for each ideal "
          "diode (forward drop N Vt ln(1 + I/IS))")
      .greater(0.0);
  s.field("ngspice_verbose", p.ngspice_verbose, "ngspice: echo its output to stderr");
  describe_transient(s, p);
}

std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& p,
                                               const circuits::LayeredNetwork& net) {
  if (p.type == "layered") {
    if (!net.ideal_diodes && net.params.diode != "none")
      throw ConfigError("solver.type", "\"layered\"",
                        "needs network.diode \"ideal\" or \"none\" (use \"newton\" for " +
                            net.params.diode + " diodes)");
    return std::make_unique<CoordinateDescentSolver>(p.sweeps, p.tolerance, p.max_sweeps);
  }
  if (p.type == "ngspice") return make_ngspice_layered_solver(p, net);
  if (p.type == "transient") return make_transient_layered_solver(p, net);
  return make_newton_layered_solver(p, net);
}

CoordinateDescentSolver::CoordinateDescentSolver(int sweeps, double tolerance, int max_sweeps)
    : descent_(sweeps, tolerance, max_sweeps) {}

double CoordinateDescentSolver::update_layer(const circuits::LayeredNetwork& net,
                                             const PhaseNudge& nudge, int layer, LayeredState& state) {
  return descent_.update_layer(arrays_of(net), nudge, layer, state);
}

void CoordinateDescentSolver::set_inputs(const circuits::LayeredNetwork& net,
                                         const Eigen::MatrixXd& input_voltages) {
  descent_.set_inputs(arrays_of(net), input_voltages);
}

void CoordinateDescentSolver::relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
                                    LayeredState& state) {
  descent_.relax(arrays_of(net), nudge, state);
}

}  // namespace physlearn::solvers
