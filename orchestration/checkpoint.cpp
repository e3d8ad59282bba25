#include "orchestration/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/binary.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

namespace {

constexpr const char* kFormat = "physlearn-checkpoint";

std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/// A number of results.json back: null (a NaN or infinity written by nlohmann::json) is NaN.
double number(const json& record, const char* key, const std::string& where) {
  const json& value = member(record, key, where);
  if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!value.is_number()) throw Error(cat(where, ".", key, ": must be a number"));
  return value.get<double>();
}

EpochRecord epoch_record(const json& value, const std::string& where) {
  EpochRecord e;
  const json& epoch = member(value, "epoch", where);
  if (!epoch.is_number_integer()) throw Error(where + ".epoch: must be an integer");
  e.epoch = epoch.get<int>();
  e.train_loss = number(value, "train_loss", where);
  e.train_error = number(value, "train_error", where);
  e.test_loss = number(value, "test_loss", where);
  e.test_error = number(value, "test_error", where);
  e.wall_seconds = number(value, "wall_seconds", where);
  if (value.contains("devices")) e.devices = value["devices"];
  if (value.contains("physics")) e.physics = value["physics"];
  if (value.contains("alignment")) {
    const json& alignment = value["alignment"];
    if (!alignment.is_array()) throw Error(where + ".alignment: must be an array");
    for (std::size_t l = 0; l < alignment.size(); ++l) {
      const std::string at = cat(where, ".alignment[", l, "]");
      e.alignment.push_back(
          {number(alignment[l], "cosine", at), number(alignment[l], "norm_ratio", at)});
    }
  }
  return e;
}

std::string read_text(const std::string& filename) {
  if (!std::filesystem::exists(filename))
    throw Error(cat(filename,
                    ": no checkpoint (the run was not started with --checkpoint-every, "
                    "or it has not written one yet)"));
  return read_text_file(filename);
}

/// The configuration of a checkpoint or a config.resolved.json, validated, and its hash.
ExperimentConfig parse_config(const json& value, const std::string& where) {
  try {
    return parse_experiment(value);
  } catch (const ConfigError& e) {
    throw Error(cat(where, ": ", e.what()));
  }
}

}  // namespace

std::string config_hash(ExperimentConfig& config) {
  char text[32];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx",
                static_cast<unsigned long long>(fnv1a64(resolved_json(config).dump())));
  return text;
}

std::string checkpoint_file(const std::string& dir) { return dir + "/checkpoint.json"; }

void write_checkpoint(const std::string& dir, ExperimentConfig& config, const Model& model,
                      int checkpoint_every, double wall_seconds, const std::vector<int>& order,
                      const std::mt19937_64& order_rng, const std::vector<EpochRecord>& epochs) {
  json out;
  out["format"] = kFormat;
  out["version"] = kCheckpointVersion;
  out["config_hash"] = config_hash(config);
  out["config"] = resolved_json(config);
  out["checkpoint_every"] = checkpoint_every;
  out["epochs_done"] = epochs.size();
  out["wall_seconds"] = wall_seconds;
  std::vector<std::int32_t> order32(order.begin(), order.end());
  out["order_size"] = order32.size();
  out["order"] = encode_array(order32.data(), order32.size());
  out["order_rng"] = engine_state(order_rng);
  json records = json::array();
  for (const auto& e : epochs) records.push_back(to_json(e));
  out["epochs"] = std::move(records);
  out["model"] = model.save_state();
  write_file_atomic(checkpoint_file(dir), out.dump() + "\n");
}

Checkpoint read_checkpoint(const std::string& dir) {
  const std::string file = checkpoint_file(dir);
  json value;
  try {
    value = json::parse(read_text(file));
  } catch (const json::parse_error& e) {
    throw Error(cat(file, ": truncated or malformed (", e.what(), "); cannot resume from it"));
  }
  if (!value.is_object() || !value.contains("format") || value["format"] != kFormat)
    throw Error(cat(file, ": not a physlearn checkpoint (\"format\" must be \"", kFormat, "\")"));
  if (!value.contains("version") || value["version"] != kCheckpointVersion)
    throw Error(cat(file, ": checkpoint version ",
                    value.contains("version") ? value["version"].dump() : "(none)",
                    "; this build reads version ", kCheckpointVersion));
  try {
    Checkpoint c;
    c.config = parse_config(member(value, "config", file), file + ": config");
    const std::string hash = member(value, "config_hash", file).get<std::string>();
    if (config_hash(c.config) != hash)
      throw Error(cat(file, ": its configuration does not match its hash ", hash,
                      " (the file was edited or damaged); cannot resume from it"));
    const std::string resolved_file = dir + "/config.resolved.json";
    if (std::filesystem::exists(resolved_file)) {
      ExperimentConfig folder = parse_config(load_json_file(resolved_file), resolved_file);
      if (config_hash(folder) != hash)
        throw Error(cat(file, ": the checkpoint is of another configuration (hash ", hash,
                        ") than ", resolved_file, " (hash ", config_hash(folder),
                        "); cannot resume from it"));
    }
    c.checkpoint_every = member(value, "checkpoint_every", file).get<int>();
    c.wall_seconds = member(value, "wall_seconds", file).get<double>();
    const json& records = member(value, "epochs", file);
    if (!records.is_array()) throw Error(file + ": \"epochs\" must be an array");
    for (std::size_t k = 0; k < records.size(); ++k)
      c.epochs.push_back(epoch_record(records[k], cat(file, ": epochs[", k, "]")));
    const int done = member(value, "epochs_done", file).get<int>();
    if (done != static_cast<int>(c.epochs.size()) || done > c.config.learning.epochs)
      throw Error(cat(file, ": epochs_done ", done, " does not match its ", c.epochs.size(),
                      " epoch records and ", c.config.learning.epochs, " epochs"));
    const auto order32 = decode_array<std::int32_t>(
        member(value, "order", file), member(value, "order_size", file).get<std::size_t>(),
        file + ": order");
    c.order.assign(order32.begin(), order32.end());
    set_engine_state(c.order_rng, member(value, "order_rng", file), file + ": order_rng");
    c.model = member(value, "model", file);
    return c;
  } catch (const json::exception& e) {
    throw Error(cat(file, ": malformed checkpoint: ", e.what()));
  }
}

bool run_complete(const std::string& dir) {
  std::ifstream in(dir + "/results.json");
  if (!in) return false;
  try {
    const json results = json::parse(in);
    return results.is_object() && results.value("complete", false) == true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace physlearn::orchestration
