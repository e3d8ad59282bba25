#include "solvers/transient_layered.h"

#include <string>

#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/voltage_source.h"
#include "core/error.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::Conductance;
using circuits::CurrentSource;
using circuits::kGround;
using circuits::VoltageSource;

void describe(Schema& s, TransientSolverOptions& o) {
  s.field("capacitance", o.capacitance,
          "capacitance to ground of every node of each non-input layer (hidden..., output); one "
          "value: every layer. Input nodes are held by ideal sources")
      .unit("F")
      .greater(0.0);
  s.field("rtol", o.rtol, "IDA relative tolerance").min(0.0);
  s.field("atol", o.atol,
          "IDA absolute tolerance of node potentials (currents: atol times the mean conductance)")
      .unit("V")
      .greater(0.0);
  s.field("settle", o.settle,
          "settling criterion: final (every node within final_tol of the phase's DC steady "
          "state) or slew (every |dv/dt| below slew_tol)")
      .one_of({"final", "slew"});
  s.field("final_tol", o.final_tol, "final criterion, max |v - v_dc| over the nodes")
      .unit("V")
      .greater(0.0);
  s.field("slew_tol", o.slew_tol, "slew criterion, max |dv/dt| over the nodes")
      .unit("V/s")
      .greater(0.0);
  s.field("hold", o.hold,
          "the criterion, first met at t_s, must keep holding until t_s (1 + hold); the phase "
          "ends there")
      .min(0.0);
  s.field("max_duration", o.max_duration, "a phase not settled after this long fails")
      .unit("s")
      .greater(0.0);
  s.field("max_steps", o.max_steps, "most IDA steps per phase and sample").min(1);
}

TransientOptions transient_options(const TransientSolverOptions& p) {
  TransientOptions o;
  o.rtol = p.rtol;
  o.atol = p.atol;
  o.settle = parse_settle_criterion(p.settle, "solver.settle");
  o.final_tol = p.final_tol;
  o.slew_tol = p.slew_tol;
  o.hold = p.hold;
  o.max_duration = p.max_duration;
  o.max_steps = p.max_steps;
  o.element_energies = true;  // the Norton elements' energies give the input side's
  return o;
}

/// The network's circuit with the input layer folded into Norton equivalents: nodes h{l}_{i} and
/// out{i} only (names as circuits::lower_to_circuit gives them).
struct TransientLayeredSolver::Lowered {
  Circuit circuit;
  std::vector<std::vector<int>> layer_nodes;  // node per unit of layer l + 1
  std::vector<int> norton_conductances;       // per unit of layer 1
  std::vector<int> norton_sources;            // per unit of layer 1
  std::vector<int> bias_sources;              // per bias, layer by layer
  std::vector<int> clamp_sources;             // per output (clamped circuit)
  std::unique_ptr<TransientSolver> solver;
  std::vector<Eigen::VectorXd> observed;  // observer buffer, per layer

  Lowered(const circuits::LayeredNetwork& net, bool clamp) {
    const int layers = net.num_weight_layers();
    layer_nodes.resize(static_cast<std::size_t>(layers));
    for (int l = 1; l <= layers; ++l)
      for (int i = 0; i < net.sizes[l]; ++i)
        layer_nodes[static_cast<std::size_t>(l - 1)].push_back(
            circuit.add_node(l == layers ? "out" + std::to_string(i)
                                         : "h" + std::to_string(l) + "_" + std::to_string(i)));
    for (int i = 0; i < net.sizes[1]; ++i) {
      const int node = layer_nodes[0][static_cast<std::size_t>(i)];
      norton_conductances.push_back(static_cast<int>(
          circuit.add(Conductance{"GN_" + std::to_string(i), node, kGround, 0.0, false})));
      norton_sources.push_back(static_cast<int>(
          circuit.add(CurrentSource{"IN_" + std::to_string(i), kGround, node, 0.0, false})));
    }
    for (int l = 0; l < layers; ++l) {
      if (l > 0)
        for (int j = 0; j < net.sizes[l]; ++j)
          for (int i = 0; i < net.sizes[l + 1]; ++i)
            circuit.add(Conductance{
                "G" + std::to_string(l) + "_" + std::to_string(j) + "_" + std::to_string(i),
                layer_nodes[static_cast<std::size_t>(l - 1)][static_cast<std::size_t>(j)],
                layer_nodes[static_cast<std::size_t>(l)][static_cast<std::size_t>(i)],
                net.weights[static_cast<std::size_t>(l)](j, i), true});
      circuits::add_neurons(net, l, layer_nodes[static_cast<std::size_t>(l)], circuit,
                            bias_sources);
    }
    if (clamp) circuits::add_output_clamps(layer_nodes.back(), circuit, clamp_sources);
    observed.resize(layer_nodes.size());
    for (std::size_t l = 0; l < layer_nodes.size(); ++l)
      observed[l].resize(static_cast<Eigen::Index>(layer_nodes[l].size()));
  }

  /// Element values of the network (conductances and biases); the Norton elements are set per
  /// sample.
  void update(const circuits::LayeredNetwork& net) {
    auto& conductances = circuit.list<Conductance>();
    std::size_t e = norton_conductances.size();
    for (int l = 1; l < net.num_weight_layers(); ++l)
      for (int j = 0; j < net.sizes[l]; ++j)
        for (int i = 0; i < net.sizes[l + 1]; ++i)
          conductances[e++].g = net.weights[static_cast<std::size_t>(l)](j, i);
    auto& currents = circuit.list<CurrentSource>();
    std::size_t b = 0;
    if (net.has_biases)
      for (int l = 0; l < net.num_weight_layers(); ++l)
        for (int i = 0; i < net.sizes[l + 1]; ++i)
          currents[static_cast<std::size_t>(bias_sources[b++])].amps =
              net.biases[static_cast<std::size_t>(l)](i);
  }
};

TransientLayeredSolver::TransientLayeredSolver(const TransientSolverOptions& options,
                                               const circuits::LayeredNetwork& net)
    : options_(transient_options(options)) {
  const int layers = net.num_weight_layers();
  const auto& c = options.capacitance;
  if (c.size() != 1 && static_cast<int>(c.size()) != layers)
    throw ConfigError("solver.capacitance", json_text(json(c)),
                      cat("must hold one value or one per non-input layer (", layers, ")"));
  for (std::size_t l = 0; l < c.size(); ++l)
    if (!(c[l] > 0.0) || !std::isfinite(c[l]))
      throw ConfigError(cat("solver.capacitance[", l, "]"), json_text(json(c[l])),
                        "must be finite and > 0");
  capacitance_.assign(static_cast<std::size_t>(layers), c[0]);
  if (c.size() > 1) capacitance_ = c;
}

TransientLayeredSolver::~TransientLayeredSolver() = default;

TransientLayeredSolver::Lowered& TransientLayeredSolver::lowered(
    const circuits::LayeredNetwork& net, bool clamped) {
  std::unique_ptr<Lowered>& slot = clamped ? clamped_ : free_;
  if (!slot) {
    slot = std::make_unique<Lowered>(net, clamped);
    TransientOptions o = options_;
    o.node_capacitance = Eigen::VectorXd::Zero(slot->circuit.num_nodes());
    for (std::size_t l = 0; l < slot->layer_nodes.size(); ++l)
      for (int node : slot->layer_nodes[l]) o.node_capacitance[node] = capacitance_[l];
    slot->solver = std::make_unique<TransientSolver>(slot->circuit, o);
  }
  return *slot;
}

void TransientLayeredSolver::set_inputs(const circuits::LayeredNetwork& net,
                                        const Eigen::MatrixXd& input_voltages) {
  input_voltages_ = input_voltages;
  const Eigen::MatrixXd& w0 = net.weights[0];
  drive_.noalias() = input_voltages * w0;
  conductance_ = w0.colwise().sum();
  input_power_ = input_voltages.array().square().matrix() * w0.rowwise().sum();
}

void TransientLayeredSolver::relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
                                   LayeredState& state) {
  const Eigen::Index batch = input_voltages_.rows();
  if (batch == 0 || drive_.rows() != batch || state.layers.front().rows() != batch)
    throw std::logic_error("TransientLayeredSolver: relax without set_inputs for this batch");
  if (nudge.beta != 0.0 && (!nudge.targets || nudge.targets->rows() != batch))
    throw std::logic_error("TransientLayeredSolver: nudge without targets for the batch");
  if (nudge.clamp && (nudge.clamp->rows() != batch || nudge.clamp->cols() != net.sizes.back()))
    throw std::logic_error("TransientLayeredSolver: clamp of the wrong shape");
  Lowered& low = lowered(net, nudge.clamp != nullptr);
  low.update(net);
  Circuit& circuit = low.circuit;
  const auto& outputs = low.layer_nodes.back();
  const std::string phase = nudge.clamp         ? std::string("clamped")
                            : nudge.beta != 0.0 ? cat("nudged (beta = ", nudge.beta, ")")
                                                : std::string("free");
  physics_.assign(static_cast<std::size_t>(batch), PhasePhysics{});
  last_steps_ = 0;
  std::vector<Nudge> nudges;
  Eigen::VectorXd initial(circuit.num_nodes());
  auto& conductances = circuit.list<Conductance>();
  auto& currents = circuit.list<CurrentSource>();
  auto& sources = circuit.list<VoltageSource>();
  for (std::size_t i = 0; i < low.norton_conductances.size(); ++i)
    conductances[static_cast<std::size_t>(low.norton_conductances[i])].g =
        conductance_(static_cast<Eigen::Index>(i));
  for (Eigen::Index b = 0; b < batch; ++b) {
    for (std::size_t i = 0; i < low.norton_sources.size(); ++i)
      currents[static_cast<std::size_t>(low.norton_sources[i])].amps =
          drive_(b, static_cast<Eigen::Index>(i));
    if (nudge.clamp)
      for (std::size_t i = 0; i < low.clamp_sources.size(); ++i)
        sources[static_cast<std::size_t>(low.clamp_sources[i])].volts =
            (*nudge.clamp)(b, static_cast<Eigen::Index>(i));
    nudges.clear();
    if (nudge.beta != 0.0)
      for (std::size_t i = 0; i < outputs.size(); ++i)
        nudges.push_back(
            {outputs[i], nudge.beta, (*nudge.targets)(b, static_cast<Eigen::Index>(i))});
    for (std::size_t l = 0; l < low.layer_nodes.size(); ++l)
      for (std::size_t i = 0; i < low.layer_nodes[l].size(); ++i)
        initial(low.layer_nodes[l][i]) = state.layers[l](b, static_cast<Eigen::Index>(i));
    TransientOptions& o = low.solver->options();
    if (observer_) {
      o.observer = [this, &low, b](double t, const Eigen::VectorXd& x) {
        for (std::size_t l = 0; l < low.layer_nodes.size(); ++l)
          for (std::size_t i = 0; i < low.layer_nodes[l].size(); ++i)
            low.observed[l](static_cast<Eigen::Index>(i)) = x(low.layer_nodes[l][i]);
        observer_(b, t, low.observed);
      };
    } else {
      o.observer = nullptr;
    }
    const TransientResult r =
        low.solver->run(circuit, nudges, initial, batch > 1 ? cat(phase, ", sample ", b) : phase);
    o.observer = nullptr;
    for (std::size_t l = 0; l < low.layer_nodes.size(); ++l)
      for (std::size_t i = 0; i < low.layer_nodes[l].size(); ++i)
        state.layers[l](b, static_cast<Eigen::Index>(i)) = r.voltages(low.layer_nodes[l][i]);

    // The whole network's energies from the folded circuit's (see the header).
    const TransientEnergy& e = r.energy_settled;
    const ElementEnergies& el = r.elements_settled;
    double norton_source = 0.0, clamp = 0.0, drive_power = 0.0;
    const auto& current_energies = el.of<CurrentSource>();
    for (std::size_t i = 0; i < low.norton_sources.size(); ++i) {
      norton_source += current_energies[static_cast<std::size_t>(low.norton_sources[i])];
      drive_power += drive_(b, static_cast<Eigen::Index>(i)) * r.voltages(low.layer_nodes[0][i]);
    }
    for (int k : low.clamp_sources) clamp += el.of<VoltageSource>()[static_cast<std::size_t>(k)];
    const double k_t = input_power_(b) * r.settling_time;
    PhasePhysics& p = physics_[static_cast<std::size_t>(b)];
    p.settling_time = r.settling_time;
    p.duration = r.end_time;
    p.energy_sources = (e.sources - clamp - norton_source) + (k_t - norton_source);
    p.energy_nudge = e.nudges + clamp;
    p.energy_conductances = e.conductances + k_t - 2.0 * norton_source;
    p.energy_diodes = e.diodes;
    p.energy_impulse = e.impulse;
    p.energy_stored_change = e.stored_change;
    p.power_end = r.power_end + input_power_(b) - 2.0 * drive_power;
    p.steps = r.steps;
    p.events = r.events;
    last_steps_ += r.steps;
  }
}

std::unique_ptr<EquilibriumSolver> make_transient_layered_solver(
    const TransientSolverOptions& options, const circuits::LayeredNetwork& net) {
  return std::make_unique<TransientLayeredSolver>(options, net);
}

}  // namespace physlearn::solvers
