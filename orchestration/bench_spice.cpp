/// bench spice (orchestration/bench.h): one free-phase steady state on ngspice and on each native
/// solver in the same run.
#include <algorithm>
#include <chrono>
#include <limits>

#include "circuits/drn.h"
#include "circuits/elements/conductance.h"
#include "core/error.h"
#include "orchestration/bench.h"
#include "orchestration/sample.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"

namespace physlearn::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Largest |a - b| over every hidden and output node, layers in the layered view.
double max_abs_dv(const solvers::LayeredState& a, const solvers::LayeredState& b) {
  double worst = 0.0;
  for (std::size_t l = 0; l < a.layers.size(); ++l)
    worst = std::max(worst, (a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff());
  return worst;
}

/// The layer potentials of one sample (batch 1) read from an operating point of the lowered
/// circuit.
solvers::LayeredState layers_of(const circuits::LayeredNetwork& net,
                                const circuits::LoweredNetwork& lowered,
                                const Eigen::VectorXd& voltages) {
  solvers::LayeredState s = solvers::LayeredState::zeros(net, 1);
  for (std::size_t l = 0; l < lowered.layer_nodes.size(); ++l)
    for (std::size_t i = 0; i < lowered.layer_nodes[l].size(); ++i)
      s.layers[l](0, static_cast<Eigen::Index>(i)) = voltages(lowered.layer_nodes[l][i]);
  return s;
}

}  // namespace

json bench_spice(const ExperimentConfig& config, int repeats) {
  const InitialSample sample = initial_sample(config, 0, "bench spice");
  const circuits::LayeredNetwork& net = sample.net;
  const Eigen::MatrixXd& voltages = sample.voltages;
  circuits::LoweredNetwork lowered = sample.lowered();
  const circuits::Circuit& circuit = lowered.circuit;

  // ngspice: export, load and op, as the "ngspice" solver does for every sample.
  // The solver section's ngspice options when solver.type is "ngspice", else their defaults.
  solvers::NgspiceOptions options = solvers::ngspice_options(
      config.solver.options<solvers::NgspiceSolverOptions>("ngspice"));
  options.netlist.title = "physlearn bench " + config.name;
  solvers::NgspiceTimings best;
  double ngspice_seconds = std::numeric_limits<double>::infinity();
  json ngspice_runs = json::array();
  solvers::OperatingPoint spice_op;
  for (int r = 0; r < repeats; ++r) {
    solvers::NgspiceTimings t;
    spice_op = solvers::ngspice_operating_point(circuit, options, {}, &t);
    const double s = t.load_seconds + t.op_seconds;
    ngspice_runs.push_back(s);
    if (s < ngspice_seconds) {
      ngspice_seconds = s;
      best = t;
    }
  }
  const solvers::LayeredState spice = layers_of(net, lowered, spice_op.voltages);

  json solvers_out = json::object();
  std::string native_solver;
  double native_seconds = std::numeric_limits<double>::infinity();
  double native_dv = 0.0;
  auto consider = [&](const std::string& name, double seconds, double dv) {
    if (seconds < native_seconds) {
      native_seconds = seconds;
      native_solver = name;
      native_dv = dv;
    }
  };

  // Newton on the lowered circuit; the symbolic analysis is timed apart (training reuses it).
  {
    auto start = Clock::now();
    solvers::NewtonSolver newton(circuit, solvers::newton_options(config.solver));
    const double setup = seconds_since(start);
    double seconds = std::numeric_limits<double>::infinity();
    solvers::OperatingPoint op;
    for (int r = 0; r < repeats; ++r) {
      start = Clock::now();
      op = newton.solve(circuit);
      seconds = std::min(seconds, seconds_since(start));
    }
    const double dv = max_abs_dv(spice, layers_of(net, lowered, op.voltages));
    solvers_out["newton"] = {{"seconds", seconds},
                             {"setup_seconds", setup},
                             {"iterations", op.iterations},
                             {"max_abs_dv", dv}};
    consider("newton", seconds, dv);
  }

  // The layered coordinate descent, converged and with the experiment's own settings.
  const bool layered_applies = net.ideal_diodes || config.network.diode == "none";
  auto layered = [&](int sweeps, double tolerance, int max_sweeps) {
    solvers::CoordinateDescentSolver solver(sweeps, tolerance, max_sweeps);
    double seconds = std::numeric_limits<double>::infinity();
    solvers::LayeredState state;
    for (int r = 0; r < repeats; ++r) {
      state = solvers::LayeredState::zeros(net, 1);
      const auto start = Clock::now();
      solver.set_inputs(net, voltages);
      solver.relax(net, solvers::PhaseNudge::free(), state);
      seconds = std::min(seconds, seconds_since(start));
    }
    return json{{"seconds", seconds},
                {"sweeps", solver.last_iterations()},
                {"tolerance", tolerance},
                {"max_abs_dv", max_abs_dv(spice, state)}};
  };
  if (layered_applies) {
    json converged = layered(1, 1e-12, 10000000);
    converged["converged"] = true;
    consider("layered-converged", converged["seconds"].get<double>(),
             converged["max_abs_dv"].get<double>());
    solvers_out["layered_converged"] = converged;
    const auto& own_options = config.solver.options<solvers::LayeredSolverOptions>("layered");
    json own = layered(own_options.sweeps, own_options.tolerance, own_options.max_sweeps);
    own["converged"] = own_options.tolerance > 0.0;
    solvers_out["layered_experiment"] = own;
  } else {
    solvers_out["layered_converged"] = {{"skipped", "needs ideal diodes or none"}};
  }

  int conductances = 0;
  for (const auto& g : circuit.list<circuits::Conductance>()) conductances += g.g != 0.0 ? 1 : 0;
  json out;
  out["case"] = "spice";
  out["experiment"] = config.name;
  out["network"] = circuits::sizes_text(net.sizes);
  out["diode"] = config.network.diode;
  out["nodes"] = circuit.num_nodes();
  out["conductances"] = conductances;
  out["repeats"] = repeats;
  out["ngspice_seconds"] = ngspice_seconds;
  out["native_seconds"] = native_seconds;
  out["native_solver"] = native_solver;
  out["speedup"] = ngspice_seconds / native_seconds;
  out["max_abs_dv"] = native_dv;
  out["ngspice"] = {{"seconds", ngspice_seconds},
                    {"load_seconds", best.load_seconds},
                    {"op_seconds", best.op_seconds},
                    {"export_seconds", best.export_seconds},
                    {"read_seconds", best.read_seconds},
                    {"runs_seconds", ngspice_runs},
                    {"netlist_lines", best.lines},
                    {"iterations", spice_op.iterations},
                    {"reltol", options.netlist.reltol},
                    {"abstol", options.netlist.abstol},
                    {"vntol", options.netlist.vntol},
                    {"ideal_diode_emission", options.netlist.ideal_diode_emission}};
  out["solvers"] = solvers_out;
  return out;
}

}  // namespace physlearn::orchestration
