#pragma once
/// Voltage-controlled current source (transconductance, SPICE's G card): the current
/// gain (v_ctrl+ - v_ctrl-) flows from out+ through the source to out- (it leaves node out+ and
/// enters node out-). No unknown of its own.
///   JSON: {"type": "vccs", "nodes": [out+, out-, ctrl+, ctrl-], "gain": S (any sign)}.
///   SPICE: G<name> out+ out- ctrl+ ctrl- gain (the linear form only).
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct Vccs {
  std::string name;
  int out_plus = kGround;
  int out_minus = kGround;
  int ctrl_plus = kGround;
  int ctrl_minus = kGround;
  double gain = 0.0;  ///< siemens
};

/// Reads the linear form `<name> out+ out- ctrl+ ctrl- gain` of an E or G card: the four nodes
/// and the gain (SPICE's E and G cards share it).
inline double read_controlled_card(SpiceReader& r, const SpiceCard& card, int nodes[4]) {
  const auto& tokens = card.tokens;
  const std::string& name = tokens[0].text;
  const std::string usage = cat(name, " n+ n- nc+ nc- gain");
  for (std::size_t i = 3; i < 5 && i < tokens.size(); ++i)
    if (tokens[i].expression || tokens[i].text == "=")
      r.fail(card, cat(name, ": \"", tokens[i].text, "\" is not a node name"));
  for (const auto& t : tokens) {
    const std::string low = spice_lower(t.text);
    if (!t.expression && (low.compare(0, 4, "poly") == 0 || low == "value" || low == "vol" ||
                          low == "cur" || low == "table" || low == "laplace"))
      r.fail(card, cat(name, ": only the linear form ", usage, " is supported (not ", t.text, ")"));
  }
  if (tokens.size() != 6)
    r.fail(card, cat(name, ": expected ", usage, " (", tokens.size(), " fields given, 6 needed)"));
  const double gain = r.number(card, tokens[5], cat(name, " gain"));
  for (int i = 0; i < 4; ++i) nodes[i] = r.node(tokens[static_cast<std::size_t>(i) + 1].text);
  return gain;
}

struct VccsKind : KindDefaults<Vccs> {
  static std::string noun() { return "VCCS"; }
  static void validate(const Vccs& e) {
    if (!std::isfinite(e.gain))
      throw Error(cat("circuit: transconductance ", e.name, ": gain not finite"));
  }
  static void terminals(const Vccs& e, std::vector<int>& out) {
    out.insert(out.end(), {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
  }
  static void entries(const Vccs& e, const Instance&, EntryList& out) {
    out.add(e.out_plus, e.ctrl_plus);
    out.add(e.out_plus, e.ctrl_minus);
    out.add(e.out_minus, e.ctrl_plus);
    out.add(e.out_minus, e.ctrl_minus);
  }
  static void stamp(const Vccs& e, const Instance& at, const Evaluation& ev, Assembly& out) {
    const double current =
        e.gain * (node_voltage(ev.x, e.ctrl_plus) - node_voltage(ev.x, e.ctrl_minus));
    out.add_residual(e.out_plus, current);
    out.add_residual(e.out_minus, -current);
    out.add(at.entry[0], e.gain);
    out.add(at.entry[1], -e.gain);
    out.add(at.entry[2], -e.gain);
    out.add(at.entry[3], e.gain);
  }
  static double current(const Vccs& e, const Instance&, const double* x) {
    return e.gain * (node_voltage(x, e.ctrl_plus) - node_voltage(x, e.ctrl_minus));
  }
  /// Controlled by its own output voltage: a conductance of +-gain between out+ and out-.
  static void dc_paths(const Vccs& e, NodeSets& sets) {
    const bool self = (e.ctrl_plus == e.out_plus && e.ctrl_minus == e.out_minus) ||
                      (e.ctrl_plus == e.out_minus && e.ctrl_minus == e.out_plus);
    if (self && e.gain != 0.0) sets.join(e.out_plus, e.out_minus);
  }
  /// Delivered: -I (v_out+ - v_out-).
  static void power(const std::vector<Vccs>& list, const int*, const Evaluation& ev, double w,
                    EnergySink& sink) {
    const double* x = ev.x;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Vccs& e = list[k];
      const double i = e.gain * (node_voltage(x, e.ctrl_plus) - node_voltage(x, e.ctrl_minus));
      sink.add(EnergyKind::controlled, k,
               -w * i * (node_voltage(x, e.out_plus) - node_voltage(x, e.out_minus)));
    }
  }

  static std::vector<JsonForm> json_forms() {
    return {{"vccs", "G", {"out+", "out-", "ctrl+", "ctrl-"}, {"gain"}}};
  }
  static Vccs read_json(const JsonElement& in, std::size_t) {
    return {in.name(), in.node(0), in.node(1), in.node(2), in.node(3), in.number("gain")};
  }
  static nlohmann::json write_json(const Vccs& e, const std::vector<std::string>& nodes) {
    return json_element("vccs", e.name, {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus},
                        nodes, {{"gain", e.gain}});
  }

  static const char* spice_letters() { return "g"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    int n[4];
    const double gain = read_controlled_card(r, card, n);
    r.circuit().add(Vccs{card.tokens[0].text, n[0], n[1], n[2], n[3], gain});
  }
  static void write_spice(const std::vector<Vccs>& list, const int*, SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Vccs& e = list[k];
      w.element('g', k, e.name, {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus},
                spice_number(e.gain));
    }
  }
};

}  // namespace physlearn::circuits
