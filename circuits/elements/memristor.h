#pragma once
/// Memristor between a and b, a compact model of devices/memristor.h: the current
/// model->current(x, v) flows from a to b (v = v_a - v_b) and the state x obeys
/// dx/dt = model->rate(x, v), from x0 at t = 0. Only the transient simulates it, with x as one
/// more unknown (its row dx/dt - rate(x, v) = 0, dimensionless); the DC solvers and the SPICE and
/// JSON writers reject a circuit that holds one. The Jacobian entries are central finite
/// differences of current and rate (the models give no derivatives): they only steer Newton's
/// iterations, the residual is exact. A model without a window (hard bounds) has its rate set to
/// 0 where x would leave [0, 1] (x >= 1 and rate > 0, or x <= 0 and rate < 0), the DAE
/// counterpart of the CVODE integrator's bound stops.
#include <cmath>
#include <memory>

#include "circuits/element.h"
#include "devices/memristor.h"

namespace physlearn::circuits {

struct Memristor {
  std::string name;
  int a = kGround;
  int b = kGround;
  std::shared_ptr<const devices::Memristor> model;
  double x0 = 0.0;  ///< initial state, in [0, 1]
};

struct MemristorKind : KindDefaults<Memristor> {
  static std::string noun() { return "memristor"; }
  static void validate(const Memristor& e) {
    if (!e.model) throw Error(cat("circuit: memristor ", e.name, ": no device model"));
    if (!std::isfinite(e.x0) || e.x0 < 0.0 || e.x0 > 1.0)
      throw Error(cat("circuit: memristor ", e.name, ": x0 = ", e.x0, ": must be in [0, 1]"));
  }
  static void terminals(const Memristor& e, std::vector<int>& out) {
    out.insert(out.end(), {e.a, e.b});
  }
  static int unknowns(const Memristor&) { return 1; }
  static UnknownKind unknown_kind(const Memristor&, int) { return UnknownKind::state; }
  /// dx/dt, held at the bounds of a model without a window.
  static double rate(const Memristor& e, double x, double v) {
    const double r = e.model->rate(x, v);
    if (e.model->hard_bounds() && ((x >= 1.0 && r > 0.0) || (x <= 0.0 && r < 0.0))) return 0.0;
    return r;
  }
  static void entries(const Memristor& e, const Instance& at, EntryList& out) {
    const int s = at.unknown;
    for (int row : {e.a, e.b, s})
      for (int col : {e.a, e.b, s}) out.add(row, col);
  }
  static void stamp(const Memristor& e, const Instance& at, const Evaluation& ev, Assembly& out) {
    const double* x = ev.x;
    const int s = at.unknown;
    const double v = node_voltage(x, e.a) - node_voltage(x, e.b);
    const double i = e.model->current(x[s], v);
    out.add_residual(e.a, i);
    out.add_residual(e.b, -i);
    out.add_residual(s, -rate(e, x[s], v));
    if (!out.wants_jacobian()) return;
    const double hv = 1e-6 * (1.0 + std::abs(v)), hx = 1e-7;
    const devices::Memristor& m = *e.model;
    const double i_v = (m.current(x[s], v + hv) - m.current(x[s], v - hv)) / (2.0 * hv);
    const double i_x = (m.current(x[s] + hx, v) - m.current(x[s] - hx, v)) / (2.0 * hx);
    const double f_v = (rate(e, x[s], v + hv) - rate(e, x[s], v - hv)) / (2.0 * hv);
    const double f_x = (rate(e, x[s] + hx, v) - rate(e, x[s] - hx, v)) / (2.0 * hx);
    // Entries (rows a, b, s) x (columns a, b, s).
    const double d[9] = {i_v, -i_v, i_x, -i_v, i_v, -i_x, -f_v, f_v, -f_x};
    for (int k = 0; k < 9; ++k) out.add(at.entry[k], d[k]);
  }
  static void charge_entries(const Memristor&, const Instance& at, EntryList& out) {
    out.add(at.unknown, at.unknown);
  }
  static void charge(const Memristor&, const Instance& at, const double*, const double* xp,
                     double scale, Assembly& out) {
    if (xp) out.residual[at.unknown] += xp[at.unknown];
    out.add(at.charge_entry[0], scale);
  }
  static double current(const Memristor& e, const Instance& at, const double* x) {
    return e.model->current(x[at.unknown], node_voltage(x, e.a) - node_voltage(x, e.b));
  }
  static void initial(const Memristor& e, const Instance& at, double* x) { x[at.unknown] = e.x0; }
  /// Dissipated: i v.
  static void power(const std::vector<Memristor>& list, const int* unknown, const Evaluation& ev,
                    double w, EnergySink& sink) {
    const double* x = ev.x;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Memristor& e = list[k];
      const double v = node_voltage(x, e.a) - node_voltage(x, e.b);
      sink.add(EnergyKind::memristors, k, w * e.model->current(x[unknown[k]], v) * v);
    }
  }
  static const char* dc_unsupported() {
    return "the DC solver does not take memristors (only the transient solver simulates them)";
  }
  static nlohmann::json write_json(const Memristor& e, const std::vector<std::string>&) {
    throw Error(cat("circuit JSON: memristor ", e.name, ": memristors have no JSON form"));
  }
  static void write_spice(const std::vector<Memristor>& list, const int*, SpiceWriter&) {
    if (!list.empty())
      throw Error(cat("SPICE export: memristor ", list.front().name,
                      ": memristors have no SPICE element"));
  }
};

}  // namespace physlearn::circuits
