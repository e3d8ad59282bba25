#include "devices/chip.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/binary.h"

namespace physlearn::devices {

namespace {

constexpr const char* kFormat = "physlearn-chip";
constexpr int kVersion = 1;

void describe_sigma_map(Schema& schema, const std::string& key, std::map<std::string, double>& ref,
                        const std::string& doc) {
  auto f = std::make_shared<Field>();
  f->key = key;
  f->doc = doc;
  f->type = "object of number";
  f->rule = "each >= 0; keys: the model's parameter names, drift_nu, endurance";
  auto* target = &ref;
  const auto initial = ref;
  f->read = [target](const json& value, const std::string& path) {
    if (!value.is_object())
      throw ConfigError(path, json_text(value), "must be an object {\"parameter\": sigma}");
    std::map<std::string, double> out;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string at = join_path(path, it.key());
      const double v = detail::convert<double>(it.value(), at);
      if (!(v >= 0.0)) throw ConfigError(at, json_text(it.value()), "must be >= 0");
      out[it.key()] = v;
    }
    *target = out;
  };
  f->write = [target]() { return json(*target); };
  f->default_value = [initial]() { return json(initial); };
  schema.add(f);
}

}  // namespace

void describe(Schema& s, VariabilityParams& p) {
  s.field("d2d_sigma", p.d2d_sigma,
          "relative device-to-device spread of every per-device parameter")
      .min(0.0);
  describe_sigma_map(s, "d2d_sigmas", p.d2d_sigmas,
                     "relative device-to-device spread per parameter name (overrides d2d_sigma)");
  s.field("d2d_distribution", p.d2d_distribution,
          "normal: q (1 + s xi), clipped at 0 where q >= 0 is needed; lognormal: q exp(s xi)")
      .one_of({"normal", "lognormal"});
  s.field("c2c_sigma", p.c2c_sigma,
          "cycle-to-cycle noise: each pulse's step times (1 + c2c_sigma xi)")
      .min(0.0);
  s.field("c2c_sigma_range", p.c2c_sigma_range,
          "cycle-to-cycle noise added to each pulse, sigma in units of (g_max - g_min)")
      .min(0.0);
  s.field("read_sigma", p.read_sigma, "read noise, sigma relative to the conductance read")
      .min(0.0);
  s.field("read_sigma_range", p.read_sigma_range, "read noise, sigma in units of (g_max - g_min)")
      .min(0.0);
  s.field("stuck_min_rate", p.stuck_min_rate, "fraction of devices stuck at g_min")
      .min(0.0)
      .max(1.0);
  s.field("stuck_max_rate", p.stuck_max_rate, "fraction of devices stuck at g_max")
      .min(0.0)
      .max(1.0);
  s.field("levels", p.levels, "programmable conductance levels (0: continuous)")
      .check([](const int& v) { return v == 0 || v >= 2; }, "0 or >= 2");
  s.field("level_rounding", p.level_rounding,
          "how a programmed conductance goes to a level: \"nearest\" or \"stochastic\" "
          "(unbiased: up with probability equal to the distance from the level below)")
      .one_of({"nearest", "stochastic"});
  s.field("drift_nu", p.drift_nu, "retention drift exponent nu: G = G0 (t / t0)^-nu");
  s.field("drift_t0", p.drift_t0, "drift reference time t0").unit("s").greater(0.0);
  s.field("endurance", p.endurance, "pulses a device takes before it sticks (0: unlimited)")
      .unit("pulses")
      .min(0.0);
}

void describe(Schema& s, ChipParams& p) {
  s.field("seed", p.seed, "seed of the device population and of its programming and read noise")
      .min(0L);
  describe_device(s, "device", "device update model and its parameters", p.device);
  s.section("variability", "device-to-device spread, noise and faults (all 0: none)",
            [&p](Schema& sub) { describe(sub, p.variability); });
  s.field("g_unit", p.g_unit, "siemens per network unit of conductance").unit("S").greater(0.0);
  s.field("pulse_voltage", p.pulse_voltage,
          "programming pulse amplitude for the energy estimate (0: none)")
      .unit("V")
      .min(0.0);
  s.field("pulse_width", p.pulse_width, "programming pulse width for the energy estimate (0: none)")
      .unit("s")
      .min(0.0);
}

ProgramStats& ProgramStats::operator+=(const ProgramStats& o) {
  pulses += o.pulses;
  devices_pulsed += o.devices_pulsed;
  capped += o.capped;
  energy += o.energy;
  return *this;
}

// ---- construction ----

Chip::Chip(const ChipParams& params, const std::string& path, const PiecewiseTable* table)
    : params_(params) {
  // Every field rule, checked by reading the parameters back through their schema (so a chip made
  // in code is held to the same rules as one read from a file, with the same key paths).
  {
    ChipParams copy = params_;
    Schema schema;
    describe(schema, copy);
    schema.read(schema.write(), path);
  }
  model_ = make_model(params_.device, join_path(path, "device"), table);
  const VariabilityParams& v = params_.variability;
  if (v.stuck_min_rate + v.stuck_max_rate > 1.0)
    throw ConfigError(join_path(path, "variability.stuck_max_rate"),
                      json_text(json(v.stuck_max_rate)),
                      "stuck_min_rate + stuck_max_rate must be <= 1");
  names_ = model_->parameter_names();
  nominal_ = model_->nominal_parameters();
  model_count_ = names_.size();
  names_.push_back("drift_nu");
  names_.push_back("endurance");
  nominal_.push_back(v.drift_nu);
  nominal_.push_back(v.endurance);
  for (const auto& entry : v.d2d_sigmas) {
    if (std::find(names_.begin(), names_.end(), entry.first) == names_.end()) {
      std::string known;
      for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
      throw ConfigError(join_path(path, "variability.d2d_sigmas." + entry.first),
                        json_text(json(entry.second)),
                        "unknown parameter of model " + model_->name() + " (known: " + known + ")");
    }
  }
  for (const auto& name : names_) {
    auto it = v.d2d_sigmas.find(name);
    sigma_.push_back(it != v.d2d_sigmas.end() ? it->second : v.d2d_sigma);
  }
  drift_on_ = v.drift_nu != 0.0;
  const auto seed = static_cast<std::uint64_t>(params_.seed);
  write_rng_ = Rng(mix_seed(seed, 1));
  read_rng_ = Rng(mix_seed(seed, 2));
}

Chip::Chip(const ChipParams& params, const std::vector<Eigen::MatrixXd>& weights,
           const std::string& path)
    : Chip(params, path, nullptr) {
  const VariabilityParams& v = params_.variability;
  const std::size_t k = nominal_.size();
  bool spread = false;
  for (std::size_t q = 0; q < k; ++q) spread = spread || (sigma_[q] > 0.0 && nominal_[q] != 0.0);
  const bool lognormal = v.d2d_distribution == "lognormal";
  const bool stuck = v.stuck_min_rate > 0.0 || v.stuck_max_rate > 0.0;
  const double nominal_range = nominal_[1] - nominal_[0];
  Rng make(mix_seed(static_cast<std::uint64_t>(params_.seed), 0));
  for (std::size_t l = 0; l < weights.size(); ++l) {
    const Eigen::MatrixXd& w = weights[l];
    Layer layer;
    layer.rows = w.rows();
    layer.cols = w.cols();
    const Eigen::Index n = w.size();
    layer.g.resize(n);
    layer.status.assign(static_cast<std::size_t>(n), static_cast<std::uint8_t>(DeviceStatus::ok));
    layer.pulses.assign(static_cast<std::size_t>(n), 0);
    if (spread) layer.params.resize(static_cast<Eigen::Index>(k), n);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (spread) {
        double* p = layer.params.col(i).data();
        for (std::size_t q = 0; q < k; ++q) {
          p[q] = nominal_[q];
          if (!(sigma_[q] > 0.0) || nominal_[q] == 0.0) continue;
          const double xi = make.normal();
          if (lognormal) {
            p[q] = nominal_[q] * std::exp(sigma_[q] * xi);
          } else {
            p[q] = nominal_[q] * (1.0 + sigma_[q] * xi);
            const bool nonnegative =
                q < model_count_ ? model_->parameter_nonnegative(q) : q == model_count_ + 1;
            if (nonnegative) p[q] = std::max(0.0, p[q]);
          }
        }
        if (!(p[1] > p[0])) p[1] = p[0] + 1e-3 * nominal_range;
      }
      const double* p = device_params(layer, i);
      if (stuck) {
        const double u = make.uniform();
        if (u < v.stuck_min_rate)
          layer.status[static_cast<std::size_t>(i)] =
              static_cast<std::uint8_t>(DeviceStatus::stuck_min);
        else if (u < v.stuck_min_rate + v.stuck_max_rate)
          layer.status[static_cast<std::size_t>(i)] =
              static_cast<std::uint8_t>(DeviceStatus::stuck_max);
      }
      const double target = w(i) * params_.g_unit;
      if (!std::isfinite(target))
        throw Error(cat("chip layer ", l, ": initial conductance ", w(i), " at index ", i,
                        " is not finite"));
      switch (static_cast<DeviceStatus>(layer.status[static_cast<std::size_t>(i)])) {
        case DeviceStatus::stuck_min:
          layer.g(i) = p[0];
          break;
        case DeviceStatus::stuck_max:
          layer.g(i) = p[1];
          break;
        default:
          layer.g(i) = quantised(p, std::min(p[1], std::max(p[0], target)));
      }
    }
    if (drift_on_) {
      layer.g0 = layer.g;
      layer.age = Eigen::ArrayXd::Zero(n);
    }
    layers_.push_back(std::move(layer));
  }
}

double Chip::quantised(const double* p, double g, Rng* stochastic) const {
  const int levels = params_.variability.levels;
  if (levels < 2) return g;
  const double range = p[1] - p[0];
  const double steps = levels - 1;
  const double position = (g - p[0]) / range * steps;
  const double k =
      stochastic ? stochastic_round(position, stochastic->uniform()) : std::round(position);
  return std::min(p[1], std::max(p[0], p[0] + k / steps * range));
}

const Chip::Layer& Chip::at(int layer) const {
  if (layer < 0 || layer >= num_layers())
    throw Error(cat("chip has ", num_layers(), " layers; layer ", layer, " does not exist"));
  return layers_[static_cast<std::size_t>(layer)];
}

// ---- programming, reading, drift ----

ProgramStats Chip::program(int layer_index, Eigen::Ref<Eigen::MatrixXd> conductances,
                           const Eigen::Ref<const Eigen::MatrixXd>& desired_change,
                           Eigen::MatrixXi* pulses) {
  at(layer_index);
  Layer& layer = layers_[static_cast<std::size_t>(layer_index)];
  auto shape = [](Eigen::Index r, Eigen::Index c) { return cat(r, "x", c); };
  if (conductances.rows() != layer.rows || conductances.cols() != layer.cols ||
      desired_change.rows() != layer.rows || desired_change.cols() != layer.cols)
    throw Error(cat("chip layer ", layer_index, " is ", shape(layer.rows, layer.cols),
                    "; conductances are ", shape(conductances.rows(), conductances.cols()),
                    " and the desired change ",
                    shape(desired_change.rows(), desired_change.cols())));
  if (pulses) pulses->setZero(layer.rows, layer.cols);
  const VariabilityParams& v = params_.variability;
  const DeviceModel& model = *model_;
  const bool analog = model.analog();
  const bool stochastic_levels = v.level_rounding == "stochastic";
  const int max_pulses = model.max_pulses();
  const double nominal_up = model.nominal_step(1), nominal_down = model.nominal_step(-1);
  const double g_unit = params_.g_unit;
  ProgramStats stats;
  double energy = 0.0;  // sum of (G_before + G_after)/2 over pulses, S
  for (Eigen::Index c = 0; c < layer.cols; ++c) {
    for (Eigen::Index r = 0; r < layer.rows; ++r) {
      const Eigen::Index i = r + c * layer.rows;
      const auto ui = static_cast<std::size_t>(i);
      double g = layer.g(i);
      const double dg = desired_change(r, c) * g_unit;
      if (!std::isfinite(dg))
        throw Error(cat("chip layer ", layer_index, ": desired change ", desired_change(r, c),
                        " at (", r, ", ", c, ") is not finite"));
      int n = 0;
      const int d = dg > 0.0 ? 1 : -1;
      if (dg != 0.0) {
        if (analog) {
          n = 1;
        } else {
          const double ratio = std::abs(dg) / (d > 0 ? nominal_up : nominal_down);
          const double rounded = std::floor(ratio + 0.5);
          if (rounded > max_pulses) ++stats.capped;
          n = rounded > max_pulses ? max_pulses : static_cast<int>(rounded);
        }
      }
      if (n > 0) {
        ++stats.devices_pulsed;
        stats.pulses += n;
        const double* p = device_params(layer, i);
        const double endurance = p[model_count_ + 1];
        const auto status = static_cast<DeviceStatus>(layer.status[ui]);
        if (status != DeviceStatus::ok) {
          energy += g * n;
          layer.pulses[ui] += n;
        } else {
          for (int k = 0; k < n; ++k) {
            if (static_cast<DeviceStatus>(layer.status[ui]) != DeviceStatus::ok) {
              energy += g * (n - k);
              layer.pulses[ui] += n - k;
              break;
            }
            double s = analog ? dg : model.step(p, g, d);
            if (v.c2c_sigma > 0.0) s *= 1.0 + v.c2c_sigma * write_rng_.normal();
            if (v.c2c_sigma_range > 0.0)
              s += v.c2c_sigma_range * (p[1] - p[0]) * write_rng_.normal();
            const double next = std::min(p[1], std::max(p[0], g + s));
            energy += 0.5 * (g + next);
            g = next;
            ++layer.pulses[ui];
            if (endurance > 0.0 && static_cast<double>(layer.pulses[ui]) >= endurance)
              layer.status[ui] = static_cast<std::uint8_t>(DeviceStatus::worn_out);
          }
          g = quantised(p, g, stochastic_levels ? &write_rng_ : nullptr);
          layer.g(i) = g;
          if (drift_on_) {
            layer.g0(i) = g;
            layer.age(i) = 0.0;
          }
        }
        if (pulses) (*pulses)(r, c) = d * n;
      }
      conductances(r, c) = g / g_unit;
    }
  }
  stats.energy = params_.pulse_voltage * params_.pulse_voltage * params_.pulse_width * energy;
  totals_ += stats;
  return stats;
}

Eigen::MatrixXd Chip::conductances(int layer_index) const {
  const Layer& layer = at(layer_index);
  Eigen::MatrixXd out(layer.rows, layer.cols);
  for (Eigen::Index i = 0; i < out.size(); ++i) out(i) = layer.g(i) / params_.g_unit;
  return out;
}

void Chip::read(int layer_index, Eigen::Ref<Eigen::MatrixXd> out) {
  const Layer& layer = at(layer_index);
  if (out.rows() != layer.rows || out.cols() != layer.cols)
    throw Error(cat("chip layer ", layer_index, " is ", layer.rows, "x", layer.cols, "; read into ",
                    out.rows(), "x", out.cols()));
  const double relative = params_.variability.read_sigma;
  const double absolute = params_.variability.read_sigma_range;
  for (Eigen::Index c = 0; c < layer.cols; ++c) {
    for (Eigen::Index r = 0; r < layer.rows; ++r) {
      const Eigen::Index i = r + c * layer.rows;
      double g = layer.g(i);
      if (relative > 0.0) g += relative * layer.g(i) * read_rng_.normal();
      if (absolute > 0.0) {
        const double* p = device_params(layer, i);
        g += absolute * (p[1] - p[0]) * read_rng_.normal();
      }
      out(r, c) = std::max(0.0, g) / params_.g_unit;
    }
  }
}

Eigen::MatrixXd Chip::read(int layer_index) {
  const Layer& layer = at(layer_index);
  Eigen::MatrixXd out(layer.rows, layer.cols);
  read(layer_index, out);
  return out;
}

void Chip::drift(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds))
    throw Error(cat("chip drift: time step ", seconds, " s must be finite and >= 0"));
  time_ += seconds;
  if (!drift_on_ || seconds == 0.0) return;
  const double t0 = params_.variability.drift_t0;
  for (Layer& layer : layers_) {
    for (Eigen::Index i = 0; i < layer.g.size(); ++i) {
      const auto status = static_cast<DeviceStatus>(layer.status[static_cast<std::size_t>(i)]);
      if (status == DeviceStatus::stuck_min || status == DeviceStatus::stuck_max) continue;
      layer.age(i) += seconds;
      const double* p = device_params(layer, i);
      const double nu = p[model_count_];
      if (nu == 0.0) continue;
      const double g = layer.g0(i) * std::pow(std::max(layer.age(i), t0) / t0, -nu);
      layer.g(i) = std::min(p[1], std::max(p[0], g));
    }
  }
}

// ---- inspection ----

Eigen::Index Chip::rows(int layer) const { return at(layer).rows; }
Eigen::Index Chip::cols(int layer) const { return at(layer).cols; }

Eigen::Index Chip::num_devices() const {
  Eigen::Index n = 0;
  for (const auto& layer : layers_) n += layer.g.size();
  return n;
}

Eigen::MatrixXd Chip::parameter(int layer_index, const std::string& name) const {
  const Layer& layer = at(layer_index);
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) throw Error(cat("chip: no per-device parameter \"", name, "\""));
  const auto q = static_cast<std::size_t>(it - names_.begin());
  Eigen::MatrixXd out(layer.rows, layer.cols);
  for (Eigen::Index i = 0; i < out.size(); ++i) out(i) = device_params(layer, i)[q];
  return out;
}

DeviceStatus Chip::status(int layer_index, Eigen::Index row, Eigen::Index col) const {
  const Layer& layer = at(layer_index);
  return static_cast<DeviceStatus>(layer.status[static_cast<std::size_t>(row + col * layer.rows)]);
}

Eigen::Index Chip::count(DeviceStatus status) const {
  Eigen::Index n = 0;
  for (const auto& layer : layers_)
    n += std::count(layer.status.begin(), layer.status.end(), static_cast<std::uint8_t>(status));
  return n;
}

std::int64_t Chip::lifetime_pulses(int layer_index, Eigen::Index row, Eigen::Index col) const {
  const Layer& layer = at(layer_index);
  return layer.pulses[static_cast<std::size_t>(row + col * layer.rows)];
}

std::string Chip::summary() const {
  std::ostringstream out;
  out << model_->name() << " chip, seed " << params_.seed << ": " << num_devices() << " devices in "
      << num_layers() << " layers, " << count(DeviceStatus::stuck_min) << " stuck at g_min, "
      << count(DeviceStatus::stuck_max) << " stuck at g_max, " << count(DeviceStatus::worn_out)
      << " worn out";
  return out.str();
}

// ---- save and load ----

json Chip::to_json() const {
  json out;
  out["format"] = kFormat;
  out["version"] = kVersion;
  {
    ChipParams copy = params_;
    Schema schema;
    describe(schema, copy);
    out["params"] = schema.write();
  }
  if (model_->table()) out["piecewise_table"] = devices::to_json(*model_->table());
  out["parameter_names"] = names_;
  out["time"] = time_;
  out["rng"] = {{"write", write_rng_.state()}, {"read", read_rng_.state()}};
  out["totals"] = {{"pulses", totals_.pulses},
                   {"devices_pulsed", totals_.devices_pulsed},
                   {"capped", totals_.capped},
                   {"energy", totals_.energy}};
  json layers = json::array();
  for (const auto& layer : layers_) {
    const auto n = static_cast<std::size_t>(layer.g.size());
    json l = json::object();
    l["rows"] = layer.rows;
    l["cols"] = layer.cols;
    l["g"] = encode_array(layer.g.data(), n);
    l["status"] = encode_array(layer.status.data(), n);
    l["pulses"] = encode_array(layer.pulses.data(), n);
    if (layer.params.size())
      l["params"] = encode_array(layer.params.data(), static_cast<std::size_t>(layer.params.size()));
    if (drift_on_) {
      l["g0"] = encode_array(layer.g0.data(), n);
      l["age"] = encode_array(layer.age.data(), n);
    }
    layers.push_back(std::move(l));
  }
  out["layers"] = std::move(layers);
  return out;
}

Chip Chip::from_json(const json& value, const std::string& where) {
  if (!value.is_object() || !value.contains("format") || value["format"] != kFormat)
    throw Error(cat(where, ": not a physlearn chip file (\"format\" must be \"", kFormat, "\")"));
  if (!value.contains("version") || value["version"] != kVersion)
    throw Error(cat(where, ": chip file version ",
                    value.contains("version") ? value["version"].dump() : "(none)",
                    "; this build reads version ", kVersion));
  try {
    ChipParams params;
    {
      Schema schema;
      describe(schema, params);
      schema.read(value.at("params"), "params");
    }
    std::unique_ptr<PiecewiseTable> table;
    if (params.device.model == "piecewise")
      table = std::make_unique<PiecewiseTable>(
          piecewise_table_from_json(value.at("piecewise_table"), where + ": piecewise_table"));
    Chip chip(params, "params", table.get());
    if (value.at("parameter_names").get<std::vector<std::string>>() != chip.names_)
      throw Error(cat(where, ": per-device parameter names differ from this build's model"));
    chip.time_ = value.at("time").get<double>();
    chip.write_rng_.set_state(value.at("rng").at("write").get<std::string>());
    chip.read_rng_.set_state(value.at("rng").at("read").get<std::string>());
    const json& totals = value.at("totals");
    chip.totals_.pulses = totals.at("pulses").get<std::int64_t>();
    chip.totals_.devices_pulsed = totals.at("devices_pulsed").get<std::int64_t>();
    chip.totals_.capped = totals.at("capped").get<std::int64_t>();
    chip.totals_.energy = totals.at("energy").get<double>();
    const std::size_t k = chip.names_.size();
    for (const json& l : value.at("layers")) {
      const std::string at = cat(where, ": layers[", chip.layers_.size(), "]");
      Layer layer;
      layer.rows = l.at("rows").get<Eigen::Index>();
      layer.cols = l.at("cols").get<Eigen::Index>();
      if (layer.rows < 0 || layer.cols < 0) throw Error(cat(at, ": negative shape"));
      const auto n = static_cast<std::size_t>(layer.rows * layer.cols);
      const auto g = decode_array<double>(l.at("g"), n, at + ".g");
      layer.g = Eigen::Map<const Eigen::ArrayXd>(g.data(), static_cast<Eigen::Index>(n));
      layer.status = decode_array<std::uint8_t>(l.at("status"), n, at + ".status");
      for (auto s : layer.status)
        if (s > static_cast<std::uint8_t>(DeviceStatus::worn_out))
          throw Error(cat(at, ".status: bad value"));
      layer.pulses = decode_array<std::int64_t>(l.at("pulses"), n, at + ".pulses");
      if (l.contains("params")) {
        const auto p = decode_array<double>(l.at("params"), n * k, at + ".params");
        layer.params = Eigen::Map<const Eigen::MatrixXd>(p.data(), static_cast<Eigen::Index>(k),
                                                         static_cast<Eigen::Index>(n));
      }
      if (chip.drift_on_) {
        const auto g0 = decode_array<double>(l.at("g0"), n, at + ".g0");
        const auto age = decode_array<double>(l.at("age"), n, at + ".age");
        layer.g0 = Eigen::Map<const Eigen::ArrayXd>(g0.data(), static_cast<Eigen::Index>(n));
        layer.age = Eigen::Map<const Eigen::ArrayXd>(age.data(), static_cast<Eigen::Index>(n));
      }
      chip.layers_.push_back(std::move(layer));
    }
    return chip;
  } catch (const ConfigError& e) {
    throw Error(cat(where, ": ", e.what()));
  } catch (const json::exception& e) {
    throw Error(cat(where, ": malformed chip file: ", e.what()));
  }
}

void Chip::save(const std::string& filename) const {
  write_file_atomic(filename, to_json().dump() + "\n");
}

Chip Chip::load(const std::string& filename) {
  std::ifstream in(filename, std::ios::binary);
  if (!in) throw Error(cat(filename, ": cannot open file"));
  std::string text;
  in.seekg(0, std::ios::end);
  text.resize(static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg())));
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) throw Error(cat(filename, ": cannot read file"));
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(cat(filename, ": malformed JSON: ", e.what()));
  }
  text = std::string();
  return from_json(value, filename);
}

}  // namespace physlearn::devices
