#include "circuits/drn.h"

#include <cmath>
#include <random>

#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/diode.h"
#include "circuits/elements/voltage_source.h"

namespace physlearn::circuits {

void describe(Schema& s, DrnParams& p) {
  s.field("inputs", p.inputs, "raw input features (784 for Fashion-MNIST)").min(1);
  s.field("input_gain", p.input_gain, "input source voltage per unit of input").unit("V").greater(0.0);
  s.field("inverted_inputs", p.inverted_inputs, "add an inverted copy -gain*x of every input source");
  s.field("hidden", p.hidden, "hidden layer sizes (each even when diodes are used)").min(1);
  s.field("outputs", p.outputs, "output nodes (one per class)").min(1);
  s.field("diode", p.diode, "hidden-node diodes to ground (half v>=0, half v<=0)")
      .one_of({"ideal", "shockley", "none"});
  s.field("diode_saturation_current", p.diode_saturation_current, "Shockley diode Is")
      .unit("A").greater(0.0);
  s.field("diode_emission", p.diode_emission, "Shockley diode ideality factor n").greater(0.0);
  s.field("diode_temperature", p.diode_temperature, "Shockley diode temperature").unit("K").greater(0.0);
  s.field("biases", p.biases, "trainable bias currents into hidden and output nodes");
  s.field("init", p.init,
          "initial conductances: clamped-kaiming draws max(0, U(-s,s)), s = init_gain/sqrt(fan_in) "
          "(Scellier 2024); uniform draws U(init_low, init_high)")
      .one_of({"clamped-kaiming", "uniform"});
  s.field("init_gain", p.init_gain, "clamped-kaiming scale").unit("S").greater(0.0);
  s.field("init_low", p.init_low, "uniform: lower end").unit("S").min(0.0);
  s.field("init_high", p.init_high, "uniform: upper end").unit("S").min(0.0);
  s.field("bias_init", p.bias_init, "biases drawn from U(-bias_init, bias_init)").unit("A").min(0.0);
}

long LayeredNetwork::num_parameters() const {
  long n = 0;
  for (const auto& w : weights) n += static_cast<long>(w.size());
  if (has_biases)
    for (const auto& b : biases) n += static_cast<long>(b.size());
  return n;
}

Eigen::MatrixXd LayeredNetwork::input_voltages(const Eigen::Ref<const Eigen::MatrixXd>& inputs) const {
  const Eigen::Index n = inputs.cols();
  if (n * (inverted_inputs ? 2 : 1) != sizes[0])
    throw Error(cat("network: ", n, " input values per sample, the network takes ",
                    inverted_inputs ? sizes[0] / 2 : sizes[0]));
  Eigen::MatrixXd v(inputs.rows(), sizes[0]);
  v.leftCols(n) = input_gain * inputs;
  if (inverted_inputs) v.rightCols(n) = -input_gain * inputs;
  return v;
}

std::string sizes_text(const std::vector<int>& sizes) {
  std::string s;
  for (int n : sizes) s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

LayeredNetwork build_drn(const DrnParams& p, std::uint64_t seed) {
  if (p.diode != "none")
    for (std::size_t l = 0; l < p.hidden.size(); ++l)
      if (p.hidden[l] % 2 != 0)
        throw ConfigError("network.hidden[" + std::to_string(l) + "]", std::to_string(p.hidden[l]),
                          "must be even when diodes are used (half v>=0, half v<=0)");
  if (p.init == "uniform" && p.init_high < p.init_low)
    throw ConfigError("network.init_high", std::to_string(p.init_high), "must be >= init_low");
  LayeredNetwork net;
  net.params = p;
  net.input_gain = p.input_gain;
  net.inverted_inputs = p.inverted_inputs;
  net.has_biases = p.biases;
  net.ideal_diodes = p.diode == "ideal";
  net.sizes.push_back(p.inverted_inputs ? 2 * p.inputs : p.inputs);
  for (int h : p.hidden) net.sizes.push_back(h);
  net.sizes.push_back(p.outputs);

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int layers = static_cast<int>(net.sizes.size()) - 1;
  for (int l = 0; l < layers; ++l) {
    const int fan_in = net.sizes[l], fan_out = net.sizes[l + 1];
    Eigen::MatrixXd w(fan_in, fan_out);
    const double s = p.init_gain / std::sqrt(static_cast<double>(fan_in));
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) {
        const double u = unit(rng);
        w(i, j) = p.init == "uniform" ? p.init_low + (p.init_high - p.init_low) * u
                                      : std::max(0.0, s * (2.0 * u - 1.0));
      }
    net.weights.push_back(std::move(w));
    Eigen::RowVectorXd b = Eigen::RowVectorXd::Zero(fan_out);
    if (p.biases && p.bias_init > 0.0)
      for (Eigen::Index i = 0; i < b.size(); ++i) b(i) = p.bias_init * (2.0 * unit(rng) - 1.0);
    net.biases.push_back(std::move(b));
    Polarity pol = Polarity::Zero(fan_out);
    if (l + 1 < layers && p.diode != "none")
      for (int i = 0; i < fan_out; ++i) pol(i) = i < fan_out / 2 ? 1 : -1;
    net.polarity.push_back(std::move(pol));
  }
  return net;
}

LoweredNetwork lower_to_circuit(const LayeredNetwork& net, bool clamp_outputs) {
  LoweredNetwork lowered;
  Circuit& c = lowered.circuit;
  const int layers = net.num_weight_layers();
  std::vector<std::vector<int>> nodes(layers + 1);
  for (int k = 0; k < net.sizes[0]; ++k) {
    const std::string name = "in" + std::to_string(k);
    int node = c.add_node(name);
    nodes[0].push_back(node);
    lowered.input_sources.push_back(
        static_cast<int>(c.add(VoltageSource{"V_" + name, node, kGround, 0.0, {}})));
  }
  for (int l = 1; l <= layers; ++l)
    for (int i = 0; i < net.sizes[l]; ++i) {
      const std::string name =
          l == layers ? "out" + std::to_string(i) : "h" + std::to_string(l) + "_" + std::to_string(i);
      nodes[l].push_back(c.add_node(name));
    }
  for (int l = 0; l < layers; ++l) {
    for (int j = 0; j < net.sizes[l]; ++j)
      for (int i = 0; i < net.sizes[l + 1]; ++i)
        c.add(Conductance{"G" + std::to_string(l) + "_" + std::to_string(j) + "_" + std::to_string(i),
                          nodes[l][j], nodes[l + 1][i], net.weights[l](j, i), true});
    add_neurons(net, l, nodes[l + 1], c, lowered.bias_sources);
  }
  if (clamp_outputs) add_output_clamps(nodes[layers], c, lowered.clamp_sources);
  lowered.layer_nodes.assign(nodes.begin() + 1, nodes.end());
  return lowered;
}

void LoweredNetwork::update(const LayeredNetwork& net, const Eigen::Ref<const Eigen::RowVectorXd>& inputs) {
  auto& sources = circuit.list<VoltageSource>();
  for (std::size_t k = 0; k < input_sources.size(); ++k)
    sources[input_sources[k]].volts = inputs(static_cast<Eigen::Index>(k));
  auto& conductances = circuit.list<Conductance>();
  auto& currents = circuit.list<CurrentSource>();
  std::size_t e = 0, b = 0;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    for (int j = 0; j < net.sizes[l]; ++j)
      for (int i = 0; i < net.sizes[l + 1]; ++i) conductances[e++].g = net.weights[l](j, i);
    if (net.has_biases)
      for (int i = 0; i < net.sizes[l + 1]; ++i) currents[bias_sources[b++]].amps = net.biases[l](i);
  }
}

void add_neurons(const LayeredNetwork& net, int l, const std::vector<int>& nodes, Circuit& c,
                 std::vector<int>& bias_sources) {
  for (int i = 0; i < net.sizes[l + 1]; ++i) {
    const int node = nodes[static_cast<std::size_t>(i)];
    const std::string suffix = std::to_string(l) + "_" + std::to_string(i);
    if (net.polarity[l](i) != 0) {
      Diode d;
      d.name = "D" + suffix;
      // v >= 0: the diode conducts from ground into the node when v < 0; v <= 0: the reverse.
      d.anode = net.polarity[l](i) > 0 ? kGround : node;
      d.cathode = net.polarity[l](i) > 0 ? node : kGround;
      d.model = net.ideal_diodes ? DiodeModel::Ideal : DiodeModel::Shockley;
      d.saturation_current = net.params.diode_saturation_current;
      d.emission = net.params.diode_emission;
      d.temperature = net.params.diode_temperature;
      c.add(d);
    }
    if (net.has_biases)
      bias_sources.push_back(static_cast<int>(
          c.add(CurrentSource{"B" + suffix, kGround, node, net.biases[l](i), true})));
  }
}

void add_output_clamps(const std::vector<int>& outputs, Circuit& c, std::vector<int>& clamps) {
  for (std::size_t i = 0; i < outputs.size(); ++i)
    clamps.push_back(static_cast<int>(
        c.add(VoltageSource{"V_clamp" + std::to_string(i), outputs[i], kGround, 0.0, {}})));
}

}  // namespace physlearn::circuits
