#pragma once
/// Independent voltage source: v_plus - v_minus = volts (or waveform(t) in a transient). Its
/// branch current (an unknown) is SPICE's: positive when it flows into the plus terminal,
/// through the source, out of minus.
///   JSON: {"type": "voltage_source", "nodes": [plus, minus], "volts": V}.
///   SPICE: V<name> plus minus [DC] value [AC mag [phase]] [SIN(...) | PULSE(...)]; written as
///   "V<name> plus minus DC <volts>" (a waveform is not written).
#include <cmath>
#include <functional>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct VoltageSource {
  VoltageSource() = default;
  VoltageSource(std::string name_, int plus_, int minus_, double volts_,
                std::function<double(double)> waveform_ = {})
      : name(std::move(name_)),
        plus(plus_),
        minus(minus_),
        volts(volts_),
        waveform(std::move(waveform_)) {}

  std::string name;
  int plus = kGround;
  int minus = kGround;
  double volts = 0.0;
  /// V at time t (s) in a transient, replacing `volts` for t >= 0 (empty: the constant
  /// `volts`); the DC solvers use `volts`. A waveform with v(0) != volts steps at t = 0.
  std::function<double(double)> waveform;

  /// The source's value at time t (NaN: DC).
  double value(double t) const { return waveform && !std::isnan(t) ? waveform(t) : volts; }
};

struct VoltageSourceKind : KindDefaults<VoltageSource> {
  static std::string noun() { return "voltage source"; }
  static void validate(const VoltageSource& e) {
    if (!std::isfinite(e.volts))
      throw Error(cat("circuit: voltage source ", e.name, ": not finite"));
    if (e.plus == e.minus)
      throw Error(cat("circuit: voltage source ", e.name, ": both terminals on the same node"));
  }
  static void terminals(const VoltageSource& e, std::vector<int>& out) {
    out.insert(out.end(), {e.plus, e.minus});
  }
  static int unknowns(const VoltageSource&) { return 1; }
  static void entries(const VoltageSource& e, const Instance& at, EntryList& out) {
    out.add_branch_current(e.plus, e.minus, at.unknown);
  }
  static void stamp(const VoltageSource& e, const Instance& at, const Evaluation& ev,
                    Assembly& out) {
    const int br = at.unknown;
    stamp_branch_current(e.plus, e.minus, ev.x[br], at.entry, out);
    out.add_residual(br, node_voltage(ev.x, e.plus));
    out.add_residual(br, -node_voltage(ev.x, e.minus));
    out.add_residual(br, -e.value(ev.time));
    out.add(at.entry[2], 1.0);
    out.add(at.entry[3], -1.0);
  }
  static double current(const VoltageSource&, const Instance& at, const double* x) {
    return x[at.unknown];
  }
  static void dc_paths(const VoltageSource& e, NodeSets& sets) { sets.join(e.plus, e.minus); }
  static void voltage_defined(const VoltageSource& e, NodeSets& sets) {
    sets.join(e.plus, e.minus);
  }
  static bool jump(const VoltageSource& e, const Instance& at, const double* x, double t,
                   JumpConstraint& out) {
    const double volts = e.value(t);
    out.row = at.unknown;
    out.incidence = {{e.plus, 1.0}, {e.minus, -1.0}};
    out.coefficients = {{e.plus, 1.0}, {e.minus, -1.0}};
    out.violation = node_voltage(x, e.plus) - node_voltage(x, e.minus) - volts;
    out.scale = std::abs(volts);
    return true;
  }
  /// Moving `charge` (SPICE sign) at its voltage, the source delivers -charge E.
  static double jump_energy(const VoltageSource& e, const Instance&, double charge,
                            const double*, double t, EnergyKind& kind) {
    kind = EnergyKind::sources;
    return -charge * e.value(t);
  }
  /// Delivered: -i E (SPICE's current sign).
  static void power(const std::vector<VoltageSource>& list, const int* unknown,
                    const Evaluation& ev, double w, EnergySink& sink) {
    const double* x = ev.x;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const VoltageSource& e = list[k];
      sink.add(EnergyKind::sources, k,
               -w * x[unknown[k]] * (node_voltage(x, e.plus) - node_voltage(x, e.minus)));
    }
  }
  static bool branch_output() { return true; }

  static std::vector<JsonForm> json_forms() {
    return {{"voltage_source", "V", {"plus", "minus"}, {"volts"}}};
  }
  static VoltageSource read_json(const JsonElement& in, std::size_t) {
    VoltageSource v{in.name(), in.node(0), in.node(1), in.number("volts"), {}};
    if (v.plus == v.minus)
      in.fail("nodes", "must be two different nodes (a source across one node)");
    return v;
  }
  static nlohmann::json write_json(const VoltageSource& e, const std::vector<std::string>& nodes) {
    return json_element("voltage_source", e.name, {e.plus, e.minus}, nodes, {{"volts", e.volts}});
  }

  static const char* spice_letters() { return "v"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const double value = r.source_value(card, 'v');
    const std::string& name = card.tokens[0].text;
    const int plus = r.node(card.tokens[1].text), minus = r.node(card.tokens[2].text);
    if (plus == minus) r.fail(card, cat(name, ": both terminals on the same node"));
    r.circuit().add(VoltageSource{name, plus, minus, value, {}});
  }
  static void write_spice(const std::vector<VoltageSource>& list, const int* unknown,
                          SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const VoltageSource& e = list[k];
      const std::string name =
          w.element('v', k, e.name, {e.plus, e.minus}, "DC " + spice_number(e.volts));
      w.unknown(unknown[k], {name + "#branch", nullptr});
    }
  }
};

}  // namespace physlearn::circuits
