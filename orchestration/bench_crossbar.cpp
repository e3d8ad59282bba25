/// bench crossbar (orchestration/bench.h): today's crossbar solvers on one array, against Newton
/// on the full circuit and ngspice in process.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "circuits/crossbar.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/voltage_source.h"
#include "circuits/drn.h"
#include "core/error.h"
#include "learning/crossbar.h"
#include "learning/rule.h"
#include "orchestration/bench.h"
#include "solvers/crossbar_phases.h"
#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"

namespace physlearn::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string size_text(int rows, int cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// The crossbar section the bench uses: the experiment's (wire replaced by `wire` >= 0), or,
/// without one, the defaults with `wire`; neither is a ConfigError.
circuits::CrossbarParams crossbar_params(const ExperimentConfig& config, double wire) {
  if (!config.has_crossbar && !(wire >= 0.0))
    throw ConfigError("crossbar", config.name,
                      "bench crossbar needs a crossbar section in the experiment or --wire OHM");
  if (!std::isfinite(wire)) throw ConfigError("--wire", cat(wire), "must be a finite number of ohm");
  circuits::CrossbarParams params = config.has_crossbar ? config.crossbar : circuits::CrossbarParams{};
  if (wire >= 0.0) params.wire_resistance = wire;
  return params;
}

/// The one-layer network of `rows` sources and `cols` linear outputs, conductances from the
/// experiment's init clamped to [g_min, g_max] as training does.
circuits::LayeredNetwork one_layer(const ExperimentConfig& config, int rows, int cols) {
  circuits::DrnParams p = config.network;
  p.inputs = rows;
  p.outputs = cols;
  p.hidden.clear();
  p.inverted_inputs = false;
  if (p.diode == "shockley") p.diode = "ideal";  // no hidden layer: no diode either way
  circuits::LayeredNetwork net = circuits::build_drn(p, static_cast<std::uint64_t>(config.seed));
  for (auto& w : net.weights) w = w.cwiseMax(config.learning.g_min).cwiseMin(config.learning.g_max);
  return net;
}

/// The drive of `phase` for sample b, as learning/crossbar.cpp's executor builds it.
solvers::CrossbarDrive drive_of(const learning::PhasePlan& plan, const learning::Phase& phase,
                                const Eigen::RowVectorXd& y, const Eigen::RowVectorXd& o) {
  solvers::CrossbarDrive d;
  switch (phase.drive) {
    case learning::Phase::Drive::free:
      break;
    case learning::Phase::Drive::nudge:
      d.kind = solvers::CrossbarDrive::Nudge;
      d.beta = phase.sign * plan.beta;
      d.value = y;
      break;
    case learning::Phase::Drive::clamp_target:
      d.kind = solvers::CrossbarDrive::Clamp;
      d.value = y;
      break;
    case learning::Phase::Drive::clamp_coupled:
      d.kind = solvers::CrossbarDrive::Clamp;
      d.value = o + phase.sign * plan.eta * (y - o);
      break;
  }
  return d;
}

/// Largest |native - reference| over every node of sample 0.
double max_abs_dv(const Eigen::VectorXd& native, const Eigen::VectorXd& reference) {
  return (native - reference).cwiseAbs().maxCoeff();
}

/// Largest |sum of the currents leaving a node| over every node that no source holds, amperes:
/// Kirchhoff's current law checked on the circuit's own elements (conductances and current
/// sources; the bench's one-layer network has no diode), independently of how it was solved.
/// (solvers::kcl_residual needs every unknown of the MNA layout, the sources' branch currents
/// included, which the crossbar solvers do not compute; the nodes the sources hold are skipped.)
double max_kcl_residual(const circuits::Circuit& c, const Eigen::VectorXd& v, double g_unit) {
  Eigen::VectorXd leaving = Eigen::VectorXd::Zero(c.num_nodes());
  for (const auto& g : c.list<circuits::Conductance>()) {
    const double va = g.a >= 0 ? v(g.a) : 0.0, vb = g.b >= 0 ? v(g.b) : 0.0;
    if (g.a >= 0) leaving(g.a) += g.g * (va - vb);
    if (g.b >= 0) leaving(g.b) += g.g * (vb - va);
  }
  for (const auto& src : c.list<circuits::CurrentSource>()) {
    if (src.to >= 0) leaving(src.to) -= src.amps;
    if (src.from >= 0) leaving(src.from) += src.amps;
  }
  for (const auto& src : c.list<circuits::VoltageSource>()) {
    if (src.plus >= 0) leaving(src.plus) = 0.0;
    if (src.minus >= 0) leaving(src.minus) = 0.0;
  }
  return leaving.cwiseAbs().maxCoeff() * g_unit;  // network current units are g_unit amperes per volt
}

/// What one size leaves for the next (sizes mode) and the call's record of ngspice.
struct NgspiceRecord {
  std::string largest;        ///< largest size where ngspice ran ("" none)
  long largest_devices = 0;
  std::string stop_reason;    ///< set once a size took longer than the time limit
};

json one_size(const ExperimentConfig& config, const BenchOptions& options, int rows, int cols,
              NgspiceRecord& record) {
  const int batch = options.batch > 0 ? options.batch : config.learning.batch_size;
  const int repeats = std::max(1, options.repeats);
  const circuits::CrossbarParams params = crossbar_params(config, options.wire);
  const double g_unit = crossbar_g_unit(config);
  const learning::PhasePlan plan = learning::make_plan(rule_settings(config.learning));
  learning::check_crossbar_plan(plan);
  const long devices = static_cast<long>(rows) * cols;

  json out;
  out["case"] = "crossbar";
  out["experiment"] = config.name;
  out["rows"] = rows;
  out["cols"] = cols;
  out["devices"] = devices;
  out["batch"] = batch;
  out["wire_resistance"] = params.wire_resistance;
  out["access_resistance"] = params.access_resistance;
  out["g_unit"] = g_unit;
  out["solver"] = params.solver;
  out["rule"] = plan.name;
  out["phases"] = plan.phases.size();
  out["repeats"] = repeats;
  out["inputs"] = "seeded uniform [0, 1] times network.input_gain";

  // The dense solver's matrices, estimated before anything is allocated.
  const bool reduced = params.solver != "newton";
  const bool dense = params.solver == "dense";
  const double estimate = crossbar_reduced_bytes(rows, cols, params.wire_resistance > 0.0,
                                                 params.access_resistance > 0.0);
  const double limit = options.memory_limit_gib * 1024.0 * 1024.0 * 1024.0;
  const bool native_runs = !dense || estimate <= limit;
  if (dense) out["native_memory_estimate_bytes"] = estimate;

  const circuits::LayeredNetwork net = one_layer(config, rows, cols);
  std::mt19937_64 rng(static_cast<std::uint64_t>(config.seed));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::MatrixXd raw(batch, rows);
  for (Eigen::Index b = 0; b < raw.rows(); ++b)
    for (Eigen::Index j = 0; j < raw.cols(); ++j) raw(b, j) = unit(rng);
  const Eigen::MatrixXd inputs = net.input_voltages(raw);
  Eigen::MatrixXd targets = Eigen::MatrixXd::Zero(batch, cols);
  for (int b = 0; b < batch; ++b) targets(b, b % cols) = 1.0;

  const solvers::NewtonOptions newton_options = solvers::newton_options(config.solver);
  std::unique_ptr<solvers::CrossbarSolver> native;
  std::vector<solvers::CrossbarStates> states(plan.phases.size());
  out["native_seconds"] = nullptr;
  out["native_seconds_per_sample"] = nullptr;
  if (native_runs) {
    native = std::make_unique<solvers::CrossbarSolver>(net, params, g_unit, newton_options);
    double best = std::numeric_limits<double>::infinity(), best_prepare = 0.0;
    Eigen::MatrixXd free_outputs(batch, cols);
    for (int r = 0; r < repeats; ++r) {
      const auto start = Clock::now();
      native->prepare(net, inputs);
      const double prepare = seconds_since(start);
      native->run_phase(net, inputs, [](Eigen::Index) { return solvers::CrossbarDrive{}; },
                        nullptr, states[0]);
      for (Eigen::Index b = 0; b < batch; ++b) free_outputs.row(b) = native->outputs(states[0], b);
      for (std::size_t k = 1; k < plan.phases.size(); ++k) {
        const learning::Phase& phase = plan.phases[k];
        native->run_phase(
            net, inputs,
            [&](Eigen::Index b) {
              return drive_of(plan, phase, targets.row(b), free_outputs.row(b));
            },
            &states[0], states[k], k == plan.a || k == plan.b);
      }
      const double seconds = seconds_since(start);
      if (r == 0) out["native_first_seconds"] = seconds;  // with the solver's one-time ordering
      if (seconds < best) {
        best = seconds;
        best_prepare = prepare;
      }
    }
    out["native_seconds"] = best;
    out["native_seconds_per_sample"] = best / batch;
    out["native_prepare_seconds"] = best_prepare;
    out["native_phases_seconds"] = best - best_prepare;
    out["native_iterations"] = native->take_iterations();
    out["nodes"] = native->circuit().lowered.circuit.num_nodes();
    out["method"] = native->method();
    out["solver_mib"] = native->solver_bytes() / (1024.0 * 1024.0);
  } else {
    out["native_skipped"] = {
        {"estimated_bytes", estimate},
        {"estimated_gib", estimate / (1024.0 * 1024.0 * 1024.0)},
        {"limit_gib", options.memory_limit_gib},
        {"reason", "the dense solver's internal-nodes x terminals matrices (" +
                       cat(estimate / (1024.0 * 1024.0 * 1024.0)) + " GiB estimated) exceed the " +
                       cat(options.memory_limit_gib) + " GiB limit"}};
  }

  // Sample 0's free phase at every node, checked by Kirchhoff's law on the circuit itself.
  Eigen::VectorXd native_nodes;
  if (native) {
    native_nodes = native->node_potentials(states[0], 0);
    // The solver's circuit holds this batch's conductances and sample 0's source voltages.
    out["max_kcl_residual_amps"] = max_kcl_residual(native->circuit().lowered.circuit, native_nodes, g_unit);
  }
  // The reference: Newton on the full crossbar circuit for sample 0's free phase.
  out["max_abs_dv"] = nullptr;
  out["reference"] = nullptr;
  if (native && reduced && devices > options.newton_max_devices)
    out["reference_skipped"] = "above the limit of " + std::to_string(options.newton_max_devices) +
                               " devices for Newton on the full circuit";
  else if (native && reduced) {
    circuits::CrossbarParams newton_params = params;
    newton_params.solver = "newton";
    const auto start = Clock::now();
    solvers::CrossbarSolver newton(net, newton_params, g_unit, newton_options);
    const Eigen::MatrixXd first = inputs.topRows(1);
    newton.prepare(net, first);
    solvers::CrossbarStates reference;
    newton.run_phase(net, first, [](Eigen::Index) { return solvers::CrossbarDrive{}; }, nullptr,
                     reference);
    out["reference_seconds"] = seconds_since(start);
    out["reference"] = "newton";
    out["max_abs_dv"] = max_abs_dv(native_nodes, reference.full.col(0));
  }

  // ngspice: sample 0's free phase on the lowered crossbar, load plus op.
  out["ngspice_seconds"] = nullptr;
  out["speedup"] = nullptr;
  std::string skip;
  if (devices > options.ngspice_max_devices)
    skip = "above the limit of " + std::to_string(options.ngspice_max_devices) + " devices";
  else if (!record.stop_reason.empty())
    skip = record.stop_reason;
  if (skip.empty()) {
    circuits::LoweredCrossbar lowered = circuits::lower_to_crossbar(net, params, g_unit);
    lowered.lowered.update(net, inputs.row(0));
    solvers::NgspiceOptions ngspice = solvers::ngspice_options(
        config.solver.options<solvers::NgspiceSolverOptions>("ngspice"));
    ngspice.netlist.title = "physlearn bench crossbar " + size_text(rows, cols);
    double best = std::numeric_limits<double>::infinity();
    solvers::OperatingPoint op;
    for (int r = 0; r < repeats; ++r) {
      solvers::NgspiceTimings t;
      op = solvers::ngspice_operating_point(lowered.lowered.circuit, ngspice, {}, &t);
      best = std::min(best, t.load_seconds + t.op_seconds);
    }
    out["ngspice_seconds"] = best;
    if (native) {
      out["speedup"] = best / out["native_seconds_per_sample"].get<double>();
      const double dv = max_abs_dv(native_nodes, op.voltages.head(native_nodes.size()));
      out["ngspice_max_abs_dv"] = dv;
      if (!reduced) {
        out["reference"] = "ngspice";
        out["max_abs_dv"] = dv;
      }
    }
    if (devices >= record.largest_devices) {
      record.largest = size_text(rows, cols);
      record.largest_devices = devices;
    }
    if (best > options.ngspice_max_seconds)
      record.stop_reason = "ngspice took " + cat(best) + " s at " + size_text(rows, cols) +
                           ", above the limit of " + cat(options.ngspice_max_seconds) +
                           " s: larger sizes not run";
  } else {
    out["ngspice_skipped"] = skip;
  }
  out["ngspice_largest"] = record.largest.empty() ? json(nullptr) : json(record.largest);
  out["peak_rss_mib"] = peak_resident_mib();
  return out;
}

}  // namespace

double crossbar_reduced_bytes(long rows, long cols, bool wires, bool access) {
  const double devices = static_cast<double>(rows) * static_cast<double>(cols);
  const double internal = devices * ((wires ? 2.0 : 0.0) + (access ? 1.0 : 0.0));
  const double terminals = static_cast<double>(rows + cols);
  return 8.0 * (3.0 * internal * terminals + terminals * terminals);
}

json bench_crossbar(const ExperimentConfig& config, const BenchOptions& options) {
  if (options.batch < 0) throw ConfigError("--batch", cat(options.batch), "must be >= 1");
  if (options.batch == 0 && config.learning.batch_size < 1)
    throw ConfigError("--batch", cat(config.learning.batch_size), "must be >= 1");
  if (options.rows < 0) throw ConfigError("--rows", cat(options.rows), "must be >= 1");
  if (options.cols < 0) throw ConfigError("--cols", cat(options.cols), "must be >= 1");
  if (!(options.memory_limit_gib > 0.0))
    throw ConfigError("--memory-limit-gib", cat(options.memory_limit_gib), "must be > 0");
  crossbar_params(config, options.wire);  // the errors of a missing section, before any work
  NgspiceRecord record;
  if (options.sizes.empty()) {
    int rows = options.rows, cols = options.cols;
    if (rows == 0 && cols == 0) {
      rows = config.network.inputs;
      cols = config.network.outputs;
    } else if (rows == 0) {
      rows = cols;
    } else if (cols == 0) {
      cols = rows;
    }
    return one_size(config, options, rows, cols, record);
  }
  for (int s : options.sizes)
    if (s < 1) throw ConfigError("--sizes", cat(s), "every size must be >= 1");
  if (options.rows > 0 || options.cols > 0)
    throw ConfigError("--sizes", "", "runs square arrays: give it without --rows and --cols");
  json sizes = json::array();
  std::vector<double> x, y;
  for (int s : options.sizes) {
    json one = one_size(config, options, s, s, record);
    if (!one["native_seconds"].is_null()) {
      x.push_back(std::log(one["devices"].get<double>()));
      y.push_back(std::log(one["native_seconds"].get<double>()));
    }
    sizes.push_back(std::move(one));
  }
  const json& first = sizes.front();
  json out;
  out["case"] = "crossbar";
  out["experiment"] = config.name;
  for (const char* key : {"batch", "wire_resistance", "access_resistance", "g_unit", "solver",
                          "rule", "phases", "repeats", "inputs"})
    out[key] = first[key];
  out["sizes"] = sizes;
  out["exponent"] = x.size() >= 2 ? json(least_squares_slope(x, y)) : json(nullptr);
  out["exponent_sizes"] = x.size();
  out["ngspice_largest"] = record.largest.empty() ? json(nullptr) : json(record.largest);
  out["peak_rss_mib"] = peak_resident_mib();
  return out;
}

}  // namespace physlearn::orchestration
