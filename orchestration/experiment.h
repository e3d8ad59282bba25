#pragma once
/// An experiment is data: a JSON file names the network, the solver, the learning rule, the data
/// and the schedule. Defaults live in the parameter structs; the file overrides them; command-line
/// `--set key=value` overrides the file; the resolved configuration is written beside the results.
#include <functional>
#include <string>
#include <vector>

#include "circuits/crossbar.h"
#include "circuits/drn.h"
#include "core/schema.h"
#include "data/dataset.h"
#include "devices/chip.h"
#include "learning/controller.h"
#include "learning/rule.h"
#include "orchestration/transfer.h"
#include "solvers/equilibrium.h"

namespace physlearn::orchestration {

using learning::ControllerParams;

/// The "learning" section.
struct LearningParams {
  std::string rule = "ep";           ///< ep, chl, cl, exact, or backprop (the digital baseline)
  std::string variant = "centered";  ///< ep and cl: positive, negative or centered
  double beta = 0.5;                 ///< ep: nudging strength (S: the conductance of the nudge)
  double eta = 0.5;                  ///< cl: outputs clamped to o + eta (y - o)
  int epochs = 10;
  int batch_size = 32;
  double momentum = 0.0;
  /// Learning rate of each layer's conductances (one value: the same for every layer).
  std::vector<double> lr_weights = {0.005};
  /// Learning rate of each layer's bias currents (one value: the same for every layer).
  std::vector<double> lr_biases = {0.005};
  double lr_decay = 1.0;             ///< learning rates multiplied by this after every epoch
  double g_min = 0.0;                ///< conductances kept in [g_min, g_max]
  double g_max = 1e9;
  bool shuffle = true;               ///< reshuffle the training set every epoch (seeded)
  /// Every this many mini-batches, compare the rule's direction with the exact gradient (0: off).
  int alignment_every = 0;
  /// backprop: learning rates of the baseline (empty: lr_weights / lr_biases).
  std::vector<double> backprop_lr_weights;
  std::vector<double> backprop_lr_biases;
  /// J per multiply-accumulate of the digital comparison in results' "physics" (learning/physics.h)
  double digital_energy_per_mac = 1e-12;
};

void describe(Schema& schema, LearningParams& params);

/// What the learning section says to the rule registry (learning/rule.h): the one place that
/// maps the section's keys to RuleSettings.
learning::RuleSettings rule_settings(const LearningParams& params);

/// The "output" section.
struct OutputParams {
  std::string dir = "";            ///< results folder (default runs/<name>; --out overrides)
  double progress_seconds = 2.0;   ///< seconds between progress lines on stderr (0: per epoch only)
};

void describe(Schema& schema, OutputParams& params);

struct ExperimentConfig {
  std::string name = "experiment";
  int seed = 1;
  std::string network_type = "drn";
  circuits::DrnParams network;
  solvers::SolverParams solver;
  LearningParams learning;
  data::DataParams data;
  OutputParams output;
  bool has_chip = false;      ///< a "chip" section was given: devices stand behind the conductances
  devices::ChipParams chip;
  ControllerParams controller;
  /// A network.json written by an earlier run: the network starts from it (programmed onto the
  /// chip's devices when there is a chip; see orchestration/transfer.h). Empty: the seeded init.
  std::string initial_network;
  bool has_transfer = false;  ///< a "transfer" section was given (physlearn transfer)
  TransferParams transfer;
  bool has_crossbar = false;  ///< a "crossbar" section was given: weight layers laid on crossbars
  circuits::CrossbarParams crossbar;
};

/// Siemens per network unit of a crossbar: crossbar.g_unit, else chip.g_unit, else 1e-4.
double crossbar_g_unit(const ExperimentConfig& config);

void describe(Schema& schema, ExperimentConfig& config);

/// Reads an experiment: JSON file, then overrides ("a.b=value"); validates every key and the rules
/// that join keys (learning-rate lists match the layers, inputs match the data).
ExperimentConfig load_experiment(const std::string& filename, const std::vector<std::string>& overrides);
ExperimentConfig parse_experiment(const json& config);
/// The resolved configuration, every default filled in.
json resolved_json(ExperimentConfig& config);

}  // namespace physlearn::orchestration
