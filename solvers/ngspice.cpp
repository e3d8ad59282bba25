#include "solvers/ngspice.h"

#include <ngspice/sharedspice.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <unordered_map>

#include "circuits/elements/voltage_source.h"
#include "core/error.h"

namespace physlearn::solvers {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Collapses runs of blanks and trims.
std::string tidy(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (blank) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

/// One library instance per process, driven under one mutex (ngspice is not thread-safe).
/// The callbacks run synchronously inside ngSpice_* calls, i.e. while the mutex is held.
struct Engine {
  std::mutex mutex;
  bool initialised = false;
  bool exited = false;  ///< ngspice asked to exit: the instance is unusable
  int exit_status = 0;
  bool verbose = false;
  std::vector<std::string> errors;  ///< stderr lines of the current call
  bool dc_failed = false;           ///< stdout said "DC solution failed"
  long total_iterations = -1;       ///< from "rusage totiter"
  /// The values of the last data point ngspice sent (SendData): for an op, every node voltage
  /// and branch current, in one callback (reading them by ngGet_Vec_Info instead is a linear
  /// search per name).
  std::unordered_map<std::string, double> data;
};

/// Never destroyed: ngspice may still call back while the process exits.
Engine& engine() {
  static Engine* e = new Engine;
  return *e;
}

// C callbacks: never let an exception cross them.
int on_char(char* text, int, void*) {
  try {
    Engine& e = engine();
    std::string line = text ? text : "";
    if (e.verbose) std::cerr << "ngspice: " << line << "\n";
    if (line.rfind("stderr", 0) == 0) {
      line = tidy(line.substr(6));
      if (!line.empty()) e.errors.push_back(line);
    } else if (line.rfind("stdout", 0) == 0) {
      const std::string out = line.substr(6);
      if (out.find("DC solution failed") != std::string::npos) e.dc_failed = true;
      const auto at = out.find("Total iterations =");
      if (at != std::string::npos) e.total_iterations = std::atol(out.c_str() + at + 18);
    }
  } catch (...) {
  }
  return 0;
}

int on_stat(char* text, int, void*) {
  try {
    if (engine().verbose && text) std::cerr << "ngspice status: " << text << "\n";
  } catch (...) {
  }
  return 0;
}

int on_data(pvecvaluesall all, int, int, void*) {
  try {
    if (!all) return 0;
    Engine& e = engine();
    for (int k = 0; k < all->veccount; ++k)
      if (all->vecsa[k] && all->vecsa[k]->name) e.data[all->vecsa[k]->name] = all->vecsa[k]->creal;
  } catch (...) {
  }
  return 0;
}

int on_controlled_exit(int status, NG_BOOL, NG_BOOL, int, void*) {
  engine().exited = true;
  engine().exit_status = status;
  return 0;
}

/// True for a stderr line that means the call failed (see ngspice.h).
bool is_failure(const std::string& line) {
  const std::string l = lower(line);
  static const char* const fatal[] = {"error",     "singular matrix", "can't find", "cannot",
                                      "could not", "unknown",         "no such",    "not found",
                                      "illegal",   "aborted",         "too small"};
  for (const char* f : fatal)
    if (l.find(f) != std::string::npos) return true;
  if (l.find("failed") != std::string::npos) {
    // ngspice's convergence aids report their own failure and hand over to the next aid.
    static const char* const steps[] = {"gmin step", "source step", "gmin stepping"};
    for (const char* s : steps)
      if (l.find(s) != std::string::npos) return false;
    return true;
  }
  return false;
}

/// Drops ngspice's progress prefixes ("Trying gmin = 1.0000E-03 ", "Supplies reduced to 0.1000% ")
/// that share a line with the message after them.
std::string strip_progress(std::string line) {
  for (bool again = true; again;) {
    again = false;
    for (const char* prefix : {"Trying gmin = ", "Supplies reduced to "}) {
      if (line.rfind(prefix, 0) != 0) continue;
      const auto value_end = line.find(' ', std::string(prefix).size());
      line = value_end == std::string::npos ? "" : line.substr(value_end + 1);
      again = true;
    }
  }
  return line;
}

/// Runs one command, with the mutex held.
void command(const char* text) { ngSpice_Command(const_cast<char*>(text)); }

/// Throws SolverError when the lines collected since the last clear show a failure.
void check(Engine& e, const std::string& stage) {
  if (e.exited)
    throw SolverError(cat("ngspice: the library asked to exit (status ", e.exit_status, ") during ",
                          stage, "; it cannot be used again in this process"));
  std::vector<std::string> failures;
  for (std::size_t k = 0; k < e.errors.size(); ++k) {
    if (!is_failure(e.errors[k])) continue;
    failures.push_back(e.errors[k]);
    // "Error on line 3 or its substitute:" is followed by the offending card.
    if (!failures.back().empty() && failures.back().back() == ':' && k + 1 < e.errors.size() &&
        !is_failure(e.errors[k + 1]))
      failures.back() += " " + e.errors[++k];
  }
  if (e.dc_failed) failures.push_back("DC solution failed");
  if (failures.empty()) return;
  std::string message = "ngspice: " + stage + " failed: ";
  std::set<std::string> seen;
  int shown = 0;
  for (const auto& line : failures) {
    const std::string f = strip_progress(line);
    if (f.empty() || !seen.insert(f).second) continue;
    if (shown++ == 6) {
      message += "; ...";
      break;
    }
    message += (shown > 1 ? "; " : "") + f;
  }
  throw SolverError(message);
}

/// Removes the circuit and every plot; the collected lines are cleared (the warning when no
/// circuit is loaded is expected after a failed load).
void clean_up(Engine& e) {
  command("remcirc");
  command("destroy all");
  e.errors.clear();
  e.dc_failed = false;
}

void initialise(Engine& e) {
  if (e.initialised) return;
  ngSpice_Init(on_char, on_stat, on_controlled_exit, on_data, nullptr, nullptr, nullptr);
  e.initialised = true;
  e.errors.clear();
}

}  // namespace

circuits::SpiceExportOptions NgspiceOptions::tight_netlist_options() {
  circuits::SpiceExportOptions o;
  o.reltol = 1e-12;
  o.abstol = 1e-15;
  o.vntol = 1e-12;
  o.itl1 = 200;
  return o;
}

namespace {

struct RunResult {
  std::vector<double> values;
  long iterations = -1;  ///< ngspice's "Total iterations" (-1: not reported)
};

/// Readies the library for one run (the caller holds e.mutex): initialised, not exited, the
/// last run's messages and data cleared.
void begin_run(Engine& e, bool verbose) {
  e.verbose = verbose;
  initialise(e);
  if (e.exited)
    throw SolverError(
        "ngspice: the library asked to exit earlier; it cannot be used again in "
        "this process");
  e.errors.clear();
  e.dc_failed = false;
  e.total_iterations = -1;
  e.data.clear();
}

/// Loads netlist lines (title first, ".end" last) into ngspice.
void load_circuit(Engine& e, const std::vector<std::string>& lines) {
  std::vector<std::string> copy = lines;  // ngSpice_Circ takes char*, not const char*
  std::vector<char*> pointers;
  pointers.reserve(copy.size() + 1);
  for (auto& line : copy) pointers.push_back(line.data());
  pointers.push_back(nullptr);
  ngSpice_Circ(pointers.data());
  check(e, "loading the netlist");
}

RunResult run_op(const std::vector<std::string>& lines, const std::vector<std::string>& vectors,
                 bool verbose, NgspiceTimings* timings) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  begin_run(e, verbose);
  RunResult result;
  std::vector<double>& values = result.values;
  values.reserve(vectors.size());
  try {
    auto start = Clock::now();
    load_circuit(e, lines);
    if (timings) timings->load_seconds = seconds_since(start);
    start = Clock::now();
    command("op");
    if (timings) timings->op_seconds = seconds_since(start);
    check(e, "op");
    start = Clock::now();
    for (const auto& name : vectors) {
      const auto it = e.data.find(name);
      if (it != e.data.end()) {
        values.push_back(it->second);
        continue;
      }
      std::string buffer = name;
      pvector_info info = ngGet_Vec_Info(buffer.data());
      // The struct is static inside ngspice: copy the value at once.
      if (!info || info->v_length < 1 || !info->v_realdata)
        throw SolverError("ngspice: op gave no vector \"" + name + "\"");
      values.push_back(info->v_realdata[0]);
    }
    command("rusage totiter");
    result.iterations = e.total_iterations;
    clean_up(e);
    if (timings) {
      timings->read_seconds = seconds_since(start);
      timings->lines = static_cast<int>(lines.size());
    }
  } catch (...) {
    clean_up(e);
    e.verbose = false;
    throw;
  }
  e.verbose = false;
  return result;
}

}  // namespace

std::vector<double> ngspice_run_op(const std::vector<std::string>& lines,
                                   const std::vector<std::string>& vectors, bool verbose,
                                   NgspiceTimings* timings) {
  return run_op(lines, vectors, verbose, timings).values;
}

NgspiceWaveforms ngspice_run_tran(const std::vector<std::string>& lines,
                                  const std::vector<std::string>& vectors, bool verbose) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  begin_run(e, verbose);
  NgspiceWaveforms out;
  try {
    load_circuit(e, lines);
    command("run");
    check(e, "run");
    auto read = [](const std::string& name) {
      std::string buffer = name;
      pvector_info info = ngGet_Vec_Info(buffer.data());
      if (!info || info->v_length < 1 || !info->v_realdata)
        throw SolverError("ngspice: the transient gave no vector \"" + name + "\"");
      return std::vector<double>(info->v_realdata, info->v_realdata + info->v_length);
    };
    out.time = read("time");
    for (const auto& name : vectors) {
      out.values.push_back(read(name));
      if (out.values.back().size() != out.time.size())
        throw SolverError("ngspice: vector \"" + name + "\" is not as long as time");
    }
    clean_up(e);
  } catch (...) {
    clean_up(e);
    e.verbose = false;
    throw;
  }
  e.verbose = false;
  return out;
}

OperatingPoint ngspice_operating_point(const circuits::Circuit& circuit,
                                       const NgspiceOptions& options,
                                       const std::vector<Nudge>& nudges, NgspiceTimings* timings) {
  auto start = Clock::now();
  const circuits::SpiceNetlist net = circuits::export_spice(circuit, options.netlist);
  for (const auto& n : nudges)
    if (n.node < 0 || n.node >= circuit.num_nodes())
      throw Error(cat("ngspice: a nudge at node index ", n.node, ", which does not exist"));

  // Element cards go in reverse list order: ngspice prepends each new instance to its model's
  // list (CKTcrtElt) and sets up the matrix walking those lists, and Sparse 1.3 finds matrix
  // entries by a linear search down each column; in reverse order the layered networks' entries
  // arrive in the cheap order (measured: op 2.4 s instead of 10 s on a 1568-100-10 DRN).
  std::vector<std::string> lines;
  lines.reserve(net.header.size() + net.elements.size() + 2 * nudges.size() + net.models.size() +
                2);
  lines.push_back(net.title);
  lines.insert(lines.end(), net.header.begin(), net.header.end());
  if (!nudges.empty()) {
    std::set<std::string> taken;
    for (const auto& card : net.elements) taken.insert(card.substr(0, card.find(' ')));
    auto unique = [&](std::string name) {
      while (taken.count(name)) name += "_x";
      taken.insert(name);
      return name;
    };
    for (std::size_t k = 0; k < nudges.size(); ++k) {
      const Nudge& n = nudges[k];
      if (n.beta == 0.0) continue;
      const std::string& node = net.node_names[static_cast<std::size_t>(n.node)];
      lines.push_back(unique("r_nudge" + std::to_string(k)) + " " + node + " 0 " +
                      circuits::spice_number(1.0 / n.beta));
      lines.push_back(unique("i_nudge" + std::to_string(k)) + " 0 " + node + " DC " +
                      circuits::spice_number(n.beta * n.target));
    }
  }
  lines.insert(lines.end(), net.elements.rbegin(), net.elements.rend());
  lines.insert(lines.end(), net.models.begin(), net.models.end());
  lines.push_back(".end");

  // Node voltages, then the extra unknowns ngspice has vectors for ("#branch" currents).
  std::vector<std::string> vectors = net.node_names;
  for (const auto& u : net.unknowns)
    if (!u.vector.empty()) vectors.push_back(u.vector);
  if (timings) timings->export_seconds = seconds_since(start);

  RunResult result;
  try {
    result = run_op(lines, vectors, options.verbose, timings);
  } catch (const SolverError& error) {
    // Name the circuit's node where ngspice names its own.
    std::string message = error.what();
    const auto at = message.find("check node ");
    if (at != std::string::npos) {
      std::string spice = message.substr(at + 11);
      spice = spice.substr(0, spice.find_first_of(" ;"));
      for (int n = 0; n < circuit.num_nodes(); ++n)
        if (net.node_names[static_cast<std::size_t>(n)] == spice) {
          message += cat(" (circuit node \"", circuit.node_name(n), "\")");
          break;
        }
    }
    throw SolverError(message);
  }

  const std::vector<double>& values = result.values;
  OperatingPoint op;
  const int n = circuit.num_nodes();
  op.voltages.resize(n);
  std::size_t at = 0;
  for (int k = 0; k < n; ++k) op.voltages(k) = values[at++];
  // The other unknowns: ngspice's vectors, or what the exported elements carry at those
  // voltages (an ideal diode's current through its steep model).
  op.unknowns.resize(n + static_cast<Eigen::Index>(net.unknowns.size()));
  op.unknowns.head(n) = op.voltages;
  for (std::size_t u = 0; u < net.unknowns.size(); ++u) {
    const circuits::SpiceUnknown& source = net.unknowns[u];
    op.unknowns[n + static_cast<Eigen::Index>(u)] =
        !source.vector.empty() ? values[at++] : source.from_voltages(op.voltages);
  }
  op.iterations = static_cast<int>(std::max(0L, result.iterations));
  op.residual_norm = kcl_residual(circuit, op, nudges);
  return op;
}

namespace {

class NgspiceLayeredSolver final : public EquilibriumSolver {
 public:
  NgspiceLayeredSolver(const NgspiceSolverOptions& options, const circuits::LayeredNetwork& net)
      : options_(ngspice_options(options)), free_(circuits::lower_to_circuit(net)) {
    options_.netlist.title = "physlearn layered network";
  }

  std::string name() const override { return "ngspice"; }
  long last_iterations() const override { return last_iterations_; }

  void set_inputs(const circuits::LayeredNetwork&, const Eigen::MatrixXd& input_voltages) override {
    input_voltages_ = input_voltages;
  }

  void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
             LayeredState& state) override {
    const Eigen::Index batch = input_voltages_.rows();
    if (batch == 0 || state.layers.empty() || state.layers.front().rows() != batch)
      throw std::logic_error("ngspice solver: relax without set_inputs for this batch");
    if (nudge.beta != 0.0 && (!nudge.targets || nudge.targets->rows() != batch))
      throw std::logic_error("ngspice solver: nudge without targets for the batch");
    if (nudge.clamp && !clamped_)
      clamped_ = std::make_unique<circuits::LoweredNetwork>(circuits::lower_to_circuit(net, true));
    circuits::LoweredNetwork& lowered = nudge.clamp ? *clamped_ : free_;
    const auto& outputs = lowered.layer_nodes.back();
    std::vector<Nudge> nudges;
    last_iterations_ = 0;
    for (Eigen::Index b = 0; b < batch; ++b) {
      lowered.update(net, input_voltages_.row(b));
      if (nudge.clamp)
        for (std::size_t i = 0; i < lowered.clamp_sources.size(); ++i)
          lowered.circuit.list<circuits::VoltageSource>()[static_cast<std::size_t>(
                                                              lowered.clamp_sources[i])]
              .volts = (*nudge.clamp)(b, static_cast<Eigen::Index>(i));
      nudges.clear();
      if (nudge.beta != 0.0)
        for (std::size_t i = 0; i < outputs.size(); ++i)
          nudges.push_back(
              {outputs[i], nudge.beta, (*nudge.targets)(b, static_cast<Eigen::Index>(i))});
      const OperatingPoint op = ngspice_operating_point(lowered.circuit, options_, nudges);
      last_iterations_ += op.iterations;
      for (std::size_t l = 0; l < lowered.layer_nodes.size(); ++l)
        for (std::size_t i = 0; i < lowered.layer_nodes[l].size(); ++i)
          state.layers[l](b, static_cast<Eigen::Index>(i)) = op.voltages(lowered.layer_nodes[l][i]);
    }
  }

 private:
  NgspiceOptions options_;
  Eigen::MatrixXd input_voltages_;
  circuits::LoweredNetwork free_;
  std::unique_ptr<circuits::LoweredNetwork> clamped_;
  long last_iterations_ = 0;
};

}  // namespace

void describe(Schema& s, NgspiceSolverOptions& o) {
  s.field("reltol", o.reltol, "relative tolerance (.options reltol)").greater(0.0);
  s.field("abstol", o.abstol, "current tolerance (.options abstol)").unit("A").greater(0.0);
  s.field("vntol", o.vntol, "voltage tolerance (.options vntol)").unit("V").greater(0.0);
  s.field("ideal_diode_emission", o.ideal_diode_emission,
          "emission coefficient N of the steep Shockley diode standing for each ideal diode "
          "(forward drop N Vt ln(1 + I/IS))")
      .greater(0.0);
  s.field("verbose", o.verbose, "echo ngspice's output to stderr");
}

NgspiceOptions ngspice_options(const NgspiceSolverOptions& o) {
  NgspiceOptions out;
  out.netlist.reltol = o.reltol;
  out.netlist.abstol = o.abstol;
  out.netlist.vntol = o.vntol;
  out.netlist.ideal_diode_emission = o.ideal_diode_emission;
  out.verbose = o.verbose;
  return out;
}

std::unique_ptr<EquilibriumSolver> make_ngspice_layered_solver(
    const NgspiceSolverOptions& options, const circuits::LayeredNetwork& net) {
  return std::make_unique<NgspiceLayeredSolver>(options, net);
}

}  // namespace physlearn::solvers
