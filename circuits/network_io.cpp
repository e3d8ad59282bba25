#include "circuits/network_io.h"

#include "core/error.h"
#include "core/schema.h"

namespace physlearn::circuits {
namespace {

using json = nlohmann::json;

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

void save_network(const LayeredNetwork& net, const std::string& filename) {
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

void load_network(const std::string& filename, LayeredNetwork& net) {
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

}  // namespace physlearn::circuits
