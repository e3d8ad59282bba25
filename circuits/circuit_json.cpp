#include "circuits/circuit_json.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace physlearn::circuits {
namespace {

using nlohmann::json;

std::string element_path(const std::string& path, std::size_t index) {
  return cat(join_path(path, "elements"), "[", index, "]");
}

/// A JSON type of a registered kind.
struct Form {
  std::size_t kind;
  std::size_t form;
  JsonForm spec;
};

const std::vector<Form>& forms() {
  static const std::vector<Form> all = [] {
    std::vector<Form> out;
    const auto& kinds = element_kinds();
    for (std::size_t kind = 0; kind < kinds.size(); ++kind) {
      const std::vector<JsonForm> own = kinds[kind]->json_forms();
      for (std::size_t f = 0; f < own.size(); ++f) out.push_back({kind, f, own[f]});
    }
    return out;
  }();
  return all;
}

std::string type_list() {
  std::string list;
  for (const auto& f : forms()) list += (list.empty() ? "" : ", ") + f.spec.type;
  return list;
}

std::string roles_text(const JsonForm& spec) {
  std::string text = "[";
  for (std::size_t i = 0; i < spec.roles.size(); ++i) text += (i ? ", " : "") + spec.roles[i];
  return text + "]";
}

/// The element's "nodes": exactly as many non-empty strings as the form has roles, added to the
/// circuit.
std::vector<int> read_nodes(const json& element, const JsonForm& spec, const std::string& path,
                            Circuit& circuit) {
  const std::string nodes_path = join_path(path, "nodes");
  const std::string rule = cat("must be an array of ", spec.roles.size(), " node names ",
                               roles_text(spec), " for a ", spec.type);
  if (!element.contains("nodes")) throw ConfigError(nodes_path, "missing", rule);
  const json& nodes = element.at("nodes");
  if (!nodes.is_array() || nodes.size() != spec.roles.size())
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

}  // namespace

double JsonElement::finite_number(const std::string& key) const {
  const json& value = object_.at(key);
  if (!value.is_number()) throw ConfigError(key_path(key), json_text(value), "must be a number");
  const double x = value.get<double>();
  if (!std::isfinite(x)) throw ConfigError(key_path(key), json_text(value), "must be finite");
  return x;
}

double JsonElement::number(const std::string& key) const {
  if (!has(key)) throw ConfigError(key_path(key), "missing", "is required for " + what());
  return finite_number(key);
}

double JsonElement::number_or(const std::string& key, double fallback) const {
  return has(key) ? finite_number(key) : fallback;
}

bool JsonElement::boolean_or(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const json& value = object_.at(key);
  if (!value.is_boolean()) throw ConfigError(key_path(key), json_text(value), "must be a boolean");
  return value.get<bool>();
}

std::string JsonElement::string_or(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const json& value = object_.at(key);
  if (!value.is_string()) throw ConfigError(key_path(key), json_text(value), "must be a string");
  return value.get<std::string>();
}

void JsonElement::fail(const std::string& key, const std::string& rule) const {
  throw ConfigError(key_path(key), has(key) ? json_text(object_.at(key)) : "missing", rule);
}

json json_element(const std::string& type, const std::string& name, const std::vector<int>& nodes,
                  const std::vector<std::string>& node_names, const json& fields) {
  json names = json::array();
  for (int n : nodes) names.push_back(n == kGround ? std::string("0") : node_names[n]);
  json out = fields;
  out["type"] = type;
  out["name"] = name;
  out["nodes"] = names;
  return out;
}

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
    const std::string type_path = join_path(element_at, "type");
    if (!element.contains("type"))
      throw ConfigError(type_path, "missing", "is required (one of: " + type_list() + ")");
    const json& type_value = element.at("type");
    if (!type_value.is_string())
      throw ConfigError(type_path, json_text(type_value),
                        "must be a string, one of: " + type_list());
    const std::string type = type_value.get<std::string>();
    const Form* form = nullptr;
    for (const auto& f : forms())
      if (type == f.spec.type) form = &f;
    if (form == nullptr)
      throw ConfigError(type_path, json_text(type_value), "must be one of: " + type_list());

    // Unknown keys first, so a misspelt key is named rather than reported as missing.
    std::vector<std::string> known = {"type", "name", "nodes"};
    known.insert(known.end(), form->spec.keys.begin(), form->spec.keys.end());
    for (auto it = element.begin(); it != element.end(); ++it) {
      bool ok = false;
      for (const auto& k : known) ok = ok || k == it.key();
      if (!ok) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw ConfigError(join_path(element_at, it.key()), json_text(it.value()),
                          "unknown key for a " + type + " (known keys: " + list + ")");
      }
    }

    std::vector<int> nodes = read_nodes(element, form->spec, element_at, circuit);
    const std::string name = element.contains("name") ? element.at("name").get<std::string>()
                                                      : generate_name(form->spec.letter);
    const JsonElement in(element, element_at, name, std::move(nodes), type);
    circuit.group(form->kind).read_json(in, form->form);
  }
  return circuit;
}

json circuit_to_json(const Circuit& circuit) {
  json out = json::object();
  out["nodes"] = circuit.node_names();
  json elements = json::array();
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    for (std::size_t k = 0; k < group.size(); ++k)
      elements.push_back(group.write_json(k, circuit.node_names()));
  }
  out["elements"] = elements;
  return out;
}

}  // namespace physlearn::circuits
