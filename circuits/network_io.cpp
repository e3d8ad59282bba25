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

/// Reads `value`, a JSON array of `rows` arrays of `cols` numbers, into out[r * stride_row + c *
/// stride_col]; errors name `where` and the row and column.
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

/// Reads `value`, a JSON array of `cols` numbers, into `row`; errors name `where` and the column.
void read_row(const json& value, const std::string& where, Eigen::RowVectorXd& row) {
  if (!value.is_array() || static_cast<Eigen::Index>(value.size()) != row.size())
    throw Error(cat(where, ": expected ", row.size(), " values"));
  for (Eigen::Index c = 0; c < row.size(); ++c) {
    const json& v = value[static_cast<std::size_t>(c)];
    if (!v.is_number()) throw Error(cat(where, "[", c, "]: not a number"));
    row(c) = v.get<double>();
  }
}

/// in[key], an array of one entry per weight layer; an Error naming the file otherwise.
const json& per_layer(const json& in, const char* key, int layers, const std::string& filename) {
  if (!in.contains(key) || !in[key].is_array() || static_cast<int>(in[key].size()) != layers)
    throw Error(cat(filename, ": \"", key, "\" must be an array of ", layers, " layers"));
  return in[key];
}

}  // namespace

void save_network(const LayeredNetwork& net, const std::string& filename) {
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const std::size_t k = static_cast<std::size_t>(l);
    if (!net.weights[k].allFinite() || (net.has_biases && !net.biases[k].allFinite()))
      throw Error(cat(filename, ": layer ", l, " holds a value that is not finite (NaN or inf); "
                                "JSON cannot hold it, so the network is not written"));
  }
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
  const auto text_of = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (!in.is_object() || !in.contains("format") || in["format"] != kFormat)
    throw Error(cat(filename, ": not a physlearn network file (\"format\": \"", kFormat, "\")"));
  if (!in.contains("version") || in["version"] != kVersion)
    throw Error(cat(filename, ": version ", in.contains("version") ? text_of(in["version"]) : "(none)",
                    ", this physlearn reads ", kVersion));
  if (!in.contains("sizes") || in["sizes"] != json(net.sizes))
    throw Error(cat(filename, ": layer sizes ", in.contains("sizes") ? in["sizes"].dump() : "(none)",
                    " differ from the experiment's network ", json(net.sizes).dump()));
  const int layers = net.num_weight_layers();
  const json& weights = per_layer(in, "weights", layers, filename);
  const json& biases = per_layer(in, "biases", layers, filename);
  // Copy, check, commit: a file refused leaves `net` as it was.
  std::vector<Eigen::MatrixXd> w = net.weights;
  std::vector<Eigen::RowVectorXd> b = net.biases;
  for (int l = 0; l < layers; ++l) {
    const std::size_t k = static_cast<std::size_t>(l);
    read_matrix(weights[k], w[k].rows(), w[k].cols(), cat(filename, ": weights[", l, "]"), w[k].data(),
                1, w[k].rows());
    if ((w[k].array() < 0.0).any() || !w[k].allFinite())
      throw Error(cat(filename, ": weights[", l, "]: conductances must be finite and >= 0"));
    if (net.has_biases) {
      read_row(biases[k], cat(filename, ": biases[", l, "]"), b[k]);
    } else if (!biases[k].is_array() || !biases[k].empty()) {
      throw Error(cat(filename, ": biases[", l, "]: the network has no biases (expected [])"));
    }
  }
  net.weights = std::move(w);
  net.biases = std::move(b);
}

}  // namespace physlearn::circuits
