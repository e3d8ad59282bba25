#include "orchestration/sweep.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "orchestration/experiment.h"
#include "orchestration/plan.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

/// The study file's keys: name, type, doc (document_study and the unknown-key check).
const std::vector<std::vector<std::string>>& study_keys() {
  static const std::vector<std::vector<std::string>> keys = {
      {"name", "string", "study name (default: the file's name without .json)"},
      {"base", "string or object",
       "the base experiment: a file name relative to the study file, or the experiment itself"},
      {"set", "object",
       "fixed overrides of every run: {\"learning.epochs\": 3} (dotted paths as "
       "run --set; null removes a key)"},
      {"grid", "object of arrays",
       "swept keys and their values: every combination is a point (cartesian product)"},
      {"points", "array of objects",
       "explicit points, each {\"key.path\": value, ..., \"label\": \"...\"}; with a grid, every "
       "point takes every grid combination"},
      {"seeds", "integer or array of integer", "seeds of every point: n means 1..n (default 1)"},
      {"seed_keys", "array of string",
       "keys a run's seed sets, each where the object holding it exists (default [\"seed\", "
       "\"chip.seed\"])"}};
  return keys;
}

json plain(const ordered_json& value) { return json::parse(value.dump()); }

/// "0.1", "soft-bounds", "none" (null), JSON text otherwise: a value in a label.
std::string value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "none";
  return value.dump();
}

std::string last_component(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

/// Letters, digits, '.', '-', '_' (anything else becomes '_'), at most 60 characters.
std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    const char k = keep ? c : '_';
    if (k == '_' && !out.empty() && out.back() == '_') continue;
    out += k;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.size() > 60) out.resize(60);
  return out.empty() ? "point" : out;
}

/// The value at a dotted path, or null when a key on the way is absent.
json value_at(const json& config, const std::string& path) {
  const json* node = &config;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) return *node;
    start = dot + 1;
  }
}

/// True when the object that holds `path`'s last key exists in `config`.
bool holder_exists(const json& config, const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos || value_at(config, path.substr(0, dot)).is_object();
}

ordered_json read_ordered(const std::string& file) {
  const std::string text = read_text_file(file);
  try {
    return ordered_json::parse(text);
  } catch (const ordered_json::parse_error& e) {
    throw Error(cat(file, ": malformed JSON: ", e.what()));
  }
}

std::vector<long> read_seeds(const ordered_json& value, const std::string& where) {
  std::vector<long> seeds;
  if (value.is_number_integer()) {
    const long n = value.get<long>();
    if (n < 1) throw Error(cat(where, ": ", n, ": a count must be >= 1"));
    for (long s = 1; s <= n; ++s) seeds.push_back(s);
    return seeds;
  }
  if (!value.is_array() || value.empty())
    throw Error(
        cat(where, ": ", value.dump(), ": must be a count or a non-empty array of integers"));
  for (const auto& s : value) {
    if (!s.is_number_integer() || s.get<long>() < 0)
      throw Error(cat(where, ": ", s.dump(), ": seeds must be integers >= 0"));
    if (std::find(seeds.begin(), seeds.end(), s.get<long>()) != seeds.end())
      throw Error(cat(where, ": seed ", s.dump(), " appears twice"));
    seeds.push_back(s.get<long>());
  }
  return seeds;
}

using Overrides = std::vector<std::pair<std::string, json>>;

/// A point's own overrides (every key but "label"), checked.
Overrides point_overrides(const ordered_json& point, const std::string& where) {
  if (!point.is_object()) throw Error(cat(where, ": must be an object of overrides"));
  Overrides out;
  for (auto it = point.begin(); it != point.end(); ++it) {
    if (it.key() == "label") {
      if (!it.value().is_string()) throw Error(cat(where, ".label: must be a string"));
      continue;
    }
    out.emplace_back(it.key(), plain(it.value()));
  }
  return out;
}

std::string auto_label(const Overrides& overrides) {
  std::string label;
  for (const auto& [key, value] : overrides)
    label += (label.empty() ? "" : " ") + last_component(key) + "=" + value_text(value);
  return label;
}

}  // namespace

Study load_study(const std::string& file, const std::vector<std::string>& command_line) {
  const ordered_json doc = read_ordered(file);
  if (!doc.is_object()) throw Error(cat(file, ": a study must be a JSON object"));
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const auto& keys = study_keys();
    if (std::none_of(keys.begin(), keys.end(), [&](const auto& k) { return k[0] == it.key(); })) {
      std::string known;
      for (const auto& k : keys) known += (known.empty() ? "" : ", ") + k[0];
      throw Error(cat(file, ": ", it.key(), ": unknown key (known keys: ", known, ")"));
    }
  }
  Study study;
  study.file = file;
  study.name = fs::path(file).stem().string();
  if (doc.contains("name")) {
    if (!doc["name"].is_string()) throw Error(cat(file, ": name: must be a string"));
    study.name = doc["name"].get<std::string>();
  }

  json base;
  if (!doc.contains("base"))
    throw Error(cat(file, ": base: missing (an experiment file or object)"));
  if (doc["base"].is_string()) {
    const fs::path path = fs::path(file).parent_path() / doc["base"].get<std::string>();
    base = load_json_file(path.string());
  } else if (doc["base"].is_object()) {
    base = plain(doc["base"]);
  } else {
    throw Error(cat(file, ": base: must be a file name or an experiment object"));
  }

  Overrides fixed;
  if (doc.contains("set")) {
    if (!doc["set"].is_object()) throw Error(cat(file, ": set: must be an object of overrides"));
    for (auto it = doc["set"].begin(); it != doc["set"].end(); ++it)
      fixed.emplace_back(it.key(), plain(it.value()));
  }

  std::vector<std::pair<std::string, std::vector<json>>> grid;
  if (doc.contains("grid")) {
    if (!doc["grid"].is_object()) throw Error(cat(file, ": grid: must be an object of arrays"));
    for (auto it = doc["grid"].begin(); it != doc["grid"].end(); ++it) {
      if (!it.value().is_array() || it.value().empty())
        throw Error(cat(file, ": grid.", it.key(), ": must be a non-empty array of values"));
      std::vector<json> values;
      for (const auto& v : it.value()) values.push_back(plain(v));
      grid.emplace_back(it.key(), std::move(values));
      study.keys.push_back(it.key());
    }
  }

  std::vector<std::pair<std::string, Overrides>> points;  // label (may be empty), overrides
  if (doc.contains("points")) {
    if (!doc["points"].is_array() || doc["points"].empty())
      throw Error(cat(file, ": points: must be a non-empty array of objects"));
    for (std::size_t p = 0; p < doc["points"].size(); ++p) {
      const ordered_json& point = doc["points"][p];
      const std::string where = cat(file, ": points[", p, "]");
      Overrides own = point_overrides(point, where);
      for (const auto& [key, value] : own) {
        for (const auto& g : grid)
          if (g.first == key) throw Error(cat(where, ": ", key, ": also swept by the grid"));
        if (std::find(study.keys.begin(), study.keys.end(), key) == study.keys.end())
          study.keys.push_back(key);
      }
      points.emplace_back(point.contains("label") ? point["label"].get<std::string>() : "",
                          std::move(own));
    }
  } else {
    points.emplace_back("", Overrides{});
  }

  study.seeds =
      doc.contains("seeds") ? read_seeds(doc["seeds"], file + ": seeds") : std::vector<long>{1};
  study.seed_keys = {"seed", "chip.seed"};
  if (doc.contains("seed_keys")) {
    const auto& keys = doc["seed_keys"];
    if (!keys.is_array() ||
        std::any_of(keys.begin(), keys.end(), [](const auto& k) { return !k.is_string(); }))
      throw Error(cat(file, ": seed_keys: must be an array of key paths"));
    study.seed_keys = keys.get<std::vector<std::string>>();
  }
  for (const auto& key : study.seed_keys) {
    const bool in_set =
        std::any_of(fixed.begin(), fixed.end(), [&](const auto& o) { return o.first == key; }) ||
        std::any_of(command_line.begin(), command_line.end(),
                    [&](const std::string& o) { return o.substr(0, o.find('=')) == key; });
    if (in_set || std::find(study.keys.begin(), study.keys.end(), key) != study.keys.end())
      throw Error(cat(file, ": ", key, ": set by the seeds (seed_keys); the study may not set it"));
  }

  // Every combination: points (outer) x grid (the last grid key fastest) x seeds.
  std::size_t combinations = 1;
  for (const auto& g : grid) combinations *= g.second.size();
  for (const auto& [point_label, own] : points) {
    for (std::size_t c = 0; c < combinations; ++c) {
      Overrides grid_values;
      std::size_t rest = c;
      for (std::size_t k = grid.size(); k-- > 0;) {
        grid_values.insert(grid_values.begin(),
                           {grid[k].first, grid[k].second[rest % grid[k].second.size()]});
        rest /= grid[k].second.size();
      }
      StudyPoint point;
      Overrides overrides = grid_values;
      overrides.insert(overrides.end(), own.begin(), own.end());
      const std::string grid_label = auto_label(grid_values);
      point.label = point_label.empty()
                        ? auto_label(overrides)
                        : point_label + (grid_label.empty() ? "" : " " + grid_label);
      if (point.label.empty()) point.label = "base";
      std::ostringstream dir;
      dir << std::setw(3) << std::setfill('0') << study.points.size() + 1 << "-"
          << slug(point.label);
      point.dir = dir.str();
      point.overrides = json::array();
      for (const auto& [key, value] : overrides) {
        point.overrides.push_back({key, value});
        point.set_keys.push_back(key);
      }
      const int index = static_cast<int>(study.points.size());
      for (long seed : study.seeds) {
        const std::string where =
            cat(file, ": point ", index + 1, " \"", point.label, "\", seed ", seed);
        StudyRun run;
        run.point = index;
        run.seed = seed;
        run.dir = point.dir + "/seed-" + std::to_string(seed);
        run.config = base;
        try {
          for (const auto& [key, value] : fixed) set_path(run.config, key, value, "set." + key);
          for (const auto& o : command_line) apply_override(run.config, o);
          for (const auto& [key, value] : overrides) set_path(run.config, key, value, key);
          for (const auto& key : study.seed_keys)
            if (holder_exists(run.config, key)) set_path(run.config, key, seed, "seed_keys");
          ExperimentConfig parsed = parse_experiment(run.config);
          if (point.values.is_null()) {
            const json resolved = resolved_json(parsed);
            point.values = json::object();
            for (const auto& key : study.keys) point.values[key] = value_at(resolved, key);
          }
        } catch (const Error& e) {
          throw Error(cat(where, ": ", e.what()));
        }
        study.runs.push_back(std::move(run));
      }
      study.points.push_back(std::move(point));
    }
  }
  return study;
}

json Study::to_json() const {
  json out = {
      {"name", name}, {"study", file}, {"keys", keys}, {"seeds", seeds}, {"seed_keys", seed_keys}};
  out["points"] = json::array();
  for (const auto& p : points)
    out["points"].push_back(
        {{"label", p.label}, {"dir", p.dir}, {"overrides", p.overrides}, {"values", p.values}});
  out["runs"] = json::array();
  for (const auto& r : runs)
    out["runs"].push_back(
        {{"point", r.point + 1}, {"seed", r.seed}, {"dir", r.dir}, {"config", r.config}});
  return out;
}

void document_study(std::ostream& out) {
  out << "A study file (physlearn sweep STUDY.json --out DIR): runs = points x grid x seeds.\n";
  for (const auto& k : study_keys())
    out << std::left << std::setw(40) << ("study." + k[0]) << " " << k[1] << "  " << k[2] << "\n";
}

std::vector<std::pair<std::string, double>> run_figures(const json& results) {
  std::vector<std::pair<std::string, double>> out;
  auto number = [](const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
  const json& final = results.contains("final") ? results["final"] : json::object();
  for (const char* key : {"test_error", "train_error", "test_loss", "train_loss", "wall_seconds"})
    out.emplace_back(key, final.contains(key) ? number(final[key]) : std::nan(""));
  const json& epochs = results.contains("epochs") ? results["epochs"] : json::array();
  out.emplace_back("epochs", static_cast<double>(epochs.size()));
  std::vector<std::pair<std::string, double>> devices;
  for (const auto& e : epochs) {
    if (!e.contains("devices") || !e["devices"].is_object()) continue;
    for (auto it = e["devices"].begin(); it != e["devices"].end(); ++it) {
      if (!it.value().is_number()) continue;
      const std::string key = "devices." + it.key();
      auto found = std::find_if(devices.begin(), devices.end(),
                                [&](const auto& d) { return d.first == key; });
      if (found == devices.end())
        devices.emplace_back(key, it.value().get<double>());
      else
        found->second += it.value().get<double>();
    }
  }
  out.insert(out.end(), devices.begin(), devices.end());
  for (const char* section : {"final", "physics"}) {
    if (!results.contains(section) || !results[section].is_object()) continue;
    for (auto it = results[section].begin(); it != results[section].end(); ++it) {
      const std::string key = std::string(section) + "." + it.key();
      const bool standard = std::string(section) == "final" &&
                            std::any_of(out.begin(), out.begin() + 5,
                                        [&](const auto& f) { return f.first == it.key(); });
      if (!standard && it.value().is_number()) out.emplace_back(key, it.value().get<double>());
    }
  }
  return out;
}

namespace {

/// Mean and sample standard deviation (n - 1; 0 for one value).
std::pair<double, double> mean_std(const std::vector<double>& v) {
  if (v.empty()) return {std::nan(""), std::nan("")};
  double mean = 0.0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double sum = 0.0;
  for (double x : v) sum += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(sum / static_cast<double>(v.size() - 1)) : 0.0};
}

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

}  // namespace

json write_summary(const Study& study, const std::string& dir, const std::vector<RunStatus>& status,
                   const std::vector<std::string>& messages) {
  std::vector<std::string> columns;  // figure names, in first appearance order
  std::vector<std::map<std::string, double>> figures(study.runs.size());
  for (std::size_t r = 0; r < study.runs.size(); ++r) {
    if (status[r] != RunStatus::finished) continue;
    const json results = load_json_file(dir + "/" + study.runs[r].dir + "/results.json");
    for (const auto& [key, value] : run_figures(results)) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
      figures[r][key] = value;
    }
  }
  json summary = {{"name", study.name},
                  {"study", study.file},
                  {"keys", study.keys},
                  {"seeds", study.seeds},
                  {"figures", columns}};
  bool complete = true;
  summary["runs"] = json::array();
  for (std::size_t r = 0; r < study.runs.size(); ++r) {
    const StudyRun& run = study.runs[r];
    const StudyPoint& point = study.points[static_cast<std::size_t>(run.point)];
    complete = complete && status[r] == RunStatus::finished;
    json entry = {{"point", run.point + 1},
                  {"label", point.label},
                  {"seed", run.seed},
                  {"dir", run.dir},
                  {"status", status_name(status[r])},
                  {"values", point.values}};
    if (!messages[r].empty()) entry["message"] = messages[r];
    json f = json::object();
    for (const auto& [key, value] : figures[r]) f[key] = number_or_null(value);
    entry["figures"] = f;
    summary["runs"].push_back(entry);
  }

  summary["points"] = json::array();
  for (std::size_t p = 0; p < study.points.size(); ++p) {
    const StudyPoint& point = study.points[p];
    json entry = {{"point", p + 1},
                  {"label", point.label},
                  {"dir", point.dir},
                  {"values", point.values},
                  {"set_keys", point.set_keys}};
    std::vector<long> seeds;
    json mean = json::object(), spread = json::object();
    for (std::size_t r = 0; r < study.runs.size(); ++r)
      if (study.runs[r].point == static_cast<int>(p) && status[r] == RunStatus::finished)
        seeds.push_back(study.runs[r].seed);
    for (const auto& c : columns) {
      std::vector<double> values;
      for (std::size_t r = 0; r < study.runs.size(); ++r)
        if (study.runs[r].point == static_cast<int>(p) && figures[r].count(c))
          values.push_back(figures[r][c]);
      const auto [m, s] = mean_std(values);
      mean[c] = number_or_null(m);
      spread[c] = number_or_null(s);
    }
    entry["seeds"] = seeds;
    entry["mean"] = mean;
    entry["std"] = spread;
    summary["points"].push_back(entry);
  }
  summary["complete"] = complete;

  // summary.csv: a row per run; summary_points.csv: a row per point.
  std::vector<Column> runs_columns = {field("point"), field("label")},
                      points_columns = {field("point"), field("label")};
  for (const auto& key : study.keys) {
    runs_columns.push_back(field(key, "/values/" + pointer_token(key)));
    points_columns.push_back(field(key, "/values/" + pointer_token(key)));
  }
  runs_columns.push_back(field("seed"));
  runs_columns.push_back(field("status"));
  points_columns.push_back({"runs", [](const json& row) { return json(row.at("seeds").size()); }});
  for (const auto& c : columns) {
    runs_columns.push_back(field(c, "/figures/" + pointer_token(c)));
    points_columns.push_back(field(c + "_mean", "/mean/" + pointer_token(c)));
    points_columns.push_back(field(c + "_std", "/std/" + pointer_token(c)));
  }
  runs_columns.push_back(field("dir"));
  points_columns.push_back(field("dir"));
  write_tables(dir, "summary.json", summary,
               {{"summary.csv", summary["runs"], runs_columns},
                {"summary_points.csv", summary["points"], points_columns}});
  return summary;
}

std::size_t run_study(const Study& study, const std::string& dir, const PlanOptions& plan_options) {
  std::vector<PlannedRun> plan;
  for (const StudyRun& run : study.runs) plan.push_back({run.dir, ExperimentConfig(), run.config});
  std::vector<std::string> messages(study.runs.size());
  PlanOptions options = plan_options;
  options.name = "sweep: " + study.name;
  std::size_t skipped = 0, ended_runs = 0;
  options.on_start = [&](const std::vector<RunStatus>& at_start) {
    skipped = static_cast<std::size_t>(std::count(at_start.begin(), at_start.end(), RunStatus::finished));
    write_file_atomic(dir + "/study.resolved.json", study.to_json().dump(2) + "\n");
    write_summary(study, dir, at_start, messages);
  };
  std::vector<RunStatus> statuses;
  const std::size_t failed = execute_plan(
      plan, dir, options, statuses, [&](std::size_t r, RunStatus status, const std::string& why) {
        messages[r] = why;
        ++ended_runs;
        const std::string run_dir = dir + "/" + study.runs[r].dir;
        if (!options.quiet) {
          const std::size_t n = study.runs.size();
          std::ostringstream line;
          line << "sweep: [" << std::setw(static_cast<int>(std::to_string(n).size()))
               << skipped + ended_runs << "/" << n << "] " << study.runs[r].dir;
          if (status == RunStatus::finished) {
            const auto figures = run_figures(load_json_file(run_dir + "/results.json"));
            line << std::fixed << std::setprecision(2) << "  test error " << 100.0 * figures[0].second
                 << "%  train error " << 100.0 * figures[1].second << "%  (" << std::setprecision(1)
                 << figures[4].second << " s)";
          } else {
            line << "  FAILED (" << why << "; see " << run_dir << "/log.txt)";
          }
          std::cerr << line.str() << "\n";
        }
        write_summary(study, dir, statuses, messages);
      });
  write_summary(study, dir, statuses, messages);
  return failed;
}

std::string summary_table(const json& summary) {
  std::ostringstream out;
  std::size_t width = 5;
  for (const auto& p : summary["points"])
    width = std::max(width, p["label"].get<std::string>().size());
  out << std::left << std::setw(static_cast<int>(width) + 6) << "point"
      << " seeds  test error %        train error %\n";
  const std::size_t total = summary["seeds"].size();
  for (const auto& p : summary["points"]) {
    std::ostringstream name;
    name << std::setw(3) << std::setfill('0') << p["point"].get<int>() << "  "
         << p["label"].get<std::string>();
    out << std::left << std::setw(static_cast<int>(width) + 6) << name.str() << " " << std::right
        << std::setw(2) << p["seeds"].size() << "/" << std::left << std::setw(2) << total;
    for (const char* figure : {"test_error", "train_error"}) {
      const json& m = p["mean"].contains(figure) ? p["mean"][figure] : json(nullptr);
      const json& s = p["std"].contains(figure) ? p["std"][figure] : json(nullptr);
      std::ostringstream cell;
      if (m.is_number())
        cell << std::fixed << std::setprecision(2) << 100.0 * m.get<double>() << " +- "
             << 100.0 * (s.is_number() ? s.get<double>() : 0.0);
      else
        cell << "-";
      out << "  " << std::left << std::setw(18) << cell.str();
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace physlearn::orchestration
