#include "devices/models.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

namespace physlearn::devices {

namespace {

std::string number_text(double value) { return json_text(json(value)); }

void describe_bounds(Schema& s, double& g_min, double& g_max) {
  s.field("g_min", g_min, "lowest conductance of a device").unit("S").min(0.0);
  s.field("g_max", g_max, "highest conductance of a device (> g_min)").unit("S").greater(0.0);
}

void describe_step(Schema& s, double& dg, double& up_down) {
  s.field("dg", dg,
          "nominal conductance step of one pulse; the controller sends round(|dG|/dg) pulses")
      .unit("S")
      .greater(0.0);
  s.field("up_down", up_down,
          "up/down asymmetry beta: up step dg (1 + beta), down step dg (1 - beta)")
      .min(-1.0)
      .max(1.0);
}

void describe_max_pulses(Schema& s, int& max_pulses) {
  s.field("max_pulses", max_pulses, "programming pulses per update at most").min(1);
}

void check_bounds(double g_min, double g_max, const std::string& path) {
  if (!(g_max > g_min))
    throw ConfigError(join_path(path, "g_max"), number_text(g_max),
                      "must be > g_min (" + number_text(g_min) + ")");
}

/// The new conductance after a change s, kept in [p[0], p[1]], as a change.
double clipped(const double* p, double g, double s) {
  return std::min(p[1], std::max(p[0], g + s)) - g;
}

double normalised(const double* p, double g) {
  const double x = (g - p[0]) / (p[1] - p[0]);
  return std::min(1.0, std::max(0.0, x));
}

/// Parameters shared by the aihwkit-style step models: [g_min, g_max, dg, up_down, ...].
class StepModelBase : public DeviceModel {
 public:
  StepModelBase(std::string name, std::vector<std::string> names, std::vector<double> nominal,
                std::vector<bool> nonnegative, int max_pulses)
      : name_(std::move(name)),
        names_(std::move(names)),
        nominal_(std::move(nominal)),
        nonnegative_(std::move(nonnegative)),
        max_pulses_(max_pulses) {}
  std::string name() const override { return name_; }
  std::vector<std::string> parameter_names() const override { return names_; }
  std::vector<double> nominal_parameters() const override { return nominal_; }
  bool parameter_nonnegative(std::size_t k) const override {
    return k < nonnegative_.size() && nonnegative_[k];
  }
  int max_pulses() const override { return max_pulses_; }
  double nominal_step(int) const override { return nominal_[2]; }

 protected:
  /// dg_up = dg (1 + up_down), dg_down = dg (1 - up_down), never negative.
  static double directional(const double* p, int direction) {
    return p[2] * std::max(0.0, 1.0 + direction * p[3]);
  }

 private:
  std::string name_;
  std::vector<std::string> names_;
  std::vector<double> nominal_;
  std::vector<bool> nonnegative_;
  int max_pulses_;
};

class IdealModel final : public DeviceModel {
 public:
  explicit IdealModel(const IdealParams& p) : g_min_(p.g_min), g_max_(p.g_max) {}
  std::string name() const override { return "ideal"; }
  std::vector<std::string> parameter_names() const override { return {"g_min", "g_max"}; }
  std::vector<double> nominal_parameters() const override { return {g_min_, g_max_}; }
  bool parameter_nonnegative(std::size_t) const override { return true; }
  int max_pulses() const override { return 1; }
  bool analog() const override { return true; }
  double nominal_step(int) const override { return 0.0; }
  double step(const double*, double, int) const override { return 0.0; }

 private:
  double g_min_, g_max_;
};

class ConstantStepModel final : public StepModelBase {
 public:
  explicit ConstantStepModel(const ConstantStepParams& p)
      : StepModelBase("constant-step", {"g_min", "g_max", "dg", "up_down"},
                      {p.g_min, p.g_max, p.dg, p.up_down}, {true, true, true, false},
                      p.max_pulses) {}
  double step(const double* p, double g, int d) const override {
    return clipped(p, g, d * directional(p, d));
  }
};

class LinearStepModel final : public StepModelBase {
 public:
  explicit LinearStepModel(const LinearStepParams& p)
      : StepModelBase("linear-step", {"g_min", "g_max", "dg", "up_down", "gamma_up", "gamma_down"},
                      {p.g_min, p.g_max, p.dg, p.up_down, p.gamma_up, p.gamma_down},
                      {true, true, true, false, false, false}, p.max_pulses) {}
  double step(const double* p, double g, int d) const override {
    const double w = 2.0 * normalised(p, g) - 1.0;
    const double factor = d > 0 ? 1.0 - p[4] * w : 1.0 + p[5] * w;
    return clipped(p, g, d * directional(p, d) * std::max(0.0, factor));
  }
};

class SoftBoundsModel final : public StepModelBase {
 public:
  explicit SoftBoundsModel(const SoftBoundsParams& p)
      : StepModelBase("soft-bounds", {"g_min", "g_max", "dg", "up_down"},
                      {p.g_min, p.g_max, p.dg, p.up_down}, {true, true, true, false},
                      p.max_pulses) {}
  double step(const double* p, double g, int d) const override {
    const double x = normalised(p, g);
    const double factor = d > 0 ? 2.0 * (1.0 - x) : 2.0 * x;  // 1 -+ w with w = 2x - 1
    return clipped(p, g, d * directional(p, d) * factor);
  }
};

class ExpStepModel final : public StepModelBase {
 public:
  explicit ExpStepModel(const ExpStepParams& p)
      : StepModelBase("exp-step",
                      {"g_min", "g_max", "dg", "up_down", "a_up", "a_down", "gamma_up",
                       "gamma_down", "a", "b"},
                      {p.g_min, p.g_max, p.dg, p.up_down, p.a_up, p.a_down, p.gamma_up,
                       p.gamma_down, p.a, p.b},
                      {true, true, true, false, false, false, false, false, false, false},
                      p.max_pulses) {}
  double step(const double* p, double g, int d) const override {
    const double w = 2.0 * normalised(p, g) - 1.0;
    const double z = p[8] * w + p[9];
    const double y = d > 0 ? 1.0 - p[4] * std::exp(p[6] * z) : 1.0 - p[5] * std::exp(-p[7] * z);
    return clipped(p, g, d * directional(p, d) * std::max(0.0, y));
  }
};

class PowStepModel final : public StepModelBase {
 public:
  explicit PowStepModel(const PowStepParams& p)
      : StepModelBase("pow-step", {"g_min", "g_max", "dg", "up_down", "gamma", "gamma_up_down"},
                      {p.g_min, p.g_max, p.dg, p.up_down, p.gamma, p.gamma_up_down},
                      {true, true, true, false, true, false}, p.max_pulses) {}
  double step(const double* p, double g, int d) const override {
    const double omega = 1.0 - normalised(p, g);
    const double exponent = p[4] * (1.0 + d * p[5]);
    const double factor = d > 0 ? std::pow(omega, exponent) : std::pow(1.0 - omega, exponent);
    return clipped(p, g, d * directional(p, d) * factor);
  }
};

/// Per-device parameters: [g_min, g_max, a_ltp, a_ltd] with a = A / P_max (0: linear curve).
class NeuroSimModel final : public DeviceModel {
 public:
  NeuroSimModel(const NeuroSimParams& p, double a_ltp, double a_ltd)
      : nominal_{p.g_min, p.g_max, a_ltp, a_ltd},
        levels_ltp_(p.levels_ltp),
        levels_ltd_(p.levels_ltd),
        max_pulses_(p.max_pulses) {}
  std::string name() const override { return "neurosim"; }
  std::vector<std::string> parameter_names() const override {
    return {"g_min", "g_max", "a_ltp", "a_ltd"};
  }
  std::vector<double> nominal_parameters() const override { return nominal_; }
  bool parameter_nonnegative(std::size_t k) const override { return k < 2; }
  int max_pulses() const override { return max_pulses_; }
  double nominal_step(int d) const override {
    return (nominal_[1] - nominal_[0]) / (d > 0 ? levels_ltp_ : levels_ltd_);
  }
  double step(const double* p, double g, int d) const override {
    const double levels = d > 0 ? levels_ltp_ : levels_ltd_;
    const double a = d > 0 ? p[2] : p[3];
    NeuroSimCurve curve;
    curve.g_min = p[0];
    curve.g_max = p[1];
    curve.p_max = levels;
    curve.a_pulses = a == 0.0 ? std::numeric_limits<double>::infinity() : a * levels;
    const double position = std::min(levels, std::max(0.0, curve.p(g)));
    const double next = curve.g(position + d);
    const double change = clipped(p, g, next - g);
    return d > 0 ? std::max(0.0, change) : std::min(0.0, change);
  }

 private:
  std::vector<double> nominal_;
  double levels_ltp_, levels_ltd_;
  int max_pulses_;
};

/// A non-decreasing piecewise-linear curve c(q) through (q_i, c_i), in normalised conductance.
struct Curve {
  std::vector<double> q, c;
  double extrapolation_slope = 0.0;  ///< first positive slope: used below the curve's start

  double value(double at) const {
    if (at <= q.front()) return c.front() + extrapolation_slope * (at - q.front());
    if (at >= q.back()) return c.back();
    const auto it = std::upper_bound(q.begin(), q.end(), at);
    const std::size_t i = static_cast<std::size_t>(it - q.begin()) - 1;
    return c[i] + (c[i + 1] - c[i]) * (at - q[i]) / (q[i + 1] - q[i]);
  }
  /// The value one pulse further on from x. A flat stretch is passed over (the position is the
  /// last one with value x); at or above the end the curve has saturated and x is returned.
  double next(double x) const {
    if (x >= c.back()) return x;
    double position;
    if (x < c.front()) {
      position = q.front() - (c.front() - x) / extrapolation_slope;
    } else {
      const auto it = std::upper_bound(c.begin(), c.end(), x);  // first c_i > x; exists
      const std::size_t i = static_cast<std::size_t>(it - c.begin()) - 1;
      position = q[i] + (x - c[i]) / (c[i + 1] - c[i]) * (q[i + 1] - q[i]);
    }
    return std::max(x, value(position + 1.0));
  }
  double mean_step() const { return (c.back() - c.front()) / (q.back() - q.front()); }
};

Curve make_curve(const std::vector<double>& q, const std::vector<double>& c, double offset,
                 double sign, double scale) {
  Curve curve;
  curve.q = q;
  for (double v : c) curve.c.push_back(sign * (v - offset) / scale);
  for (std::size_t i = 0; i + 1 < q.size(); ++i) {
    const double slope = (curve.c[i + 1] - curve.c[i]) / (q[i + 1] - q[i]);
    if (slope > 0.0) {
      curve.extrapolation_slope = slope;
      break;
    }
  }
  return curve;
}

/// Per-device parameters: [g_min, g_max]; the table is stored normalised to [0, 1].
class PiecewiseModel final : public DeviceModel {
 public:
  PiecewiseModel(const PiecewiseParams& params, PiecewiseTable table, const std::string& path)
      : table_(std::move(table)), max_pulses_(params.max_pulses) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto* v : {&table_.pot_g, &table_.dep_g})
      for (double g : *v) {
        lo = std::min(lo, g);
        hi = std::max(hi, g);
      }
    if (!(hi > lo)) throw Error(cat(table_.source, ": the table has no conductance range"));
    pot_ = make_curve(table_.pot_pulse, table_.pot_g, lo, 1.0, hi - lo);
    dep_ = make_curve(table_.dep_pulse, table_.dep_g, lo, -1.0, hi - lo);
    if (!(pot_.mean_step() > 0.0))
      throw Error(cat(table_.source, ": the potentiation curve never rises"));
    if (!(dep_.mean_step() > 0.0))
      throw Error(cat(table_.source, ": the depression curve never falls"));
    if (params.rescale) {
      check_bounds(params.g_min, params.g_max, path);
      g_min_ = params.g_min;
      g_max_ = params.g_max;
    } else {
      g_min_ = lo;
      g_max_ = hi;
    }
  }
  std::string name() const override { return "piecewise"; }
  std::vector<std::string> parameter_names() const override { return {"g_min", "g_max"}; }
  std::vector<double> nominal_parameters() const override { return {g_min_, g_max_}; }
  bool parameter_nonnegative(std::size_t) const override { return true; }
  int max_pulses() const override { return max_pulses_; }
  double nominal_step(int d) const override {
    return (d > 0 ? pot_ : dep_).mean_step() * (g_max_ - g_min_);
  }
  double step(const double* p, double g, int d) const override {
    const double range = p[1] - p[0];
    const double x = (g - p[0]) / range;
    const double moved = d > 0 ? pot_.next(x) - x : -(dep_.next(-x) + x);
    return clipped(p, g, moved * range);
  }
  const PiecewiseTable* table() const override { return &table_; }

 private:
  PiecewiseTable table_;
  Curve pot_, dep_;  // dep_ holds -x so that it is non-decreasing
  double g_min_ = 0.0, g_max_ = 1.0;
  int max_pulses_;
};

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    cells.push_back(
        trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cells;
}

/// D(a) = max_x (y(x) - x) for the normalised NeuroSim curve with a > 0 (decreasing in a).
double curve_departure(double a) {
  const double denominator = -std::expm1(-1.0 / a);  // 1 - exp(-1/a)
  // y'(x) = exp(-x/a) / (a denominator) = 1 at x* = -a ln(a denominator).
  double x = -a * std::log(a * denominator);
  x = std::min(1.0, std::max(0.0, x));
  return -std::expm1(-x / a) / denominator - x;
}

constexpr double kNeuroSimLabelScale = 10.101525;  // NL / D(a), fitted to NeuroSim's table

}  // namespace

void describe(Schema& s, IdealParams& p) { describe_bounds(s, p.g_min, p.g_max); }

void describe(Schema& s, ConstantStepParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  describe_step(s, p.dg, p.up_down);
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, LinearStepParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  describe_step(s, p.dg, p.up_down);
  s.field("gamma_up", p.gamma_up,
          "up step dg_up max(0, 1 - gamma_up w), w = 2 (G - g_min)/(g_max - g_min) - 1");
  s.field("gamma_down", p.gamma_down, "down step dg_down max(0, 1 + gamma_down w)");
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, SoftBoundsParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  describe_step(s, p.dg, p.up_down);
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, ExpStepParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  describe_step(s, p.dg, p.up_down);
  s.field("a_up", p.a_up, "A_up in y_up = 1 - A_up exp(gamma_up z)");
  s.field("a_down", p.a_down, "A_down in y_down = 1 - A_down exp(-gamma_down z)");
  s.field("gamma_up", p.gamma_up, "gamma_up in y_up");
  s.field("gamma_down", p.gamma_down, "gamma_down in y_down");
  s.field("a", p.a, "slope a in z = a w + b, w = 2 (G - g_min)/(g_max - g_min) - 1");
  s.field("b", p.b, "offset b in z = a w + b");
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, PowStepParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  describe_step(s, p.dg, p.up_down);
  s.field("gamma", p.gamma,
          "exponent: up step dg_up omega^gamma_+, down dg_down (1 - omega)^gamma_-")
      .min(0.0);
  s.field("gamma_up_down", p.gamma_up_down,
          "exponent asymmetry: gamma_+- = gamma (1 +- gamma_up_down)")
      .min(-1.0)
      .max(1.0);
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, NeuroSimParams& p) {
  describe_bounds(s, p.g_min, p.g_max);
  s.field("levels_ltp", p.levels_ltp, "LTP pulses from g_min to g_max (P_max of the LTP curve)")
      .min(1);
  s.field("levels_ltd", p.levels_ltd, "LTD pulses from g_max to g_min (P_max of the LTD curve)")
      .min(1);
  auto label = [](const double& v) { return std::abs(v) < 10.0; };
  s.field("nl_ltp", p.nl_ltp, "LTP nonlinearity label (NeuroSim NL; 0 linear)")
      .check(label, "in (-10, 10)");
  s.field("nl_ltd", p.nl_ltd, "LTD nonlinearity label (NeuroSim NL; negative for the usual LTD)")
      .check(label, "in (-10, 10)");
  s.field("a_ltp", p.a_ltp, "normalised A_LTP = A / levels_ltp; when not 0 it replaces nl_ltp");
  s.field("a_ltd", p.a_ltd, "normalised A_LTD = A / levels_ltd; when not 0 it replaces nl_ltd");
  describe_max_pulses(s, p.max_pulses);
}

void describe(Schema& s, PiecewiseParams& p) {
  s.field("file", p.file,
          "CSV of conductance against pulse number (pulse,g_potentiation,g_depression)")
      .check([](const std::string& v) { return !v.empty(); }, "a file name");
  s.field("rescale", p.rescale,
          "false: table values are siemens; true: the table is mapped onto [g_min, g_max]");
  s.field("g_min", p.g_min, "lowest conductance (used when rescale is true)").unit("S").min(0.0);
  s.field("g_max", p.g_max, "highest conductance (used when rescale is true)")
      .unit("S")
      .greater(0.0);
  describe_max_pulses(s, p.max_pulses);
}

void describe_device(Schema& schema, const std::string& key, const std::string& doc,
                     DeviceParams& device) {
  std::vector<Schema::Alternative> models;
  for (const auto& type : device_model_types())
    models.push_back({type.name, [&device, &type](Schema& s) { type.describe(s, device); }});
  schema.variant(key, doc, "model", device.model, std::move(models));
}

double neurosim_a_from_nl(double nl) {
  if (!(std::abs(nl) > 0.0) || !(std::abs(nl) < kNeuroSimLabelScale))
    throw Error(
        cat("NeuroSim nonlinearity label ", nl, " has no finite A (|NL| must be in (0, 10.1))"));
  const double target = std::abs(nl) / kNeuroSimLabelScale;
  double lo = std::log(1e-7), hi = std::log(1e9);  // D(e^lo) ~ 1 > target > D(e^hi) ~ 1e-10
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (curve_departure(std::exp(mid)) > target)
      lo = mid;
    else
      hi = mid;
  }
  const double a = std::exp(0.5 * (lo + hi));
  return nl > 0 ? a : -a;
}

double neurosim_nl_from_a(double a) {
  if (!std::isfinite(a) || a == 0.0) return 0.0;
  const double nl = kNeuroSimLabelScale * curve_departure(std::abs(a));
  return a > 0 ? nl : -nl;
}

double NeuroSimCurve::g(double p) const {
  const double range = g_max - g_min;
  if (!std::isfinite(a_pulses)) return g_min + range * p / p_max;
  const double b = range / -std::expm1(-p_max / a_pulses);
  return b * -std::expm1(-p / a_pulses) + g_min;
}

double NeuroSimCurve::p(double g) const {
  const double range = g_max - g_min;
  if (!std::isfinite(a_pulses)) return (g - g_min) / range * p_max;
  const double b = range / -std::expm1(-p_max / a_pulses);
  return -a_pulses * std::log1p(-(g - g_min) / b);
}

PiecewiseTable load_piecewise_csv(const std::string& filename) {
  std::ifstream in(filename);
  if (!in) throw Error(cat(filename, ": cannot open file"));
  PiecewiseTable table;
  table.source = filename;
  std::string line;
  int number = 0;
  bool header = false, pot_ended = false, dep_ended = false;
  auto fail = [&](const std::string& what) {
    return Error(cat(filename, ":", number, ": ", what));
  };
  auto parse = [&](const std::string& cell, const char* column) {
    const char* begin = cell.c_str();
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(v))
      throw fail(cat(column, " \"", cell, "\" is not a number"));
    return v;
  };
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 mark
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    const auto cells = split_cells(text);
    if (!header) {
      if (cells != std::vector<std::string>{"pulse", "g_potentiation", "g_depression"})
        throw fail(
            cat("the header must be \"pulse,g_potentiation,g_depression\", found \"", text, "\""));
      header = true;
      continue;
    }
    if (cells.size() != 3) throw fail(cat("expected 3 cells, found ", cells.size()));
    const double pulse = parse(cells[0], "pulse");
    if (pulse < 0) throw fail(cat("pulse ", pulse, " is negative"));
    auto add = [&](const std::string& cell, const char* column, bool& ended, std::vector<double>& q,
                   std::vector<double>& g, double sign) {
      if (cell.empty()) {
        ended = !q.empty();
        if (q.empty()) throw fail(cat(column, " is empty in the first row"));
        return;
      }
      if (ended) throw fail(cat(column, " continues after an empty cell"));
      const double v = parse(cell, column);
      if (v < 0) throw fail(cat(column, " ", v, " is negative"));
      if (!q.empty() && pulse <= q.back())
        throw fail(cat("pulse ", pulse, " does not increase (previous ", q.back(), ")"));
      if (!g.empty() && sign * (v - g.back()) < 0)
        throw fail(cat(column, " ", v, (sign > 0 ? " decreases" : " increases"), " (previous ",
                       g.back(), ")"));
      q.push_back(pulse);
      g.push_back(v);
    };
    add(cells[1], "g_potentiation", pot_ended, table.pot_pulse, table.pot_g, 1.0);
    add(cells[2], "g_depression", dep_ended, table.dep_pulse, table.dep_g, -1.0);
  }
  if (!header) throw Error(cat(filename, ":", number, ": no header line (file is empty)"));
  if (table.pot_g.size() < 2)
    throw Error(cat(filename, ":", number, ": the potentiation curve needs at least two points"));
  if (table.dep_g.size() < 2)
    throw Error(cat(filename, ":", number, ": the depression curve needs at least two points"));
  return table;
}

json to_json(const PiecewiseTable& table) {
  return json{{"source", table.source},
              {"pot_pulse", table.pot_pulse},
              {"pot_g", table.pot_g},
              {"dep_pulse", table.dep_pulse},
              {"dep_g", table.dep_g}};
}

PiecewiseTable piecewise_table_from_json(const json& value, const std::string& where) {
  try {
    PiecewiseTable t;
    t.source = value.at("source").get<std::string>();
    t.pot_pulse = value.at("pot_pulse").get<std::vector<double>>();
    t.pot_g = value.at("pot_g").get<std::vector<double>>();
    t.dep_pulse = value.at("dep_pulse").get<std::vector<double>>();
    t.dep_g = value.at("dep_g").get<std::vector<double>>();
    if (t.pot_pulse.size() != t.pot_g.size() || t.dep_pulse.size() != t.dep_g.size() ||
        t.pot_g.size() < 2 || t.dep_g.size() < 2)
      throw Error("curves of unequal or too short length");
    return t;
  } catch (const std::exception& e) {
    throw Error(cat(where, ": malformed piecewise table: ", e.what()));
  }
}

namespace {

/// A model whose parameters are `Params` in DeviceParams::*member, described by describe(Schema&,
/// Params&) and made by `make(params, path, table)`.
template <class Params, class Make>
DeviceModelType model_type(const char* name, Params DeviceParams::*member, Make make) {
  return {name, [member](Schema& s, DeviceParams& d) { describe(s, d.*member); },
          [member, make](const DeviceParams& d, const std::string& path, const PiecewiseTable* table) {
            return std::unique_ptr<DeviceModel>(make(d.*member, path, table));
          }};
}

/// A model of the update family: bounds checked, then Model(params).
template <class Model, class Params>
DeviceModelType bounded_type(const char* name, Params DeviceParams::*member) {
  return model_type(name, member, [](const Params& p, const std::string& path, const PiecewiseTable*) {
    check_bounds(p.g_min, p.g_max, path);
    return std::make_unique<Model>(p);
  });
}

std::unique_ptr<DeviceModel> make_neurosim(const NeuroSimParams& p, const std::string& path,
                                           const PiecewiseTable*) {
  check_bounds(p.g_min, p.g_max, path);
  auto a_of = [&](double a, double nl, const char* key) {
    if (a != 0.0) return a;
    if (nl == 0.0) return 0.0;  // linear
    if (!(std::abs(nl) < 10.0))
      throw ConfigError(join_path(path, key), number_text(nl), "must be in (-10, 10)");
    return neurosim_a_from_nl(nl);
  };
  return std::make_unique<NeuroSimModel>(p, a_of(p.a_ltp, p.nl_ltp, "nl_ltp"),
                                         a_of(p.a_ltd, p.nl_ltd, "nl_ltd"));
}

std::unique_ptr<DeviceModel> make_piecewise(const PiecewiseParams& p, const std::string& path,
                                            const PiecewiseTable* table) {
  if (table) return std::make_unique<PiecewiseModel>(p, *table, path);
  if (p.file.empty()) throw ConfigError(join_path(path, "file"), "\"\"", "must name the pulse-response CSV");
  return std::make_unique<PiecewiseModel>(p, load_piecewise_csv(p.file), path);
}

/// A memristor compact model (devices/memristor.h), made by its own factory.
template <class Params>
DeviceModelType memristor_type(const char* name, Params DeviceParams::*member,
                               std::unique_ptr<DeviceModel> (*make)(const Params&, const std::string&)) {
  return model_type(name, member, [make](const Params& p, const std::string& path, const PiecewiseTable*) {
    return make(p, path);
  });
}

}  // namespace

const std::vector<DeviceModelType>& device_model_types() {
  static const std::vector<DeviceModelType> types = {
      bounded_type<IdealModel>("ideal", &DeviceParams::ideal),
      bounded_type<ConstantStepModel>("constant-step", &DeviceParams::constant_step),
      bounded_type<LinearStepModel>("linear-step", &DeviceParams::linear_step),
      bounded_type<SoftBoundsModel>("soft-bounds", &DeviceParams::soft_bounds),
      bounded_type<ExpStepModel>("exp-step", &DeviceParams::exp_step),
      bounded_type<PowStepModel>("pow-step", &DeviceParams::pow_step),
      model_type("neurosim", &DeviceParams::neurosim, make_neurosim),
      model_type("piecewise", &DeviceParams::piecewise, make_piecewise),
      memristor_type("hp", &DeviceParams::hp, make_hp_model),
      memristor_type("vteam", &DeviceParams::vteam, make_vteam_model),
      memristor_type("yakopcic", &DeviceParams::yakopcic, make_yakopcic_model),
  };
  return types;
}

const std::vector<std::string>& device_model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& type : device_model_types()) out.push_back(type.name);
    return out;
  }();
  return names;
}

std::unique_ptr<DeviceModel> make_model(const DeviceParams& d, const std::string& path,
                                        const PiecewiseTable* table) {
  for (const auto& type : device_model_types())
    if (type.name == d.model) return type.make(d, path, table);
  std::string names;
  for (const auto& n : device_model_names()) names += (names.empty() ? "" : ", ") + n;
  throw ConfigError(join_path(path, "model"), json_text(json(d.model)), "must be one of: " + names);
}

}  // namespace physlearn::devices
