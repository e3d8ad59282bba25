#pragma once
/// Voltage-controlled voltage source (amplifier, SPICE's E card):
/// v_out_plus - v_out_minus = gain (v_ctrl_plus - v_ctrl_minus). Its output current (an unknown)
/// has SPICE's sign: positive into out_plus.
///   JSON: {"type": "vcvs", "nodes": [out+, out-, ctrl+, ctrl-], "gain": 10}.
///   SPICE: E<name> out+ out- ctrl+ ctrl- gain (the linear form only).
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/elements/vccs.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct Vcvs {
  std::string name;
  int out_plus = kGround;
  int out_minus = kGround;
  int ctrl_plus = kGround;
  int ctrl_minus = kGround;
  double gain = 1.0;
};

struct VcvsKind : KindDefaults<Vcvs> {
  static std::string noun() { return "VCVS"; }
  static void validate(const Vcvs& e) {
    if (!std::isfinite(e.gain)) throw Error(cat("circuit: amplifier ", e.name, ": gain not finite"));
    if (e.out_plus == e.out_minus)
      throw Error(cat("circuit: amplifier ", e.name, ": both outputs on the same node"));
  }
  static void terminals(const Vcvs& e, std::vector<int>& out) {
    out.insert(out.end(), {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
  }
  static int unknowns(const Vcvs&) { return 1; }
  static void entries(const Vcvs& e, const Instance& at, EntryList& out) {
    out.add_branch_current(e.out_plus, e.out_minus, at.unknown);
    out.add(at.unknown, e.ctrl_plus);
    out.add(at.unknown, e.ctrl_minus);
  }
  static void stamp(const Vcvs& e, const Instance& at, const Evaluation& ev, Assembly& out) {
    const int br = at.unknown;
    const double* x = ev.x;
    stamp_branch_current(e.out_plus, e.out_minus, x[br], at.entry, out);
    out.add_residual(br, node_voltage(x, e.out_plus));
    out.add_residual(br, -node_voltage(x, e.out_minus));
    out.add_residual(br, -e.gain * node_voltage(x, e.ctrl_plus));
    out.add_residual(br, e.gain * node_voltage(x, e.ctrl_minus));
    out.add(at.entry[2], 1.0);
    out.add(at.entry[3], -1.0);
    out.add(at.entry[4], -e.gain);
    out.add(at.entry[5], e.gain);
  }
  static double current(const Vcvs&, const Instance& at, const double* x) { return x[at.unknown]; }
  static void dc_paths(const Vcvs& e, NodeSets& sets) { sets.join(e.out_plus, e.out_minus); }
  static void voltage_defined(const Vcvs& e, NodeSets& sets) { sets.join(e.out_plus, e.out_minus); }
  static bool jump(const Vcvs& e, const Instance& at, const double* x, double,
                   JumpConstraint& out) {
    const double output = node_voltage(x, e.out_plus) - node_voltage(x, e.out_minus);
    const double ctrl = e.gain * (node_voltage(x, e.ctrl_plus) - node_voltage(x, e.ctrl_minus));
    out.row = at.unknown;
    out.incidence = {{e.out_plus, 1.0}, {e.out_minus, -1.0}};
    out.coefficients = {{e.out_plus, 1.0}, {e.out_minus, -1.0}, {e.ctrl_plus, -e.gain},
                        {e.ctrl_minus, e.gain}};
    out.violation = output - ctrl;
    out.scale = std::abs(output) + std::abs(ctrl);
    return true;
  }
  /// Moving `charge` (SPICE sign) at its output voltage after the jump.
  static double jump_energy(const Vcvs& e, const Instance&, double charge, const double* x,
                            double, EnergyKind& kind) {
    kind = EnergyKind::controlled;
    return -charge * (node_voltage(x, e.out_plus) - node_voltage(x, e.out_minus));
  }
  /// Delivered: -i (v_out+ - v_out-).
  static void power(const std::vector<Vcvs>& list, const int* unknown, const Evaluation& ev,
                    double w, EnergySink& sink) {
    const double* x = ev.x;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Vcvs& e = list[k];
      sink.add(EnergyKind::controlled, k,
               -w * x[unknown[k]] * (node_voltage(x, e.out_plus) - node_voltage(x, e.out_minus)));
    }
  }
  static bool branch_output() { return true; }

  static std::vector<JsonForm> json_forms() {
    return {{"vcvs", "E", {"out+", "out-", "ctrl+", "ctrl-"}, {"gain"}}};
  }
  static Vcvs read_json(const JsonElement& in, std::size_t) {
    Vcvs e{in.name(), in.node(0), in.node(1), in.node(2), in.node(3), in.number("gain")};
    if (e.out_plus == e.out_minus) in.fail("nodes", "must have two different output nodes");
    return e;
  }
  static nlohmann::json write_json(const Vcvs& e, const std::vector<std::string>& nodes) {
    return json_element("vcvs", e.name, {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus},
                        nodes, {{"gain", e.gain}});
  }

  static const char* spice_letters() { return "e"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    int n[4];
    const double gain = read_controlled_card(r, card, n);
    const std::string& name = card.tokens[0].text;
    if (n[0] == n[1]) r.fail(card, cat(name, ": both outputs on the same node"));
    r.circuit().add(Vcvs{name, n[0], n[1], n[2], n[3], gain});
  }
  static void write_spice(const std::vector<Vcvs>& list, const int* unknown, SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Vcvs& e = list[k];
      const std::string name = w.element('e', k, e.name,
                                         {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus},
                                         spice_number(e.gain));
      w.unknown(unknown[k], {name + "#branch", nullptr});
    }
  }
};

}  // namespace physlearn::circuits
