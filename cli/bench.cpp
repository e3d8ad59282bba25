#include "cli/bench.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>

#include "circuits/drn.h"
#include "circuits/elements/conductance.h"
#include "cli/bench_training.h"
#include "core/error.h"
#include "data/dataset.h"
#include "orchestration/experiment.h"
#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"

namespace physlearn::cli {
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

json bench_spice(const orchestration::ExperimentConfig& config, int repeats) {
  if (config.network_type != "drn")
    throw ConfigError("network.type", json_text(json(config.network_type)),
                      "bench spice needs a \"drn\" network");
  const data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  if (split.train.num_samples() == 0) throw Error("bench spice: the training set is empty");
  circuits::LayeredNetwork net =
      circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  for (auto& w : net.weights) w = w.cwiseMax(config.learning.g_min).cwiseMin(config.learning.g_max);
  const Eigen::MatrixXd inputs = split.train.inputs.topRows(1).cast<double>();
  const Eigen::MatrixXd voltages = net.input_voltages(inputs);
  circuits::LoweredNetwork lowered = circuits::lower_to_circuit(net);
  lowered.update(net, voltages.row(0));
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

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchOptions& options) {
  auto* bench = app.add_subcommand("bench", "time solvers against each other; prints JSON");
  bench
      ->add_option("case", options.case_name,
                   "what to time: spice (ngspice against the native solvers on one steady "
                   "state), epoch (seconds per epoch, the rule against backprop), roofline "
                   "(FLOP/s of EP steps against matrix products), scaling (time per sample "
                   "against hidden size)")
      ->required();
  bench->add_option("experiment", options.experiment, "experiment JSON file")->required();
  bench->add_option("--repeats", options.repeats, "repeats; the fastest is reported")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_option("--samples", options.samples,
                    "epoch, roofline, scaling: use the first N training samples (0: all for "
                    "epoch, 100 batches for roofline, 20 batches for scaling)")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--epochs", options.epochs, "epoch: epochs timed per model")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_option("--hidden", options.hidden, "scaling: hidden sizes (default 128,...,8192)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  bench->add_option("--set", options.sets, "override a config key")->allow_extra_args(false);
  return bench;
}

int bench_command(const BenchOptions& options) {
  const std::string& name = options.case_name;
  if (name != "spice" && name != "epoch" && name != "roofline" && name != "scaling")
    throw ConfigError("bench", "\"" + name + "\"",
                      "unknown case (known: spice, epoch, roofline, scaling)");
  orchestration::ExperimentConfig config = orchestration::load_experiment(options.experiment, options.sets);
  TrainingBenchOptions training;
  training.repeats = std::max(1, options.repeats);
  training.samples = options.samples;
  training.epochs = options.epochs;
  training.hidden = options.hidden;
  const json out = name == "spice"      ? bench_spice(config, training.repeats)
                   : name == "epoch"    ? bench_epoch(config, training)
                   : name == "roofline" ? bench_roofline(config, training)
                                        : bench_scaling(config, training);
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace physlearn::cli
