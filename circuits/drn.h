#pragma once
/// The deep resistive network (DRN) of Kendall et al. 2020 and Scellier 2024, in its layered view.
///
/// Layer 0 holds the input voltage sources: the inputs times `input_gain`, followed (when
/// `inverted_inputs`) by an inverted copy, so positive conductances give signed effective weights.
/// Hidden layers are nodes joined by conductances to the layers below and above; each hidden node
/// has an ideal diode to ground: the first half of a layer is held at v >= 0, the second half at
/// v <= 0. The output layer is linear. Trainable bias currents b are current sources into every
/// hidden and output node. The energy (power) function is
///   E(v) = sum_l sum_{j,i} 1/2 W_l[j,i] (v_{l,j} - v_{l+1,i})^2 - sum_nodes b_i v_i,
/// minimised under the diode constraints; its minimiser is the circuit's steady state.
///
/// `lower_to_circuit` turns the same network into a general Circuit, so that every solver can
/// check every other on the same network.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "circuits/circuit.h"
#include "core/schema.h"

namespace physlearn::circuits {

/// The "network" section of an experiment when its type is "drn".
struct DrnParams {
  int inputs = 784;               ///< raw input features
  double input_gain = 1.0;        ///< volts per unit of input
  bool inverted_inputs = true;    ///< add the inverted copy -gain * x
  std::vector<int> hidden = {100};
  int outputs = 10;
  std::string diode = "ideal";    ///< "ideal", "shockley" (Newton only) or "none" (linear)
  double diode_saturation_current = 1e-14;  ///< Shockley Is, in network units of current
  double diode_emission = 1.0;              ///< Shockley n
  double diode_temperature = 300.15;        ///< Shockley T, kelvin
  bool biases = true;             ///< trainable bias currents into hidden and output nodes
  std::string init = "clamped-kaiming";  ///< "clamped-kaiming" or "uniform"
  double init_gain = 1.0;         ///< clamped-kaiming: g ~ max(0, U(-s, s)), s = gain / sqrt(fan_in)
  double init_low = 0.0;          ///< uniform: lower end
  double init_high = 0.05;        ///< uniform: upper end
  double bias_init = 0.0;         ///< biases ~ U(-bias_init, bias_init)
};

void describe(Schema& schema, DrnParams& params);

/// Polarity of a node's diode: +1 holds v >= 0, -1 holds v <= 0, 0 no diode.
using Polarity = Eigen::Array<signed char, Eigen::Dynamic, 1>;

/// The layered view: per layer a dense conductance matrix and bias currents.
struct LayeredNetwork {
  /// sizes[0]: input sources (inputs, doubled with inverted copies); sizes[1..]: hidden, output.
  std::vector<int> sizes;
  /// weights[l] (sizes[l] x sizes[l+1]): conductance between unit j of layer l and unit i of l+1.
  std::vector<Eigen::MatrixXd> weights;
  /// biases[l] (1 x sizes[l+1]): current into each unit of layer l+1.
  std::vector<Eigen::RowVectorXd> biases;
  /// polarity[l]: diode polarity of each unit of layer l+1 (all 0 for the output layer).
  std::vector<Polarity> polarity;
  double input_gain = 1.0;
  bool inverted_inputs = true;
  bool has_biases = true;
  bool ideal_diodes = true;  ///< false when the diodes are Shockley (or absent)
  DrnParams params;

  int num_weight_layers() const { return static_cast<int>(weights.size()); }
  int num_inputs() const { return params.inputs; }
  int num_outputs() const { return sizes.back(); }
  /// Number of trainable parameters (conductances plus bias currents).
  long num_parameters() const;
  /// Source voltages (batch x sizes[0]) for raw inputs (batch x inputs): gain [x, -x].
  Eigen::MatrixXd input_voltages(const Eigen::Ref<const Eigen::MatrixXd>& inputs) const;
};

/// Layer sizes as text, "1568-100-10".
std::string sizes_text(const std::vector<int>& sizes);

/// Builds the network with conductances drawn from the init distribution, seeded.
LayeredNetwork build_drn(const DrnParams& params, std::uint64_t seed);

/// The circuit view of a layered network for one sample, with index maps back to the layers.
struct LoweredNetwork {
  Circuit circuit;
  std::vector<int> input_sources;            ///< voltage source index per input unit
  std::vector<std::vector<int>> layer_nodes; ///< node index per unit of layer l+1
  std::vector<int> bias_sources;             ///< current source index per bias, layer by layer
  std::vector<int> clamp_sources;            ///< voltage source per output (clamped lowering)
  /// Sets the source voltages (one sample's row of input_voltages), conductances and biases.
  void update(const LayeredNetwork& net, const Eigen::Ref<const Eigen::RowVectorXd>& inputs);
};

/// Adds the neurons of layer l + 1 at `nodes` (one per unit): each unit's diode to ground
/// D{l}_{i} (polarity as net.polarity[l], ideal or Shockley as the network's) and, with biases,
/// its bias current source B{l}_{i} from ground into the node (index appended to `bias_sources`).
void add_neurons(const LayeredNetwork& net, int l, const std::vector<int>& nodes, Circuit& c,
                 std::vector<int>& bias_sources);

/// Adds a voltage source V_clamp{i} holding each output node (indices appended to `clamps`), at
/// 0 V until set: the clamped phases of CHL and coupled learning.
void add_output_clamps(const std::vector<int>& outputs, Circuit& c, std::vector<int>& clamps);

/// Lowers the network to a circuit: nodes in{k}, h{l}_{i}, out{i}; conductances G{l}_{j}_{i}
/// (all of them, including zeros, so the structure does not change as training moves them);
/// diodes D{l}_{i} to ground; bias current sources B{l}_{i} from ground into each node. With
/// `clamp_outputs`, a voltage source V_clamp{i} also holds each output (CHL, coupled learning).
LoweredNetwork lower_to_circuit(const LayeredNetwork& net, bool clamp_outputs = false);

}  // namespace physlearn::circuits
