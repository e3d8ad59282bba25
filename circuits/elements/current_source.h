#pragma once
/// Independent current source: drives `amps` out of node `from`, through the source, into `to`
/// (SPICE's I card "I1 from to value"). A trainable one is a bias current of a network.
///   JSON: {"type": "current_source", "nodes": [from, to], "amps": A, "trainable": false}.
///   SPICE: I<name> from to [DC] value [AC mag [phase]]; written as "I<name> from to DC <amps>".
#include <cmath>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

struct CurrentSource {
  std::string name;
  int from = kGround;
  int to = kGround;
  double amps = 0.0;
  bool trainable = false;  ///< a trainable bias current
};

struct CurrentSourceKind : KindDefaults<CurrentSource> {
  static std::string noun() { return "current source"; }
  static void validate(const CurrentSource& e) {
    if (!std::isfinite(e.amps))
      throw Error(cat("circuit: current source ", e.name, ": not finite"));
  }
  static void terminals(const CurrentSource& e, std::vector<int>& out) {
    out.insert(out.end(), {e.from, e.to});
  }
  static void stamp(const CurrentSource& e, const Instance&, const Evaluation&, Assembly& out) {
    out.add_residual(e.from, e.amps);
    out.add_residual(e.to, -e.amps);
  }
  static double current(const CurrentSource& e, const Instance&, const double*) { return e.amps; }
  /// Delivered: I (v_to - v_from).
  static void power(const std::vector<CurrentSource>& list, const int*, const Evaluation& ev,
                    double w, EnergySink& sink) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const CurrentSource& e = list[k];
      sink.add(EnergyKind::sources, k,
               w * e.amps * (node_voltage(ev.x, e.to) - node_voltage(ev.x, e.from)));
    }
  }

  static std::vector<JsonForm> json_forms() {
    return {{"current_source", "I", {"from", "to"}, {"amps", "trainable"}}};
  }
  static CurrentSource read_json(const JsonElement& in, std::size_t) {
    const double amps = in.number("amps");
    return {in.name(), in.node(0), in.node(1), amps, in.boolean_or("trainable", false)};
  }
  static nlohmann::json write_json(const CurrentSource& e, const std::vector<std::string>& nodes) {
    return json_element("current_source", e.name, {e.from, e.to}, nodes,
                        {{"amps", e.amps}, {"trainable", e.trainable}});
  }

  static const char* spice_letters() { return "i"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const double value = r.source_value(card, 'i');
    const int from = r.node(card.tokens[1].text), to = r.node(card.tokens[2].text);
    r.circuit().add(CurrentSource{card.tokens[0].text, from, to, value, false});
  }
  static void write_spice(const std::vector<CurrentSource>& list, const int*, SpiceWriter& w) {
    for (std::size_t k = 0; k < list.size(); ++k)
      w.element('i', k, list[k].name, {list[k].from, list[k].to}, "DC " + spice_number(list[k].amps));
  }
};

}  // namespace physlearn::circuits
