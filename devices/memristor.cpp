// Memristor compact models and their CVODE state integration.
//
// Sources of the published forms:
//   D. B. Strukov, G. S. Snider, D. R. Stewart, R. S. Williams, "The missing memristor found",
//     Nature 453, 80-83 (2008): HP linear ion drift.
//   Y. N. Joglekar, S. J. Wolf, "The elusive memristor: properties of basic electrical circuits",
//     Eur. J. Phys. 30, 661 (2009): window 1 - (2x - 1)^(2p).
//   Z. Biolek, D. Biolek, V. Biolkova, "SPICE model of memristor with nonlinear dopant drift",
//     Radioengineering 18(2), 210-214 (2009): window 1 - (x - stp(-i))^(2p).
//   T. Prodromakis, B. P. Peh, C. Papavassiliou, C. Toumazou, "A versatile memristor model with
//     nonlinear dopant kinetics", IEEE Trans. Electron Devices 58(9), 3099-3105 (2011):
//     window j (1 - ((x - 0.5)^2 + 0.75)^p).
//   S. Kvatinsky, M. Ramadan, E. G. Friedman, A. Kolodny, "VTEAM: A general model for
//     voltage-controlled memristors", IEEE TCAS-II 62(8), 786-790 (2015).
//   C. Yakopcic, T. M. Taha, G. Subramanyam, R. E. Pino, S. Rogers, "A memristor device model",
//     IEEE Electron Device Lett. 32(10), 1436-1438 (2011); C. Yakopcic, T. M. Taha,
//     G. Subramanyam, R. E. Pino, "Generalized memristive device SPICE model and its application
//     in circuit design", IEEE TCAD 32(8), 1201-1214 (2013).
#include "devices/memristor.h"

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>

#include "devices/models.h"

namespace physlearn::devices {

namespace {

std::string number_text(double value) { return json_text(json(value)); }

double clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

Window parse_window(const std::string& name) {
  if (name == "joglekar") return Window::joglekar;
  if (name == "biolek") return Window::biolek;
  if (name == "prodromakis") return Window::prodromakis;
  return Window::none;  // the schema admits only these four names
}

/// Reads the parameters back through their schema, so that a struct filled in code is held to
/// the same rules (and key paths) as one read from a file.
template <class Params>
void check_fields(const Params& params, const std::string& path) {
  Params copy = params;
  Schema schema;
  describe(schema, copy);
  schema.read(schema.write(), path);
}

void describe_window(Schema& s, std::string& window, double& p, double& j) {
  s.field("window", window,
          "drift window f(x): none (x stops at 0 and 1), joglekar 1 - (2x - 1)^(2p), biolek "
          "1 - (x - stp(-i))^(2p), prodromakis j (1 - ((x - 0.5)^2 + 0.75)^p)")
      .one_of({"none", "joglekar", "biolek", "prodromakis"});
  s.field("p", p, "window exponent p").greater(0.0);
  s.field("j", j, "Prodromakis window scale j").greater(0.0);
}

void describe_pulse(Schema& s, double& v_set, double& v_reset, double& width, int& max_pulses,
                    const std::string& polarity) {
  s.field("v_set", v_set, "amplitude of a potentiation pulse (conductance up); " + polarity)
      .unit("V");
  s.field("v_reset", v_reset, "amplitude of a depression pulse (conductance down)").unit("V");
  s.field("pulse_width", width, "width of a programming pulse").unit("s").greater(0.0);
  s.field("max_pulses", max_pulses, "programming pulses per update at most").min(1);
}

void describe_cvode(Schema& s, CvodeParams& cvode) {
  s.section("cvode", "CVODE settings of the state equation",
            [&cvode](Schema& sub) { describe(sub, cvode); });
}

}  // namespace

// ---- parameters ----

void describe(Schema& s, CvodeParams& p) {
  s.field("method", p.method, "bdf (stiff: Newton, dense 1x1) or adams (non-stiff: fixed point)")
      .one_of({"bdf", "adams"});
  s.field("rtol", p.rtol, "relative tolerance on the state x").greater(0.0);
  s.field("atol", p.atol, "absolute tolerance on the state x").greater(0.0);
  s.field("max_steps", p.max_steps, "CVODE steps per output interval at most").min(1L);
  s.field("bound_tolerance", p.bound_tolerance,
          "how far x may leave [0, 1] before it is an error (then it is clipped)")
      .min(0.0);
}

void describe(Schema& s, HpParams& p) {
  s.field("r_on", p.r_on, "resistance when fully doped (x = 1); g_max = 1/r_on")
      .unit("ohm")
      .greater(0.0);
  s.field("r_off", p.r_off, "resistance when undoped (x = 0), > r_on; g_min = 1/r_off")
      .unit("ohm")
      .greater(0.0);
  s.field("mu_v", p.mu_v, "dopant mobility: dx/dt = mu_v r_on / d^2 i f(x)")
      .unit("m^2/(V s)")
      .greater(0.0);
  s.field("d", p.d, "film thickness D").unit("m").greater(0.0);
  describe_window(s, p.window, p.p, p.j);
  describe_pulse(s, p.v_set, p.v_reset, p.pulse_width, p.max_pulses, "> 0 for hp");
  describe_cvode(s, p.cvode);
}

void describe(Schema& s, VteamParams& p) {
  s.field("r_on", p.r_on, "ON resistance (x = 0); g_max = 1/r_on").unit("ohm").greater(0.0);
  s.field("r_off", p.r_off, "OFF resistance (x = 1), > r_on; g_min = 1/r_off")
      .unit("ohm")
      .greater(0.0);
  s.field("resistance", p.resistance,
          "R(x): linear r_on + (r_off - r_on) x, or exponential r_on (r_off/r_on)^x")
      .one_of({"linear", "exponential"});
  auto negative = [](const double& v) { return v < 0.0; };
  s.field("k_on", p.k_on, "ON rate: dx/dt = k_on/d (v/v_on - 1)^alpha_on f for v < v_on")
      .unit("m/s")
      .check(negative, "< 0");
  s.field("k_off", p.k_off, "OFF rate: dx/dt = k_off/d (v/v_off - 1)^alpha_off f for v > v_off")
      .unit("m/s")
      .greater(0.0);
  s.field("alpha_on", p.alpha_on, "ON exponent").min(0.0);
  s.field("alpha_off", p.alpha_off, "OFF exponent").min(0.0);
  s.field("v_on", p.v_on, "ON threshold").unit("V").check(negative, "< 0");
  s.field("v_off", p.v_off, "OFF threshold (typical fits: 0.02 V, crossed by a 0.1 V read)")
      .unit("V")
      .greater(0.0);
  s.field("d", p.d, "D = x_off - x_on, the range of the state in metres").unit("m").greater(0.0);
  describe_window(s, p.window, p.p, p.j);
  s.field("v_read", p.v_read,
          "read voltage: v_on < -v_read and v_read < v_off (reads never program)")
      .unit("V")
      .min(0.0);
  describe_pulse(s, p.v_set, p.v_reset, p.pulse_width, p.max_pulses, "< v_on for vteam");
  describe_cvode(s, p.cvode);
}

void describe(Schema& s, YakopcicParams& p) {
  s.field("a1", p.a1, "i = a1 x sinh(b v) for v >= 0").unit("A").greater(0.0);
  s.field("a2", p.a2, "i = a2 x sinh(b v) for v < 0").unit("A").greater(0.0);
  s.field("b", p.b, "i-v curvature b").unit("1/V").greater(0.0);
  s.field("vp", p.vp, "positive threshold Vp").unit("V").greater(0.0);
  s.field("vn", p.vn, "negative threshold Vn (magnitude)").unit("V").greater(0.0);
  s.field("ap", p.ap, "rate above Vp: Ap (e^v - e^Vp)").unit("1/s").greater(0.0);
  s.field("an", p.an, "rate below -Vn: -An (e^-v - e^Vn)").unit("1/s").greater(0.0);
  auto below_one = [](const double& v) { return v < 1.0; };
  s.field("xp", p.xp, "state where the upward window starts").min(0.0).check(below_one, "< 1");
  s.field("xn", p.xn, "the downward window starts at x = 1 - xn").min(0.0).check(below_one, "< 1");
  s.field("alpha_p", p.alpha_p, "upward window decay alpha_p").min(0.0);
  s.field("alpha_n", p.alpha_n, "downward window decay alpha_n").min(0.0);
  s.field("eta", p.eta, "direction of motion: dx/dt = eta g(v) f(x)")
      .check([](const double& v) { return v == 1.0 || v == -1.0; }, "1 or -1");
  s.field("v_read", p.v_read,
          "read voltage, < vp: G(x) = a1 b cosh(b v_read) x (small-signal conductance)")
      .unit("V")
      .min(0.0);
  describe_pulse(s, p.v_set, p.v_reset, p.pulse_width, p.max_pulses, "> vp for yakopcic");
  describe_cvode(s, p.cvode);
}

double window_value(Window window, double x, int direction, double p, double j) {
  switch (window) {
    case Window::none:
      return 1.0;
    case Window::joglekar:
      return 1.0 - std::pow(std::abs(2.0 * x - 1.0), 2.0 * p);
    case Window::biolek: {
      const double stp = direction < 0 ? 1.0 : 0.0;  // stp(-i): 1 when the current is negative
      return 1.0 - std::pow(std::abs(x - stp), 2.0 * p);
    }
    case Window::prodromakis:
      return j * (1.0 - std::pow((x - 0.5) * (x - 0.5) + 0.75, p));
  }
  return 1.0;
}

void ResistiveMemristor::set(double r_on, double r_off, const std::string& window, double p,
                             double j, const std::string& path) {
  if (!(r_off > r_on))
    throw ConfigError(join_path(path, "r_off"), number_text(r_off),
                      "must be > r_on (" + number_text(r_on) + ")");
  r_on_ = r_on;
  r_off_ = r_off;
  window_ = parse_window(window);
  p_ = p;
  j_ = j;
}

void ResistiveMemristor::set_resistances(const double* device) {
  r_on_ = 1.0 / device[1];
  r_off_ = 1.0 / std::max(device[0], 1e-9 * device[1]);
}

// ---- HP linear ion drift ----

HpMemristor::HpMemristor(const HpParams& params, const std::string& path) {
  check_fields(params, path);
  set(params.r_on, params.r_off, params.window, params.p, params.j, path);
  k_ = params.mu_v * params.r_on / (params.d * params.d);
}

HpMemristor::HpMemristor(const HpMemristor& nominal, const double* device) : HpMemristor(nominal) {
  set_resistances(device);
  const double d = std::abs(device[3]);
  k_ = device[2] * r_on_ / (d * d);
  p_ = device[4];
  j_ = device[5];
}

double HpMemristor::rate(double x, double v) const {
  const double i = v / resistance(x);
  if (i == 0.0) return 0.0;
  return k_ * i * window(x, i > 0.0 ? 1 : -1);
}

double HpMemristor::state(double g) const { return clamp01((r_off_ - 1.0 / g) / (r_off_ - r_on_)); }

// ---- VTEAM ----

VteamMemristor::VteamMemristor(const VteamParams& params, const std::string& path) {
  check_fields(params, path);
  set(params.r_on, params.r_off, params.window, params.p, params.j, path);
  if (!(params.v_read < params.v_off))
    throw ConfigError(join_path(path, "v_read"), number_text(params.v_read),
                      "must be < v_off (" + number_text(params.v_off) + "): reads would program");
  if (!(-params.v_read > params.v_on))
    throw ConfigError(join_path(path, "v_read"), number_text(params.v_read),
                      "must be < -v_on (" + number_text(-params.v_on) + "): reads would program");
  k_on_ = params.k_on;
  k_off_ = params.k_off;
  alpha_on_ = params.alpha_on;
  alpha_off_ = params.alpha_off;
  v_on_ = params.v_on;
  v_off_ = params.v_off;
  d_ = params.d;
  exponential_ = params.resistance == "exponential";
}

VteamMemristor::VteamMemristor(const VteamMemristor& nominal, const double* device)
    : VteamMemristor(nominal) {
  set_resistances(device);
  k_on_ = -std::abs(device[2]);
  k_off_ = std::abs(device[3]);
  alpha_on_ = device[4];
  alpha_off_ = device[5];
  v_on_ = -std::abs(device[6]);
  v_off_ = std::abs(device[7]);
  d_ = std::abs(device[8]);
  p_ = device[9];
  j_ = device[10];
}

double VteamMemristor::rate(double x, double v) const {
  if (v > v_off_) return k_off_ / d_ * std::pow(v / v_off_ - 1.0, alpha_off_) * window(x, 1);
  if (v < v_on_) return k_on_ / d_ * std::pow(v / v_on_ - 1.0, alpha_on_) * window(x, -1);
  return 0.0;
}

double VteamMemristor::resistance(double x) const {
  if (exponential_) return r_on_ * std::exp(std::log(r_off_ / r_on_) * x);
  return r_on_ + (r_off_ - r_on_) * x;
}

double VteamMemristor::state(double g) const {
  if (exponential_) return clamp01(std::log(1.0 / (g * r_on_)) / std::log(r_off_ / r_on_));
  return clamp01((1.0 / g - r_on_) / (r_off_ - r_on_));
}

// ---- Yakopcic ----

YakopcicMemristor::YakopcicMemristor(const YakopcicParams& params, const std::string& path) {
  check_fields(params, path);
  if (!(params.v_read < params.vp))
    throw ConfigError(join_path(path, "v_read"), number_text(params.v_read),
                      "must be < vp (" + number_text(params.vp) + "): reads would program");
  a1_ = params.a1;
  a2_ = params.a2;
  b_ = params.b;
  vp_ = params.vp;
  vn_ = params.vn;
  ap_ = params.ap;
  an_ = params.an;
  xp_ = params.xp;
  xn_ = params.xn;
  alpha_p_ = params.alpha_p;
  alpha_n_ = params.alpha_n;
  eta_ = params.eta;
  read_factor_ = params.b * std::cosh(params.b * params.v_read);
  g_max_ = a1_ * read_factor_;
}

YakopcicMemristor::YakopcicMemristor(const YakopcicMemristor& nominal, const double* device)
    : YakopcicMemristor(nominal) {
  constexpr double kBelowOne = 1.0 - 1e-6;
  g_max_ = device[1];
  a1_ = g_max_ / read_factor_;
  a2_ = nominal.a2_ * a1_ / nominal.a1_;
  vp_ = std::abs(device[2]);
  vn_ = std::abs(device[3]);
  ap_ = std::abs(device[4]);
  an_ = std::abs(device[5]);
  xp_ = std::min(kBelowOne, std::abs(device[6]));
  xn_ = std::min(kBelowOne, std::abs(device[7]));
  alpha_p_ = device[8];
  alpha_n_ = device[9];
}

double YakopcicMemristor::rate(double x, double v) const {
  double g;
  if (v > vp_)
    g = ap_ * (std::exp(v) - std::exp(vp_));
  else if (v < -vn_)
    g = -an_ * (std::exp(-v) - std::exp(vn_));
  else
    return 0.0;
  double f = 1.0;
  if (eta_ * v > 0.0) {
    if (x >= xp_) f = std::exp(-alpha_p_ * (x - xp_)) * ((xp_ - x) / (1.0 - xp_) + 1.0);
  } else if (x <= 1.0 - xn_) {
    f = std::exp(alpha_n_ * (x + xn_ - 1.0)) * (x / (1.0 - xn_));
  }
  return eta_ * g * f;
}

double YakopcicMemristor::current(double x, double v) const {
  return (v >= 0.0 ? a1_ : a2_) * x * std::sinh(b_ * v);
}

double YakopcicMemristor::state(double g) const { return clamp01(g / g_max_); }

// ---- CVODE integration ----

namespace {

/// CVODE's name of a return flag (CVodeGetReturnFlagName returns malloc'ed memory).
std::string cvode_flag_name(int flag) {
  char* name = CVodeGetReturnFlagName(flag);
  std::string out = name ? name : "unknown flag";
  std::free(name);
  return out;
}

/// A time of interest of one integrate() call.
struct Event {
  double t;
  bool sample;  ///< record a sample here
  bool stop;    ///< v may jump here: CVODE stops and restarts
};

}  // namespace

/// Under a waveform, CVODE steps at most t_end / kWaveformSteps (StateIntegrator::Impl::run).
constexpr double kWaveformSteps = 200.0;

struct StateIntegrator::Impl {
  CvodeParams params;
  SUNContext context = nullptr;
  void* cvode = nullptr;
  N_Vector y = nullptr;
  SUNMatrix matrix = nullptr;
  SUNLinearSolver linear_solver = nullptr;
  SUNNonlinearSolver nonlinear_solver = nullptr;
  int roots = 0;              ///< root functions registered with CVODE (2 for hard bounds, else 0)
  long steps = 0;             ///< since construction
  long steps_since_init = 0;  ///< CVODE's count since the last (re)initialisation

  // The call in progress.
  const Memristor* model = nullptr;
  const std::function<double(double)>* waveform = nullptr;  ///< null: constant_v
  double constant_v = 0.0;
  double segment_stop = HUGE_VAL;  ///< the stop time of the segment being integrated
  std::exception_ptr error;
  std::string message;
  std::vector<Event> events;

  explicit Impl(const CvodeParams& p);
  ~Impl();
  void create();   ///< the SUNDIALS objects
  void release();  ///< frees what create() made
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  double voltage(double t) const { return waveform ? (*waveform)(t) : constant_v; }
  /// The drive inside the segment being integrated: at its stop time (a breakpoint, where v may
  /// jump), the value just before it, so that the last step does not see the next segment's v.
  double segment_voltage(double t) const {
    return voltage(t < segment_stop ? t : std::nextafter(segment_stop, -HUGE_VAL));
  }

  /// dx/dt. With hard bounds, x is held at a bound while the drive pushes outwards.
  double drift(double t, double x) const {
    const double v = segment_voltage(t);
    if (!model->hard_bounds()) return model->rate(x, v);
    const double r = model->rate(clamp01(x), v);
    if ((x <= 0.0 && r < 0.0) || (x >= 1.0 && r > 0.0)) return 0.0;
    return r;
  }

  static int rhs_callback(sunrealtype t, N_Vector y, N_Vector ydot, void* data);
  static int root_callback(sunrealtype t, N_Vector y, sunrealtype* g, void* data);
  static void error_callback(int, const char* module, const char* function, char* message,
                             void* data);

  void check(int flag, const char* call) const {
    if (flag < 0)
      throw SolverError(cat("memristor state integrator: SUNDIALS call ", call, " failed (",
                            cvode_flag_name(flag), ")", message.empty() ? "" : ": " + message));
  }
  [[noreturn]] void fail(double t, const std::string& reason) const {
    throw SolverError(
        cat("memristor ", model->name(), ": state integration failed at t = ", t, " s: ", reason));
  }
  void restart(double t, double x, double stop);
  double run(const Memristor& m, const std::function<double(double)>* v, double v_constant,
             double x0, double t_end, const std::vector<double>& breakpoints,
             std::vector<StateSample>* samples, int sample_count);
};

StateIntegrator::Impl::Impl(const CvodeParams& p) : params(p) {
  check_fields(params, "cvode");
  try {
    create();
  } catch (...) {
    release();  // the destructor does not run when the constructor throws
    throw;
  }
}

void StateIntegrator::Impl::create() {
  check(SUNContext_Create(nullptr, &context), "SUNContext_Create");
  y = N_VNew_Serial(1, context);
  if (!y) throw SolverError("memristor state integrator: out of memory for a SUNDIALS vector");
  N_VConst(0.0, y);
  const bool bdf = params.method == "bdf";
  cvode = CVodeCreate(bdf ? CV_BDF : CV_ADAMS, context);
  if (!cvode) throw SolverError("memristor state integrator: CVodeCreate failed");
  check(CVodeSetErrHandlerFn(cvode, error_callback, this), "CVodeSetErrHandlerFn");
  check(CVodeInit(cvode, rhs_callback, 0.0, y), "CVodeInit");
  check(CVodeSetUserData(cvode, this), "CVodeSetUserData");
  check(CVodeSStolerances(cvode, params.rtol, params.atol), "CVodeSStolerances");
  check(CVodeSetMaxNumSteps(cvode, params.max_steps), "CVodeSetMaxNumSteps");
  check(CVodeSetNoInactiveRootWarn(cvode), "CVodeSetNoInactiveRootWarn");
  if (bdf) {
    matrix = SUNDenseMatrix(1, 1, context);
    linear_solver = matrix ? SUNLinSol_Dense(y, matrix, context) : nullptr;
    if (!linear_solver) throw SolverError("memristor state integrator: SUNLinSol_Dense failed");
    check(CVodeSetLinearSolver(cvode, linear_solver, matrix), "CVodeSetLinearSolver");
  } else {
    nonlinear_solver = SUNNonlinSol_FixedPoint(y, 0, context);
    if (!nonlinear_solver)
      throw SolverError("memristor state integrator: SUNNonlinSol_FixedPoint failed");
    check(CVodeSetNonlinearSolver(cvode, nonlinear_solver), "CVodeSetNonlinearSolver");
  }
}

StateIntegrator::Impl::~Impl() { release(); }

void StateIntegrator::Impl::release() {
  if (cvode) CVodeFree(&cvode);
  if (nonlinear_solver) SUNNonlinSolFree(nonlinear_solver);
  if (linear_solver) SUNLinSolFree(linear_solver);
  if (matrix) SUNMatDestroy(matrix);
  if (y) N_VDestroy(y);
  if (context) SUNContext_Free(&context);
  nonlinear_solver = nullptr;
  linear_solver = nullptr;
  matrix = nullptr;
  y = nullptr;
}

int StateIntegrator::Impl::rhs_callback(sunrealtype t, N_Vector y, N_Vector ydot, void* data) {
  auto* s = static_cast<Impl*>(data);
  try {
    const double r = s->drift(t, N_VGetArrayPointer(y)[0]);
    N_VGetArrayPointer(ydot)[0] = r;
    return std::isfinite(r) ? 0 : 1;  // recoverable: CVODE retries with a smaller step
  } catch (...) {
    s->error = std::current_exception();
    return -1;
  }
}

int StateIntegrator::Impl::root_callback(sunrealtype, N_Vector y, sunrealtype* g, void*) {
  const double x = N_VGetArrayPointer(y)[0];
  g[0] = x;
  g[1] = 1.0 - x;
  return 0;
}

void StateIntegrator::Impl::error_callback(int, const char* module, const char* function,
                                           char* text, void* data) {
  static_cast<Impl*>(data)->message = cat(module, ".", function, ": ", text);
}

void StateIntegrator::Impl::restart(double t, double x, double stop) {
  N_VGetArrayPointer(y)[0] = x;
  check(CVodeReInit(cvode, t, y), "CVodeReInit");
  steps_since_init = 0;
  check(CVodeSetStopTime(cvode, stop), "CVodeSetStopTime");
  segment_stop = stop;
}

double StateIntegrator::Impl::run(const Memristor& m, const std::function<double(double)>* v,
                                  double v_constant, double x0, double t_end,
                                  const std::vector<double>& breakpoints,
                                  std::vector<StateSample>* samples, int sample_count) {
  model = &m;
  waveform = v;
  constant_v = v_constant;
  error = nullptr;
  message.clear();
  if (!(x0 >= -params.bound_tolerance && x0 <= 1.0 + params.bound_tolerance))
    fail(0.0, cat("initial state x = ", x0, " is outside [0, 1]"));
  if (!(t_end >= 0.0) || !std::isfinite(t_end))
    fail(0.0, cat("end time ", t_end, " s must be finite and >= 0"));
  if (samples && sample_count < 1) fail(0.0, "sample_count must be >= 1");
  double x = clamp01(x0);
  if (samples) {
    samples->clear();
    samples->push_back({0.0, voltage(0.0), m.current(x, voltage(0.0)), x});
  }
  if (t_end == 0.0) return x;

  // Times to stop at, in order: samples, breakpoints (v jumps) and the end.
  events.clear();
  if (samples)
    for (int k = 1; k < sample_count; ++k)
      events.push_back({t_end * k / sample_count, true, false});
  for (double b : breakpoints)
    if (b > 0.0 && b < t_end) events.push_back({b, false, true});
  events.push_back({t_end, samples != nullptr, true});
  if (events.size() > 1) {
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.t < b.t; });
    // Merge times too close for CVODE to step between.
    const double close = 1e-12 * t_end;
    std::size_t kept = 0;
    for (std::size_t k = 1; k < events.size(); ++k) {
      if (events[k].t - events[kept].t <= close) {
        events[kept].t = std::max(events[kept].t, events[k].t);
        events[kept].sample = events[kept].sample || events[k].sample;
        events[kept].stop = events[kept].stop || events[k].stop;
      } else {
        events[++kept] = events[k];
      }
    }
    events.resize(kept + 1);
  }

  // Under a waveform, CVODE's step is capped at a fraction of the interval: a state held at a
  // bound has dx/dt = 0 whatever the drive, so without a cap the steps grow until they stride
  // over a reversal of the drive that should free the state (a sine stepped only where it pushes
  // outwards). Constant drives (pulses) need no cap.
  check(CVodeSetMaxStep(cvode, v ? t_end / kWaveformSteps : 0.0), "CVodeSetMaxStep");
  const int wanted_roots = m.hard_bounds() ? 2 : 0;
  if (wanted_roots != roots) {
    check(CVodeRootInit(cvode, wanted_roots, wanted_roots ? root_callback : nullptr),
          "CVodeRootInit");
    roots = wanted_roots;
  }
  auto next_stop = [&](std::size_t from) {
    for (std::size_t k = from; k < events.size(); ++k)
      if (events[k].stop) return events[k].t;
    return t_end;
  };
  double t = 0.0;
  restart(t, x, next_stop(0));
  for (std::size_t e = 0; e < events.size();) {
    const Event& event = events[e];
    if (event.t - t > 1e-12 * t_end) {
      sunrealtype t_reached = t;
      const int flag = CVode(cvode, event.t, y, &t_reached, CV_NORMAL);
      if (error) std::rethrow_exception(error);
      if (flag < 0) {
        sunrealtype t_fail = t;
        CVodeGetCurrentTime(cvode, &t_fail);
        fail(t_fail, cat("CVODE returned ", cvode_flag_name(flag),
                         message.empty() ? "" : " (" + message + ")"));
      }
      long n = 0;
      CVodeGetNumSteps(cvode, &n);
      steps += n - steps_since_init;
      steps_since_init = n;
      t = t_reached;
      x = N_VGetArrayPointer(y)[0];
      if (!(x >= -params.bound_tolerance && x <= 1.0 + params.bound_tolerance))
        fail(t, cat("the state x = ", x, " left [0, 1] (v = ", voltage(t), " V)"));
      if (flag == CV_ROOT_RETURN) {  // a bound reached: hold x there exactly, go on
        x = x < 0.5 ? 0.0 : 1.0;
        restart(t, x, next_stop(e));
        continue;
      }
    }
    t = event.t;
    x = clamp01(x);
    if (event.sample) samples->push_back({t, voltage(t), m.current(x, voltage(t)), x});
    ++e;
    if (event.stop && e < events.size()) restart(t, x, next_stop(e));
  }
  return x;
}

StateIntegrator::StateIntegrator(const CvodeParams& params)
    : impl_(std::make_unique<Impl>(params)) {}
StateIntegrator::~StateIntegrator() = default;
StateIntegrator::StateIntegrator(StateIntegrator&&) noexcept = default;
StateIntegrator& StateIntegrator::operator=(StateIntegrator&&) noexcept = default;

double StateIntegrator::pulse(const Memristor& model, double x0, double v, double width) {
  static const std::vector<double> none;
  return impl_->run(model, nullptr, v, x0, width, none, nullptr, 0);
}

double StateIntegrator::integrate(const Memristor& model, const std::function<double(double)>& v,
                                  double x0, double t_end, const std::vector<double>& breakpoints,
                                  std::vector<StateSample>* samples, int sample_count) {
  return impl_->run(model, &v, 0.0, x0, t_end, breakpoints, samples, sample_count);
}

long StateIntegrator::steps() const { return impl_->steps; }

// ---- chip device models ----

namespace {

/// A compact model as a chip device: a pulse of v_set (d = +1) or v_reset (d = -1) for
/// pulse_width seconds. Physics is HpMemristor, VteamMemristor or YakopcicMemristor; it is made
/// per pulse from the device's parameters (plain doubles: no allocation).
template <class Physics>
class MemristorModel final : public DeviceModel {
 public:
  struct Pulse {
    double v_set, v_reset, width;
    int max_pulses;
  };
  MemristorModel(const Physics& nominal, std::vector<std::string> names, std::vector<double> values,
                 std::vector<bool> nonnegative, const Pulse& pulse, const CvodeParams& cvode,
                 const std::string& path)
      : nominal_(nominal),
        names_(std::move(names)),
        values_(std::move(values)),
        nonnegative_(std::move(nonnegative)),
        pulse_(pulse),
        integrator_(cvode) {
    // The controller's step: the nominal device's response at mid-range. It must have the sign of
    // the direction (a pulse of the wrong polarity or below threshold is a configuration error).
    const double mid = 0.5 * (values_[0] + values_[1]);
    for (int d : {1, -1}) {
      const double change = response(values_.data(), mid, d);
      const double v = d > 0 ? pulse_.v_set : pulse_.v_reset;
      if (!(d * change > 0.0))
        throw ConfigError(join_path(path, d > 0 ? "v_set" : "v_reset"), number_text(v),
                          cat("must move the conductance ", d > 0 ? "up" : "down", ": a pulse of ",
                              v, " V for ", pulse_.width, " s at mid-range changes it by ", change,
                              " S (check the polarity, the thresholds and pulse_width)"));
      (d > 0 ? step_up_ : step_down_) = d * change;
    }
  }
  std::string name() const override { return nominal_.name(); }
  std::vector<std::string> parameter_names() const override { return names_; }
  std::vector<double> nominal_parameters() const override { return values_; }
  bool parameter_nonnegative(std::size_t k) const override {
    return k < nonnegative_.size() && nonnegative_[k];
  }
  int max_pulses() const override { return pulse_.max_pulses; }
  double nominal_step(int d) const override { return d > 0 ? step_up_ : step_down_; }
  double step(const double* p, double g, int d) const override {
    const double change = response(p, g, d);
    const double next = std::min(p[1], std::max(p[0], g + change));
    return d > 0 ? std::max(0.0, next - g) : std::min(0.0, next - g);
  }

 private:
  /// G(x after the pulse) - G for a device with parameters p.
  double response(const double* p, double g, int d) const {
    const Physics device(nominal_, p);
    const double x = integrator_.pulse(device, device.state(g),
                                       d > 0 ? pulse_.v_set : pulse_.v_reset, pulse_.width);
    return device.conductance(x) - g;
  }

  Physics nominal_;
  std::vector<std::string> names_;
  std::vector<double> values_;
  std::vector<bool> nonnegative_;
  Pulse pulse_;
  mutable StateIntegrator integrator_;  // one CVODE memory, reused by every pulse
  double step_up_ = 0.0, step_down_ = 0.0;
};

}  // namespace

std::unique_ptr<DeviceModel> make_hp_model(const HpParams& p, const std::string& path) {
  const HpMemristor physics(p, path);
  return std::make_unique<MemristorModel<HpMemristor>>(
      physics, std::vector<std::string>{"g_min", "g_max", "mu_v", "d", "p", "j"},
      std::vector<double>{1.0 / p.r_off, 1.0 / p.r_on, p.mu_v, p.d, p.p, p.j},
      std::vector<bool>{true, true, true, false, true, true},
      MemristorModel<HpMemristor>::Pulse{p.v_set, p.v_reset, p.pulse_width, p.max_pulses}, p.cvode,
      path);
}

std::unique_ptr<DeviceModel> make_vteam_model(const VteamParams& p, const std::string& path) {
  const VteamMemristor physics(p, path);
  return std::make_unique<MemristorModel<VteamMemristor>>(
      physics,
      std::vector<std::string>{"g_min", "g_max", "k_on", "k_off", "alpha_on", "alpha_off", "v_on",
                               "v_off", "d", "p", "j"},
      std::vector<double>{1.0 / p.r_off, 1.0 / p.r_on, p.k_on, p.k_off, p.alpha_on, p.alpha_off,
                          p.v_on, p.v_off, p.d, p.p, p.j},
      std::vector<bool>{true, true, false, true, true, true, false, false, false, true, true},
      MemristorModel<VteamMemristor>::Pulse{p.v_set, p.v_reset, p.pulse_width, p.max_pulses},
      p.cvode, path);
}

std::unique_ptr<DeviceModel> make_yakopcic_model(const YakopcicParams& p, const std::string& path) {
  const YakopcicMemristor physics(p, path);
  return std::make_unique<MemristorModel<YakopcicMemristor>>(
      physics,
      std::vector<std::string>{"g_min", "g_max", "vp", "vn", "ap", "an", "xp", "xn", "alpha_p",
                               "alpha_n"},
      std::vector<double>{0.0, physics.g_max(), p.vp, p.vn, p.ap, p.an, p.xp, p.xn, p.alpha_p,
                          p.alpha_n},
      std::vector<bool>{true, true, true, true, true, true, true, true, true, true},
      MemristorModel<YakopcicMemristor>::Pulse{p.v_set, p.v_reset, p.pulse_width, p.max_pulses},
      p.cvode, path);
}

}  // namespace physlearn::devices
