#pragma once
/// A layered network laid out on memristor crossbars, with the wires' resistance in the circuit.
///
/// Weight layer l of a LayeredNetwork (sizes[l] x sizes[l+1] conductances) becomes one crossbar of
/// sizes[l] rows and sizes[l+1] columns. Row j is driven at its left end by unit j of layer l (an
/// input source, or a hidden neuron's node); column i ends at its bottom in unit i of layer l+1
/// (a neuron node, with its diode and bias source, as in circuits/drn.h). The device of weight
/// (j, i) sits at the crossing of row j and column i:
///
///     driver_j --w-- r(j,0) --w-- r(j,1) --w-- ... --w-- r(j,m-1)        (row j, m = columns)
///                      |            |                      |
///                  [access]     [access]               [access]        (optional series resistor)
///                      |            |                      |
///                   device       device                 device
///                      |            |                      |
///                    c(j,0)       c(j,1)                 c(j,m-1)
///                      w            w                      w          (column wires run down:
///     ...            c(n-1,0) --w-- neuron_0   ...                     c(j,i) --w-- c(j+1,i),
///                                                                       c(n-1,i) --w-- neuron_i)
///
/// Every segment of wire (between neighbouring cells, and between the last cell and its driver
/// or neuron) has resistance `wire_resistance` (ohm); `access_resistance` (ohm) is a selector or
/// access transistor in series with each device. With both zero the crossbar is exactly the DRN of
/// circuits/drn.h (same nodes, same elements); otherwise IR drop comes out of the circuit solve
/// itself: every device sees the drop between its own row and column wire nodes, and the learning
/// rules use that drop (Equilibrium Propagation's gradient holds for any resistive network, wires
/// included: dE/dg_device = 1/2 dV_device^2).
///
/// Signed weights: the DRN's inverted inputs make every input row a differential pair (rows x and
/// -x carry opposite voltages, so a weight is G(x row) - G(-x row)); `row_pairs` "interleaved"
/// places the two rows of a pair next to each other (x_0, -x_0, x_1, -x_1, ...), "blocked" (the
/// DRN's own order) puts all inverted rows after the direct ones. The layout changes which devices
/// see which wire length, not the network.
///
/// Tiles (tile_rows, tile_cols): chips hold a large layer on several arrays. Tile (a, b) of a layer
/// holds physical rows [a R, a R + R) and columns [b C, b C + C); each of its rows starts at the
/// row's driver with its own first segment, each of its columns ends at the neuron with its own
/// last segment, directly (an ideal current sum: the tiles' partial column currents add at the
/// neuron node) or through `summing_resistance`. The wires of different tiles never touch.
///
/// Units: the circuit is in network units like the DRN (conductance unit g_unit siemens, volts);
/// wire and access resistances are given in ohm and converted with g_unit.
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/schema.h"

namespace physlearn::circuits {

/// The "crossbar" section of an experiment.
struct CrossbarParams {
  double wire_resistance = 0.0;    ///< ohm per wire segment (one cell pitch)
  double access_resistance = 0.0;  ///< ohm in series with each device
  /// Siemens per network unit of conductance; 0: chip.g_unit when a chip is given, else 1e-4.
  double g_unit = 0.0;
  std::string row_pairs = "blocked";  ///< input rows: "blocked" (x..., -x...) or "interleaved"
  /// Tiles: a weight layer with more rows than tile_rows or more columns than tile_cols is split
  /// over several crossbars of at most tile_rows x tile_cols devices (0: no limit), each with its
  /// own wires (tiles of a row block are driven side by side from the row's driver, tiles of a
  /// column block sum their column currents at the neuron).
  int tile_rows = 0;
  int tile_cols = 0;
  /// How a tile's column meets its neuron: 0, an ideal current sum (the column's last wire
  /// segment ends at the neuron node); > 0, through this resistance (ohm) per tile column.
  double summing_resistance = 0.0;
  /// How the phases are solved (solvers/crossbar_phases.h), all exact: "sparse" (a sparse
  /// Cholesky factorisation of the wire network per mini-batch; memory grows with the devices),
  /// "dense" (the Kron reduction with dense wire-nodes x terminals matrices; small arrays only) or
  /// "newton" (Newton on the full circuit for every sample; the reference, much slower).
  std::string solver = "sparse";
};

void describe(Schema& schema, CrossbarParams& params);

/// How a weight layer of `rows` x `cols` devices is split into tiles under `params`.
struct TileLayout {
  int tile_rows = 0, tile_cols = 0;    ///< rows and columns of a full tile
  int row_blocks = 0, col_blocks = 0;  ///< tiles down and across
  int tiles() const { return row_blocks * col_blocks; }
};
TileLayout tile_layout(int rows, int cols, const CrossbarParams& params);

/// The crossbar circuit of a layered network, with maps back to the layers. The device
/// conductances come first in `lowered.circuit.list<Conductance>()`, in the DRN's order (layer by layer,
/// row j, column i), so LoweredNetwork::update sets them; wires and access resistors follow.
struct LoweredCrossbar {
  LoweredNetwork lowered;
  /// Per weight layer, the (row side, column side) node of each device, in the DRN's order.
  std::vector<std::vector<std::pair<int, int>>> device_nodes;
  int num_wire_segments = 0;
  int num_access_resistors = 0;
  int num_summing_resistors = 0;
  /// Per weight layer, its tiles (row blocks x column blocks; 1 without tiling).
  std::vector<int> tiles;
};

/// Lays `net` out on crossbars. `g_unit` is the resolved siemens per network unit. With
/// `clamp_outputs`, voltage sources hold the output neurons (CHL, coupled learning). Throws
/// ConfigError (under "crossbar") for negative resistances or a non-positive g_unit.
LoweredCrossbar lower_to_crossbar(const LayeredNetwork& net, const CrossbarParams& params,
                                  double g_unit, bool clamp_outputs = false);

}  // namespace physlearn::circuits
