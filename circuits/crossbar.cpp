#include "circuits/crossbar.h"

#include <cmath>

#include "circuits/elements/conductance.h"
#include "core/error.h"

namespace physlearn::circuits {

void describe(Schema& schema, CrossbarParams& params) {
  schema.field("wire_resistance", params.wire_resistance,
               "resistance of one wire segment (one cell pitch) of the rows and columns")
      .unit("ohm")
      .min(0.0);
  schema.field("access_resistance", params.access_resistance,
               "access or selector resistance in series with each device")
      .unit("ohm")
      .min(0.0);
  schema.field("g_unit", params.g_unit,
               "siemens per network unit of conductance (0: chip.g_unit, else 1e-4)")
      .unit("S")
      .min(0.0);
  schema.field("row_pairs", params.row_pairs,
               "input rows of a differential pair: blocked (x..., -x...) or interleaved")
      .one_of({"blocked", "interleaved"});
  schema.field("solver", params.solver,
               "reduced: exact Kron reduction of the wires per mini-batch; newton: full circuit per sample")
      .one_of({"reduced", "newton"});
}

namespace {

/// Physical row of DRN row j in layer l's crossbar.
int row_position(const LayeredNetwork& net, const CrossbarParams& params, int l, int j) {
  if (l != 0 || !net.inverted_inputs || params.row_pairs != "interleaved") return j;
  const int half = net.sizes[0] / 2;
  return j < half ? 2 * j : 2 * (j - half) + 1;
}

}  // namespace

LoweredCrossbar lower_to_crossbar(const LayeredNetwork& net, const CrossbarParams& params,
                                  double g_unit, bool clamp_outputs) {
  if (!(params.wire_resistance >= 0.0) || !std::isfinite(params.wire_resistance))
    throw ConfigError("crossbar.wire_resistance", cat(params.wire_resistance), "must be >= 0 ohm");
  if (!(params.access_resistance >= 0.0) || !std::isfinite(params.access_resistance))
    throw ConfigError("crossbar.access_resistance", cat(params.access_resistance), "must be >= 0 ohm");
  if (!(g_unit > 0.0) || !std::isfinite(g_unit))
    throw ConfigError("crossbar.g_unit", cat(g_unit), "must be > 0 S");
  if (params.row_pairs != "blocked" && params.row_pairs != "interleaved")
    throw ConfigError("crossbar.row_pairs", "\"" + params.row_pairs + "\"",
                      "must be one of: blocked, interleaved");

  LoweredCrossbar out;
  // Start from the DRN's circuit (sources, neurons, diodes, biases, devices in the DRN's order)
  // and move each device's terminals onto its own cell of the crossbar's wires.
  out.lowered = lower_to_circuit(net, clamp_outputs);
  Circuit& c = out.lowered.circuit;
  std::vector<Conductance>& conductances = c.list<Conductance>();
  const bool wires = params.wire_resistance > 0.0;
  const bool access = params.access_resistance > 0.0;
  // Network units: a resistance R ohm is the conductance 1 / (R g_unit).
  const double g_wire = wires ? 1.0 / (params.wire_resistance * g_unit) : 0.0;
  const double g_access = access ? 1.0 / (params.access_resistance * g_unit) : 0.0;

  std::vector<Conductance> extra;
  std::size_t e = 0;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const int n = net.sizes[l], m = net.sizes[l + 1];
    const std::string tag = "X" + std::to_string(l) + "_";
    // Cell nodes of the wires, by physical row p and column i (none when wires are ideal).
    std::vector<int> row_node, col_node;  // p * m + i
    std::vector<int> driver(n), neuron(m);
    for (int j = 0; j < n; ++j) driver[row_position(net, params, l, j)] = conductances[e + static_cast<std::size_t>(j) * m].a;
    for (int i = 0; i < m; ++i) neuron[i] = conductances[e + static_cast<std::size_t>(i)].b;
    if (wires) {
      row_node.resize(static_cast<std::size_t>(n) * m);
      col_node.resize(static_cast<std::size_t>(n) * m);
      for (int p = 0; p < n; ++p)
        for (int i = 0; i < m; ++i) {
          const std::string cell = std::to_string(p) + "_" + std::to_string(i);
          row_node[p * m + i] = c.add_node(tag + "r" + cell);
          col_node[p * m + i] = c.add_node(tag + "c" + cell);
        }
      auto segment = [&](const std::string& name, int a, int b) {
        extra.push_back({tag + name, a, b, g_wire, false});
        ++out.num_wire_segments;
      };
      for (int p = 0; p < n; ++p)
        for (int i = 0; i < m; ++i) {
          const std::string cell = std::to_string(p) + "_" + std::to_string(i);
          segment("wr" + cell, i == 0 ? driver[p] : row_node[p * m + i - 1], row_node[p * m + i]);
          segment("wc" + cell, col_node[p * m + i], p == n - 1 ? neuron[i] : col_node[(p + 1) * m + i]);
        }
    }
    std::vector<std::pair<int, int>> devices;
    devices.reserve(static_cast<std::size_t>(n) * m);
    for (int j = 0; j < n; ++j) {
      const int p = row_position(net, params, l, j);
      for (int i = 0; i < m; ++i, ++e) {
        Conductance& device = conductances[e];
        int row_side = wires ? row_node[p * m + i] : device.a;
        const int col_side = wires ? col_node[p * m + i] : device.b;
        if (access) {
          const int mid = c.add_node(tag + "m" + std::to_string(p) + "_" + std::to_string(i));
          extra.push_back({tag + "A" + std::to_string(p) + "_" + std::to_string(i), row_side, mid,
                           g_access, false});
          ++out.num_access_resistors;
          row_side = mid;
        }
        device.a = row_side;
        device.b = col_side;
        devices.emplace_back(row_side, col_side);
      }
    }
    out.device_nodes.push_back(std::move(devices));
  }
  conductances.insert(conductances.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace physlearn::circuits
