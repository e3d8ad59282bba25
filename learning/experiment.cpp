#include "learning/experiment.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

#include "learning/checkpoint.h"
#include "learning/gradient.h"
#include "learning/histogram.h"
#include "learning/physics.h"
#include "learning/progress.h"

namespace physlearn::learning {

void describe(Schema& s, LearningParams& p) {
  s.field("rule", p.rule,
          "learning rule: ep (Equilibrium Propagation), chl (Contrastive Hebbian), cl (Coupled "
          "Learning), exact (the exact gradient of the circuit), backprop (ReLU network baseline)")
      .one_of({"ep", "chl", "cl", "exact", "backprop"});
  s.field("variant", p.variant, "ep and cl: perturb +, -, or both ways (centered)")
      .one_of({"positive", "negative", "centered"});
  s.field("beta", p.beta, "ep: nudging strength (conductance of the nudge to the target)")
      .unit("S").greater(0.0);
  s.field("eta", p.eta, "cl: outputs clamped to o + eta (y - o)").greater(0.0).max(1.0);
  s.field("epochs", p.epochs, "passes over the training set").min(0);
  s.field("batch_size", p.batch_size, "samples per mini-batch").min(1);
  s.field("momentum", p.momentum, "SGD momentum").min(0.0).max(1.0);
  s.field("lr_weights", p.lr_weights,
          "learning rate of each layer's conductances (one value: all layers)").min(0.0);
  s.field("lr_biases", p.lr_biases, "learning rate of each layer's bias currents (one value: all layers)")
      .min(0.0);
  s.field("lr_decay", p.lr_decay, "learning rates multiplied by this after every epoch")
      .greater(0.0).max(1.0);
  s.field("g_min", p.g_min, "lower bound of trainable conductances").unit("S").min(0.0);
  s.field("g_max", p.g_max, "upper bound of trainable conductances").unit("S").greater(0.0);
  s.field("shuffle", p.shuffle, "reshuffle the training set every epoch (seeded)");
  s.field("alignment_every", p.alignment_every,
          "every N mini-batches, log the cosine and norm ratio of the rule's update against the "
          "exact gradient, per layer (0: off)")
      .min(0);
  s.field("backprop_lr_weights", p.backprop_lr_weights,
          "backprop baseline: weight learning rates (empty: lr_weights)").min(0.0);
  s.field("backprop_lr_biases", p.backprop_lr_biases,
          "backprop baseline: bias learning rates (empty: lr_biases)").min(0.0);
  s.field("digital_energy_per_mac", p.digital_energy_per_mac,
          "energy per multiply-accumulate of the digital comparison in results' physics (solver "
          "transient); default 1 pJ: an FP32 MAC on a modern GPU process, from Horowitz ISSCC 2014")
      .unit("J").min(0.0);
}

void describe(Schema& s, OutputParams& p) {
  s.field("dir", p.dir, "results folder (empty: runs/<name>; --out overrides)");
  s.field("progress_seconds", p.progress_seconds,
          "seconds between progress lines within an epoch (0: one line per epoch)")
      .unit("s").min(0.0);
}

void describe(Schema& s, ExperimentConfig& c) {
  s.field("name", c.name, "experiment name (default results folder runs/<name>)");
  s.field("seed", c.seed, "seed of every random draw (initial conductances, data order, synthetic data)")
      .min(0);
  s.variant("network", "the trainable network", c.network_type,
            {{"drn", [&c](Schema& sub) { circuits::describe(sub, c.network); }}});
  s.section("solver", "steady-state solver for every phase",
            [&c](Schema& sub) { solvers::describe(sub, c.solver); });
  s.section("learning", "learning rule, optimiser and schedule",
            [&c](Schema& sub) { describe(sub, c.learning); });
  s.section("data", "dataset", [&c](Schema& sub) { data::describe(sub, c.data); });
  s.section("output", "results and progress", [&c](Schema& sub) { describe(sub, c.output); });
  s.optional_section("chip", "the device population behind the trainable conductances", c.has_chip,
                     [&c](Schema& sub) { devices::describe(sub, c.chip); });
  s.section("controller", "learning controller: desired changes to programming pulses (with a chip)",
            [&c](Schema& sub) { describe(sub, c.controller); });
  s.field("initial_network", c.initial_network,
          "network.json of an earlier run to start from (programmed onto the chip, open loop unless "
          "controller.verify_iterations); empty: the seeded initial conductances");
  s.optional_section("transfer", "the mortal-transfer protocol of physlearn transfer (chip A to chip B)",
                     c.has_transfer, [&c](Schema& sub) { describe(sub, c.transfer); });
  s.optional_section("crossbar",
                     "lay the weight layers out on crossbars with wire and access resistance "
                     "(solver.type \"newton\": every phase solved on the full circuit)",
                     c.has_crossbar, [&c](Schema& sub) { circuits::describe(sub, c.crossbar); });
}

double crossbar_g_unit(const ExperimentConfig& c) {
  if (c.crossbar.g_unit > 0.0) return c.crossbar.g_unit;
  return c.has_chip ? c.chip.g_unit : 1e-4;
}

namespace {

/// Expands a one-value learning-rate list to every layer; checks the length otherwise.
void expand_rates(std::vector<double>& rates, int layers, const std::string& path) {
  if (rates.size() == 1) rates.assign(layers, rates[0]);
  if (static_cast<int>(rates.size()) != layers)
    throw ConfigError(path, json_text(json(rates)),
                      "must hold one value or one per weight layer (" + std::to_string(layers) + ")");
}

void validate(ExperimentConfig& c) {
  const int layers = static_cast<int>(c.network.hidden.size()) + 1;
  expand_rates(c.learning.lr_weights, layers, "learning.lr_weights");
  expand_rates(c.learning.lr_biases, layers, "learning.lr_biases");
  if (!c.learning.backprop_lr_weights.empty())
    expand_rates(c.learning.backprop_lr_weights, layers, "learning.backprop_lr_weights");
  if (!c.learning.backprop_lr_biases.empty())
    expand_rates(c.learning.backprop_lr_biases, layers, "learning.backprop_lr_biases");
  if (c.learning.g_max <= c.learning.g_min)
    throw ConfigError("learning.g_max", json_text(json(c.learning.g_max)), "must be > learning.g_min");
  if (c.network.init == "uniform" && c.network.init_high < c.network.init_low)
    throw ConfigError("network.init_high", json_text(json(c.network.init_high)),
                      "must be >= network.init_low");
  const int side = c.data.pool > 0 ? 28 / c.data.pool : 28;
  const int features = c.data.type == "fashion-mnist" ? side * side : 2;
  if (c.network.inputs != features)
    throw ConfigError("network.inputs", std::to_string(c.network.inputs),
                      "must equal the features of data.type \"" + c.data.type + "\" (" +
                          std::to_string(features) + ")");
  const int classes = c.data.type == "fashion-mnist" ? 10 : 2;
  if (c.network.outputs != classes)
    throw ConfigError("network.outputs", std::to_string(c.network.outputs),
                      "must equal the classes of data.type \"" + c.data.type + "\" (" +
                          std::to_string(classes) + ")");
  if (c.solver.type == "layered" && c.network.diode == "shockley")
    throw ConfigError("solver.type", "\"layered\"",
                      "needs network.diode \"ideal\" or \"none\" (use \"newton\" for shockley diodes)");
  if (!c.initial_network.empty() && c.learning.rule == "backprop")
    throw ConfigError("initial_network", "\"" + c.initial_network + "\"",
                      "applies to circuits, not to the backprop baseline");
  if (c.has_crossbar && c.solver.type != "newton")
    throw ConfigError("solver.type", "\"" + c.solver.type + "\"",
                      "must be \"newton\" with a crossbar section (the phases are solved on the "
                      "full crossbar circuit)");
  if (c.has_crossbar && c.has_chip && c.crossbar.g_unit > 0.0 && c.crossbar.g_unit != c.chip.g_unit)
    throw ConfigError("crossbar.g_unit", json_text(json(c.crossbar.g_unit)),
                      "must equal chip.g_unit (" + json_text(json(c.chip.g_unit)) + ") or be 0");
  if (c.has_crossbar && c.learning.alignment_every > 0)
    throw ConfigError("learning.alignment_every", std::to_string(c.learning.alignment_every),
                      "must be 0 with a crossbar (the exact gradient needs the layered view)");
  if (c.network.diode != "none")
    for (std::size_t l = 0; l < c.network.hidden.size(); ++l)
      if (c.network.hidden[l] % 2 != 0)
        throw ConfigError("network.hidden[" + std::to_string(l) + "]",
                          std::to_string(c.network.hidden[l]),
                          "must be even when diodes are used (half v>=0, half v<=0)");
}

}  // namespace

ExperimentConfig parse_experiment(const json& config) {
  ExperimentConfig c;
  Schema schema;
  describe(schema, c);
  schema.read(config, "");
  validate(c);
  return c;
}

ExperimentConfig load_experiment(const std::string& filename, const std::vector<std::string>& overrides) {
  json config = load_json_file(filename);
  for (const auto& o : overrides) apply_override(config, o);
  try {
    return parse_experiment(config);
  } catch (const ConfigError& e) {
    throw Error(filename + ": " + e.what());
  }
}

json resolved_json(ExperimentConfig& config) {
  Schema schema;
  describe(schema, config);
  return schema.write();
}

json to_json(const EpochRecord& e) {
  json record = {{"epoch", e.epoch},
                 {"train_loss", e.train_loss},
                 {"train_error", e.train_error},
                 {"test_loss", e.test_loss},
                 {"test_error", e.test_error},
                 {"wall_seconds", e.wall_seconds}};
  if (!e.devices.is_null()) record["devices"] = e.devices;
  if (!e.physics.is_null()) record["physics"] = e.physics;
  if (!e.alignment.empty()) {
    record["alignment"] = json::array();
    for (std::size_t l = 0; l < e.alignment.size(); ++l)
      record["alignment"].push_back({{"layer", l},
                                     {"cosine", e.alignment[l].cosine},
                                     {"norm_ratio", e.alignment[l].norm_ratio}});
  }
  return record;
}

json RunResult::to_json(const ExperimentConfig& config) const {
  json out;
  out["name"] = config.name;
  out["seed"] = config.seed;
  json epochs_json = json::array();
  for (const auto& e : epochs) epochs_json.push_back(learning::to_json(e));
  out["epochs"] = epochs_json;
  out["final"] = {{"train_error", final_train_error},
                  {"test_error", final_test_error},
                  {"train_loss", final_train_loss},
                  {"test_loss", final_test_loss},
                  {"wall_seconds", wall_seconds}};
  out["complete"] = complete;
  std::vector<json> physics;
  for (const auto& e : epochs) physics.push_back(e.physics);
  if (json p = combine_physics(physics); !p.is_null()) out["final"]["physics"] = p;
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Rows `indices[begin, end)` of the dataset as double inputs and one-hot targets.
void gather_batch(const data::Dataset& d, const std::vector<int>& indices, std::size_t begin,
                  std::size_t end, Eigen::MatrixXd& inputs, Eigen::MatrixXd& targets) {
  const Eigen::Index n = static_cast<Eigen::Index>(end - begin);
  inputs.resize(n, d.num_features());
  targets.setZero(n, d.num_classes);
  for (Eigen::Index r = 0; r < n; ++r) {
    const int k = indices[begin + static_cast<std::size_t>(r)];
    inputs.row(r) = d.inputs.row(k).cast<double>();
    targets(r, d.labels[k]) = 1.0;
  }
}

/// Misclassified samples: argmax of the outputs differs from the target's.
int count_errors(const Eigen::MatrixXd& outputs, const Eigen::MatrixXd& targets) {
  int errors = 0;
  for (Eigen::Index r = 0; r < outputs.rows(); ++r) {
    Eigen::Index predicted, label;
    outputs.row(r).maxCoeff(&predicted);
    targets.row(r).maxCoeff(&label);
    errors += predicted != label;
  }
  return errors;
}

struct Evaluation {
  double loss = 0.0;
  double error = 0.0;
};

/// Free phase only, in batches, over the whole dataset.
Evaluation evaluate(Model& model, const data::Dataset& d, int batch_size) {
  std::vector<int> order(d.num_samples());
  std::iota(order.begin(), order.end(), 0);
  Evaluation e;
  Eigen::MatrixXd inputs, targets, outputs;
  for (std::size_t begin = 0; begin < order.size(); begin += batch_size) {
    const std::size_t end = std::min(order.size(), begin + batch_size);
    gather_batch(d, order, begin, end, inputs, targets);
    model.predict(inputs, outputs);
    e.loss += batch_loss(outputs, targets) * static_cast<double>(inputs.rows());
    e.error += count_errors(outputs, targets);
  }
  e.loss /= static_cast<double>(order.size());
  e.error /= static_cast<double>(order.size());
  return e;
}

void write_history(const std::string& filename, const std::vector<EpochRecord>& epochs) {
  std::ostringstream out;
  out << "epoch,train_loss,train_error,test_loss,test_error,wall_seconds\n";
  out << std::setprecision(10);
  for (const auto& e : epochs)
    out << e.epoch << "," << e.train_loss << "," << e.train_error << "," << e.test_loss << ","
        << e.test_error << "," << e.wall_seconds << "\n";
  write_file_atomic(filename, out.str());
}

}  // namespace

RunResult run_experiment(ExperimentConfig& config, const std::string& out_dir, bool quiet) {
  RunOptions options;
  options.quiet = quiet;
  return run_experiment(config, out_dir, options);
}

RunResult run_experiment(ExperimentConfig& config, const std::string& out_dir, const RunOptions& options) {
  const auto start = Clock::now();
  const LearningParams& lp = config.learning;
  // Everything that can fail on the configuration or the data fails before the folder is touched.
  data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  std::unique_ptr<Model> model = make_model(config, split.train.num_features(), split.train.num_classes);

  std::mt19937_64 order_rng(static_cast<std::uint64_t>(config.seed) * 0x9E3779B97F4A7C15ull + 1);
  std::vector<int> order(split.train.num_samples());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t batches = (order.size() + lp.batch_size - 1) / lp.batch_size;

  RunResult result;
  double earlier_seconds = 0.0;  // training time before this process (a resumed run)
  if (const Checkpoint* resume = options.resume) {
    if (resume->order.size() != order.size())
      throw Error(cat(checkpoint_file(out_dir), ": its data order has ", resume->order.size(),
                      " samples, the training set ", order.size()));
    model->load_state(resume->model, checkpoint_file(out_dir) + ": model");
    order = resume->order;
    order_rng = resume->order_rng;
    result.epochs = resume->epochs;
    earlier_seconds = resume->wall_seconds;
  }
  std::filesystem::create_directories(out_dir);
  if (!options.resume) {
    write_file_atomic(out_dir + "/config.resolved.json", resolved_json(config).dump(2) + "\n");
    std::filesystem::remove(checkpoint_file(out_dir));  // an earlier run's
    write_conductance_histograms(*model, out_dir + "/conductances_start.csv");
  }

  const int first_epoch = static_cast<int>(result.epochs.size()) + 1;
  Eigen::MatrixXd inputs, targets, outputs;
  Progress progress(options.quiet, config.output.progress_seconds, lp.epochs, first_epoch, batches,
                    order.size());
  progress.header(cat("physlearn: ", config.name, ": ", model->description(), ", ",
                      model->num_parameters(), " parameters, ", split.train.num_samples(),
                      " training samples, ", lp.epochs, " epochs",
                      first_epoch > 1 ? cat(", resumed after epoch ", first_epoch - 1) : ""));
  for (int epoch = first_epoch; epoch <= lp.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    if (lp.shuffle) std::shuffle(order.begin(), order.end(), order_rng);
    double loss_sum = 0.0;
    long errors = 0;
    for (std::size_t batch = 0; batch < batches; ++batch) {
      const std::size_t begin = batch * lp.batch_size;
      const std::size_t end = std::min(order.size(), begin + lp.batch_size);
      gather_batch(split.train, order, begin, end, inputs, targets);
      model->train_batch(inputs, targets, outputs);
      loss_sum += batch_loss(outputs, targets) * static_cast<double>(inputs.rows());
      errors += count_errors(outputs, targets);
      progress.batch(epoch, batch, end, loss_sum, errors);
    }
    model->end_epoch();
    EpochRecord record;
    record.alignment = model->take_alignment();
    record.devices = model->take_device_figures();
    record.physics = model->take_physics();
    record.epoch = epoch;
    record.train_loss = loss_sum / static_cast<double>(order.size());
    record.train_error = static_cast<double>(errors) / static_cast<double>(order.size());
    const Evaluation test = evaluate(*model, split.test, std::max(lp.batch_size, 256));
    record.test_loss = test.loss;
    record.test_error = test.error;
    record.wall_seconds = seconds_since(epoch_start);
    result.epochs.push_back(record);
    result.wall_seconds = earlier_seconds + seconds_since(start);
    result.final_test_error = test.error;
    result.final_test_loss = test.loss;
    result.final_train_error = record.train_error;
    result.final_train_loss = record.train_loss;
    write_history(out_dir + "/history.csv", result.epochs);
    write_file_atomic(out_dir + "/results.json", result.to_json(config).dump(2) + "\n");
    if (options.checkpoint_every > 0 && epoch % options.checkpoint_every == 0)
      write_checkpoint(out_dir, config, *model, options.checkpoint_every, result.wall_seconds, order,
                       order_rng, result.epochs);
    progress.epoch_done(record);
  }
  // Final figures on the whole training set with the trained network (free phase).
  const Evaluation train = evaluate(*model, split.train, std::max(lp.batch_size, 256));
  const Evaluation test = evaluate(*model, split.test, std::max(lp.batch_size, 256));
  result.final_train_error = train.error;
  result.final_train_loss = train.loss;
  result.final_test_error = test.error;
  result.final_test_loss = test.loss;
  result.wall_seconds = earlier_seconds + seconds_since(start);
  result.complete = true;
  write_conductance_histograms(*model, out_dir + "/conductances_end.csv");
  model->save(out_dir);
  write_history(out_dir + "/history.csv", result.epochs);
  write_file_atomic(out_dir + "/results.json", result.to_json(config).dump(2) + "\n");
  std::filesystem::remove(checkpoint_file(out_dir));
  return result;
}

}  // namespace physlearn::learning
