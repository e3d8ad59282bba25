#include "circuits/spice_export.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"

namespace physlearn::circuits {
namespace {

/// ngspice's Celsius-to-kelvin offset (CONSTCtoK in ngspice/const.h).
constexpr double kCelsiusToKelvin = 273.15;

/// Hands out unique names: a taken name gets "_<index>" appended (then "_<index>_2", ...).
class NameTable {
 public:
  std::string claim(std::string name, std::size_t index) {
    if (used_.insert(name).second) return name;
    std::string base = name + "_" + std::to_string(index);
    name = base;
    for (int k = 2; !used_.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    return name;
  }
  void reserve(const std::string& name) { used_.insert(name); }

 private:
  std::set<std::string> used_;
};

std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace

std::string spice_number(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string spice_safe_name(const std::string& name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (unsigned char c : name) {
    if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
      out += static_cast<char>(c);
    else
      out += '_';
  }
  if (out.empty() || !(out[0] >= 'a' && out[0] <= 'z') || is_ground_name(out)) out = "n" + out;
  return out;
}

std::string SpiceNetlist::text() const {
  std::string out;
  out.reserve(64 * (header.size() + elements.size() + models.size() + 3));
  auto line = [&](const std::string& s) {
    out += s;
    out += '\n';
  };
  line(title);
  for (const auto& s : header) line(s);
  for (const auto& s : elements) line(s);
  for (const auto& s : models) line(s);
  if (write_op) line(".op");
  line(".end");
  return out;
}

SpiceNetlist export_spice(const Circuit& circuit, const SpiceExportOptions& options) {
  circuit.validate();
  if (!circuit.memristors.empty())
    throw Error(cat("SPICE export: memristor ", circuit.memristors.front().name,
                    ": memristors have no SPICE element"));
  if (!(options.ideal_diode_saturation_current > 0.0) || !(options.ideal_diode_emission > 0.0))
    throw Error(cat("SPICE export: the ideal-diode model needs IS > 0 and N > 0 (got IS = ",
                    options.ideal_diode_saturation_current, ", N = ", options.ideal_diode_emission,
                    ")"));
  if (!(options.boltzmann_over_charge > 0.0))
    throw Error("SPICE export: boltzmann_over_charge must be > 0");

  SpiceNetlist net;
  net.title = one_line(options.title.empty() ? std::string("physlearn circuit") : options.title);
  net.write_op = options.write_op;

  // Nodes: sanitised, de-duplicated in index order; renamed ones are listed.
  NameTable node_table;
  node_table.reserve("0");
  std::vector<std::string> renamed;
  for (int n = 0; n < circuit.num_nodes(); ++n) {
    const std::string original = circuit.node_name(n);
    std::string name = node_table.claim(spice_safe_name(original), static_cast<std::size_t>(n));
    if (name != original) renamed.push_back("* node " + name + " = " + original);
    net.node_names.push_back(std::move(name));
  }
  auto node = [&](int index) -> const std::string& {
    static const std::string ground = "0";
    return index == kGround ? ground : net.node_names[static_cast<std::size_t>(index)];
  };

  NameTable element_table;
  auto element_name = [&](char letter, const std::string& name, std::size_t index) {
    std::string safe = spice_safe_name(name);
    if (safe[0] != letter) safe = std::string(1, letter) + "_" + safe;
    return element_table.claim(safe, index);
  };

  // Temperature and gmin in force.
  const Diode* first_shockley = nullptr;
  for (const auto& d : circuit.diodes)
    if (d.model == DiodeModel::Shockley) {
      first_shockley = &d;
      break;
    }
  const double temperature = options.temperature > 0.0 ? options.temperature
                             : first_shockley          ? first_shockley->temperature
                                                       : 300.15;
  const bool has_diodes = !circuit.diodes.empty();
  const double gmin = options.gmin > 0.0 ? options.gmin
                      : first_shockley   ? first_shockley->gmin
                                         : 1e-12;
  const bool write_gmin = options.gmin > 0.0 || has_diodes;
  net.gmin = write_gmin ? gmin : 1e-12;
  const double kq_ratio = kBoltzmannOverCharge / options.boltzmann_over_charge;

  net.header.push_back("* written by physlearn; units: ohms, volts, amperes, farads, Celsius");
  for (auto& r : renamed) net.header.push_back(std::move(r));
  std::string opts = ".options temp=" + spice_number(temperature - kCelsiusToKelvin) +
                     " tnom=" + spice_number(temperature - kCelsiusToKelvin);
  if (write_gmin) opts += " gmin=" + spice_number(gmin);
  if (options.reltol > 0.0) opts += " reltol=" + spice_number(options.reltol);
  if (options.abstol > 0.0) opts += " abstol=" + spice_number(options.abstol);
  if (options.vntol > 0.0) opts += " vntol=" + spice_number(options.vntol);
  if (options.itl1 > 0) opts += " itl1=" + std::to_string(options.itl1);
  net.header.push_back(opts);

  auto& cards = net.elements;
  cards.reserve(circuit.conductances.size() + circuit.voltage_sources.size() +
                circuit.current_sources.size() + 2 * circuit.diodes.size() + circuit.vcvs.size() +
                circuit.vccs.size() + circuit.capacitors.size());
  for (std::size_t k = 0; k < circuit.conductances.size(); ++k) {
    const auto& e = circuit.conductances[k];
    const double r = 1.0 / e.g;
    if (e.g == 0.0 || !std::isfinite(r)) {
      ++net.omitted_conductances;
      continue;
    }
    cards.push_back(element_name('r', e.name, k) + " " + node(e.a) + " " + node(e.b) + " " +
                    spice_number(r));
  }
  for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k) {
    const auto& e = circuit.voltage_sources[k];
    net.voltage_source_names.push_back(element_name('v', e.name, k));
    cards.push_back(net.voltage_source_names.back() + " " + node(e.plus) + " " + node(e.minus) +
                    " DC " + spice_number(e.volts));
  }
  for (std::size_t k = 0; k < circuit.current_sources.size(); ++k) {
    const auto& e = circuit.current_sources[k];
    cards.push_back(element_name('i', e.name, k) + " " + node(e.from) + " " + node(e.to) + " DC " +
                    spice_number(e.amps));
  }
  // Diode models, one per distinct (IS, N, T); the ideal model first when needed.
  std::map<std::tuple<bool, double, double, double>, std::string> models;
  int shockley_models = 0;
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    const auto& d = circuit.diodes[k];
    const bool ideal = d.model == DiodeModel::Ideal;
    SpiceNetlist::DiodeCard card;
    card.saturation_current = ideal ? options.ideal_diode_saturation_current : d.saturation_current;
    card.emission = (ideal ? options.ideal_diode_emission : d.emission) * kq_ratio;
    card.temperature = ideal ? temperature : d.temperature;
    card.gmin = ideal ? gmin : d.gmin;
    net.diode_cards.push_back(card);
    const auto key =
        std::make_tuple(ideal, card.saturation_current, card.emission, card.temperature);
    auto it = models.find(key);
    if (it == models.end()) {
      const std::string model_name = ideal ? "dideal" : "dmod" + std::to_string(++shockley_models);
      it = models.emplace(key, model_name).first;
      if (ideal)
        net.models.push_back(
            "* dideal: ideal diodes as a steep Shockley diode (forward drop N Vt "
            "ln(1 + I/IS), reverse leakage IS + gmin |V|)");
      net.models.push_back(".model " + model_name +
                           " D(IS=" + spice_number(card.saturation_current) +
                           " N=" + spice_number(card.emission) +
                           " TNOM=" + spice_number(card.temperature - kCelsiusToKelvin) + ")");
    }
    net.diode_names.push_back(element_name('d', d.name, k));
    std::string line =
        net.diode_names.back() + " " + node(d.anode) + " " + node(d.cathode) + " " + it->second;
    if (card.temperature != temperature)
      line += " temp=" + spice_number(card.temperature - kCelsiusToKelvin);
    cards.push_back(std::move(line));
    if (!ideal && d.gmin != gmin) {
      // ngspice's junction gmin is global: the difference goes in parallel, exactly.
      cards.push_back(element_name('r', net.diode_names.back() + "_gmin", k) + " " + node(d.anode) +
                      " " + node(d.cathode) + " " + spice_number(1.0 / (d.gmin - gmin)));
    }
  }
  for (std::size_t k = 0; k < circuit.vcvs.size(); ++k) {
    const auto& e = circuit.vcvs[k];
    net.vcvs_names.push_back(element_name('e', e.name, k));
    cards.push_back(net.vcvs_names.back() + " " + node(e.out_plus) + " " + node(e.out_minus) + " " +
                    node(e.ctrl_plus) + " " + node(e.ctrl_minus) + " " + spice_number(e.gain));
  }
  for (std::size_t k = 0; k < circuit.vccs.size(); ++k) {
    const auto& e = circuit.vccs[k];
    cards.push_back(element_name('g', e.name, k) + " " + node(e.out_plus) + " " +
                    node(e.out_minus) + " " + node(e.ctrl_plus) + " " + node(e.ctrl_minus) + " " +
                    spice_number(e.gain));
  }
  for (std::size_t k = 0; k < circuit.capacitors.size(); ++k) {
    const auto& e = circuit.capacitors[k];
    cards.push_back(element_name('c', e.name, k) + " " + node(e.a) + " " + node(e.b) + " " +
                    spice_number(e.farads));
  }
  if (net.omitted_conductances > 0)
    net.header.push_back("* " + std::to_string(net.omitted_conductances) +
                         " conductances of 0 S left out (open circuits)");
  return net;
}

std::string write_spice_netlist(const Circuit& circuit, const SpiceExportOptions& options) {
  return export_spice(circuit, options).text();
}

}  // namespace physlearn::circuits
