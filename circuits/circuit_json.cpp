#include "circuits/circuit_json.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/schema.h"

namespace physlearn::circuits {
namespace {

using nlohmann::json;

std::string element_path(const std::string& path, std::size_t index) {
  return cat(join_path(path, "elements"), "[", index, "]");
}

/// What each element type accepts.
struct TypeSpec {
  const char* type;
  const char* letter;  // SPICE letter for generated names
  int node_count;
  const char* node_roles;
  std::vector<std::string> keys;  // besides type, name, nodes
};

const std::vector<TypeSpec>& type_specs() {
  static const std::vector<TypeSpec> specs = {
      {"conductance", "G", 2, "[a, b]", {"g", "trainable"}},
      {"resistor", "R", 2, "[a, b]", {"r", "trainable"}},
      {"voltage_source", "V", 2, "[plus, minus]", {"volts"}},
      {"current_source", "I", 2, "[from, to]", {"amps", "trainable"}},
      {"diode", "D", 2, "[anode, cathode]", {"model", "Is", "n", "temperature", "gmin"}},
      {"vcvs", "E", 4, "[out+, out-, ctrl+, ctrl-]", {"gain"}},
      {"vccs", "G", 4, "[out+, out-, ctrl+, ctrl-]", {"gain"}},
      {"capacitor", "C", 2, "[a, b]", {"farads"}},
  };
  return specs;
}

std::string type_list() {
  std::string list;
  for (const auto& s : type_specs()) list += (list.empty() ? "" : ", ") + std::string(s.type);
  return list;
}

/// Reads the keys of one element object, each error naming its path.
class ElementReader {
 public:
  ElementReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const { return join_path(path_, key); }
  bool has(const std::string& key) const { return object_.contains(key); }

  /// A required finite number.
  double number(const std::string& key, const std::string& what) const {
    if (!has(key)) throw ConfigError(key_path(key), "missing", "is required for " + what);
    return finite_number(key);
  }
  /// An optional finite number.
  double number_or(const std::string& key, double fallback) const {
    return has(key) ? finite_number(key) : fallback;
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_.at(key);
    if (!value.is_boolean())
      throw ConfigError(key_path(key), json_text(value), "must be a boolean");
    return value.get<bool>();
  }
  std::string string_or(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_.at(key);
    if (!value.is_string()) throw ConfigError(key_path(key), json_text(value), "must be a string");
    return value.get<std::string>();
  }
  /// Throws if `value` breaks `ok`; `rule` reads "must be ...".
  template <class Check>
  void require(const std::string& key, double value, Check ok, const std::string& rule) const {
    if (!ok(value)) throw ConfigError(key_path(key), json_text(object_.at(key)), rule);
  }

 private:
  double finite_number(const std::string& key) const {
    const json& value = object_.at(key);
    if (!value.is_number()) throw ConfigError(key_path(key), json_text(value), "must be a number");
    const double x = value.get<double>();
    if (!std::isfinite(x)) throw ConfigError(key_path(key), json_text(value), "must be finite");
    return x;
  }
  const json& object_;
  std::string path_;
};

/// The element's "nodes": exactly spec.node_count non-empty strings, added to the circuit.
std::vector<int> read_nodes(const json& element, const TypeSpec& spec, const std::string& path,
                            Circuit& circuit) {
  const std::string nodes_path = join_path(path, "nodes");
  const std::string rule = cat("must be an array of ", spec.node_count, " node names ",
                               spec.node_roles, " for a ", spec.type);
  if (!element.contains("nodes")) throw ConfigError(nodes_path, "missing", rule);
  const json& nodes = element.at("nodes");
  if (!nodes.is_array() || nodes.size() != static_cast<std::size_t>(spec.node_count))
    throw ConfigError(nodes_path, json_text(nodes), rule);
  std::vector<int> indices;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string item_path = cat(nodes_path, "[", i, "]");
    if (!nodes[i].is_string())
      throw ConfigError(item_path, json_text(nodes[i]), "must be a node name (a string)");
    const std::string name = nodes[i].get<std::string>();
    if (name.empty()) throw ConfigError(item_path, "\"\"", "must be a non-empty node name");
    indices.push_back(circuit.add_node(name));
  }
  return indices;
}

auto non_negative = [](double x) { return x >= 0.0; };
auto positive = [](double x) { return x > 0.0; };

}  // namespace

Circuit circuit_from_json(const json& j, const std::string& path) {
  const std::string top = path.empty() ? "(top level)" : path;
  if (!j.is_object()) throw ConfigError(top, json_text(j), "must be an object with \"elements\"");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "nodes" && it.key() != "elements")
      throw ConfigError(join_path(path, it.key()), json_text(it.value()),
                        "unknown key (known keys here: elements, nodes)");

  Circuit circuit;
  if (j.contains("nodes")) {
    const std::string nodes_path = join_path(path, "nodes");
    const json& nodes = j.at("nodes");
    if (!nodes.is_array())
      throw ConfigError(nodes_path, json_text(nodes), "must be an array of node names");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::string item_path = cat(nodes_path, "[", i, "]");
      if (!nodes[i].is_string() || nodes[i].get<std::string>().empty())
        throw ConfigError(item_path, json_text(nodes[i]), "must be a non-empty node name (string)");
      const std::string name = nodes[i].get<std::string>();
      if (!seen.insert(name).second)
        throw ConfigError(item_path, json_text(nodes[i]), "must not repeat a node name");
      circuit.add_node(name);
    }
  }

  const std::string elements_path = join_path(path, "elements");
  if (!j.contains("elements"))
    throw ConfigError(elements_path, "missing", "is required (an array of elements)");
  const json& elements = j.at("elements");
  if (!elements.is_array())
    throw ConfigError(elements_path, json_text(elements), "must be an array of elements");

  // First pass: the explicit names, so that generated names avoid every one of them.
  std::set<std::string> names;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const json& element = elements[i];
    const std::string element_at = element_path(path, i);
    if (!element.is_object())
      throw ConfigError(element_at, json_text(element), "must be an object (an element)");
    if (!element.contains("name")) continue;
    const json& name = element.at("name");
    if (!name.is_string() || name.get<std::string>().empty())
      throw ConfigError(join_path(element_at, "name"), json_text(name),
                        "must be a non-empty string");
    if (!names.insert(name.get<std::string>()).second)
      throw ConfigError(join_path(element_at, "name"), json_text(name),
                        "must be unique among the circuit's elements");
  }
  std::map<std::string, int> next_number;
  auto generate_name = [&](const std::string& letter) {
    int& k = next_number[letter];
    std::string name;
    do name = cat(letter, ++k);
    while (names.count(name) > 0);
    names.insert(name);
    return name;
  };

  for (std::size_t i = 0; i < elements.size(); ++i) {
    const json& element = elements[i];
    const std::string element_at = element_path(path, i);
    ElementReader in(element, element_at);

    if (!element.contains("type"))
      throw ConfigError(in.key_path("type"), "missing",
                        "is required (one of: " + type_list() + ")");
    const json& type_value = element.at("type");
    if (!type_value.is_string())
      throw ConfigError(in.key_path("type"), json_text(type_value),
                        "must be a string, one of: " + type_list());
    const std::string type = type_value.get<std::string>();
    const TypeSpec* spec = nullptr;
    for (const auto& s : type_specs())
      if (type == s.type) spec = &s;
    if (spec == nullptr)
      throw ConfigError(in.key_path("type"), json_text(type_value),
                        "must be one of: " + type_list());

    // Unknown keys first, so a misspelt key is named rather than reported as missing.
    std::vector<std::string> known = {"type", "name", "nodes"};
    known.insert(known.end(), spec->keys.begin(), spec->keys.end());
    for (auto it = element.begin(); it != element.end(); ++it) {
      bool ok = false;
      for (const auto& k : known) ok = ok || k == it.key();
      if (!ok) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw ConfigError(in.key_path(it.key()), json_text(it.value()),
                          "unknown key for a " + type + " (known keys: " + list + ")");
      }
    }

    const std::vector<int> nodes = read_nodes(element, *spec, element_at, circuit);
    const std::string name = element.contains("name") ? element.at("name").get<std::string>()
                                                      : generate_name(spec->letter);
    const std::string what = std::string("a ") + type;

    if (type == "conductance" || type == "resistor") {
      Conductance c;
      c.name = name;
      c.a = nodes[0];
      c.b = nodes[1];
      if (type == "conductance") {
        c.g = in.number("g", what);
        in.require("g", c.g, non_negative, "must be >= 0 (siemens)");
      } else {
        const double r = in.number("r", what);
        in.require("r", r, positive, "must be > 0 (ohms)");
        c.g = 1.0 / r;
      }
      c.trainable = in.boolean_or("trainable", false);
      circuit.conductances.push_back(c);
    } else if (type == "voltage_source") {
      VoltageSource v;
      v.name = name;
      v.plus = nodes[0];
      v.minus = nodes[1];
      v.volts = in.number("volts", what);
      if (v.plus == v.minus)
        throw ConfigError(in.key_path("nodes"), json_text(element.at("nodes")),
                          "must be two different nodes (a source across one node)");
      circuit.voltage_sources.push_back(v);
    } else if (type == "current_source") {
      CurrentSource s;
      s.name = name;
      s.from = nodes[0];
      s.to = nodes[1];
      s.amps = in.number("amps", what);
      s.trainable = in.boolean_or("trainable", false);
      circuit.current_sources.push_back(s);
    } else if (type == "diode") {
      Diode d;
      d.name = name;
      d.anode = nodes[0];
      d.cathode = nodes[1];
      const std::string model = in.string_or("model", "ideal");
      if (model == "ideal") {
        d.model = DiodeModel::Ideal;
        for (const char* key : {"Is", "n", "temperature", "gmin"})
          if (in.has(key))
            throw ConfigError(in.key_path(key), json_text(element.at(key)),
                              "applies only to model \"shockley\" (this diode is ideal)");
      } else if (model == "shockley") {
        d.model = DiodeModel::Shockley;
        d.saturation_current = in.number_or("Is", d.saturation_current);
        if (in.has("Is")) in.require("Is", d.saturation_current, positive, "must be > 0 (amperes)");
        d.emission = in.number_or("n", d.emission);
        if (in.has("n")) in.require("n", d.emission, positive, "must be > 0");
        d.temperature = in.number_or("temperature", d.temperature);
        if (in.has("temperature"))
          in.require("temperature", d.temperature, positive, "must be > 0 (kelvin)");
        d.gmin = in.number_or("gmin", d.gmin);
        if (in.has("gmin")) in.require("gmin", d.gmin, non_negative, "must be >= 0 (siemens)");
      } else {
        throw ConfigError(in.key_path("model"), json_text(element.at("model")),
                          "must be one of: ideal, shockley");
      }
      circuit.diodes.push_back(d);
    } else if (type == "vccs") {
      Vccs g;
      g.name = name;
      g.out_plus = nodes[0];
      g.out_minus = nodes[1];
      g.ctrl_plus = nodes[2];
      g.ctrl_minus = nodes[3];
      g.gain = in.number("gain", what);
      circuit.vccs.push_back(g);
    } else if (type == "capacitor") {
      Capacitor c;
      c.name = name;
      c.a = nodes[0];
      c.b = nodes[1];
      c.farads = in.number("farads", what);
      in.require("farads", c.farads, non_negative, "must be >= 0 (farads)");
      circuit.capacitors.push_back(c);
    } else {  // vcvs
      Vcvs e;
      e.name = name;
      e.out_plus = nodes[0];
      e.out_minus = nodes[1];
      e.ctrl_plus = nodes[2];
      e.ctrl_minus = nodes[3];
      e.gain = in.number("gain", what);
      if (e.out_plus == e.out_minus)
        throw ConfigError(in.key_path("nodes"), json_text(element.at("nodes")),
                          "must have two different output nodes");
      circuit.vcvs.push_back(e);
    }
  }
  return circuit;
}

json circuit_to_json(const Circuit& circuit) {
  if (!circuit.memristors.empty())
    throw Error(cat("circuit JSON: memristor ", circuit.memristors.front().name,
                    ": memristors have no JSON form"));
  json out = json::object();
  json nodes = json::array();
  for (int i = 0; i < circuit.num_nodes(); ++i) nodes.push_back(circuit.node_name(i));
  out["nodes"] = nodes;
  auto name_of = [&](int node) { return circuit.node_name(node); };
  json elements = json::array();
  for (const auto& c : circuit.conductances)
    elements.push_back({{"type", "conductance"},
                        {"name", c.name},
                        {"nodes", json::array({name_of(c.a), name_of(c.b)})},
                        {"g", c.g},
                        {"trainable", c.trainable}});
  for (const auto& v : circuit.voltage_sources)
    elements.push_back({{"type", "voltage_source"},
                        {"name", v.name},
                        {"nodes", json::array({name_of(v.plus), name_of(v.minus)})},
                        {"volts", v.volts}});
  for (const auto& s : circuit.current_sources)
    elements.push_back({{"type", "current_source"},
                        {"name", s.name},
                        {"nodes", json::array({name_of(s.from), name_of(s.to)})},
                        {"amps", s.amps},
                        {"trainable", s.trainable}});
  for (const auto& d : circuit.diodes) {
    json e = {{"type", "diode"},
              {"name", d.name},
              {"nodes", json::array({name_of(d.anode), name_of(d.cathode)})},
              {"model", d.model == DiodeModel::Ideal ? "ideal" : "shockley"}};
    if (d.model == DiodeModel::Shockley) {
      e["Is"] = d.saturation_current;
      e["n"] = d.emission;
      e["temperature"] = d.temperature;
      e["gmin"] = d.gmin;
    }
    elements.push_back(e);
  }
  for (const auto& e : circuit.vcvs)
    elements.push_back({{"type", "vcvs"},
                        {"name", e.name},
                        {"nodes", json::array({name_of(e.out_plus), name_of(e.out_minus),
                                               name_of(e.ctrl_plus), name_of(e.ctrl_minus)})},
                        {"gain", e.gain}});
  for (const auto& g : circuit.vccs)
    elements.push_back({{"type", "vccs"},
                        {"name", g.name},
                        {"nodes", json::array({name_of(g.out_plus), name_of(g.out_minus),
                                               name_of(g.ctrl_plus), name_of(g.ctrl_minus)})},
                        {"gain", g.gain}});
  for (const auto& c : circuit.capacitors)
    elements.push_back({{"type", "capacitor"},
                        {"name", c.name},
                        {"nodes", json::array({name_of(c.a), name_of(c.b)})},
                        {"farads", c.farads}});
  out["elements"] = elements;
  return out;
}

}  // namespace physlearn::circuits
