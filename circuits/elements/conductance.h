#pragma once
/// Linear conductance between nodes a and b: the current g (v_a - v_b) flows from a to b.
///   JSON: {"type": "conductance", "nodes": [a, b], "g": S, "trainable": false}, or
///         {"type": "resistor", "nodes": [a, b], "r": ohms} (g = 1 / r).
///   SPICE: R<name> a b <ohms>; a negative resistance is read as a VCCS sensing its own terminals
///   (the same branch law); written with 17 digits, a g of 0 (or so small that 1/g overflows)
///   left out as an open circuit.
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/elements/vccs.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct Conductance {
  std::string name;
  int a = kGround;
  int b = kGround;
  double g = 0.0;          ///< siemens, >= 0
  bool trainable = false;  ///< learning rules may change it
};

struct ConductanceKind : KindDefaults<Conductance> {
  static std::string noun() { return "conductance"; }
  static void validate(const Conductance& e) {
    if (!std::isfinite(e.g) || e.g < 0.0)
      throw Error(cat("circuit: conductance ", e.name, ": g = ", e.g, ": must be finite and >= 0"));
  }
  static void terminals(const Conductance& e, std::vector<int>& out) {
    out.insert(out.end(), {e.a, e.b});
  }
  static void entries(const Conductance& e, const Instance&, EntryList& out) {
    out.add_branch(e.a, e.b);
  }
  static void stamp(const Conductance& e, const Instance& at, const Evaluation& ev,
                    Assembly& out) {
    const double current = e.g * (node_voltage(ev.x, e.a) - node_voltage(ev.x, e.b));
    stamp_branch(e.a, e.b, current, e.g, at.entry, out);
  }
  static double current(const Conductance& e, const Instance&, const double* x) {
    return e.g * (node_voltage(x, e.a) - node_voltage(x, e.b));
  }
  static void dc_paths(const Conductance& e, NodeSets& sets) {
    if (e.g > 0.0) sets.join(e.a, e.b);
  }
  /// The circuit's typical conductance (the mean of the positive ones) scales ideal diodes.
  static void conductance_scale(const Conductance& e, double& sum, long& count) {
    if (e.g > 0.0) {
      sum += e.g;
      ++count;
    }
  }
  /// Dissipated g (v_a - v_b)^2, the bulk of a network's elements: one sum for the total.
  static void power(const std::vector<Conductance>& list, const int*, const Evaluation& ev,
                    double weight, EnergySink& sink) {
    double sum = 0.0;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Conductance& e = list[k];
      const double d = node_voltage(ev.x, e.a) - node_voltage(ev.x, e.b);
      const double p = e.g * d * d;
      sum += p;
      sink.element(k, weight * p);
    }
    sink.total(EnergyKind::conductances, weight * sum);
  }

  static std::vector<JsonForm> json_forms() {
    return {{"conductance", "G", {"a", "b"}, {"g", "trainable"}},
            {"resistor", "R", {"a", "b"}, {"r", "trainable"}}};
  }
  static Conductance read_json(const JsonElement& in, std::size_t form) {
    Conductance c{in.name(), in.node(0), in.node(1), 0.0, false};
    if (form == 0) {
      c.g = in.number("g");
      in.require("g", c.g, [](double x) { return x >= 0.0; }, "must be >= 0 (siemens)");
    } else {
      const double r = in.number("r");
      in.require("r", r, [](double x) { return x > 0.0; }, "must be > 0 (ohms)");
      c.g = 1.0 / r;
    }
    c.trainable = in.boolean_or("trainable", false);
    return c;
  }
  static nlohmann::json write_json(const Conductance& e, const std::vector<std::string>& nodes) {
    return json_element("conductance", e.name, {e.a, e.b}, nodes,
                        {{"g", e.g}, {"trainable", e.trainable}});
  }

  static const char* spice_letters() { return "r"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const auto& tokens = card.tokens;
    const std::string& name = tokens[0].text;
    if (tokens.size() < 4) r.fail(card, cat(name, ": a resistor needs ", name, " n1 n2 value"));
    if (tokens.size() > 4)
      r.fail(card, cat(name, ": unexpected field \"", tokens[4].text, "\" (", name, " n1 n2 ohms)"));
    const double x = r.number(card, tokens[3], cat(name, " value"));
    const int a = r.node(tokens[1].text), b = r.node(tokens[2].text);
    if (x == 0.0)
      r.fail(card, cat(name, ": a resistance of 0 ohms (a short; use a 0 V voltage source)"));
    if (x > 0.0)
      r.circuit().add(Conductance{name, a, b, 1.0 / x, false});
    else  // a negative resistance: the same branch law as a VCCS sensing its own terminals
      r.circuit().add(Vccs{name, a, b, a, b, 1.0 / x});
  }
  static void write_spice(const std::vector<Conductance>& list, const int*, SpiceWriter& w) {
    int omitted = 0;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Conductance& e = list[k];
      const double r = 1.0 / e.g;
      if (e.g == 0.0 || !std::isfinite(r)) {
        ++omitted;
        continue;
      }
      w.element('r', k, e.name, {e.a, e.b}, spice_number(r));
    }
    if (omitted > 0)
      w.note("* " + std::to_string(omitted) + " conductances of 0 S left out (open circuits)");
  }
};

}  // namespace physlearn::circuits
