#pragma once
/// Device update models: how one programming pulse changes a device's conductance.
///
/// A device holds a conductance G in [g_min, g_max] (siemens). The controller asks for a change dG;
/// the chip (devices/chip.h) turns it into n = min(max_pulses, round(|dG| / nominal_step(d)))
/// pulses of direction d = sign(dG), and each pulse moves G by the model's step(G, d) (plus the
/// chip's cycle-to-cycle noise), clipped to [g_min, g_max]. The "ideal" model is analog: one write
/// makes the whole change.
///
/// Normalised coordinates used below: x = (G - g_min) / (g_max - g_min) in [0, 1] and the centred
/// w = 2 x - 1 in [-1, 1] (aihwkit's weight w in [b_min, b_max] = [-1, 1]).
///
/// Models (sources: IBM aihwkit, src/aihwkit/simulator/configs/devices.py; NeuroSim, Chen et al.,
/// MLP_NeuroSim Cell.cpp and formula.cpp). Steps are magnitudes; dg_up = dg (1 + up_down),
/// dg_down = dg (1 - up_down) (aihwkit's up/down bias):
///   ideal          G <- clip(G + dG)                                 (analog, one write)
///   constant-step  |step| = dg_d                                     (aihwkit ConstantStep)
///   linear-step    up: dg_up max(0, 1 - gamma_up w), down: dg_down max(0, 1 + gamma_down w)
///                  (aihwkit LinearStep with gamma^+ = -gamma_up / b_max, gamma^- = -gamma_down /
///                  b_min; gamma > 0 saturates towards the bound)
///   soft-bounds    linear-step with gamma_up = gamma_down = 1: up 2 dg_up (1 - x), down
///                  2 dg_down x; the step is dg_d at the centre and 0 at the bound it approaches
///   exp-step       z = a w + b; y_up = 1 - A_up exp(gamma_up z), y_down = 1 - A_down
///                  exp(-gamma_down z); |step| = dg_d max(y_d, 0)           (aihwkit ExpStep)
///   pow-step       omega = 1 - x; up dg_up omega^gamma_+, down dg_down (1 - omega)^gamma_-,
///                  gamma_+- = gamma (1 +- gamma_up_down)                  (aihwkit PowStep)
///   neurosim       G(P) = B (1 - exp(-P/A)) + g_min, B = (g_max - g_min) / (1 - exp(-P_max/A)),
///                  P(G) = -A ln(1 - (G - g_min)/B); a pulse moves P by +1 on the LTP curve
///                  (A_ltp, P_max = levels_ltp) or by -1 on the LTD curve (A_ltd, levels_ltd)
///   piecewise      measured G against pulse number for potentiation and depression (CSV),
///                  interpolated linearly; a pulse moves one pulse along the curve of its sign
///   hp, vteam,     memristor compact models (devices/memristor.h): a pulse of v_set or v_reset
///   yakopcic       for pulse_width seconds, its effect found by integrating the state equation
///                  with CVODE; nominal_step is the response at mid-range
#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/schema.h"
#include "devices/memristor.h"

namespace physlearn::devices {

/// "ideal": exact analog change, clipped to [g_min, g_max].
struct IdealParams {
  double g_min = 0.0;   ///< S
  double g_max = 1e-4;  ///< S
};

/// "constant-step" (aihwkit ConstantStep): every pulse moves G by dg_d.
struct ConstantStepParams {
  double g_min = 0.0;    ///< S
  double g_max = 1e-4;   ///< S
  double dg = 1e-6;      ///< nominal step of one pulse (S); also the controller's pulse size
  double up_down = 0.0;  ///< up/down asymmetry beta: dg_up = dg (1 + beta), dg_down = dg (1 - beta)
  int max_pulses = 100;  ///< pulses per update at most
};

/// "linear-step" (aihwkit LinearStep).
struct LinearStepParams {
  double g_min = 0.0;
  double g_max = 1e-4;
  double dg = 1e-6;
  double up_down = 0.0;
  double gamma_up = 0.0;    ///< relative decrease of the up step from the centre to g_max
  double gamma_down = 0.0;  ///< relative decrease of the down step from the centre to g_min
  int max_pulses = 100;
};

/// "soft-bounds" (aihwkit SoftBounds): linear step vanishing at the bound it approaches.
struct SoftBoundsParams {
  double g_min = 0.0;
  double g_max = 1e-4;
  double dg = 1e-6;  ///< step at the centre of the range (S)
  double up_down = 0.0;
  int max_pulses = 100;
};

/// "exp-step" (aihwkit ExpStep); defaults are aihwkit's fit.
struct ExpStepParams {
  double g_min = 0.0;
  double g_max = 1e-4;
  double dg = 1e-6;
  double up_down = 0.0;
  double a_up = 0.00081;
  double a_down = 0.36833;
  double gamma_up = 12.44625;
  double gamma_down = 12.78785;
  double a = 0.244;   ///< slope of z in w
  double b = 0.2425;  ///< offset of z
  int max_pulses = 100;
};

/// "pow-step" (aihwkit PowStep).
struct PowStepParams {
  double g_min = 0.0;
  double g_max = 1e-4;
  double dg = 1e-6;  ///< step at the far bound (omega = 1 going up); the controller's pulse size
  double up_down = 0.0;
  double gamma = 1.0;          ///< exponent
  double gamma_up_down = 0.0;  ///< exponent asymmetry: gamma_+- = gamma (1 +- gamma_up_down)
  int max_pulses = 100;
};

/// "neurosim": NeuroSim's nonlinear LTP/LTD curves. Defaults: on/off ratio 12.5, 97 LTP and 100
/// LTD levels, NL_LTP 2.4, NL_LTD -4.88 (NeuroSim's RealDevice).
struct NeuroSimParams {
  double g_min = 8e-6;  ///< S (g_max / 12.5)
  double g_max = 1e-4;  ///< S
  int levels_ltp = 97;  ///< P_max of the LTP curve: pulses from g_min to g_max
  int levels_ltd = 100;
  /// Nonlinearity labels (NeuroSim's NL, -9..9; 0 is linear). Mapped to A, see neurosim_a_from_nl.
  double nl_ltp = 2.4;
  double nl_ltd = -4.88;
  /// Normalised A = A / P_max taken directly when not 0 (then nl_* is not used).
  double a_ltp = 0.0;
  double a_ltd = 0.0;
  int max_pulses = 100;
};

/// "piecewise": a measured pulse response read from a CSV file (see load_piecewise_csv).
struct PiecewiseParams {
  std::string file;      ///< CSV path (relative paths: from the working directory)
  bool rescale = false;  ///< false: the table is in siemens; true: mapped onto [g_min, g_max]
  double g_min = 0.0;    ///< S, used when rescale is true
  double g_max = 1e-4;   ///< S, used when rescale is true
  int max_pulses = 100;
};

/// The "device" section: the model's name and the parameters of every model (only the chosen
/// one is read and written).
struct DeviceParams {
  std::string model = "ideal";
  IdealParams ideal;
  ConstantStepParams constant_step;
  LinearStepParams linear_step;
  SoftBoundsParams soft_bounds;
  ExpStepParams exp_step;
  PowStepParams pow_step;
  NeuroSimParams neurosim;
  PiecewiseParams piecewise;
  HpParams hp;
  VteamParams vteam;
  YakopcicParams yakopcic;
};

class DeviceModel;
struct PiecewiseTable;

/// A registered device model: the value of DeviceParams::model, how its parameters (one member of
/// DeviceParams) are described, and its factory (`path`: the config path for errors; `table`: a
/// piecewise table already read, for chips restored from a file).
struct DeviceModelType {
  std::string name;
  std::function<void(Schema&, DeviceParams&)> describe;
  std::function<std::unique_ptr<DeviceModel>(const DeviceParams&, const std::string& path,
                                             const PiecewiseTable* table)>
      make;
};

/// Every device model, in registration order (devices/models.cpp: one entry each).
const std::vector<DeviceModelType>& device_model_types();

/// Names accepted for DeviceParams::model (device_model_types' names).
const std::vector<std::string>& device_model_names();

void describe(Schema& schema, IdealParams& params);
void describe(Schema& schema, ConstantStepParams& params);
void describe(Schema& schema, LinearStepParams& params);
void describe(Schema& schema, SoftBoundsParams& params);
void describe(Schema& schema, ExpStepParams& params);
void describe(Schema& schema, PowStepParams& params);
void describe(Schema& schema, NeuroSimParams& params);
void describe(Schema& schema, PiecewiseParams& params);

/// Adds the object `key` = {"model": name, ...that model's keys} to `schema`: a Schema::variant
/// whose selector is "model". Unknown keys of the chosen model are errors.
void describe_device(Schema& schema, const std::string& key, const std::string& doc,
                     DeviceParams& device);

/// NeuroSim's nonlinearity label NL -> normalised A (A / P_max), signed like NL.
///
/// NeuroSim tabulates this map (formula.cpp, getParamA, NL = 0.01..9 in steps of 0.01). The table
/// is reproduced to 6 digits by NL = 10.101525 max_x (y(x) - x) with the normalised curve
/// y(x) = (1 - exp(-x/a)) / (1 - exp(-1/a)), x in [0, 1]: the label is proportional to the largest
/// departure of the curve from the straight line. This function solves that relation for a
/// (bisection on log a) instead of looking up the table, so NL is continuous. |NL| must be in
/// (0, 10.1); NL = 0 (linear) has no finite A and is handled by the model.
double neurosim_a_from_nl(double nl);
/// The inverse: NL of a normalised A (signed like a).
double neurosim_nl_from_a(double a);

/// One NeuroSim curve G(P) = B (1 - exp(-P/A)) + g_min on P in [0, p_max], with A in pulses
/// (A = a p_max); A = +-inf (a = 0 passed as `linear`) gives the straight line.
struct NeuroSimCurve {
  double g_min = 0.0;
  double g_max = 1.0;
  double a_pulses = 1.0;  ///< A (pulses); infinite for a linear curve
  double p_max = 1.0;
  /// G at pulse position P (not clipped).
  double g(double p) const;
  /// P at conductance G: -A ln(1 - (G - g_min) / B).
  double p(double g) const;
};

/// A measured pulse response: conductance against pulse number, one curve per direction.
struct PiecewiseTable {
  std::string source;                    ///< where it was read from (for messages)
  std::vector<double> pot_pulse, pot_g;  ///< potentiation: G non-decreasing in pulse
  std::vector<double> dep_pulse, dep_g;  ///< depression: G non-increasing in pulse
};

/// Reads a pulse-response CSV. Format:
///   - lines starting with '#' and blank lines are ignored;
///   - the first other line is the header `pulse,g_potentiation,g_depression`;
///   - each row: a pulse number and the conductance (S) after that many pulses of each kind,
///     starting from the low state for potentiation and from the high state for depression;
///   - pulse numbers strictly increase (they need not be consecutive integers: the curve is
///     interpolated linearly between rows); one curve may be shorter than the other: its cells are
///     then left empty in the last rows;
///   - g_potentiation never decreases, g_depression never increases; each curve has at least two
///     points and the table a positive conductance range.
/// A missing file or a bad row is a physlearn::Error "file:line: what is wrong".
PiecewiseTable load_piecewise_csv(const std::string& filename);

json to_json(const PiecewiseTable& table);
PiecewiseTable piecewise_table_from_json(const json& value, const std::string& where);

/// A device update model. Per-device parameters come as a vector p (parameter_names() order,
/// p[0] = g_min and p[1] = g_max in siemens) so that each device of a chip can carry its own
/// values (device-to-device spread).
class DeviceModel {
 public:
  virtual ~DeviceModel() = default;
  virtual std::string name() const = 0;
  /// Names of the per-device parameters; the first two are g_min and g_max.
  virtual std::vector<std::string> parameter_names() const = 0;
  /// Configured (nominal) values, in parameter_names() order.
  virtual std::vector<double> nominal_parameters() const = 0;
  /// Whether parameter k has to stay >= 0 when spread (bounds, steps, exponents).
  virtual bool parameter_nonnegative(std::size_t k) const = 0;
  /// Pulses per update at most (ignored by analog models).
  virtual int max_pulses() const = 0;
  /// True for the ideal device: one write makes the whole requested change.
  virtual bool analog() const { return false; }
  /// The controller's pulse size in direction d (+1 up, -1 down), S, from nominal parameters.
  virtual double nominal_step(int direction) const = 0;
  /// Deterministic conductance change (S) of one pulse in direction d from G, with parameters p.
  /// It has the sign of d or is 0, and G + step stays in [p[0], p[1]].
  virtual double step(const double* p, double g, int direction) const = 0;
  /// The piecewise model's table (other models: null).
  virtual const PiecewiseTable* table() const { return nullptr; }
};

/// Builds the chosen model; cross-field rules (g_max > g_min, ...) are checked here and reported
/// as ConfigError at `path` (e.g. "chip.device.g_max"). `table`, when given, replaces reading
/// the piecewise model's CSV file (a saved chip carries its table).
std::unique_ptr<DeviceModel> make_model(const DeviceParams& params, const std::string& path,
                                        const PiecewiseTable* table = nullptr);

}  // namespace physlearn::devices
