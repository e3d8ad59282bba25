#pragma once
/// A chip: one seeded device population laid on the trainable conductances of a network.
///
/// Each weight layer of the network (an Eigen::MatrixXd of conductances in network units) gets an
/// array of devices of the same shape. A device holds its conductance G in siemens; the network
/// sees g = G / g_unit (`g_unit`: siemens per network unit). Programming turns a requested change
/// into pulses (devices/models.h); variability and faults are drawn once, from the seed, when the
/// chip is made, and the noise of programming and of reading comes from two seeded streams whose
/// state is saved with the chip, so a saved chip continues bit for bit.
///
/// Training loop (see Chip::program, Chip::read, Chip::drift):
///   devices::Chip chip(config.chip, net.weights);          // programs the initial weights
///   for (l...) net.weights[l] = chip.conductances(l);       // what the devices really hold
///   per batch:  for (l...) chip.read(l, net.weights[l]);    // only if read noise is modelled
///               ... free and nudged phases, gradient ...
///               for (l...) chip.program(l, net.weights[l], optimizer.step(l, false, grad[l]));
///   per epoch:  chip.drift(seconds); for (l...) net.weights[l] = chip.conductances(l);
///   chip.save(out_dir + "/chip.json");                       // re-measure later: Chip::load
/// The trainer programs a chip through learning/device_array.h (with the learning controller).
#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/schema.h"
#include "devices/models.h"
#include "devices/rng.h"

namespace physlearn::devices {

/// The "variability" section. Everything is 0 (off) by default.
///
/// Device to device (drawn once per device when the chip is made): every per-device parameter q
/// (the model's parameter_names(), plus drift_nu and endurance) becomes
///   normal:    q (1 + s xi), clipped at 0 for parameters that must be >= 0 (aihwkit's *_dtod);
///   lognormal: q exp(s xi) (median q, keeps the sign);
/// with s = d2d_sigmas[name] if given, else d2d_sigma. A parameter whose nominal value is 0 has no
/// spread. A device whose drawn g_max <= g_min gets g_max = g_min + 0.1% of the nominal range.
///
/// Cycle to cycle (per pulse): step <- step (1 + c2c_sigma xi) + c2c_sigma_range (g_max - g_min) xi
/// (multiplicative: aihwkit dw_min_std; additive: NeuroSim sigmaCtoC, 0.035 in its RealDevice,
/// which NeuroSim applies once per write as sigma sqrt(pulses): the same in distribution).
///
/// Read noise (redrawn on every read, never stored): G_read = max(0, G + read_sigma G xi +
/// read_sigma_range (g_max - g_min) xi').
///
/// Faults: a fraction stuck_min_rate of the devices is stuck at g_min, stuck_max_rate at g_max
/// (aihwkit corrupt_devices_prob; measured arrays 10-13.5%); they never move. A device worn out by
/// `endurance` pulses (0: unlimited) keeps the conductance it had after its last working pulse.
///
/// Levels: with levels >= 2, every programmed conductance is rounded to one of `levels` equally
/// spaced values in [g_min, g_max] of that device (after the update's pulses): the nearest
/// (level_rounding "nearest", the default), or stochastically ("stochastic": up with probability
/// equal to the distance from the level below, in units of the spacing, so that the expected
/// result is the conductance itself and updates smaller than a level still count on average; the
/// draw comes from the programming noise's generator). The initial conductances go to the
/// nearest level either way.
///
/// Retention drift (Chip::drift): G(t) = G0 (max(t, t0) / t0)^-nu, with G0 the conductance right
/// after the device was last programmed and t the seconds since then (PCM: nu 0.05-0.1).
struct VariabilityParams {
  double d2d_sigma = 0.0;  ///< relative device-to-device spread of every parameter
  std::map<std::string, double> d2d_sigmas;  ///< per-parameter spread, overrides d2d_sigma
  std::string d2d_distribution = "normal";   ///< "normal" or "lognormal"
  double c2c_sigma = 0.0;                    ///< relative cycle-to-cycle noise of each pulse's step
  double c2c_sigma_range = 0.0;   ///< additive cycle-to-cycle noise per pulse, of (g_max - g_min)
  double read_sigma = 0.0;        ///< read noise relative to G
  double read_sigma_range = 0.0;  ///< read noise relative to (g_max - g_min)
  double stuck_min_rate = 0.0;    ///< fraction of devices stuck at g_min
  double stuck_max_rate = 0.0;    ///< fraction of devices stuck at g_max
  int levels = 0;                 ///< programmable levels (0: continuous)
  std::string level_rounding = "nearest";  ///< "nearest" or "stochastic" (updates only)
  double drift_nu = 0.0;          ///< drift exponent nu
  double drift_t0 = 1.0;          ///< drift reference time t0 (s)
  double endurance = 0.0;         ///< pulses a device takes before it sticks (0: unlimited)
};

void describe(Schema& schema, VariabilityParams& params);

/// The "chip" section: {"seed": N, "device": {"model": ..., ...}, "variability": {...},
/// "g_unit": ..., "pulse_voltage": ..., "pulse_width": ...}.
struct ChipParams {
  long seed = 1;
  DeviceParams device;
  VariabilityParams variability;
  double g_unit = 1e-4;        ///< siemens per network unit of conductance
  double pulse_voltage = 0.0;  ///< V, programming-energy estimate (0: not estimated)
  double pulse_width = 0.0;    ///< s
};

void describe(Schema& schema, ChipParams& params);

/// What one or more programming calls did.
struct ProgramStats {
  std::int64_t pulses = 0;          ///< programming pulses sent
  std::int64_t devices_pulsed = 0;  ///< devices that received at least one pulse
  std::int64_t capped = 0;          ///< devices whose pulse count a cap cut: the device model's
                                    ///< max_pulses or the controller's pulse budget
  /// Programming energy (J): sum over pulses of V^2 (G_before + G_after)/2 t_w (NeuroSim's
  /// estimate for a 1T1R cell, without wire capacitance); 0 unless pulse_voltage and pulse_width.
  double energy = 0.0;
  ProgramStats& operator+=(const ProgramStats& other);
};

enum class DeviceStatus : std::uint8_t { ok = 0, stuck_min = 1, stuck_max = 2, worn_out = 3 };

class Chip {
 public:
  /// Makes the device population for arrays shaped like `weights` (network units) and sets each
  /// device to its weight directly (no pulses): G = clip(w g_unit, g_min, g_max), rounded to the
  /// levels; stuck devices take their stuck value. Errors in `params` are ConfigError under `path`.
  Chip(const ChipParams& params, const std::vector<Eigen::MatrixXd>& weights,
       const std::string& path = "chip");

  /// Writes the chip (parameters, per-device parameters and states, random generator states) to
  /// a JSON file; large arrays are base64 of little-endian binary, so values come back bit for bit.
  void save(const std::string& filename) const;
  /// Reads a file written by save(). A file of another format or version is a physlearn::Error.
  static Chip load(const std::string& filename);
  json to_json() const;
  static Chip from_json(const json& value, const std::string& where);

  /// Programs layer `layer`: desired_change (network units) is turned into pulses device by
  /// device; `conductances` receives the new noise-free conductances (network units). Its input
  /// values are not used (the chip holds the state); its shape must match the layer. `pulses`,
  /// when given, receives the signed pulse count of each device (+ potentiation, - depression).
  ProgramStats program(int layer, Eigen::Ref<Eigen::MatrixXd> conductances,
                       const Eigen::Ref<const Eigen::MatrixXd>& desired_change,
                       Eigen::MatrixXi* pulses = nullptr);
  /// Noise-free conductances of a layer (network units).
  Eigen::MatrixXd conductances(int layer) const;
  /// What a phase sees: the conductances with read noise drawn anew (network units). The state
  /// does not change; the read-noise stream advances.
  void read(int layer, Eigen::Ref<Eigen::MatrixXd> out);
  Eigen::MatrixXd read(int layer);
  /// Lets `seconds` pass: retention drift of every device (no-op when drift_nu is 0).
  void drift(double seconds);

  int num_layers() const { return static_cast<int>(layers_.size()); }
  Eigen::Index rows(int layer) const;
  Eigen::Index cols(int layer) const;
  Eigen::Index num_devices() const;
  const ChipParams& params() const { return params_; }
  const DeviceModel& model() const { return *model_; }
  /// Names of the per-device parameters: the model's, then "drift_nu" and "endurance".
  const std::vector<std::string>& parameter_names() const { return names_; }
  /// One per-device parameter of a layer, in its own units (g_min, g_max in S).
  Eigen::MatrixXd parameter(int layer, const std::string& name) const;
  DeviceStatus status(int layer, Eigen::Index row, Eigen::Index col) const;
  Eigen::Index count(DeviceStatus status) const;
  /// Pulses a device has received since the chip was made.
  std::int64_t lifetime_pulses(int layer, Eigen::Index row, Eigen::Index col) const;
  /// Seconds of drift so far.
  double time() const { return time_; }
  /// Sum of every program() call's statistics.
  const ProgramStats& totals() const { return totals_; }
  /// One line: model, devices, layers, stuck and worn-out counts, seed.
  std::string summary() const;

 private:
  struct Layer {
    Eigen::Index rows = 0, cols = 0;
    Eigen::ArrayXd g;                  ///< S, column-major
    std::vector<std::uint8_t> status;  ///< DeviceStatus
    std::vector<std::int64_t> pulses;  ///< lifetime pulse count
    Eigen::MatrixXd params;  ///< per-device parameters (column per device); empty: nominal
    Eigen::ArrayXd g0, age;  ///< drift: G after last programming, seconds since; empty: off
  };

  Chip(const ChipParams& params, const std::string& path, const PiecewiseTable* table);
  const double* device_params(const Layer& layer, Eigen::Index i) const {
    return layer.params.size() ? layer.params.col(i).data() : nominal_.data();
  }
  const Layer& at(int layer) const;
  /// g on the device's levels: the nearest, or with `stochastic`, a level drawn from it.
  double quantised(const double* p, double g, Rng* stochastic = nullptr) const;

  ChipParams params_;
  std::unique_ptr<DeviceModel> model_;
  std::vector<std::string> names_;
  std::vector<double> nominal_;  ///< model parameters, drift_nu, endurance
  std::vector<double> sigma_;    ///< relative device-to-device spread of each
  std::size_t model_count_ = 0;  ///< number of model parameters (index of drift_nu)
  bool drift_on_ = false;
  std::vector<Layer> layers_;
  Rng write_rng_, read_rng_;
  double time_ = 0.0;
  ProgramStats totals_;
};

}  // namespace physlearn::devices
