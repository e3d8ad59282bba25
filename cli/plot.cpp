#include "cli/plot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "orchestration/process.h"
#include "core/error.h"
#include "core/schema.h"

namespace physlearn::cli {
namespace {

namespace fs = std::filesystem;
using orchestration::describe_exit;
using orchestration::find_on_path;
using orchestration::spawn_process;

// ---- input files ----

/// A CSV file without quoted fields (the run files physlearn writes): header and rows.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  int column(const std::string& name, const std::string& file) const {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw Error(cat(file, ": no column \"", name, "\""));
    return static_cast<int>(it - header.begin());
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

Table read_csv(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw Error(cat(file, ": cannot open file"));
  Table t;
  std::string line;
  if (!std::getline(in, line)) throw Error(cat(file, ": empty file"));
  t.header = split(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    t.rows.push_back(split(line));
    if (t.rows.back().size() != t.header.size())
      throw Error(cat(file, ": line ", t.rows.size() + 1, " has ", t.rows.back().size(),
                      " fields, the header ", t.header.size()));
  }
  return t;
}

double to_number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' ? value : std::nan("");
}

// ---- gnuplot ----

/// A gnuplot single-quoted string (no escapes; a quote is doubled).
std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

/// A string field of a datablock: double-quoted, without double quotes inside.
std::string data_string(std::string text) {
  std::replace(text.begin(), text.end(), '"', '\'');
  return "\"" + text + "\"";
}

/// A number of a datablock ("NaN" for a missing one, which gnuplot skips).
std::string data_number(double x) {
  if (!std::isfinite(x)) return "NaN";
  std::ostringstream out;
  out << std::setprecision(10) << x;
  return out.str();
}

std::string gnuplot_program() {
  if (const char* named = std::getenv("PHYSLEARN_GNUPLOT")) {
    if (access(named, X_OK) != 0)
      throw Error(cat("plot: PHYSLEARN_GNUPLOT=", named, ": not an executable file"));
    return named;
  }
  const std::string found = find_on_path("gnuplot");
  if (found.empty())
    throw Error(
        "plot: gnuplot not found on PATH; install it (Debian: apt-get install "
        "gnuplot-nox, or bash scripts/setup.sh)");
  return found;
}

/// Writes OUT/<name>.gp (a terminal and output line, then `body`), runs gnuplot on it and checks
/// that OUT/<name>.png came out. Returns the PNG's file name.
std::string render(const std::string& out, const std::string& name, int width, int height,
                   const std::string& body) {
  const std::string png = out + "/" + name + ".png", script = out + "/" + name + ".gp",
                    log = out + "/" + name + ".gnuplot.log";
  std::ostringstream text;
  text << "# physlearn plot: " << name << " (run again with: gnuplot " << name << ".gp)\n"
       << "set terminal pngcairo noenhanced size " << width << "," << height << " font 'sans,10'\n"
       << "set output " << quote(name + ".png") << "\n"
       << body;
  write_file_atomic(script, text.str());
  const std::string program = gnuplot_program();
  // gnuplot runs in OUT so that the script names its figure relative to itself.
  const pid_t pid = spawn_process(
      {"/bin/sh", "-c", "cd \"$1\" && exec \"$2\" \"$3\"", "sh", out, program, name + ".gp"}, log,
      false);
  int raw = 0;
  while (waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) throw Error(cat("plot: waitpid: ", std::strerror(errno)));
  std::ifstream in(log);
  std::stringstream messages;
  messages << in.rdbuf();
  in.close();
  if (!WIFEXITED(raw) || WEXITSTATUS(raw) != 0)
    throw Error(
        cat("plot: gnuplot failed on ", script, " (", describe_exit(raw), "): ", messages.str()));
  fs::remove(log);
  if (!fs::exists(png) || fs::file_size(png) == 0)
    throw Error(cat("plot: gnuplot made no figure ", png, ": ", messages.str()));
  return png;
}

// ---- a run ----

std::string run_name(const std::string& dir) {
  const std::string file = dir + "/results.json";
  if (fs::exists(file)) {
    const json results = load_json_file(file);
    if (results.contains("name") && results["name"].is_string())
      return results["name"].get<std::string>();
  }
  return fs::path(dir).filename().string();
}

std::string learning_curves(const std::string& dir, const std::string& out) {
  const std::string file = dir + "/history.csv";
  const Table t = read_csv(file);
  const int epoch = t.column("epoch", file), train_error = t.column("train_error", file),
            test_error = t.column("test_error", file), train_loss = t.column("train_loss", file),
            test_loss = t.column("test_loss", file);
  if (t.rows.empty()) throw Error(cat(file, ": no epochs yet"));
  std::ostringstream body;
  body << "$history << EOD\n";
  for (const auto& row : t.rows)
    body << row[epoch] << " " << data_number(100.0 * to_number(row[train_error])) << " "
         << data_number(100.0 * to_number(row[test_error])) << " "
         << data_number(to_number(row[train_loss])) << " " << data_number(to_number(row[test_loss]))
         << "\n";
  const std::string style = t.rows.size() > 60 ? "lines" : "linespoints pt 7 ps 0.5";
  body << "EOD\n"
       << "set multiplot layout 2,1 title " << quote(run_name(dir) + ": learning curves") << "\n"
       << "set grid\nset key top right\nset xlabel 'epoch'\nset ylabel 'error (%)'\n"
       << (t.rows.size() <= 20 ? "set xtics 1\n" : "") << "set offsets 0, 0, graph 0.05, 0\n"
       << "plot $history using 1:2 with " << style << " lw 2 title 'train (during the epoch)', "
       << "$history using 1:3 with " << style << " lw 2 title 'test'\n"
       << "set ylabel 'loss'\n"
       << "plot $history using 1:4 with " << style << " lw 2 title 'train', "
       << "$history using 1:5 with " << style << " lw 2 title 'test'\n"
       << "unset multiplot\n";
  return render(out, "learning-curves", 900, 800, body.str());
}

/// Histogram rows per layer: bin_low, bin_high, count.
std::map<int, std::vector<std::array<double, 3>>> read_histograms(const std::string& file) {
  std::map<int, std::vector<std::array<double, 3>>> layers;
  if (!fs::exists(file)) return layers;
  const Table t = read_csv(file);
  const int layer = t.column("layer", file), low = t.column("bin_low", file),
            high = t.column("bin_high", file), count = t.column("count", file);
  for (const auto& row : t.rows)
    layers[static_cast<int>(to_number(row[layer]))].push_back(
        {to_number(row[low]), to_number(row[high]), to_number(row[count])});
  return layers;
}

std::string conductance_histograms(const std::string& dir, const std::string& out) {
  const auto start = read_histograms(dir + "/conductances_start.csv");
  const auto end = read_histograms(dir + "/conductances_end.csv");
  std::vector<int> layers;
  for (const auto* h : {&start, &end})
    for (const auto& [l, bins] : *h)
      if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  std::sort(layers.begin(), layers.end());
  std::ostringstream body;
  // Each histogram has its own bins: densities (fraction of the layer's devices per unit of
  // conductance) make the start and the end comparable.
  auto block = [&](const std::string& name, const std::vector<std::array<double, 3>>& bins) {
    double total = 0.0;
    for (const auto& b : bins) total += b[2];
    body << "$" << name << " << EOD\n";
    for (const auto& b : bins) {
      const double width = b[1] > b[0] ? b[1] - b[0] : std::max(1e-12, 0.01 * std::abs(b[0]));
      body << data_number(0.5 * (b[0] + b[1])) << " " << data_number(b[2] / (total * width)) << " "
           << data_number(width) << "\n";
    }
    body << "EOD\n";
  };
  for (int l : layers) {
    if (start.count(l)) block("start" + std::to_string(l), start.at(l));
    if (end.count(l)) block("end" + std::to_string(l), end.at(l));
  }
  const int n = static_cast<int>(layers.size());
  const int rows = n <= 3 ? 1 : (n + 1) / 2, cols = n <= 3 ? n : 2;
  body << "set multiplot layout " << rows << "," << cols << " title "
       << quote(run_name(dir) + ": trainable conductances (network units)") << "\n"
       << "set style fill transparent solid 0.5 noborder\nset grid\nset key top right\n"
       << "set xlabel 'conductance'\nset ylabel 'density (fraction of devices per unit)'\n"
       << "set logscale y\n";
  for (int l : layers) {
    body << "set title " << quote("layer " + std::to_string(l + 1)) << "\nplot ";
    std::string sep;
    if (start.count(l)) {
      body << "$start" << l << " using 1:2:3 with boxes lc rgb 'gray50' title 'start'";
      sep = ", ";
    }
    if (end.count(l))
      body << sep << "$end" << l << " using 1:2:3 with boxes lc rgb '#1f77b4' title 'end'";
    body << "\n";
  }
  body << "unset multiplot\n";
  return render(out, "conductances", std::max(500, 450 * cols), 400 * rows, body.str());
}

// ---- a sweep ----

std::string value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "none";
  return value.dump();
}

bool plain_value(const json& value) {
  return value.is_number() || value.is_string() || value.is_boolean();
}

double test_error(const json& point, const char* which) {
  const json& figures = point[which];
  return figures.contains("test_error") && figures["test_error"].is_number()
             ? figures["test_error"].get<double>()
             : std::nan("");
}

bool sets(const json& point, const std::string& key) {
  for (const auto& k : point["set_keys"])
    if (k == key) return true;
  return false;
}

std::string slug(const std::string& text) {
  std::string out;
  for (char c : text)
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
  return out;
}

std::string sweep_key_figure(const json& summary, const std::string& key,
                             const std::vector<std::string>& plotted, const std::string& out) {
  // Series: the points that set `key`, grouped by the values of the other keys they set.
  std::vector<std::string> series_names;
  std::vector<std::vector<const json*>> series;
  bool numeric = true;
  std::vector<std::string> categories;
  for (const auto& p : summary["points"]) {
    if (!sets(p, key) || !plain_value(p["values"][key]) || std::isnan(test_error(p, "mean")))
      continue;
    std::string name;
    for (const auto& k : p["set_keys"])
      if (k != key)
        name += (name.empty() ? "" : " ") + k.get<std::string>() + "=" +
                value_text(p["values"][k.get<std::string>()]);
    auto it = std::find(series_names.begin(), series_names.end(), name);
    if (it == series_names.end()) {
      series_names.push_back(name);
      series.emplace_back();
      it = series_names.end() - 1;
    }
    series[static_cast<std::size_t>(it - series_names.begin())].push_back(&p);
    const json& v = p["values"][key];
    numeric = numeric && v.is_number();
    if (std::find(categories.begin(), categories.end(), value_text(v)) == categories.end())
      categories.push_back(value_text(v));
  }
  if (series.empty()) return "";
  auto x_of = [&](const json& p) {
    const json& v = p["values"][key];
    if (numeric) return v.get<double>();
    return static_cast<double>(std::find(categories.begin(), categories.end(), value_text(v)) -
                               categories.begin());
  };
  std::ostringstream body;
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::sort(series[s].begin(), series[s].end(),
              [&](const json* a, const json* b) { return x_of(*a) < x_of(*b); });
    body << "$series" << s << " << EOD\n";
    for (const json* p : series[s])
      body << data_number(x_of(*p)) << " " << data_number(100.0 * test_error(*p, "mean")) << " "
           << data_number(100.0 * test_error(*p, "std")) << " "
           << data_string(value_text((*p)["values"][key])) << "\n";
    body << "EOD\n";
  }
  body << "set title "
       << quote(summary["name"].get<std::string>() + ": final test error against " + key +
                " (mean and standard deviation over seeds)")
       << "\nset grid\nset key outside right top\nset xlabel " << quote(key)
       << "\nset ylabel 'final test error (%)'\nset offsets graph 0.05, graph 0.05, graph 0.1, "
          "graph 0.1\n";
  if (!numeric) body << "set xtics ()\n";
  body << "plot ";
  for (std::size_t s = 0; s < series.size(); ++s)
    body << (s ? ", " : "") << "$series" << s << " using 1:2:3" << (numeric ? "" : ":xtic(4)")
         << " with yerrorlines lw 2 pt 7 title "
         << quote(series_names[s].empty() ? "test error" : series_names[s]);
  // Points that set none of the plotted keys (a baseline): dashed lines at their error.
  int references = 0;
  for (const auto& p : summary["points"]) {
    const bool any = std::any_of(plotted.begin(), plotted.end(),
                                 [&](const std::string& k) { return sets(p, k); });
    if (any || std::isnan(test_error(p, "mean")) || references >= 6) continue;
    body << ", " << data_number(100.0 * test_error(p, "mean")) << " with lines dt 2 lw 2 title "
         << quote(p["label"].get<std::string>());
    ++references;
  }
  body << "\n";
  return render(out, "sweep-" + slug(key), 1000, 600, body.str());
}

std::string sweep_points_figure(const json& summary, const std::string& out) {
  std::ostringstream body;
  body << "$points << EOD\n";
  int n = 0;
  for (const auto& p : summary["points"]) {
    body << n++ << " " << data_number(100.0 * test_error(p, "mean")) << " "
         << data_number(100.0 * test_error(p, "std")) << " "
         << data_string(p["label"].get<std::string>()) << "\n";
  }
  body
      << "EOD\n"
      << "set title "
      << quote(summary["name"].get<std::string>() +
               ": final test error per point (mean and standard deviation over seeds)")
      << "\nset grid ytics\nset style fill solid 0.6 noborder\nset boxwidth 0.7\nset yrange [0:*]\n"
      << "set xrange [-0.6:" << n - 0.4 << "]\nset xtics rotate by -35 left\nset bmargin 10\n"
      << "set ylabel 'final test error (%)'\n"
      << "plot $points using 1:2:3:xtic(4) with boxerrorbars lc rgb '#1f77b4' notitle\n";
  return render(out, "sweep-points", std::max(800, 60 * n + 200), 650, body.str());
}

std::vector<std::string> sweep_figures(const std::string& dir, const std::string& out) {
  const json summary = load_json_file(dir + "/summary.json");
  std::vector<std::string> plotted;  // keys with a plain value at some point that sets them
  for (const auto& k : summary["keys"]) {
    const std::string key = k.get<std::string>();
    for (const auto& p : summary["points"])
      if (sets(p, key) && plain_value(p["values"][key])) {
        plotted.push_back(key);
        break;
      }
  }
  std::vector<std::string> made;
  for (const auto& key : plotted) {
    const std::string png = sweep_key_figure(summary, key, plotted, out);
    if (!png.empty()) made.push_back(png);
  }
  made.push_back(sweep_points_figure(summary, out));
  return made;
}

// ---- simulate output ----

std::string waveforms(const std::string& dir, const std::string& out) {
  const std::string file = dir + "/waveforms.csv";
  const Table t = read_csv(file);
  const int time = t.column("time", file), phase = t.column("phase", file);
  if (t.rows.empty()) throw Error(cat(file, ": no rows"));
  double t_max = 0.0;
  for (const auto& row : t.rows) t_max = std::max(t_max, to_number(row[time]));
  const auto [scale, unit] = t_max < 1e-6   ? std::pair<double, const char*>{1e9, "ns"}
                             : t_max < 1e-3 ? std::pair<double, const char*>{1e6, "us"}
                             : t_max < 1.0  ? std::pair<double, const char*>{1e3, "ms"}
                                            : std::pair<double, const char*>{1.0, "s"};
  std::ostringstream body, marks;
  body << "$waves << EOD\n";
  std::string current;
  for (const auto& row : t.rows) {
    const double x = to_number(row[time]) * scale;
    if (row[phase] != current) {
      current = row[phase];
      marks << "set arrow from " << data_number(x) << ", graph 0 to " << data_number(x)
            << ", graph 1 nohead dt 2 lc rgb 'gray40'\n"
            << "set label " << quote(current) << " at " << data_number(x)
            << ", graph 0.97 offset 0.5, 0 tc rgb 'gray30'\n";
    }
    body << data_number(x);
    for (std::size_t c = 0; c < row.size(); ++c)
      if (static_cast<int>(c) != time && static_cast<int>(c) != phase) body << " " << row[c];
    body << "\n";
  }
  body << "EOD\n"
       << "set title "
       << quote(fs::path(dir).filename().string() + ": node potentials in one training step")
       << "\n"
       << "set grid\nset key outside right top\nset xlabel "
       << quote(std::string("time (") + unit + ")") << "\nset ylabel 'potential (V)'\n"
       << marks.str() << "plot ";
  int column = 2;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    if (static_cast<int>(c) == time || static_cast<int>(c) == phase) continue;
    body << (column > 2 ? ", " : "") << "$waves using 1:" << column << " with lines lw 2 title "
         << quote(t.header[c]);
    ++column;
  }
  body << "\n";
  return render(out, "waveforms", 1000, 600, body.str());
}

}  // namespace

std::vector<std::string> plot_folder(const std::string& dir, const std::string& out) {
  if (!fs::is_directory(dir)) throw Error(cat("plot: ", dir, ": no such folder"));
  fs::create_directories(out);
  std::vector<std::string> made;
  if (fs::exists(dir + "/history.csv")) {
    made.push_back(learning_curves(dir, out));
    if (fs::exists(dir + "/conductances_start.csv") || fs::exists(dir + "/conductances_end.csv"))
      made.push_back(conductance_histograms(dir, out));
  }
  if (fs::exists(dir + "/summary.json")) {
    const auto figures = sweep_figures(dir, out);
    made.insert(made.end(), figures.begin(), figures.end());
  }
  if (fs::exists(dir + "/waveforms.csv")) made.push_back(waveforms(dir, out));
  if (made.empty())
    throw Error(cat("plot: ", dir,
                    ": nothing to plot (no history.csv of a run, summary.json of a "
                    "sweep or waveforms.csv of simulate)"));
  return made;
}

CLI::App* add_plot_subcommand(CLI::App& app, PlotArgs& args) {
  auto* plot = app.add_subcommand(
      "plot",
      "PNG figures (gnuplot) of a run, a sweep or simulate output: learning curves, "
      "conductance histograms, error against swept keys, waveforms");
  plot->add_option("dir", args.dir, "a run's, a sweep's or simulate's results folder")->required();
  plot->add_option("--out", args.out,
                   "folder for the figures and their gnuplot scripts (default: DIR)");
  return plot;
}

int plot_command(const PlotArgs& args) {
  for (const auto& png : plot_folder(args.dir, args.out.empty() ? args.dir : args.out))
    std::cout << png << "\n";
  return 0;
}

}  // namespace physlearn::cli
