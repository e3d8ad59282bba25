#pragma once
/// JSON form of a Circuit (a netlist), read strictly and written so that it reads back the same.
///
///   {"nodes": ["a", "b"],            // optional: fixes the node order; elements add the rest
///    "elements": [
///      {"type": "conductance", "name": "G1", "nodes": ["a", "b"], "g": 1e-3, "trainable": false},
///      {"type": "resistor", "name": "R1", "nodes": ["a", "b"], "r": 1000},    // g = 1 / r
///      {"type": "voltage_source", "name": "V1", "nodes": ["plus", "minus"], "volts": 1.0},
///      {"type": "current_source", "name": "I1", "nodes": ["from", "to"], "amps": 1e-3,
///       "trainable": false},
///      {"type": "diode", "name": "D1", "nodes": ["anode", "cathode"], "model": "shockley",
///       "Is": 1e-14, "n": 1, "temperature": 300.15, "gmin": 1e-12},  // model "ideal": no Is..gmin
///      {"type": "vcvs", "name": "E1", "nodes": ["out+", "out-", "ctrl+", "ctrl-"], "gain": 10},
///      {"type": "vccs", "name": "G2", "nodes": ["out+", "out-", "ctrl+", "ctrl-"], "gain": 1e-3},
///      {"type": "capacitor", "name": "C1", "nodes": ["a", "b"], "farads": 1e-9}]}
///
/// Every kind's form (type names, nodes, keys, their rules) is declared by the kind itself
/// (circuits/elements/*.h, json_forms and read_json); `physlearn schema`-like lists of the known
/// types come from the registry. Units are SI. Ground is "0" or "gnd" (any case). Names are
/// unique across all elements; a missing name becomes the form's letter and the first free
/// number (G1, R1 stored as a conductance, V1, I1, D1, E1, G for a vccs, C1). Every mistake
/// (unknown key or type, wrong JSON type, wrong number of nodes, negative g or r, duplicate name,
/// ...) throws physlearn::ConfigError naming the JSON path, e.g. "circuit.elements[3].g".
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "circuits/circuit.h"
#include "core/schema.h"

namespace physlearn::circuits {

/// One element object being read, for a kind's read_json: its keys, each error naming its path.
class JsonElement {
 public:
  JsonElement(const nlohmann::json& object, std::string path, std::string name,
              std::vector<int> nodes, std::string type)
      : object_(object),
        path_(std::move(path)),
        name_(std::move(name)),
        nodes_(std::move(nodes)),
        type_(std::move(type)) {}

  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const { return join_path(path_, key); }
  bool has(const std::string& key) const { return object_.contains(key); }
  const nlohmann::json& value(const std::string& key) const { return object_.at(key); }
  /// The element's name (given, or generated).
  const std::string& name() const { return name_; }
  /// Node indices of its "nodes", in order.
  int node(std::size_t i) const { return nodes_.at(i); }
  /// "a conductance", for messages.
  std::string what() const { return "a " + type_; }

  /// A required finite number.
  double number(const std::string& key) const;
  /// An optional finite number.
  double number_or(const std::string& key, double fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  std::string string_or(const std::string& key, const std::string& fallback) const;
  /// Throws ConfigError at `key` unless ok(value); `rule` reads "must be ...".
  template <class Check>
  void require(const std::string& key, double value, Check ok, const std::string& rule) const {
    if (!ok(value)) fail(key, rule);
  }
  /// Throws ConfigError at `key` (its value as written) with `rule`.
  [[noreturn]] void fail(const std::string& key, const std::string& rule) const;

 private:
  double finite_number(const std::string& key) const;
  const nlohmann::json& object_;
  std::string path_, name_;
  std::vector<int> nodes_;
  std::string type_;
};

/// Reads a circuit from `j`; `path` is the JSON path of `j` used in error messages ("circuit").
Circuit circuit_from_json(const nlohmann::json& j, const std::string& path);

/// Writes every node (in index order) and element (kind by kind in registration order, each in
/// list order); circuit_from_json reads it back to an equal circuit. A kind without a JSON form
/// (memristors) is an Error naming the element.
nlohmann::json circuit_to_json(const Circuit& circuit);

/// {"type", "name", "nodes": [names], and `fields`} of an element, for a kind's write_json.
nlohmann::json json_element(const std::string& type, const std::string& name,
                            const std::vector<int>& nodes,
                            const std::vector<std::string>& node_names,
                            const nlohmann::json& fields = nlohmann::json::object());

}  // namespace physlearn::circuits
