#pragma once
/// Linear inductor between a and b: v_a - v_b = L di/dt, its current i (an unknown, SPICE's
/// "#branch" sign: from a through the inductor to b) continuous in time. A short at DC (its row
/// v_a - v_b = 0); in the transient its flux L i is the charge of its row (F + d/dt Q = 0 with
/// Q = -L i there), its current a differential unknown that holds through switching; stored
/// energy 1/2 L i^2.
///   JSON: {"type": "inductor", "nodes": [a, b], "henries": H}.
///   SPICE: L<name> a b <henries> [IC=i] (IC is not read); written as "L<name> a b <henries>".
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct Inductor {
  std::string name;
  int a = kGround;
  int b = kGround;
  double henries = 0.0;  ///< > 0
};

struct InductorKind : KindDefaults<Inductor> {
  static std::string noun() { return "inductor"; }
  static void validate(const Inductor& e) {
    if (!std::isfinite(e.henries) || !(e.henries > 0.0))
      throw Error(cat("circuit: inductor ", e.name, ": L = ", e.henries,
                      ": must be finite and > 0 (a short is a 0 V voltage source)"));
  }
  static void terminals(const Inductor& e, std::vector<int>& out) {
    out.insert(out.end(), {e.a, e.b});
  }
  static int unknowns(const Inductor&) { return 1; }
  static void entries(const Inductor& e, const Instance& at, EntryList& out) {
    out.add_branch_current(e.a, e.b, at.unknown);
  }
  /// Node rows: the current i leaves a and enters b; its own row: v_a - v_b (volts).
  static void stamp(const Inductor& e, const Instance& at, const Evaluation& ev, Assembly& out) {
    const int br = at.unknown;
    stamp_branch_current(e.a, e.b, ev.x[br], at.entry, out);
    out.add_residual(br, node_voltage(ev.x, e.a));
    out.add_residual(br, -node_voltage(ev.x, e.b));
    out.add(at.entry[2], 1.0);
    out.add(at.entry[3], -1.0);
  }
  static void charge_entries(const Inductor&, const Instance& at, EntryList& out) {
    out.add(at.unknown, at.unknown);
  }
  /// d/dt of the row's charge -L i: -L di/dt.
  static void charge(const Inductor& e, const Instance& at, const double*, const double* xp,
                     double scale, Assembly& out) {
    if (xp) out.residual[at.unknown] -= e.henries * xp[at.unknown];
    out.add(at.charge_entry[0], -scale * e.henries);
  }
  static double stored_energy(const Inductor& e, const Instance& at, const double* x) {
    return 0.5 * e.henries * x[at.unknown] * x[at.unknown];
  }
  static double current(const Inductor&, const Instance& at, const double* x) {
    return x[at.unknown];
  }
  static void dc_paths(const Inductor& e, NodeSets& sets) { sets.join(e.a, e.b); }
  /// A short at DC: a loop of inductors and voltage sources has no unique operating point.
  static void voltage_defined(const Inductor& e, NodeSets& sets) { sets.join(e.a, e.b); }
  static bool branch_output() { return true; }

  static std::vector<JsonForm> json_forms() {
    return {{"inductor", "L", {"a", "b"}, {"henries"}}};
  }
  static Inductor read_json(const JsonElement& in, std::size_t) {
    Inductor l{in.name(), in.node(0), in.node(1), in.number("henries")};
    in.require("henries", l.henries, [](double x) { return x > 0.0; }, "must be > 0 (henries)");
    return l;
  }
  static nlohmann::json write_json(const Inductor& e, const std::vector<std::string>& nodes) {
    return json_element("inductor", e.name, {e.a, e.b}, nodes, {{"henries", e.henries}});
  }

  static const char* spice_letters() { return "l"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const auto& tokens = card.tokens;
    const std::string& name = tokens[0].text;
    const double x = r.value_with_ic(card, "inductor", "henries");
    const int a = r.node(tokens[1].text), b = r.node(tokens[2].text);
    if (!(x > 0.0)) r.fail(card, cat(name, ": L = ", x, ": must be > 0 (henries)"));
    r.circuit().add(Inductor{name, a, b, x});
  }
  static void write_spice(const std::vector<Inductor>& list, const int* unknown, SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Inductor& e = list[k];
      const std::string name = w.element('l', k, e.name, {e.a, e.b}, spice_number(e.henries));
      w.unknown(unknown[k], {name + "#branch", nullptr});
    }
  }
};

}  // namespace physlearn::circuits
