#pragma once
/// Linear capacitor between a and b, charge q = C (v_a - v_b): open at DC, its charge in the
/// transient's DAE, its energy 1/2 C (v_a - v_b)^2 stored.
///   JSON: {"type": "capacitor", "nodes": [a, b], "farads": F}.
///   SPICE: C<name> a b <farads> [IC=v] (IC is not read).
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct Capacitor {
  std::string name;
  int a = kGround;
  int b = kGround;
  double farads = 0.0;  ///< >= 0
};

struct CapacitorKind : KindDefaults<Capacitor> {
  static std::string noun() { return "capacitor"; }
  static void validate(const Capacitor& e) {
    if (!std::isfinite(e.farads) || e.farads < 0.0)
      throw Error(cat("circuit: capacitor ", e.name, ": C = ", e.farads, ": must be finite and >= 0"));
  }
  static void terminals(const Capacitor& e, std::vector<int>& out) {
    out.insert(out.end(), {e.a, e.b});
  }
  static void charge_entries(const Capacitor& e, const Instance&, EntryList& out) {
    out.add_branch(e.a, e.b);
  }
  static void charge(const Capacitor& e, const Instance& at, const double*, const double* xp,
                     double scale, Assembly& out) {
    if (xp) {
      const double i = e.farads * (node_voltage(xp, e.a) - node_voltage(xp, e.b));
      if (e.a != kGround) out.residual[e.a] += i;
      if (e.b != kGround) out.residual[e.b] -= i;
    }
    const double g = scale * e.farads;
    out.add(at.charge_entry[0], g);
    out.add(at.charge_entry[1], -g);
    out.add(at.charge_entry[2], -g);
    out.add(at.charge_entry[3], g);
  }
  static double stored_energy(const Capacitor& e, const Instance&, const double* x) {
    const double v = node_voltage(x, e.a) - node_voltage(x, e.b);
    return 0.5 * e.farads * v * v;
  }
  static double current(const Capacitor&, const Instance&, const double*) { return 0.0; }

  static std::vector<JsonForm> json_forms() {
    return {{"capacitor", "C", {"a", "b"}, {"farads"}}};
  }
  static Capacitor read_json(const JsonElement& in, std::size_t) {
    Capacitor c{in.name(), in.node(0), in.node(1), in.number("farads")};
    in.require("farads", c.farads, [](double x) { return x >= 0.0; }, "must be >= 0 (farads)");
    return c;
  }
  static nlohmann::json write_json(const Capacitor& e, const std::vector<std::string>& nodes) {
    return json_element("capacitor", e.name, {e.a, e.b}, nodes, {{"farads", e.farads}});
  }

  static const char* spice_letters() { return "c"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const auto& tokens = card.tokens;
    const std::string& name = tokens[0].text;
    const double x = r.value_with_ic(card, "capacitor", "farads");
    const int a = r.node(tokens[1].text), b = r.node(tokens[2].text);
    if (x < 0.0) r.fail(card, cat(name, ": C = ", x, ": must be >= 0 (farads)"));
    r.circuit().add(Capacitor{name, a, b, x});
  }
  static void write_spice(const std::vector<Capacitor>& list, const int*, SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k)
      w.element('c', k, list[k].name, {list[k].a, list[k].b}, spice_number(list[k].farads));
  }
};

}  // namespace physlearn::circuits
