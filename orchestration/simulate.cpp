#include "orchestration/simulate.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>

#include "circuits/drn.h"
#include "core/error.h"
#include "core/schema.h"
#include "learning/executor.h"
#include "learning/rule.h"
#include "orchestration/sample.h"
#include "solvers/transient_layered.h"

namespace physlearn::orchestration {
namespace {

/// A node to record: its name and where its potential is found.
struct Probe {
  std::string name;
  int layer = -1;  ///< -1: an input source (constant), else the index into the state's layers
  int unit = 0;
};

std::string layer_node_name(int layer, int layers, int unit) {
  return layer == layers - 1 ? "out" + std::to_string(unit)
                             : "h" + std::to_string(layer + 1) + "_" + std::to_string(unit);
}

/// Parses "in<k>", "h<l>_<i>" or "out<i>" against the network's sizes.
Probe parse_probe(const std::string& name, const circuits::LayeredNetwork& net) {
  const int layers = net.num_weight_layers();
  auto bad = [&](const std::string& why) {
    return Error(cat("--nodes: '", name, "': ", why, " (names: in<k> for k < ", net.sizes[0],
                     ", h<l>_<i> for hidden layer l >= 1", ", out<i> for i < ", net.sizes.back(),
                     ")"));
  };
  auto number = [&](const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
      throw bad("not a node name");
    return std::stoi(text);
  };
  Probe p{name};
  if (name.rfind("in", 0) == 0) {
    p.unit = number(name.substr(2));
    if (p.unit >= net.sizes[0]) throw bad("no such input");
    return p;
  }
  if (name.rfind("out", 0) == 0) {
    p.layer = layers - 1;
    p.unit = number(name.substr(3));
  } else if (name.rfind("h", 0) == 0 && name.find('_') != std::string::npos) {
    const std::size_t bar = name.find('_');
    const int l = number(name.substr(1, bar - 1));
    if (l < 1 || l >= layers) throw bad("no such hidden layer");
    p.layer = l - 1;
    p.unit = number(name.substr(bar + 1));
  } else {
    throw bad("not a node name");
  }
  if (p.unit >= net.sizes[static_cast<std::size_t>(p.layer) + 1]) throw bad("no such unit");
  return p;
}

/// The outputs and the first two units of each half of the first hidden layer (each diode
/// polarity).
std::vector<Probe> default_probes(const circuits::LayeredNetwork& net) {
  const int layers = net.num_weight_layers();
  std::vector<Probe> probes;
  if (layers > 1) {
    const int n = net.sizes[1];
    for (int i : {0, 1, n / 2, n / 2 + 1})
      if (i < n && (probes.empty() || probes.back().unit < i))
        probes.push_back({layer_node_name(0, layers, i), 0, i});
  }
  for (int i = 0; i < net.sizes.back(); ++i)
    probes.push_back({layer_node_name(layers - 1, layers, i), layers - 1, i});
  return probes;
}

/// The phases simulate runs: the experiment's rule's plan; EP's (with the experiment's variant
/// and beta) for a rule that runs no contrast of phases (exact, backprop).
learning::PhasePlan plan_of(const LearningParams& lp) {
  learning::RuleSettings settings = rule_settings(lp);
  const learning::Rule& rule = learning::find_rule(lp.rule, "learning.rule");
  if (rule.digital || rule.plan(settings).phases.size() < 2) settings.rule = "ep";
  return learning::make_plan(settings);
}

}  // namespace

void simulate_step(const ExperimentConfig& config, const SimulateOptions& args, std::ostream& log) {
  using Clock = std::chrono::steady_clock;
  const LearningParams& lp = config.learning;
  const InitialSample sample = initial_sample(config, args.sample, "simulate");
  const circuits::LayeredNetwork& net = sample.net;
  const int label = sample.label;
  const Eigen::MatrixXd& targets = sample.target;
  const Eigen::MatrixXd& voltages = sample.voltages;

  std::vector<Probe> probes;
  if (args.nodes.empty()) {
    probes = default_probes(net);
  } else {
    std::stringstream list(args.nodes);
    std::string name;
    while (std::getline(list, name, ','))
      if (!name.empty()) probes.push_back(parse_probe(name, net));
    if (probes.empty()) throw Error("--nodes: no node names given");
  }
  const learning::PhasePlan plan = plan_of(lp);

  // The section's transient options when solver.type is "transient", else the defaults.
  const solvers::TransientSolverOptions transient =
      config.solver.type == "transient"
          ? config.solver.options<solvers::TransientSolverOptions>("transient")
          : solvers::TransientSolverOptions{};
  solvers::TransientLayeredSolver solver(transient, net);
  std::ostringstream csv;
  csv.precision(12);
  csv << "time,phase";
  for (const auto& p : probes) csv << "," << p.name;
  csv << "\n";
  long rows = 0;
  double phase_start = 0.0;
  std::string current;
  solver.set_observer([&](Eigen::Index, double t, const std::vector<Eigen::VectorXd>& layers) {
    csv << phase_start + t << "," << current;
    for (const auto& p : probes)
      csv << ","
          << (p.layer < 0 ? voltages(0, p.unit)
                          : layers[static_cast<std::size_t>(p.layer)](p.unit));
    csv << "\n";
    ++rows;
  });

  solver.set_inputs(net, voltages);
  json out_phases = json::array();
  std::vector<solvers::LayeredState> states(plan.phases.size());
  states[0] = solvers::LayeredState::zeros(net, 1);
  std::vector<Eigen::MatrixXd> clamps;
  std::size_t running = 0;  // the phase being relaxed
  double wall = 0.0;
  const Eigen::MatrixXd* clamp = nullptr;
  learning::run_layered_plan(
      plan, targets, states, clamps,
      [&](const solvers::PhaseNudge& nudge, solvers::LayeredState& state) {
        current = plan.phases[running].label;
        clamp = nudge.clamp;
        const auto start = Clock::now();
        solver.relax(net, nudge, state);
        wall = std::chrono::duration<double>(Clock::now() - start).count();
      },
      [&](std::size_t k, const solvers::LayeredState& state) {
        const learning::Phase& phase = plan.phases[k];
        const solvers::PhasePhysics& p = solver.last_physics()->front();
        json j;
        j["phase"] = phase.label;
        j["beta"] = phase.drive == learning::Phase::Drive::nudge ? phase.sign * plan.beta : 0.0;
        if (clamp) j["clamp"] = std::vector<double>(clamp->data(), clamp->data() + clamp->size());
        j["starts_from"] = k == 0 ? "zeros" : "the free state";
        j["start_time"] = phase_start;
        j["settling_time"] = p.settling_time;
        j["duration"] = p.duration;
        j["energy"] = {{"sources", p.energy_sources},
                       {"nudge", p.energy_nudge},
                       {"conductances", p.energy_conductances},
                       {"diodes", p.energy_diodes},
                       {"impulse", p.energy_impulse},
                       {"stored_change", p.energy_stored_change},
                       {"balance", p.energy_sources + p.energy_nudge - p.energy_conductances -
                                       p.energy_diodes - p.energy_impulse -
                                       p.energy_stored_change}};
        j["power_end"] = p.power_end;
        j["steps"] = p.steps;
        j["diode_switches"] = p.events;
        j["wall_seconds"] = wall;
        const Eigen::MatrixXd& o = state.outputs();
        j["outputs"] = std::vector<double>(o.data(), o.data() + o.size());
        out_phases.push_back(j);
        phase_start += p.duration;
        log << phase.label << ": settled in " << p.settling_time << " s (" << p.steps
                  << " steps, " << p.events << " diode switches, " << wall
                  << " s wall), energy from sources " << p.energy_sources << " J, dissipated "
                  << p.energy_conductances << " J\n";
        ++running;
      });

  json layers = json::array();
  for (int l = 0; l < net.num_weight_layers(); ++l)
    layers.push_back({{"layer", l + 1 == net.num_weight_layers() ? std::string("out")
                                                                 : "h" + std::to_string(l + 1)},
                      {"nodes", net.sizes[static_cast<std::size_t>(l) + 1]},
                      {"farads", solver.capacitance()[static_cast<std::size_t>(l)]}});
  json result;
  result["experiment"] = config.name;
  result["sample"] = args.sample;
  result["label"] = label;
  result["rule"] = lp.rule;
  result["variant"] = lp.variant;
  result["sizes"] = net.sizes;
  result["capacitance"] = {
      {"layers", layers},
      {"inputs", "held by ideal voltage sources: no dynamics, no capacitance modelled"}};
  result["transient"] = {{"rtol", transient.rtol},
                         {"atol", transient.atol},
                         {"settle", transient.settle},
                         {"final_tol", transient.final_tol},
                         {"slew_tol", transient.slew_tol},
                         {"hold", transient.hold},
                         {"max_duration", transient.max_duration},
                         {"max_steps", transient.max_steps}};
  result["phases"] = out_phases;
  json names = json::array();
  for (const auto& p : probes) names.push_back(p.name);
  result["nodes"] = names;
  result["waveforms"] = {{"file", "waveforms.csv"}, {"rows", rows}};

  std::filesystem::create_directories(args.out);
  write_file_atomic(args.out + "/waveforms.csv", csv.str());
  write_file_atomic(args.out + "/simulate.json", result.dump(2) + "\n");
  log << "results in " << args.out << "/simulate.json, " << args.out << "/waveforms.csv\n";
}

}  // namespace physlearn::orchestration
