#include "orchestration/sample.h"

#include "circuits/elements/conductance.h"
#include "circuits/elements/voltage_source.h"
#include "circuits/spice_export.h"
#include "core/error.h"
#include "data/dataset.h"
#include "solvers/ngspice.h"

namespace physlearn::orchestration {

circuits::LoweredNetwork InitialSample::lowered() const {
  circuits::LoweredNetwork out = circuits::lower_to_circuit(net);
  out.update(net, voltages.row(0));
  return out;
}

InitialSample initial_sample(const ExperimentConfig& config, int sample, const std::string& command) {
  if (config.network_type != "drn")
    throw ConfigError("network.type", json_text(json(config.network_type)),
                      command + " needs a \"drn\" network");
  const data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  const data::Dataset& train = split.train;
  if (train.num_samples() == 0) throw Error(command + ": the training set is empty");
  if (sample < 0 || sample >= train.num_samples())
    throw Error(cat(command, ": --sample ", sample, ": must be in [0, ", train.num_samples() - 1,
                    "] (the training set of data.type \"", config.data.type, "\" has ",
                    train.num_samples(), " samples)"));
  InitialSample s;
  s.net = circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  for (auto& w : s.net.weights)
    w = w.cwiseMax(config.learning.g_min).cwiseMin(config.learning.g_max);
  s.index = sample;
  s.label = train.labels[static_cast<std::size_t>(sample)];
  s.inputs = train.inputs.row(sample).cast<double>();
  s.voltages = s.net.input_voltages(s.inputs);
  s.target = Eigen::MatrixXd::Zero(1, s.net.num_outputs());
  if (s.label >= 0 && s.label < s.net.num_outputs()) s.target(0, s.label) = 1.0;
  return s;
}

std::string sample_netlist(const ExperimentConfig& config, const std::string& file, int sample,
                           const std::string& phase) {
  if (phase != "free" && phase != "nudged")
    throw ConfigError("--phase", "\"" + phase + "\"", "must be one of: free, nudged");
  const InitialSample s = initial_sample(config, sample, "export-spice");
  circuits::LoweredNetwork lowered = s.lowered();
  circuits::Circuit& circuit = lowered.circuit;
  const int label = s.label;
  const std::vector<int>& outputs = lowered.layer_nodes.back();

  std::vector<std::string> notes = {
      cat("* experiment ", config.name, " (", file, "), seed ", config.seed,
          ", initial conductances"),
      cat("* training sample ", sample, ", label ", label, "; ", phase, " phase")};
  if (phase == "nudged") {
    const double beta = config.learning.beta;
    if (label < 0 || label >= static_cast<int>(outputs.size()))
      throw Error(cat("export-spice: label ", label, " of sample ", sample, " has no output (the ",
                      "network has ", outputs.size(), " outputs)"));
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      std::string name = cat("target", i);
      while (circuit.has_node(name)) name += "_";
      const int target = circuit.add_node(name);
      circuit.add(circuits::VoltageSource{cat("Vtarget", i), target, circuits::kGround,
                                          static_cast<int>(i) == label ? 1.0 : 0.0, {}});
      circuit.add(circuits::Conductance{cat("Gnudge", i), outputs[i], target, beta, false});
    }
    notes.push_back(cat("* nudge: beta = ", beta, " S from each output to a source at its ",
                        "one-hot target (current beta (y - o) into the output)"));
  }
  circuits::SpiceExportOptions options = solvers::NgspiceOptions::tight_netlist_options();
  options.title = cat("physlearn export-spice: ", config.name, ", training sample ", sample,
                      ", ", phase, " phase");
  circuits::SpiceNetlist netlist = circuits::export_spice(circuit, options);
  std::string output_names;
  for (int node : outputs) output_names += " " + netlist.node_names[static_cast<std::size_t>(node)];
  notes.push_back("* outputs:" + output_names);
  netlist.header.insert(netlist.header.begin() + 1, notes.begin(), notes.end());
  return netlist.text();
}

}  // namespace physlearn::orchestration
