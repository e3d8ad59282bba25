#pragma once
// Every element kind's struct, for the circuit and solver tests; small builders of hand-made
// circuits and readers of netlist text (namespace circuits_test), shared by the solver tests and
// the element kinds' tests (tests/circuits_elements_*_test.cpp).
#include <string>

#include "circuits/circuit.h"
#include "circuits/elements/capacitor.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/diode.h"
#include "circuits/elements/inductor.h"
#include "circuits/elements/memristor.h"
#include "circuits/elements/vccs.h"
#include "circuits/elements/vcvs.h"
#include "circuits/elements/voltage_source.h"
#include "circuits/spice.h"

namespace circuits_test {

using physlearn::circuits::Circuit;

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The node named `name` ("0", "gnd": ground), added when new.
inline int node(Circuit& c, const std::string& name) { return c.add_node(name); }

/// A conductance g (S) from a to b, named G<n>.
inline void add_g(Circuit& c, const std::string& a, const std::string& b, double g) {
  c.list<physlearn::circuits::Conductance>().push_back(physlearn::circuits::Conductance{
      "G" + std::to_string(c.list<physlearn::circuits::Conductance>().size() + 1), node(c, a),
      node(c, b), g, false});
}
/// A resistance r (ohms) from a to b: the conductance 1 / r.
inline void add_r(Circuit& c, const std::string& a, const std::string& b, double r) {
  add_g(c, a, b, 1.0 / r);
}
/// A voltage source v(plus) - v(minus) = volts, named V<n>.
inline void add_v(Circuit& c, const std::string& plus, const std::string& minus, double volts) {
  c.list<physlearn::circuits::VoltageSource>().push_back(physlearn::circuits::VoltageSource{
      "V" + std::to_string(c.list<physlearn::circuits::VoltageSource>().size() + 1),
      node(c, plus), node(c, minus), volts});
}
/// A voltage source from `plus` to ground.
inline void add_v(Circuit& c, const std::string& plus, double volts) {
  add_v(c, plus, "0", volts);
}
/// A current source driving `amps` from `from` through the source into `to`, named I<n>.
inline void add_i(Circuit& c, const std::string& from, const std::string& to, double amps) {
  c.list<physlearn::circuits::CurrentSource>().push_back(physlearn::circuits::CurrentSource{
      "I" + std::to_string(c.list<physlearn::circuits::CurrentSource>().size() + 1),
      node(c, from), node(c, to), amps, false});
}
/// A capacitor of `farads` from a to b, named C<n>.
inline void add_c(Circuit& c, const std::string& a, const std::string& b, double farads) {
  c.list<physlearn::circuits::Capacitor>().push_back(physlearn::circuits::Capacitor{
      "C" + std::to_string(c.list<physlearn::circuits::Capacitor>().size() + 1), node(c, a),
      node(c, b), farads});
}
/// An ideal diode from anode to cathode, named D<n>.
inline void add_ideal(Circuit& c, const std::string& anode, const std::string& cathode) {
  physlearn::circuits::Diode d;
  d.name = "D" + std::to_string(c.list<physlearn::circuits::Diode>().size() + 1);
  d.anode = node(c, anode);
  d.cathode = node(c, cathode);
  d.model = physlearn::circuits::DiodeModel::Ideal;
  c.list<physlearn::circuits::Diode>().push_back(d);
}
/// A Shockley diode with the default parameters (Is 1e-14 A, n 1, 300.15 K, gmin 1e-12 S).
inline void add_shockley(Circuit& c, const std::string& anode, const std::string& cathode) {
  add_ideal(c, anode, cathode);
  c.list<physlearn::circuits::Diode>().back().model = physlearn::circuits::DiodeModel::Shockley;
}

/// The circuit of netlist `text`, read as file "test.cir" (its options into `options` if given).
inline Circuit read(const std::string& text,
                    physlearn::circuits::SpiceOptions* options = nullptr) {
  physlearn::circuits::SpiceOptions local;
  return physlearn::circuits::read_spice_netlist(text, "test.cir",
                                                 options != nullptr ? options : &local);
}

/// A netlist's circuit with its options (.tran, source functions).
struct Parsed {
  Circuit circuit;
  physlearn::circuits::SpiceOptions options;
};

inline Parsed parse(const std::string& text) {
  Parsed p;
  p.circuit = read(text, &p.options);
  return p;
}

}  // namespace circuits_test
