#include <doctest/doctest.h>

#include "circuits_support.h"

#include <string>

#include "circuits/circuit_json.h"
#include "core/error.h"

using physlearn::ConfigError;
using physlearn::circuits::Circuit;
using physlearn::circuits::circuit_from_json;
using physlearn::circuits::circuit_to_json;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::kGround;
using json = nlohmann::json;

namespace {

json full_circuit() {
  return json::parse(R"({
    "nodes": ["in", "mid"],
    "elements": [
      {"type": "voltage_source", "name": "Vin", "nodes": ["in", "0"], "volts": 1.5},
      {"type": "resistor", "nodes": ["in", "mid"], "r": 1000},
      {"type": "conductance", "name": "G7", "nodes": ["mid", "gnd"], "g": 2e-3, "trainable": true},
      {"type": "conductance", "nodes": ["mid", "out"], "g": 0.5},
      {"type": "current_source", "nodes": ["0", "mid"], "amps": 1e-3, "trainable": true},
      {"type": "diode", "name": "D1", "nodes": ["mid", "GND"]},
      {"type": "diode", "nodes": ["out", "0"], "model": "shockley", "Is": 2e-14, "n": 1.5,
       "temperature": 310, "gmin": 0},
      {"type": "vcvs", "name": "E1", "nodes": ["amp", "0", "mid", "out"], "gain": -10},
      {"type": "vccs", "name": "Gm", "nodes": ["out", "0", "in", "mid"], "gain": -2.5e-3},
      {"type": "capacitor", "nodes": ["amp", "mid"], "farads": 4.7e-9}
    ]})");
}

/// Expects circuit_from_json to throw a ConfigError at `path` whose message contains `words`.
void expect_error(const json& j, const std::string& path, const std::string& words = "") {
  try {
    circuit_from_json(j, "circuit");
    FAIL("no error for ", j.dump(), " (expected one at ", path, ")");
  } catch (const ConfigError& e) {
    CHECK_MESSAGE(e.path() == path, e.what());
    if (!words.empty())
      CHECK_MESSAGE(std::string(e.what()).find(words) != std::string::npos, e.what());
  }
}

/// full_circuit() with element `index`'s `key` replaced by `value`.
json with_element_key(std::size_t index, const std::string& key, const json& value) {
  json j = full_circuit();
  j["elements"][index][key] = value;
  return j;
}

}  // namespace

TEST_CASE("circuit JSON: elements, nodes, names and values are read") {
  const Circuit c = circuit_from_json(full_circuit(), "circuit");
  REQUIRE(c.num_nodes() == 4);
  CHECK(c.node_name(0) == "in");
  CHECK(c.node_name(1) == "mid");
  CHECK(c.node_name(2) == "out");
  CHECK(c.node_name(3) == "amp");

  REQUIRE(c.list<physlearn::circuits::VoltageSource>().size() == 1);
  CHECK(c.list<physlearn::circuits::VoltageSource>()[0].name == "Vin");
  CHECK(c.list<physlearn::circuits::VoltageSource>()[0].plus == 0);
  CHECK(c.list<physlearn::circuits::VoltageSource>()[0].minus == kGround);
  CHECK(c.list<physlearn::circuits::VoltageSource>()[0].volts == 1.5);

  REQUIRE(c.list<physlearn::circuits::Conductance>().size() == 3);
  CHECK(c.list<physlearn::circuits::Conductance>()[0].name == "R1");  // a resistor keeps its letter, stored as 1 / r
  CHECK(c.list<physlearn::circuits::Conductance>()[0].g == doctest::Approx(1e-3).epsilon(1e-15));
  CHECK(c.list<physlearn::circuits::Conductance>()[1].name == "G7");
  CHECK(c.list<physlearn::circuits::Conductance>()[1].b == kGround);
  CHECK(c.list<physlearn::circuits::Conductance>()[1].trainable);
  CHECK(c.list<physlearn::circuits::Conductance>()[2].name == "G1");  // generated, unique
  CHECK_FALSE(c.list<physlearn::circuits::Conductance>()[2].trainable);

  REQUIRE(c.list<physlearn::circuits::CurrentSource>().size() == 1);
  CHECK(c.list<physlearn::circuits::CurrentSource>()[0].name == "I1");
  CHECK(c.list<physlearn::circuits::CurrentSource>()[0].from == kGround);
  CHECK(c.list<physlearn::circuits::CurrentSource>()[0].to == 1);
  CHECK(c.list<physlearn::circuits::CurrentSource>()[0].trainable);

  REQUIRE(c.list<physlearn::circuits::Diode>().size() == 2);
  CHECK(c.list<physlearn::circuits::Diode>()[0].model == DiodeModel::Ideal);
  CHECK(c.list<physlearn::circuits::Diode>()[0].cathode == kGround);
  CHECK(c.list<physlearn::circuits::Diode>()[1].name == "D2");  // D1 is taken
  CHECK(c.list<physlearn::circuits::Diode>()[1].model == DiodeModel::Shockley);
  CHECK(c.list<physlearn::circuits::Diode>()[1].saturation_current == 2e-14);
  CHECK(c.list<physlearn::circuits::Diode>()[1].emission == 1.5);
  CHECK(c.list<physlearn::circuits::Diode>()[1].temperature == 310.0);
  CHECK(c.list<physlearn::circuits::Diode>()[1].gmin == 0.0);

  REQUIRE(c.list<physlearn::circuits::Vcvs>().size() == 1);
  CHECK(c.list<physlearn::circuits::Vcvs>()[0].out_plus == 3);
  CHECK(c.list<physlearn::circuits::Vcvs>()[0].ctrl_plus == 1);
  CHECK(c.list<physlearn::circuits::Vcvs>()[0].ctrl_minus == 2);
  CHECK(c.list<physlearn::circuits::Vcvs>()[0].gain == -10.0);
  CHECK_NOTHROW(c.validate());
}

TEST_CASE("circuit JSON: a written circuit reads back the same") {
  const Circuit c = circuit_from_json(full_circuit(), "circuit");
  const json written = circuit_to_json(c);
  const Circuit back = circuit_from_json(written, "circuit");
  CHECK(circuit_to_json(back) == written);
  REQUIRE(back.num_nodes() == c.num_nodes());
  for (int i = 0; i < c.num_nodes(); ++i) CHECK(back.node_name(i) == c.node_name(i));
  REQUIRE(back.list<physlearn::circuits::Conductance>().size() == c.list<physlearn::circuits::Conductance>().size());
  for (std::size_t k = 0; k < c.list<physlearn::circuits::Conductance>().size(); ++k) {
    CHECK(back.list<physlearn::circuits::Conductance>()[k].name == c.list<physlearn::circuits::Conductance>()[k].name);
    CHECK(back.list<physlearn::circuits::Conductance>()[k].g == c.list<physlearn::circuits::Conductance>()[k].g);  // exact: JSON numbers round-trip
    CHECK(back.list<physlearn::circuits::Conductance>()[k].a == c.list<physlearn::circuits::Conductance>()[k].a);
    CHECK(back.list<physlearn::circuits::Conductance>()[k].b == c.list<physlearn::circuits::Conductance>()[k].b);
    CHECK(back.list<physlearn::circuits::Conductance>()[k].trainable == c.list<physlearn::circuits::Conductance>()[k].trainable);
  }
  CHECK(back.list<physlearn::circuits::Diode>()[1].saturation_current == c.list<physlearn::circuits::Diode>()[1].saturation_current);
  CHECK(back.list<physlearn::circuits::Diode>()[0].model == DiodeModel::Ideal);
  CHECK(back.list<physlearn::circuits::Vcvs>()[0].gain == c.list<physlearn::circuits::Vcvs>()[0].gain);
  CHECK(back.list<physlearn::circuits::CurrentSource>()[0].amps == c.list<physlearn::circuits::CurrentSource>()[0].amps);
  REQUIRE(back.list<physlearn::circuits::Vccs>().size() == 1);
  CHECK(back.list<physlearn::circuits::Vccs>()[0].name == "Gm");
  CHECK(back.list<physlearn::circuits::Vccs>()[0].gain == -2.5e-3);
  CHECK(back.list<physlearn::circuits::Vccs>()[0].out_plus == c.node("out"));
  CHECK(back.list<physlearn::circuits::Vccs>()[0].out_minus == kGround);
  CHECK(back.list<physlearn::circuits::Vccs>()[0].ctrl_plus == c.node("in"));
  CHECK(back.list<physlearn::circuits::Vccs>()[0].ctrl_minus == c.node("mid"));
  REQUIRE(back.list<physlearn::circuits::Capacitor>().size() == 1);
  CHECK(back.list<physlearn::circuits::Capacitor>()[0].name == "C1");
  CHECK(back.list<physlearn::circuits::Capacitor>()[0].farads == 4.7e-9);
  CHECK(back.list<physlearn::circuits::Capacitor>()[0].a == c.node("amp"));
  CHECK(back.list<physlearn::circuits::Capacitor>()[0].b == c.node("mid"));
  CHECK(written["elements"][0]["type"] == "conductance");
  CHECK_FALSE(written["elements"][5].contains("Is"));  // the ideal diode writes no Shockley keys

  // Defaults: an element-only file with generated names.
  const json minimal = json::parse(
      R"({"elements": [{"type": "resistor", "nodes": ["a", "0"], "r": 4},
                       {"type": "diode", "nodes": ["a", "0"], "model": "shockley"}]})");
  const Circuit m = circuit_from_json(minimal, "circuit");
  CHECK(m.list<physlearn::circuits::Conductance>()[0].g == 0.25);
  CHECK(m.list<physlearn::circuits::Diode>()[0].saturation_current == 1e-14);
  CHECK(m.list<physlearn::circuits::Diode>()[0].emission == 1.0);
  CHECK(m.list<physlearn::circuits::Diode>()[0].temperature == 300.15);
  CHECK(m.list<physlearn::circuits::Diode>()[0].gmin == 1e-12);
  CHECK(circuit_to_json(circuit_from_json(circuit_to_json(m), "c")) == circuit_to_json(m));
}

TEST_CASE("circuit JSON: each mistake names its path") {
  SUBCASE("top level") {
    expect_error(json::array(), "circuit", "must be an object");
    expect_error(json::parse(R"({"elements": [], "wires": []})"), "circuit.wires", "unknown key");
    expect_error(json::parse(R"({"nodes": []})"), "circuit.elements", "required");
    expect_error(json::parse(R"({"elements": {}})"), "circuit.elements", "array");
    expect_error(json::parse(R"({"nodes": "a", "elements": []})"), "circuit.nodes");
    expect_error(json::parse(R"({"nodes": ["a", 3], "elements": []})"), "circuit.nodes[1]");
    expect_error(json::parse(R"({"nodes": ["a", "a"], "elements": []})"), "circuit.nodes[1]",
                 "repeat");
    expect_error(json::parse(R"({"elements": [3]})"), "circuit.elements[0]", "object");
  }
  SUBCASE("types and keys") {
    expect_error(with_element_key(3, "type", "transistor"), "circuit.elements[3].type",
                 "one of: conductance, resistor");
    expect_error(with_element_key(3, "type", 7), "circuit.elements[3].type", "string");
    json no_type = full_circuit();
    no_type["elements"][2].erase("type");
    expect_error(no_type, "circuit.elements[2].type", "required");
    expect_error(with_element_key(3, "G", 1.0), "circuit.elements[3].G", "unknown key");
    expect_error(with_element_key(0, "amps", 1.0), "circuit.elements[0].amps", "unknown key");
    expect_error(with_element_key(2, "g", "big"), "circuit.elements[2].g", "must be a number");
    expect_error(with_element_key(2, "trainable", 1), "circuit.elements[2].trainable", "boolean");
    json no_g = full_circuit();
    no_g["elements"][3].erase("g");
    expect_error(no_g, "circuit.elements[3].g", "required");
    expect_error(with_element_key(0, "volts", nullptr), "circuit.elements[0].volts", "number");
  }
  SUBCASE("values") {
    expect_error(with_element_key(3, "g", -1e-3), "circuit.elements[3].g", ">= 0");
    expect_error(with_element_key(1, "r", -5), "circuit.elements[1].r", "> 0");
    expect_error(with_element_key(1, "r", 0), "circuit.elements[1].r", "> 0");
    expect_error(with_element_key(6, "Is", 0), "circuit.elements[6].Is", "> 0");
    expect_error(with_element_key(6, "n", -1), "circuit.elements[6].n", "> 0");
    expect_error(with_element_key(6, "temperature", 0), "circuit.elements[6].temperature");
    expect_error(with_element_key(6, "gmin", -1e-12), "circuit.elements[6].gmin", ">= 0");
    expect_error(with_element_key(6, "model", "zener"), "circuit.elements[6].model", "ideal");
    expect_error(with_element_key(5, "Is", 1e-14), "circuit.elements[5].Is", "shockley");
    expect_error(with_element_key(9, "farads", -1e-9), "circuit.elements[9].farads", ">= 0");
    expect_error(with_element_key(9, "farads", "1n"), "circuit.elements[9].farads", "number");
    expect_error(with_element_key(8, "gain", nullptr), "circuit.elements[8].gain", "number");
    json no_gain = full_circuit();
    no_gain["elements"][8].erase("gain");
    expect_error(no_gain, "circuit.elements[8].gain", "required for a vccs");
    json no_farads = full_circuit();
    no_farads["elements"][9].erase("farads");
    expect_error(no_farads, "circuit.elements[9].farads", "required for a capacitor");
    expect_error(with_element_key(9, "g", 1.0), "circuit.elements[9].g", "unknown key");
  }
  SUBCASE("nodes") {
    expect_error(with_element_key(3, "nodes", json::array({"a"})), "circuit.elements[3].nodes",
                 "2 node names");
    expect_error(with_element_key(7, "nodes", json::array({"a", "b"})), "circuit.elements[7].nodes",
                 "4 node names");
    expect_error(with_element_key(3, "nodes", "a"), "circuit.elements[3].nodes");
    expect_error(with_element_key(3, "nodes", json::array({"a", 0})),
                 "circuit.elements[3].nodes[1]", "string");
    expect_error(with_element_key(3, "nodes", json::array({"", "a"})),
                 "circuit.elements[3].nodes[0]");
    json no_nodes = full_circuit();
    no_nodes["elements"][4].erase("nodes");
    expect_error(no_nodes, "circuit.elements[4].nodes");
    expect_error(with_element_key(0, "nodes", json::array({"0", "gnd"})),
                 "circuit.elements[0].nodes", "different");
    expect_error(with_element_key(7, "nodes", json::array({"x", "x", "a", "b"})),
                 "circuit.elements[7].nodes", "different");
    expect_error(with_element_key(8, "nodes", json::array({"a", "b", "c"})),
                 "circuit.elements[8].nodes", "4 node names [out+, out-, ctrl+, ctrl-] for a vccs");
    expect_error(with_element_key(9, "nodes", json::array({"a", "b", "c"})),
                 "circuit.elements[9].nodes", "2 node names [a, b] for a capacitor");
  }
  SUBCASE("names") {
    expect_error(with_element_key(3, "name", "Vin"), "circuit.elements[3].name", "unique");
    expect_error(with_element_key(3, "name", ""), "circuit.elements[3].name");
    expect_error(with_element_key(3, "name", 12), "circuit.elements[3].name", "string");
  }
}
