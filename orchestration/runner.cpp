#include "orchestration/runner.h"

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

#include "learning/gradient.h"
#include "learning/physics.h"
#include "orchestration/checkpoint.h"
#include "orchestration/histogram.h"
#include "orchestration/models.h"
#include "orchestration/progress.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

using learning::Model;

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
  for (const auto& e : epochs) epochs_json.push_back(orchestration::to_json(e));
  out["epochs"] = epochs_json;
  out["final"] = {{"train_error", final_train_error},
                  {"test_error", final_test_error},
                  {"train_loss", final_train_loss},
                  {"test_loss", final_test_loss},
                  {"wall_seconds", wall_seconds}};
  out["complete"] = complete;
  if (config.has_crossbar) {
    // The arrays the run trained on: the crossbar section as resolved, and each weight layer's
    // tiles (row blocks x column blocks).
    const circuits::CrossbarParams& x = config.crossbar;
    std::vector<int> sizes = {config.network.inputs * (config.network.inverted_inputs ? 2 : 1)};
    sizes.insert(sizes.end(), config.network.hidden.begin(), config.network.hidden.end());
    sizes.push_back(config.network.outputs);
    json tiles = json::array();
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
      const circuits::TileLayout t = circuits::tile_layout(sizes[l], sizes[l + 1], x);
      tiles.push_back({{"rows", sizes[l]},
                       {"cols", sizes[l + 1]},
                       {"tiles", t.tiles()},
                       {"tile_rows", t.tile_rows},
                       {"tile_cols", t.tile_cols}});
    }
    out["crossbar"] = {{"wire_resistance", x.wire_resistance},
                       {"access_resistance", x.access_resistance},
                       {"summing_resistance", x.summing_resistance},
                       {"g_unit", crossbar_g_unit(config)},
                       {"row_pairs", x.row_pairs},
                       {"solver", x.solver},
                       {"layers", tiles}};
  }
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

EpochFigures train_epoch(Model& model, const data::Dataset& d, const std::vector<int>& order,
                         int batch_size,
                         const std::function<void(std::size_t, std::size_t, double, long)>&
                             after_batch) {
  const std::size_t batches = (order.size() + batch_size - 1) / batch_size;
  Eigen::MatrixXd inputs, targets, outputs;
  double loss_sum = 0.0;
  long errors = 0;
  for (std::size_t batch = 0; batch < batches; ++batch) {
    const std::size_t begin = batch * batch_size;
    const std::size_t end = std::min(order.size(), begin + batch_size);
    gather_batch(d, order, begin, end, inputs, targets);
    model.train_batch(inputs, targets, outputs);
    loss_sum += batch_loss(outputs, targets) * static_cast<double>(inputs.rows());
    errors += count_errors(outputs, targets);
    if (after_batch) after_batch(batch, end, loss_sum, errors);
  }
  return {loss_sum / static_cast<double>(order.size()),
          static_cast<double>(errors) / static_cast<double>(order.size())};
}

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
  Progress progress(options.quiet, config.output.progress_seconds, lp.epochs, first_epoch, batches,
                    order.size());
  progress.header(cat("physlearn: ", config.name, ": ", model->description(), ", ",
                      model->num_parameters(), " parameters, ", split.train.num_samples(),
                      " training samples, ", lp.epochs, " epochs",
                      first_epoch > 1 ? cat(", resumed after epoch ", first_epoch - 1) : ""));
  for (int epoch = first_epoch; epoch <= lp.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    if (lp.shuffle) std::shuffle(order.begin(), order.end(), order_rng);
    const EpochFigures trained =
        train_epoch(*model, split.train, order, lp.batch_size,
                    [&](std::size_t batch, std::size_t samples, double loss_sum, long errors) {
                      progress.batch(epoch, batch, samples, loss_sum, errors);
                    });
    model->end_epoch();
    EpochRecord record;
    record.alignment = model->take_alignment();
    record.devices = model->take_device_figures();
    record.physics = model->take_physics();
    record.epoch = epoch;
    record.train_loss = trained.loss;
    record.train_error = trained.error;
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

}  // namespace physlearn::orchestration
