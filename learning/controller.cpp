#include "learning/controller.h"

#include <cmath>

#include "core/binary.h"

namespace physlearn::learning {

void describe(Schema& s, ControllerParams& p) {
  s.field("rounding", p.rounding,
          "pulse count from the desired change: deterministic (round half up) or stochastic "
          "(floor plus a Bernoulli draw of the fraction: unbiased)")
      .one_of({"deterministic", "stochastic"});
  s.field("max_pulses", p.max_pulses, "pulse budget per device and update (0: the device model's cap)")
      .min(0);
  s.field("verify_iterations", p.verify_iterations,
          "write-verify: rounds of read-back and corrective pulses (0: open loop)")
      .min(0);
  s.field("verify_tolerance", p.verify_tolerance,
          "write-verify: devices further than this many nominal steps from the target are corrected")
      .greater(0.0);
  s.field("drift_seconds", p.drift_seconds, "retention time that passes after every epoch (drift)")
      .unit("s").min(0.0);
}

LearningController::LearningController(const ControllerParams& params, devices::Chip& chip,
                                       std::uint64_t seed)
    : params_(params), chip_(chip), rng_(seed ^ 0x6A09E667F3BCC909ull) {
  const double unit = chip.params().g_unit;
  step_up_ = chip.model().nominal_step(+1) / unit;
  step_down_ = chip.model().nominal_step(-1) / unit;
}

bool LearningController::noisy_reads() const {
  const auto& v = chip_.params().variability;
  return v.read_sigma > 0.0 || v.read_sigma_range > 0.0;
}

void LearningController::read(int layer, Eigen::Ref<Eigen::MatrixXd> weights) {
  if (noisy_reads()) chip_.read(layer, weights);
  else weights = chip_.conductances(layer);
}

Eigen::MatrixXd LearningController::pulses_for(const Eigen::MatrixXd& desired) {
  // Whole pulses' worth of change, so the chip's own rounding keeps the count chosen here.
  const bool stochastic = params_.rounding == "stochastic";
  const int cap = params_.max_pulses;
  if (!stochastic && cap == 0) return desired;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::MatrixXd out(desired.rows(), desired.cols());
  for (Eigen::Index i = 0; i < desired.size(); ++i) {
    const double d = desired.data()[i];
    const double step = d >= 0.0 ? step_up_ : step_down_;
    if (!(step > 0.0)) {  // an analog (ideal) device: no pulses to count
      out.data()[i] = d;
      continue;
    }
    const double exact = std::abs(d) / step;
    double n = stochastic ? devices::stochastic_round(exact, unit(rng_)) : std::floor(exact + 0.5);
    if (cap > 0 && n > cap) {
      n = cap;
      // The budget cut this device's pulses; where the model's own cap is tighter, the chip
      // counts the cut instead.
      if (cap <= chip_.model().max_pulses()) ++stats_.capped;
    }
    out.data()[i] = std::copysign(n * step, d);
  }
  return out;
}

void LearningController::program(int layer, Eigen::Ref<Eigen::MatrixXd> weights,
                                 const Eigen::MatrixXd& desired) {
  const bool verify = params_.verify_iterations > 0;
  if (verify) target_ = chip_.conductances(layer) + desired;
  stats_ += chip_.program(layer, weights, pulses_for(desired));
  for (int round = 0; round < params_.verify_iterations; ++round) {
    work_.resize(weights.rows(), weights.cols());
    chip_.read(layer, work_);  // the verify read sees the read noise, as on a real chip
    Eigen::MatrixXd correction = target_ - work_;
    long off = 0;
    for (Eigen::Index i = 0; i < correction.size(); ++i) {
      double& c = correction.data()[i];
      const double step = c >= 0.0 ? step_up_ : step_down_;
      if (std::abs(c) <= params_.verify_tolerance * step) c = 0.0;
      else ++off;
    }
    if (off == 0) break;
    stats_ += chip_.program(layer, weights, pulses_for(correction));
  }
}

void LearningController::end_epoch(std::vector<Eigen::MatrixXd>& weights) {
  if (params_.drift_seconds <= 0.0) return;
  chip_.drift(params_.drift_seconds);
  for (int l = 0; l < static_cast<int>(weights.size()); ++l) weights[l] = chip_.conductances(l);
}

devices::ProgramStats LearningController::take_stats() {
  devices::ProgramStats out = stats_;
  stats_ = {};
  return out;
}

json LearningController::state() const {
  return {{"rng", engine_state(rng_)},
          {"stats", {{"pulses", stats_.pulses},
                     {"devices_pulsed", stats_.devices_pulsed},
                     {"capped", stats_.capped},
                     {"energy", encode_array(&stats_.energy, 1)}}}};
}

void LearningController::set_state(const json& state, const std::string& where) {
  set_engine_state(rng_, member(state, "rng", where), where + ".rng");
  const json& stats = member(state, "stats", where);
  const std::string at = where + ".stats";
  try {
    stats_.pulses = member(stats, "pulses", at).get<std::int64_t>();
    stats_.devices_pulsed = member(stats, "devices_pulsed", at).get<std::int64_t>();
    stats_.capped = member(stats, "capped", at).get<std::int64_t>();
  } catch (const json::exception& e) {
    throw Error(cat(at, ": ", e.what()));
  }
  stats_.energy = decode_array<double>(member(stats, "energy", at), 1, at + ".energy")[0];
}

}  // namespace physlearn::learning
