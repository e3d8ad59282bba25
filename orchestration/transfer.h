#pragma once
/// Mortal computation, measured: what one chip learned, carried to another chip.
///
/// A run writes its trained network (conductances and bias currents, network units) to
/// DIR/network.json. An experiment whose `initial_network` names such a file starts from it: with
/// a chip, the conductances are programmed onto the chip's devices through the learning
/// controller, from the state a fresh chip is in (open loop unless controller.verify_iterations
/// asks for write-verify), so the chip holds what its own devices make of them; without a chip
/// they are set exactly. Bias currents are sources and are set exactly.
///
/// `physlearn transfer EXPERIMENT.json` runs the whole protocol of the experiment's "transfer"
/// section, each step in its own folder, and writes one table:
///   chip-a        trained in situ on chip A (the experiment's chip.seed)
///   chip-b        A's network programmed onto chip B (transfer.target_chip_seed), measured
///   chip-b-tuned  chip B fine-tuned in situ for transfer.fine_tune_epochs epochs
///   software      trained ideally in software (no chip), same schedule
///   ex-situ       the software network programmed onto chip B, measured
///   ex-situ-tuned that chip fine-tuned in situ for transfer.fine_tune_epochs epochs
/// An experiment with a crossbar section and no chip runs in-situ (trained on the crossbar
/// circuit, wires included), software (the same network without wires, on the layered solver
/// with its default options and the same solver.precision; Shockley diodes stay on newton),
/// ex-situ (the software network on the crossbar) and ex-situ-tuned: what IR drop costs a network
/// trained elsewhere.
#include <string>

#include "circuits/drn.h"
#include "core/schema.h"

namespace physlearn::orchestration {

struct ExperimentConfig;

/// The "transfer" section.
struct TransferParams {
  long target_chip_seed = 2;  ///< chip B's seed (chip A is chip.seed)
  int fine_tune_epochs = 3;   ///< epochs of in-situ fine-tuning on chip B
  double fine_tune_lr_scale = 1.0;  ///< learning rates of fine-tuning, relative to the experiment's
};

void describe(Schema& schema, TransferParams& params);

/// Runs the transfer protocol (see above) in out_dir/<step>/ and writes out_dir/transfer.json and
/// out_dir/transfer.csv (step, chip seed, epochs, test error, train error, wall time). Needs a
/// "transfer" section and a "chip" or "crossbar" section; returns transfer.json's object.
json run_transfer(const ExperimentConfig& config, const std::string& out_dir, bool quiet);

/// The table as text, one row per step.
std::string transfer_table(const json& transfer);

}  // namespace physlearn::orchestration
