#pragma once
/// Memristor compact models: a state x in [0, 1] that obeys dx/dt = rate(x, v) and a current
/// i(x, v). A programming pulse (amplitude v, width t_w) changes the state by integrating the
/// state equation with SUNDIALS CVODE; the device reads the conductance G(x).
///
/// Models (sources in the comments of memristor.cpp):
///   hp        HP linear ion drift (Strukov et al., Nature 2008), x = w/D:
///               R(x) = R_on x + R_off (1 - x),  i = v / R(x),
///               dx/dt = mu_v R_on / D^2  i  f(x, i),
///             with a window f (Joglekar & Wolf 2009; Biolek et al. 2009; Prodromakis et al. 2011):
///               none         f = 1; x stops at 0 and 1 (the front reaches the electrode)
///               joglekar     f = 1 - (2x - 1)^(2p)
///               biolek       f = 1 - (x - stp(-i))^(2p),  stp(z) = 1 for z >= 0, 0 for z < 0
///               prodromakis  f = j (1 - ((x - 0.5)^2 + 0.75)^p)
///             |.| is taken of the bases raised to 2p, so p need not be an integer. Joglekar and
///             Prodromakis vanish at both bounds: a device exactly at a bound never leaves it (the
///             "terminal state problem" that Biolek's window removes).
///             Positive voltage lowers R: potentiation is v > 0.
///   vteam     VTEAM (Kvatinsky et al., IEEE TCAS-II 2015), published convention x = 0 ON (R_on),
///             x = 1 OFF (R_off), x = w / D:
///               dx/dt = k_off/D (v/v_off - 1)^alpha_off f(x)   for v > v_off > 0
///                       0                                     for v_on <= v <= v_off
///                       k_on/D (v/v_on - 1)^alpha_on f(x)     for v < v_on < 0
///             R(x) = R_on + (R_off - R_on) x (linear) or R_on exp(ln(R_off/R_on) x) (exponential);
///             i = v / R(x); windows as for hp, the drift direction taking the place of the
///             current. Potentiation (towards ON) is v < v_on < 0.
///   yakopcic  Yakopcic et al. (IEEE EDL 2011; IEEE TCAD 2013):
///               i = a1 x sinh(b v) (v >= 0),  a2 x sinh(b v) (v < 0),
///               g(v) = Ap (e^v - e^Vp) (v > Vp),  -An (e^-v - e^Vn) (v < -Vn),  else 0,
///               dx/dt = eta g(v) f(x),
///               f = e^(-alpha_p (x - xp)) wp(x) for x >= xp, else 1  (when eta v > 0),
///                   e^(alpha_n (x + xn - 1)) wn(x) for x <= 1 - xn, else 1 (when eta v <= 0),
///               wp = (xp - x)/(1 - xp) + 1,  wn = x / (1 - xn).
///             The read conductance is the small-signal one at the read voltage:
///               G(x) = di/dv at v_read = a1 b cosh(b v_read) x
///             (linear in x; with b v_read = 0.005 it exceeds the chord i/v by 8e-6, relative).
///             Potentiation (eta = 1) is v > Vp.
///
/// Reads: hp has no threshold (any read moves it a little); vteam and yakopcic do not move below
/// their thresholds. VTEAM's typical v_off = 0.02 V would be crossed by a 0.1 V read, so the
/// defaults here are v_off = 0.2 V with k_off ten times the typical 5e-4 m/s (the same OFF rate at
/// voltages well above threshold, k_off v / v_off).
///
/// As chip devices (devices/models.h, "chip": {"device": {"model": "hp" | "vteam" | "yakopcic"}}):
/// a pulse in direction +1 is a rectangular pulse of v_set, in direction -1 one of v_reset, both
/// of width pulse_width. step(p, G, d) maps G to x through R(x), integrates the pulse and returns
/// G(x_after) - G. With the defaults, pulses from one bound come within 5% of the other (in the
/// model's state) after: hp 81 (bound to bound, both ways), vteam 85 up and 88 down, yakopcic 126
/// up and 158 down (its windows approach the bounds asymptotically); the tests check 50-200.
/// nominal_step is the response at mid-range of the conductance; G = 1/R(x) is far from linear in
/// x for hp (and vteam with linear R), so there a pulse at mid-range moves G a lot (hp: half the
/// range) while one near g_min barely moves it: the controller's pulse count is crude for them.
/// Cost: one CVODE run per pulse (the model keeps one CVODE instance and reinitialises it): 3-10
/// CVODE steps, measured at 3-14 microseconds per pulse with the defaults (bdf, rtol 1e-6; vteam
/// 3, hp 13, yakopcic 14; adams about 40% less) on the 2-core development machine, two to three
/// times that when it is loaded. The test "pulse cost" prints the figure of each model.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/schema.h"

namespace physlearn::devices {

class DeviceModel;  // devices/models.h

/// CVODE settings for a device state equation.
struct CvodeParams {
  std::string method = "bdf";     ///< "bdf" (Newton, dense 1x1) or "adams" (fixed point)
  double rtol = 1e-6;             ///< relative tolerance on x
  double atol = 1e-9;             ///< absolute tolerance on x
  long max_steps = 100000;        ///< CVODE steps per output interval at most
  double bound_tolerance = 1e-6;  ///< x may leave [0, 1] by this much (then it is clipped)
};

/// "hp": HP linear ion drift. Defaults: REFERENCE typical values (Strukov 2008).
struct HpParams {
  double r_on = 100.0;          ///< ohm, fully doped (x = 1)
  double r_off = 16e3;          ///< ohm, undoped (x = 0)
  double mu_v = 1e-14;          ///< dopant mobility, m^2/(V s)
  double d = 10e-9;             ///< film thickness D, m
  std::string window = "none";  ///< none, joglekar, biolek, prodromakis
  double p = 1.0;               ///< window exponent
  double j = 1.0;               ///< Prodromakis window scale
  double v_set = 1.0;           ///< V, potentiation pulse
  double v_reset = -1.0;        ///< V, depression pulse
  double pulse_width = 10e-3;   ///< s (about 80 pulses across the range at 1 V)
  int max_pulses = 100;
  CvodeParams cvode;
};

/// "vteam": VTEAM. Defaults: REFERENCE typical values (Kvatinsky 2015, fit to a TiO2 device),
/// except the read-safe v_off and k_off (see the file comment).
struct VteamParams {
  double r_on = 50.0;                 ///< ohm (x = 0)
  double r_off = 1000.0;              ///< ohm (x = 1)
  std::string resistance = "linear";  ///< R(x): linear or exponential
  double k_on = -10.0;                ///< m/s (< 0)
  double k_off = 5e-3;                ///< m/s (> 0)
  double alpha_on = 3.0;
  double alpha_off = 1.0;
  double v_on = -0.2;  ///< V (< 0)
  double v_off = 0.2;  ///< V (> 0)
  double d = 3e-9;     ///< D = x_off - x_on, m
  std::string window = "none";
  double p = 1.0;
  double j = 1.0;
  double v_read = 0.1;        ///< V, read voltage; must be below both thresholds
  double v_set = -0.23;       ///< V
  double v_reset = 1.5;       ///< V
  double pulse_width = 1e-9;  ///< s
  int max_pulses = 100;
  CvodeParams cvode;
};

/// "yakopcic": Yakopcic's generalised model. Defaults: REFERENCE typical values.
struct YakopcicParams {
  double a1 = 0.17;    ///< A
  double a2 = 0.17;    ///< A
  double b = 0.05;     ///< 1/V
  double vp = 0.16;    ///< V, positive threshold
  double vn = 0.15;    ///< V, negative threshold (magnitude)
  double ap = 4000.0;  ///< 1/s
  double an = 4000.0;  ///< 1/s
  double xp = 0.3;
  double xn = 0.5;
  double alpha_p = 1.0;
  double alpha_n = 5.0;
  double eta = 1.0;           ///< +1 or -1: direction of motion for positive voltage
  double v_read = 0.1;        ///< V, where the read conductance is taken (below vp)
  double v_set = 0.6;         ///< V
  double v_reset = -0.8;      ///< V
  double pulse_width = 1e-5;  ///< s
  int max_pulses = 100;
  CvodeParams cvode;
};

void describe(Schema& schema, CvodeParams& params);
void describe(Schema& schema, HpParams& params);
void describe(Schema& schema, VteamParams& params);
void describe(Schema& schema, YakopcicParams& params);

enum class Window { none, joglekar, biolek, prodromakis };

/// The window f(x) for drift in direction `direction` (+1: x increasing, -1: decreasing; Biolek's
/// stp(-i) is stp(-direction)).
double window_value(Window window, double x, int direction, double p, double j);

/// One compact model at fixed parameters.
class Memristor {
 public:
  virtual ~Memristor() = default;
  virtual const char* name() const = 0;
  /// dx/dt (1/s) at state x under voltage v (V).
  virtual double rate(double x, double v) const = 0;
  /// Current (A) at state x under voltage v.
  virtual double current(double x, double v) const = 0;
  /// Read conductance G(x) (S).
  virtual double conductance(double x) const = 0;
  /// The state that reads g, clipped to [0, 1].
  virtual double state(double g) const = 0;
  /// True when x is held in [0, 1] by the integrator (no window); false when the window keeps it.
  virtual bool hard_bounds() const = 0;
};

/// The resistive models (hp, vteam): i = v / R(x), G = 1/R(x); without a window x stops at 0
/// and 1.
class ResistiveMemristor : public Memristor {
 public:
  double current(double x, double v) const override { return v / resistance(x); }
  double conductance(double x) const override { return 1.0 / resistance(x); }
  bool hard_bounds() const override { return window_ == Window::none; }
  /// R(x) (ohm).
  virtual double resistance(double x) const = 0;

 protected:
  /// Sets R_on, R_off (a ConfigError at path.r_off unless R_off > R_on) and the window.
  void set(double r_on, double r_off, const std::string& window, double p, double j,
           const std::string& path);
  /// R_on = 1/g_max and R_off = 1/g_min from a device's parameters (device[0] = g_min, device[1]
  /// = g_max; g_min at least 1e-9 g_max).
  void set_resistances(const double* device);
  double window(double x, int direction) const {
    return window_value(window_, x, direction, p_, j_);
  }

  double r_on_ = 1.0, r_off_ = 2.0;  ///< ohm
  Window window_ = Window::none;
  double p_ = 1.0, j_ = 1.0;  ///< window exponent and scale
};

class HpMemristor final : public ResistiveMemristor {
 public:
  /// Checks the parameters; errors are ConfigError under `path`.
  explicit HpMemristor(const HpParams& params, const std::string& path = "hp");
  /// Per-device values: g_min = 1/R_off, g_max = 1/R_on, mu_v, d, p, j.
  HpMemristor(const HpMemristor& nominal, const double* device);
  const char* name() const override { return "hp"; }
  double rate(double x, double v) const override;
  double state(double g) const override;
  double resistance(double x) const override { return r_on_ * x + r_off_ * (1.0 - x); }
  /// mu_v R_on / D^2 (1/C): dx/dt = k i f.
  double k() const { return k_; }

 private:
  double k_;
};

class VteamMemristor final : public ResistiveMemristor {
 public:
  explicit VteamMemristor(const VteamParams& params, const std::string& path = "vteam");
  /// Per-device values: g_min, g_max, k_on, k_off, alpha_on, alpha_off, v_on, v_off, d, p, j.
  VteamMemristor(const VteamMemristor& nominal, const double* device);
  const char* name() const override { return "vteam"; }
  double rate(double x, double v) const override;
  double state(double g) const override;
  double resistance(double x) const override;

 private:
  double k_on_, k_off_, alpha_on_, alpha_off_, v_on_, v_off_, d_;
  bool exponential_;
};

class YakopcicMemristor final : public Memristor {
 public:
  explicit YakopcicMemristor(const YakopcicParams& params, const std::string& path = "yakopcic");
  /// Per-device values: g_min (0), g_max (sets a1; a2 scales with it), vp, vn, ap, an, xp, xn,
  /// alpha_p, alpha_n.
  YakopcicMemristor(const YakopcicMemristor& nominal, const double* device);
  const char* name() const override { return "yakopcic"; }
  double rate(double x, double v) const override;
  double current(double x, double v) const override;
  double conductance(double x) const override { return g_max_ * x; }
  double state(double g) const override;
  bool hard_bounds() const override { return false; }
  /// G(1) = a1 b cosh(b v_read) (S).
  double g_max() const { return g_max_; }

 private:
  double a1_, a2_, b_, vp_, vn_, ap_, an_, xp_, xn_, alpha_p_, alpha_n_, eta_, g_max_;
  double read_factor_;  ///< b cosh(b v_read): G = a1 read_factor x
};

/// One sample of a driven device.
struct StateSample {
  double t;  ///< s
  double v;  ///< V
  double i;  ///< A
  double x;
};

/// Integrates a memristor's state equation with CVODE. One instance holds one CVODE memory of one
/// state and is reinitialised for every call: no allocation per pulse. Not thread-safe.
///
/// Without a window (Memristor::hard_bounds) x stops at the bound it reaches (a CVODE root) and
/// stays there while the drive pushes outwards (a second root releases it). Errors (CVODE
/// failures, x leaving [0, 1] by more than bound_tolerance) are SolverError naming the model, the
/// time and the reason.
class StateIntegrator {
 public:
  explicit StateIntegrator(const CvodeParams& params = CvodeParams());
  ~StateIntegrator();
  StateIntegrator(StateIntegrator&&) noexcept;
  StateIntegrator& operator=(StateIntegrator&&) noexcept;

  /// The state after a constant voltage v (V) for `width` seconds from x0.
  double pulse(const Memristor& model, double x0, double v, double width);
  /// The state at t_end under v(t) from x0 at t = 0. `breakpoints` are times in (0, t_end) where
  /// v jumps (the integration restarts there). With `samples`, receives samples + 1 equally
  /// spaced samples on [0, t_end] (samples >= 1). Steps are at most t_end / 200, so that a state
  /// held at a bound (where dx/dt = 0 whatever the drive) sees the drive reverse; a drive that
  /// changes direction faster than that needs breakpoints or shorter calls.
  double integrate(const Memristor& model, const std::function<double(double)>& v, double x0,
                   double t_end, const std::vector<double>& breakpoints = {},
                   std::vector<StateSample>* samples = nullptr, int sample_count = 0);
  /// CVODE steps taken since construction.
  long steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The chip device models (make_model in devices/models.h calls these). Per-device parameters:
///   hp        g_min, g_max, mu_v, d, p, j
///   vteam     g_min, g_max, k_on, k_off, alpha_on, alpha_off, v_on, v_off, d, p, j
///   yakopcic  g_min, g_max, vp, vn, ap, an, xp, xn, alpha_p, alpha_n
/// with g_min = 1/R_off and g_max = 1/R_on (yakopcic: 0 and G(1)). A device-to-device draw is
/// brought into the model's domain: signed quantities keep the model's sign (|k_on| ... with
/// k_on, v_on < 0), xp and xn stay below 1, g_min at least 1e-9 g_max. Cross-field rules (R_on <
/// R_off, read voltages below thresholds, pulses that move the conductance the right way) are
/// ConfigError at `path` (e.g. "chip.device.r_off").
std::unique_ptr<DeviceModel> make_hp_model(const HpParams& params, const std::string& path);
std::unique_ptr<DeviceModel> make_vteam_model(const VteamParams& params, const std::string& path);
std::unique_ptr<DeviceModel> make_yakopcic_model(const YakopcicParams& params,
                                                 const std::string& path);

}  // namespace physlearn::devices
