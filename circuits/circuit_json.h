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
/// A vcvs holds v(out+) - v(out-) = gain (v(ctrl+) - v(ctrl-)) (SPICE's E card). A vccs drives
/// the current gain (v(ctrl+) - v(ctrl-)) (gain in siemens, any sign) from out+ through the source
/// to out- (SPICE's G card: it leaves node out+ and enters node out-). A capacitor (farads >= 0)
/// is open at DC.
///
/// Units are SI: siemens, ohms, volts, amperes, kelvin, farads. Ground is "0" or "gnd" (any case).
/// Names are unique across all elements; a missing name becomes the type's SPICE letter and the
/// first free number (G1, R1 stored as a conductance, V1, I1, D1, E1, G for a vccs, C1).
/// Defaults: trainable false,
/// diode model "ideal", Is 1e-14 A, n 1, temperature 300.15 K, gmin 1e-12 S.
/// Every mistake (unknown key or type, wrong JSON type, wrong number of nodes, negative g or r,
/// duplicate name, ...) throws physlearn::ConfigError naming the JSON path, e.g.
/// "circuit.elements[3].g".
#include <nlohmann/json.hpp>
#include <string>

#include "circuits/circuit.h"

namespace physlearn::circuits {

/// Reads a circuit from `j`; `path` is the JSON path of `j` used in error messages ("circuit").
Circuit circuit_from_json(const nlohmann::json& j, const std::string& path);

/// Writes every node (in index order) and element (conductances, voltage sources, current
/// sources, diodes, VCVS, VCCS, capacitors, each in list order); circuit_from_json reads it back
/// to an equal circuit.
nlohmann::json circuit_to_json(const Circuit& circuit);

}  // namespace physlearn::circuits
