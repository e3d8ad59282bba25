#pragma once
/// A layered network's trained values as a file: DIR/network.json, which every run writes and
/// an experiment's `initial_network` reads (orchestration/transfer.h: mortal transfer).
///   {"biases": [[...] per layer], "format": "physlearn-network", "sizes": [...], "version": 1,
///    "weights": [[[...] per row] per layer]}
/// Conductances and bias currents in network units, as JSON numbers that read back bit for bit;
/// written a row at a time, so a large network is never a JSON tree in memory.
#include <string>

#include "circuits/drn.h"

namespace physlearn::circuits {

/// Writes a network's conductances and bias currents (network units) as JSON, bit for bit
/// (atomically: a temporary file, then a rename). A value that is not finite is an Error naming
/// the file and the layer (JSON has no NaN), and nothing is written.
void save_network(const LayeredNetwork& net, const std::string& filename);
/// Reads save_network's file into `net`, whose layer sizes must match; errors (physlearn::Error)
/// name the file and what is wrong, and leave `net` unchanged.
void load_network(const std::string& filename, LayeredNetwork& net);

}  // namespace physlearn::circuits
