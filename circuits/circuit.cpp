#include "circuits/circuit.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"

namespace physlearn::circuits {

bool is_ground_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "0" || lower == "gnd";
}

int Circuit::add_node(const std::string& name) {
  if (is_ground_name(name)) return kGround;
  if (name.empty()) throw Error("circuit: a node name is empty");
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int index = num_nodes();
  names_.push_back(name);
  index_.emplace(name, index);
  return index;
}

bool Circuit::has_node(const std::string& name) const {
  return is_ground_name(name) || index_.count(name) > 0;
}

int Circuit::node(const std::string& name) const {
  if (is_ground_name(name)) return kGround;
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(cat("circuit: unknown node \"", name, "\""));
  return it->second;
}

std::string Circuit::node_name(int index) const {
  if (index == kGround) return "0";
  return names_.at(index);
}

void Circuit::validate() const {
  auto check_node = [&](const std::string& element, int index) {
    if (index != kGround && (index < 0 || index >= num_nodes()))
      throw Error(cat("circuit: element ", element, " refers to node index ", index,
                      ", which does not exist"));
  };
  auto finite = [](double x) { return std::isfinite(x); };
  for (const auto& c : conductances) {
    check_node(c.name, c.a);
    check_node(c.name, c.b);
    if (!finite(c.g) || c.g < 0.0)
      throw Error(cat("circuit: conductance ", c.name, ": g = ", c.g, ": must be finite and >= 0"));
  }
  for (const auto& v : voltage_sources) {
    check_node(v.name, v.plus);
    check_node(v.name, v.minus);
    if (!finite(v.volts)) throw Error(cat("circuit: voltage source ", v.name, ": not finite"));
    if (v.plus == v.minus)
      throw Error(cat("circuit: voltage source ", v.name, ": both terminals on the same node"));
  }
  for (const auto& i : current_sources) {
    check_node(i.name, i.from);
    check_node(i.name, i.to);
    if (!finite(i.amps)) throw Error(cat("circuit: current source ", i.name, ": not finite"));
  }
  for (const auto& d : diodes) {
    check_node(d.name, d.anode);
    check_node(d.name, d.cathode);
    if (d.model == DiodeModel::Shockley) {
      if (!(d.saturation_current > 0.0) || !finite(d.saturation_current))
        throw Error(cat("circuit: diode ", d.name, ": Is = ", d.saturation_current, ": must be > 0"));
      if (!(d.emission > 0.0) || !finite(d.emission))
        throw Error(cat("circuit: diode ", d.name, ": n = ", d.emission, ": must be > 0"));
      if (!(d.temperature > 0.0) || !finite(d.temperature))
        throw Error(cat("circuit: diode ", d.name, ": T = ", d.temperature, ": must be > 0 K"));
      if (!(d.gmin >= 0.0) || !finite(d.gmin))
        throw Error(cat("circuit: diode ", d.name, ": gmin = ", d.gmin, ": must be >= 0"));
    }
  }
  for (const auto& e : vcvs) {
    check_node(e.name, e.out_plus);
    check_node(e.name, e.out_minus);
    check_node(e.name, e.ctrl_plus);
    check_node(e.name, e.ctrl_minus);
    if (!finite(e.gain)) throw Error(cat("circuit: amplifier ", e.name, ": gain not finite"));
    if (e.out_plus == e.out_minus)
      throw Error(cat("circuit: amplifier ", e.name, ": both outputs on the same node"));
  }
  for (const auto& g : vccs) {
    check_node(g.name, g.out_plus);
    check_node(g.name, g.out_minus);
    check_node(g.name, g.ctrl_plus);
    check_node(g.name, g.ctrl_minus);
    if (!finite(g.gain)) throw Error(cat("circuit: transconductance ", g.name, ": gain not finite"));
  }
  for (const auto& c : capacitors) {
    check_node(c.name, c.a);
    check_node(c.name, c.b);
    if (!finite(c.farads) || c.farads < 0.0)
      throw Error(cat("circuit: capacitor ", c.name, ": C = ", c.farads, ": must be finite and >= 0"));
  }
  for (const auto& m : memristors) {
    check_node(m.name, m.a);
    check_node(m.name, m.b);
    if (!m.model) throw Error(cat("circuit: memristor ", m.name, ": no device model"));
    if (!finite(m.x0) || m.x0 < 0.0 || m.x0 > 1.0)
      throw Error(cat("circuit: memristor ", m.name, ": x0 = ", m.x0, ": must be in [0, 1]"));
  }
}

}  // namespace physlearn::circuits
