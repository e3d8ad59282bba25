#include "learning/physics.h"

#include "core/error.h"

namespace physlearn::learning {

long digital_macs_per_sample(const std::vector<int>& sizes) {
  long sum = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l)
    sum += static_cast<long>(sizes[l]) * static_cast<long>(sizes[l + 1]);
  if (sizes.size() < 2) return 0;
  return 3 * sum - static_cast<long>(sizes[0]) * static_cast<long>(sizes[1]);
}

void PhysicsRecorder::relax(const circuits::LayeredNetwork& net, const solvers::PhaseNudge& nudge,
                            solvers::LayeredState& state) {
  const bool is_free = nudge.beta == 0.0 && !nudge.clamp;
  if (is_free) ++batches_;
  try {
    inner_.relax(net, nudge, state);
  } catch (const SolverError& e) {
    throw SolverError(cat("training batch ", batches_, " of the run: ", e.what()));
  }
  const std::vector<solvers::PhasePhysics>* physics = inner_.last_physics();
  if (!physics) return;
  for (const solvers::PhasePhysics& p : *physics) {
    (is_free ? settle_free_ : settle_nudged_) += p.settling_time;
    ++(is_free ? phases_free_ : phases_nudged_);
    energy_sources_ += p.energy_sources;
    energy_nudge_ += p.energy_nudge;
    power_ += p.power_end;
  }
  if (is_free) samples_ += static_cast<long>(physics->size());
}

namespace {

json mean_or_null(double sum, long count) {
  return count > 0 ? json(sum / static_cast<double>(count)) : json(nullptr);
}

}  // namespace

json PhysicsRecorder::take(const std::vector<int>& digital_sizes, double energy_per_mac) {
  if (samples_ == 0) return nullptr;
  const double n = static_cast<double>(samples_);
  const long macs = digital_macs_per_sample(digital_sizes);
  json out = {{"samples", samples_},
              {"phases_free", phases_free_},
              {"phases_nudged", phases_nudged_},
              {"settling_time_free", mean_or_null(settle_free_, phases_free_)},
              {"settling_time_nudged", mean_or_null(settle_nudged_, phases_nudged_)},
              {"time_per_sample", (settle_free_ + settle_nudged_) / n},
              {"energy_per_sample", (energy_sources_ + energy_nudge_) / n},
              {"energy_sources_per_sample", energy_sources_ / n},
              {"energy_nudge_per_sample", energy_nudge_ / n},
              {"mean_power", power_ / static_cast<double>(phases_free_ + phases_nudged_)},
              {"digital_macs_per_sample", macs},
              {"digital_energy_per_mac", energy_per_mac},
              {"digital_energy_per_sample", static_cast<double>(macs) * energy_per_mac}};
  samples_ = phases_free_ = phases_nudged_ = 0;
  settle_free_ = settle_nudged_ = energy_sources_ = energy_nudge_ = power_ = 0.0;
  return out;
}

json combine_physics(const std::vector<json>& epochs) {
  json last;
  long samples = 0, n_free = 0, n_nudged = 0;
  double settle_free = 0.0, settle_nudged = 0.0, time_sum = 0.0, sources = 0.0, nudge = 0.0,
         power = 0.0;
  for (const json& e : epochs) {
    if (e.is_null()) continue;
    const long s = e["samples"].get<long>(), f = e["phases_free"].get<long>(),
               u = e["phases_nudged"].get<long>();
    samples += s;
    n_free += f;
    n_nudged += u;
    if (f > 0) settle_free += e["settling_time_free"].get<double>() * static_cast<double>(f);
    if (u > 0) settle_nudged += e["settling_time_nudged"].get<double>() * static_cast<double>(u);
    time_sum += e["time_per_sample"].get<double>() * static_cast<double>(s);
    sources += e["energy_sources_per_sample"].get<double>() * static_cast<double>(s);
    nudge += e["energy_nudge_per_sample"].get<double>() * static_cast<double>(s);
    power += e["mean_power"].get<double>() * static_cast<double>(f + u);
    last = e;
  }
  if (samples == 0) return nullptr;
  const double n = static_cast<double>(samples);
  json out = last;  // the digital figures are the same every epoch
  out["samples"] = samples;
  out["phases_free"] = n_free;
  out["phases_nudged"] = n_nudged;
  out["settling_time_free"] = mean_or_null(settle_free, n_free);
  out["settling_time_nudged"] = mean_or_null(settle_nudged, n_nudged);
  out["time_per_sample"] = time_sum / n;
  out["energy_per_sample"] = (sources + nudge) / n;
  out["energy_sources_per_sample"] = sources / n;
  out["energy_nudge_per_sample"] = nudge / n;
  out["mean_power"] = power / static_cast<double>(n_free + n_nudged);
  return out;
}

}  // namespace physlearn::learning
