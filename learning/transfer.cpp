#include "learning/transfer.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "learning/experiment.h"

namespace physlearn::learning {

void describe(Schema& schema, TransferParams& params) {
  schema.field("target_chip_seed", params.target_chip_seed,
               "seed of chip B, which receives chip A's network (chip A: chip.seed)")
      .min(0);
  schema.field("fine_tune_epochs", params.fine_tune_epochs, "epochs of in-situ fine-tuning on chip B")
      .min(0);
  schema.field("fine_tune_lr_scale", params.fine_tune_lr_scale,
               "learning rates of the fine-tuning, relative to learning.lr_weights and lr_biases")
      .greater(0.0);
}

namespace {

constexpr const char* kFormat = "physlearn-network";
constexpr int kVersion = 1;

/// Appends row r of m as a JSON array to `text`.
template <typename Derived>
void append_row(std::string& text, const Eigen::MatrixBase<Derived>& m, Eigen::Index r) {
  json row = json::array();
  for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(m(r, c));
  text += row.dump();
}

/// Appends m as JSON rows ([[...], ...]) to `text`, a row at a time, so that a large network is
/// never a JSON tree in memory (DRN-1H's 1.6 million conductances would take about 100 MB).
template <typename Derived>
void append_rows(std::string& text, const Eigen::MatrixBase<Derived>& m) {
  text += '[';
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    if (r > 0) text += ',';
    append_row(text, m, r);
  }
  text += ']';
}

void read_matrix(const json& value, Eigen::Index rows, Eigen::Index cols, const std::string& where,
                 double* out, Eigen::Index stride_row, Eigen::Index stride_col) {
  if (!value.is_array() || static_cast<Eigen::Index>(value.size()) != rows)
    throw Error(cat(where, ": expected ", rows, " rows"));
  for (Eigen::Index r = 0; r < rows; ++r) {
    const json& row = value[static_cast<std::size_t>(r)];
    if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != cols)
      throw Error(cat(where, "[", r, "]: expected ", cols, " values"));
    for (Eigen::Index c = 0; c < cols; ++c) {
      const json& v = row[static_cast<std::size_t>(c)];
      if (!v.is_number()) throw Error(cat(where, "[", r, "][", c, "]: not a number"));
      out[r * stride_row + c * stride_col] = v.get<double>();
    }
  }
}

}  // namespace

void save_network(const circuits::LayeredNetwork& net, const std::string& filename) {
  // Keys in the order nlohmann::json writes an object's keys (sorted).
  std::string text = "{\"biases\":[";
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    if (l > 0) text += ',';
    if (net.has_biases) append_row(text, net.biases[static_cast<std::size_t>(l)], 0);
    else text += "[]";
  }
  text += "],\"format\":" + json(kFormat).dump() + ",\"sizes\":" + json(net.sizes).dump() +
          ",\"version\":" + json(kVersion).dump() + ",\"weights\":[";
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    if (l > 0) text += ',';
    append_rows(text, net.weights[static_cast<std::size_t>(l)]);
  }
  text += "]}\n";
  write_file_atomic(filename, text);
}

void load_network(const std::string& filename, circuits::LayeredNetwork& net) {
  const json in = load_json_file(filename);
  if (!in.is_object() || in.value("format", "") != kFormat)
    throw Error(cat(filename, ": not a physlearn network file (\"format\": \"", kFormat, "\")"));
  if (in.value("version", 0) != kVersion)
    throw Error(cat(filename, ": version ", in.value("version", 0), ", this physlearn reads ", kVersion));
  if (!in.contains("sizes") || in["sizes"] != json(net.sizes))
    throw Error(cat(filename, ": layer sizes ", in.contains("sizes") ? in["sizes"].dump() : "(none)",
                    " differ from the experiment's network ", json(net.sizes).dump()));
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const std::size_t k = static_cast<std::size_t>(l);
    Eigen::MatrixXd& w = net.weights[k];
    read_matrix(in.at("weights").at(k), w.rows(), w.cols(), cat(filename, ": weights[", l, "]"), w.data(),
                1, w.rows());
    if (net.has_biases) {
      Eigen::RowVectorXd& b = net.biases[k];
      read_matrix(json::array({in.at("biases").at(k)}), 1, b.size(), cat(filename, ": biases[", l, "]"),
                  b.data(), 0, 1);
    }
  }
  for (const auto& w : net.weights)
    if ((w.array() < 0.0).any() || !w.allFinite())
      throw Error(cat(filename, ": conductances must be finite and >= 0"));
}

json run_transfer(const ExperimentConfig& config, const std::string& out_dir, bool quiet) {
  if (!config.has_chip && !config.has_crossbar)
    throw ConfigError("chip", "(absent)",
                      "the transfer protocol needs a chip section (chip A) or a crossbar section");
  if (!config.has_transfer)
    throw ConfigError("transfer", "(absent)", "needs a transfer section (target_chip_seed, fine_tune_epochs)");
  if (config.learning.rule == "backprop")
    throw ConfigError("learning.rule", "\"backprop\"", "the transfer protocol trains a circuit");
  const TransferParams& t = config.transfer;
  std::filesystem::create_directories(out_dir);
  struct Step {
    std::string name, from;
    bool hardware;  ///< on the chip and crossbar (else in software: neither)
    long chip_seed;
    int epochs;
    bool tune;
  };
  const long a = config.chip.seed, b = t.target_chip_seed;
  std::vector<Step> steps;
  if (config.has_chip)
    steps = {{"chip-a", "", true, a, config.learning.epochs, false},
             {"chip-b", "chip-a", true, b, 0, false},
             {"chip-b-tuned", "chip-a", true, b, t.fine_tune_epochs, true}};
  else  // a crossbar without devices: in situ on the circuit with wires
    steps = {{"in-situ", "", true, a, config.learning.epochs, false}};
  steps.push_back({"software", "", false, a, config.learning.epochs, false});
  steps.push_back({"ex-situ", "software", true, b, 0, false});
  steps.push_back({"ex-situ-tuned", "software", true, b, t.fine_tune_epochs, true});
  json table = {{"experiment", config.name}, {"seed", config.seed}, {"steps", json::array()}};
  std::ostringstream csv;
  csv << std::setprecision(10) << "step,chip_seed,initial_network,epochs,test_error,train_error,wall_seconds\n";
  for (const Step& s : steps) {
    ExperimentConfig c = config;
    c.has_transfer = false;
    c.has_chip = config.has_chip && s.hardware;
    c.has_crossbar = config.has_crossbar && s.hardware;
    if (config.has_crossbar && !s.hardware && config.network.diode != "shockley")
      c.solver.type = "layered";  // software: the same network without wires
    c.chip.seed = s.chip_seed;
    c.learning.epochs = s.epochs;
    if (s.tune) {
      for (double& r : c.learning.lr_weights) r *= t.fine_tune_lr_scale;
      for (double& r : c.learning.lr_biases) r *= t.fine_tune_lr_scale;
    }
    c.initial_network = s.from.empty() ? "" : out_dir + "/" + s.from + "/network.json";
    if (!quiet) std::cerr << "transfer: " << s.name << "\n";
    const RunResult r = run_experiment(c, out_dir + "/" + s.name, quiet);
    table["steps"].push_back({{"step", s.name},
                              {"chip_seed", s.hardware && config.has_chip ? json(s.chip_seed) : json(nullptr)},
                              {"initial_network", s.from.empty() ? json(nullptr) : json(s.from)},
                              {"epochs", s.epochs},
                              {"test_error", r.final_test_error},
                              {"train_error", r.final_train_error},
                              {"wall_seconds", r.wall_seconds}});
    csv << s.name << "," << (s.hardware && config.has_chip ? std::to_string(s.chip_seed) : "") << "," << s.from << ","
        << s.epochs << "," << r.final_test_error << "," << r.final_train_error << ","
        << r.wall_seconds << "\n";
    write_file_atomic(out_dir + "/transfer.json", table.dump(2) + "\n");
    write_file_atomic(out_dir + "/transfer.csv", csv.str());
  }
  return table;
}

std::string transfer_table(const json& transfer) {
  std::ostringstream out;
  out << std::left << std::setw(15) << "step" << std::setw(7) << "chip" << std::setw(8) << "epochs"
      << std::setw(12) << "test error" << std::setw(13) << "train error" << "seconds\n";
  for (const auto& s : transfer.at("steps")) {
    out << std::left << std::setw(15) << s.at("step").get<std::string>() << std::setw(7)
        << (s.at("chip_seed").is_null() ? std::string("-") : s.at("chip_seed").dump()) << std::setw(8)
        << s.at("epochs").get<int>() << std::fixed << std::setprecision(2) << std::setw(12)
        << 100.0 * s.at("test_error").get<double>() << std::setw(13)
        << 100.0 * s.at("train_error").get<double>() << std::setprecision(1)
        << s.at("wall_seconds").get<double>() << "\n";
    out.unsetf(std::ios::fixed);
  }
  return out.str();
}

}  // namespace physlearn::learning
