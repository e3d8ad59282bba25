#include "circuits/crossbar.h"

#include <algorithm>
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
  schema.field("tile_rows", params.tile_rows,
               "rows per crossbar tile; a larger layer is split over several tiles (0: no limit)")
      .min(0);
  schema.field("tile_cols", params.tile_cols,
               "columns per crossbar tile; a larger layer is split over several tiles (0: no limit)")
      .min(0);
  schema.field("summing_resistance", params.summing_resistance,
               "resistance between each tile column and its neuron (0: ideal current sum)")
      .unit("ohm")
      .min(0.0);
  schema.field("solver", params.solver,
               "sparse: sparse Cholesky of the wire network per mini-batch; dense: Kron reduction "
               "with dense matrices (small arrays); newton: full circuit per sample")
      .one_of({"sparse", "dense", "newton"});
}

TileLayout tile_layout(int rows, int cols, const CrossbarParams& params) {
  TileLayout t;
  t.tile_rows = params.tile_rows > 0 ? std::min(params.tile_rows, rows) : rows;
  t.tile_cols = params.tile_cols > 0 ? std::min(params.tile_cols, cols) : cols;
  t.row_blocks = (rows + t.tile_rows - 1) / t.tile_rows;
  t.col_blocks = (cols + t.tile_cols - 1) / t.tile_cols;
  return t;
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
  if (params.tile_rows < 0)
    throw ConfigError("crossbar.tile_rows", cat(params.tile_rows), "must be >= 0 (0: no limit)");
  if (params.tile_cols < 0)
    throw ConfigError("crossbar.tile_cols", cat(params.tile_cols), "must be >= 0 (0: no limit)");
  if (!(params.summing_resistance >= 0.0) || !std::isfinite(params.summing_resistance))
    throw ConfigError("crossbar.summing_resistance", cat(params.summing_resistance),
                      "must be >= 0 ohm (0: ideal current sum)");
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
  const bool summing = params.summing_resistance > 0.0;
  const double g_summing = summing ? 1.0 / (params.summing_resistance * g_unit) : 0.0;

  std::vector<Conductance> extra;
  std::size_t e = 0;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const int n = net.sizes[l], m = net.sizes[l + 1];
    const std::string tag = "X" + std::to_string(l) + "_";
    // Tile sizes of this layer: a tile's first column starts at the row's driver, its last row
    // ends at the neuron (or the tile's summing resistor).
    const TileLayout layout = tile_layout(n, m, params);
    const int tr = layout.tile_rows, tc = layout.tile_cols, row_blocks = layout.row_blocks;
    out.tiles.push_back(layout.tiles());
    // Cell nodes of the wires, by physical row p and column i (none when wires are ideal).
    std::vector<int> row_node, col_node;  // p * m + i
    std::vector<int> driver(n), neuron(m);
    for (int j = 0; j < n; ++j) driver[row_position(net, params, l, j)] = conductances[e + static_cast<std::size_t>(j) * m].a;
    for (int i = 0; i < m; ++i) neuron[i] = conductances[e + static_cast<std::size_t>(i)].b;
    // Where each tile column ends: the neuron, or a summing node tied to it by a resistor.
    std::vector<int> column_end(static_cast<std::size_t>(row_blocks) * m);
    for (int a = 0; a < row_blocks; ++a)
      for (int i = 0; i < m; ++i) {
        int end = neuron[i];
        if (summing) {
          const std::string name = std::to_string(a) + "_" + std::to_string(i);
          end = c.add_node(tag + "s" + name);
          extra.push_back({tag + "S" + name, end, neuron[i], g_summing, false});
          ++out.num_summing_resistors;
        }
        column_end[static_cast<std::size_t>(a) * m + i] = end;
      }
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
          const bool first_column = i % tc == 0, last_row = (p + 1) % tr == 0 || p == n - 1;
          segment("wr" + cell, first_column ? driver[p] : row_node[p * m + i - 1], row_node[p * m + i]);
          segment("wc" + cell, col_node[p * m + i],
                  last_row ? column_end[static_cast<std::size_t>(p / tr) * m + i] : col_node[(p + 1) * m + i]);
        }
    }
    std::vector<std::pair<int, int>> devices;
    devices.reserve(static_cast<std::size_t>(n) * m);
    for (int j = 0; j < n; ++j) {
      const int p = row_position(net, params, l, j);
      for (int i = 0; i < m; ++i, ++e) {
        Conductance& device = conductances[e];
        int row_side = wires ? row_node[p * m + i] : device.a;
        const int col_side = wires ? col_node[p * m + i]
                                   : column_end[static_cast<std::size_t>(p / tr) * m + i];
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
