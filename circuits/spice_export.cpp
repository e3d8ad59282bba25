#include "circuits/spice_export.h"

#include <cmath>
#include <cstdio>

#include "circuits/spice.h"
#include "core/error.h"

namespace physlearn::circuits {
namespace {

/// Hands out unique names: a taken name gets "_<index>" appended (then "_<index>_2", ...).
std::string claim_unique(std::set<std::string>& used, std::string name, std::size_t index) {
  if (used.insert(name).second) return name;
  const std::string base = name + "_" + std::to_string(index);
  name = base;
  for (int k = 2; !used.insert(name).second; ++k) name = base + "_" + std::to_string(k);
  return name;
}

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

SpiceWriter::SpiceWriter(const SpiceExportOptions& options, SpiceNetlist& net,
                         const SpiceGlobals& globals, int num_nodes)
    : options_(options), net_(net), globals_(globals), num_nodes_(num_nodes) {}

const std::string& SpiceWriter::node(int index) const {
  static const std::string ground = "0";
  return index == kGround ? ground : net_.node_names[static_cast<std::size_t>(index)];
}

std::string SpiceWriter::claim(char letter, const std::string& name, std::size_t index) {
  std::string safe = spice_safe_name(name);
  if (safe[0] != letter) safe = std::string(1, letter) + "_" + safe;
  return claim_unique(used_, safe, index);
}

std::string SpiceWriter::element(char letter, std::size_t k, const std::string& name,
                                 std::initializer_list<int> nodes, const std::string& value) {
  const std::string spice_name = claim(letter, name, k);
  this->name(k, spice_name);
  std::string text = spice_name;
  for (int n : nodes) text += " " + node(n);
  card(text + " " + value);
  return spice_name;
}

void SpiceWriter::name(std::size_t k, const std::string& spice_name) {
  net_.element_names[kind_][k] = spice_name;
}

void SpiceWriter::unknown(int unknown, SpiceUnknown source) {
  net_.unknowns[static_cast<std::size_t>(unknown - num_nodes_)] = std::move(source);
}

void SpiceWriter::begin_kind(std::size_t kind, std::size_t size) {
  kind_ = kind;
  net_.element_names[kind].assign(size, std::string());
}

SpiceNetlist export_spice(const Circuit& circuit, const SpiceExportOptions& options) {
  circuit.validate();
  if (!(options.ideal_diode_saturation_current > 0.0) || !(options.ideal_diode_emission > 0.0))
    throw Error(cat("SPICE export: the ideal-diode model needs IS > 0 and N > 0 (got IS = ",
                    options.ideal_diode_saturation_current, ", N = ", options.ideal_diode_emission,
                    ")"));
  if (!(options.boltzmann_over_charge > 0.0))
    throw Error("SPICE export: boltzmann_over_charge must be > 0");

  SpiceNetlist net;
  net.title = one_line(options.title.empty() ? std::string("physlearn circuit") : options.title);
  net.write_op = options.write_op;
  const UnknownLayout layout(circuit);
  net.element_names.resize(circuit.num_kinds());
  net.unknowns.resize(static_cast<std::size_t>(layout.size() - layout.num_nodes()));

  // Nodes: sanitised, de-duplicated in index order; renamed ones are listed.
  std::set<std::string> node_table{"0"};
  std::vector<std::string> renamed;
  for (int n = 0; n < circuit.num_nodes(); ++n) {
    const std::string original = circuit.node_name(n);
    std::string name =
        claim_unique(node_table, spice_safe_name(original), static_cast<std::size_t>(n));
    if (name != original) renamed.push_back("* node " + name + " = " + original);
    net.node_names.push_back(std::move(name));
  }

  // The temperature and gmin in force: the options', else what the kinds propose.
  SpiceGlobals globals;
  if (options.temperature > 0.0) globals.temperature = options.temperature;
  if (options.gmin > 0.0) globals.gmin = options.gmin;
  globals.write_gmin = options.gmin > 0.0;
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    circuit.group(kind).spice_globals(globals);
  if (std::isnan(globals.temperature)) globals.temperature = 300.15;
  if (std::isnan(globals.gmin)) globals.gmin = 1e-12;
  net.gmin = globals.write_gmin ? globals.gmin : 1e-12;

  net.header.push_back("* written by physlearn; units: ohms, volts, amperes, farads, Celsius");
  for (auto& r : renamed) net.header.push_back(std::move(r));
  std::string opts = ".options temp=" + spice_number(globals.temperature - kCelsiusToKelvin) +
                     " tnom=" + spice_number(globals.temperature - kCelsiusToKelvin);
  if (globals.write_gmin) opts += " gmin=" + spice_number(globals.gmin);
  if (options.reltol > 0.0) opts += " reltol=" + spice_number(options.reltol);
  if (options.abstol > 0.0) opts += " abstol=" + spice_number(options.abstol);
  if (options.vntol > 0.0) opts += " vntol=" + spice_number(options.vntol);
  if (options.itl1 > 0) opts += " itl1=" + std::to_string(options.itl1);
  net.header.push_back(opts);

  net.elements.reserve(circuit.num_elements());
  SpiceWriter writer(options, net, globals, circuit.num_nodes());
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    writer.begin_kind(kind, group.size());
    if (group.size() > 0) group.write_spice(layout.first(kind).data(), writer);
  }
  return net;
}

std::string write_spice_netlist(const Circuit& circuit, const SpiceExportOptions& options) {
  return export_spice(circuit, options).text();
}

}  // namespace physlearn::circuits
