// The circuit (circuits/circuit.h): nodes and ground, elements in their kinds' lists, deep copies,
// validation errors naming the element, the value and the rule, the layout of the unknowns and its
// structure check, residual-only instances against KCL by hand, and the DC paths that tell which
// nodes float.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "devices/memristor.h"
#include "solvers/mna.h"

using physlearn::Error;
using physlearn::circuits::Capacitor;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::Inductor;
using physlearn::circuits::is_ground_name;
using physlearn::circuits::kGround;
using physlearn::circuits::kind_index;
using physlearn::circuits::Memristor;
using physlearn::circuits::UnknownKind;
using physlearn::circuits::UnknownLayout;
using physlearn::circuits::Vccs;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::shared_ptr<const physlearn::devices::Memristor> hp_model() {
  return std::make_shared<const physlearn::devices::HpMemristor>(physlearn::devices::HpParams{});
}

Diode shockley(const std::string& name, int anode, int cathode) {
  Diode d;
  d.name = name;
  d.anode = anode;
  d.cathode = cathode;
  d.model = DiodeModel::Shockley;
  return d;
}

Diode ideal(const std::string& name, int anode, int cathode) {
  Diode d;
  d.name = name;
  d.anode = anode;
  d.cathode = cathode;
  return d;
}

/// The message of the Error that c.validate() throws ("" when none).
std::string validation_error(const Circuit& c) {
  try {
    c.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("circuit: nodes are numbered in the order they are added, ground is -1 in any case") {
  Circuit c;
  CHECK(c.num_nodes() == 0);
  CHECK(c.add_node("a") == 0);
  CHECK(c.add_node("b") == 1);
  CHECK(c.add_node("a") == 0);  // existing: the same index, no new node
  for (const char* ground : {"0", "gnd", "GND", "Gnd"}) {
    CAPTURE(ground);
    CHECK(c.add_node(ground) == kGround);
    CHECK(c.node(ground) == kGround);
    CHECK(c.has_node(ground));
    CHECK(is_ground_name(ground));
  }
  CHECK(c.num_nodes() == 2);
  CHECK(c.node_names() == std::vector<std::string>{"a", "b"});
  CHECK(c.node("b") == 1);
  CHECK(c.node_name(1) == "b");
  CHECK(c.node_name(kGround) == "0");
  CHECK(c.has_node("a"));
  CHECK_FALSE(c.has_node("c"));
  for (const char* other : {"00", "ground", "g", "gnd0", ""}) {
    CAPTURE(other);
    CHECK_FALSE(is_ground_name(other));
  }
  CHECK_THROWS_WITH_AS(c.node("c"), doctest::Contains("\"c\""), Error);
  CHECK_THROWS_WITH_AS(c.add_node(""), doctest::Contains("empty"), Error);
  CHECK(c.num_nodes() == 2);
}

TEST_CASE("circuit: elements go to their kind's list, copies are deep") {
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b");
  CHECK(c.num_kinds() == physlearn::circuits::element_kinds().size());
  for (std::size_t kind = 0; kind < c.num_kinds(); ++kind) {
    CHECK(c.group(kind).size() == 0);
    CHECK(c.group(kind).element_type() == physlearn::circuits::element_kinds()[kind]->element_type());
  }
  CHECK(c.add(Conductance{"G1", a, b, 1e-3, true}) == 0);
  CHECK(c.add(Conductance{"G2", b, kGround, 2e-3, false}) == 1);
  CHECK(c.add(VoltageSource{"V1", a, kGround, 1.0}) == 0);
  CHECK(c.num_elements() == 3);
  const std::size_t g = kind_index<Conductance>();
  CHECK(c.group(g).size() == 2);
  CHECK(c.group(g).name(1) == "G2");
  CHECK(c.group(g).noun() == "conductance");
  CHECK(c.group(kind_index<VoltageSource>()).noun() == "voltage source");
  // list<>() is the kind's list itself.
  for (auto& e : c.list<Conductance>()) e.g *= 2.0;
  CHECK(c.list<Conductance>()[0].g == 2e-3);
  CHECK(c.list<Conductance>()[1].g == 4e-3);

  Circuit copy = c;
  copy.list<Conductance>()[0].g = 5.0;
  copy.add(CurrentSource{"I1", kGround, copy.add_node("z"), 1e-3, false});
  CHECK(c.list<Conductance>()[0].g == 2e-3);
  CHECK(c.num_nodes() == 2);
  CHECK(c.list<CurrentSource>().empty());
  CHECK(copy.num_elements() == 4);

  Circuit assigned;
  assigned = c;
  assigned.list<VoltageSource>()[0].volts = -3.0;
  CHECK(c.list<VoltageSource>()[0].volts == 1.0);
  CHECK(assigned.node_names() == c.node_names());
  const Circuit& same = assigned;
  assigned = same;  // self-assignment keeps everything
  CHECK(assigned.num_elements() == 3);
  CHECK(assigned.list<VoltageSource>()[0].volts == -3.0);

  Circuit moved = std::move(assigned);
  CHECK(moved.num_elements() == 3);
  CHECK(moved.node("b") == 1);
}

TEST_CASE("circuit: validate names the element, the value and the rule of each kind") {
  /// A valid circuit of every kind passes; each broken element below fails with a physlearn::Error
  /// whose message holds the element's name, its value as written and the rule.
  Circuit valid;
  const int a = valid.add_node("a"), b = valid.add_node("b");
  valid.add(Conductance{"G1", a, b, 0.0, false});  // 0 S: an open circuit, allowed
  valid.add(VoltageSource{"V1", a, kGround, -2.0});
  valid.add(CurrentSource{"I1", a, b, 1e-3, false});
  valid.add(ideal("D1", a, b));
  valid.add(shockley("D2", b, kGround));
  valid.add(Vcvs{"E1", b, a, a, kGround, -1e6});
  valid.add(Vccs{"Gm", a, b, a, b, -1e-3});
  valid.add(Capacitor{"C1", a, b, 0.0});
  valid.add(Memristor{"M1", a, b, hp_model(), 1.0});
  valid.add(Inductor{"L1", a, b, 1e-9});
  CHECK_NOTHROW(valid.validate());

  struct Broken {
    std::function<void(Circuit&)> add;
    std::vector<std::string> words;
  };
  Diode bad_is = shockley("D_is", a, b);
  bad_is.saturation_current = 0.0;
  Diode bad_n = shockley("D_n", a, b);
  bad_n.emission = -1.0;
  Diode bad_t = shockley("D_t", a, b);
  bad_t.temperature = 0.0;
  Diode bad_gmin = shockley("D_gmin", a, b);
  bad_gmin.gmin = -1e-12;
  Diode ideal_with_bad_is = ideal("D_ideal", a, b);
  ideal_with_bad_is.saturation_current = -1.0;  // an ideal diode has no Is: not checked
  const std::vector<Broken> broken = {
      {[&](Circuit& c) { c.add(Conductance{"G_neg", a, b, -1e-3, false}); },
       {"conductance G_neg", "-0.001", "must be finite and >= 0"}},
      {[&](Circuit& c) { c.add(Conductance{"G_nan", a, b, kNaN, false}); },
       {"conductance G_nan", "nan", "must be finite"}},
      {[&](Circuit& c) { c.add(Conductance{"G_far", a, 2, 1.0, false}); },
       {"element G_far", "node index 2", "does not exist"}},
      {[&](Circuit& c) { c.add(Conductance{"G_below", -2, a, 1.0, false}); },
       {"element G_below", "node index -2", "does not exist"}},
      {[&](Circuit& c) { c.add(VoltageSource{"V_short", a, a, 1.0}); },
       {"voltage source V_short", "same node"}},
      {[&](Circuit& c) { c.add(VoltageSource{"V_inf", a, kGround, kInf}); },
       {"voltage source V_inf", "not finite"}},
      {[&](Circuit& c) { c.add(CurrentSource{"I_nan", a, b, kNaN, false}); },
       {"current source I_nan", "not finite"}},
      {[&](Circuit& c) { c.add(bad_is); }, {"diode D_is", "Is = 0", "must be > 0"}},
      {[&](Circuit& c) { c.add(bad_n); }, {"diode D_n", "n = -1", "must be > 0"}},
      {[&](Circuit& c) { c.add(bad_t); }, {"diode D_t", "T = 0", "must be > 0 K"}},
      {[&](Circuit& c) { c.add(bad_gmin); }, {"diode D_gmin", "gmin = -1e-12", "must be >= 0"}},
      {[&](Circuit& c) { c.add(Vcvs{"E_same", b, b, a, kGround, 2.0}); },
       {"amplifier E_same", "both outputs on the same node"}},
      {[&](Circuit& c) { c.add(Vcvs{"E_inf", a, b, a, kGround, -kInf}); },
       {"amplifier E_inf", "gain not finite"}},
      {[&](Circuit& c) { c.add(Vccs{"G_gain", a, b, a, kGround, kNaN}); },
       {"transconductance G_gain", "gain not finite"}},
      {[&](Circuit& c) { c.add(Capacitor{"C_neg", a, b, -1e-9}); },
       {"capacitor C_neg", "C = -1e-09", "must be finite and >= 0"}},
      {[&](Circuit& c) { c.add(Inductor{"L_zero", a, b, 0.0}); },
       {"inductor L_zero", "L = 0", "must be finite and > 0"}},
      {[&](Circuit& c) { c.add(Memristor{"M_none", a, b, nullptr, 0.5}); },
       {"memristor M_none", "no device model"}},
      {[&](Circuit& c) { c.add(Memristor{"M_x0", a, b, hp_model(), 1.5}); },
       {"memristor M_x0", "x0 = 1.5", "must be in [0, 1]"}},
  };
  for (const Broken& item : broken) {
    Circuit c = valid;
    item.add(c);
    const std::string message = validation_error(c);
    CAPTURE(message);
    REQUIRE(!message.empty());
    for (const std::string& word : item.words)
      CHECK_MESSAGE(message.find(word) != std::string::npos, "missing: ", word);
  }
  Circuit with_ideal = valid;
  with_ideal.add(ideal_with_bad_is);
  CHECK_NOTHROW(with_ideal.validate());
}

TEST_CASE("circuit: the unknowns are the node voltages, then each element's, kind by kind") {
  /// x = [v(node 0) ... v(node n-1); the extra unknowns of kind 0's elements in list order; kind
  /// 1's; ...] in registration order. Elements are added here out of that order; the expected
  /// layout is the elements with unknowns sorted by (kind_index, list index), counted by hand:
  /// voltage sources, VCVSs, ideal diodes and inductors have one current, a memristor one state,
  /// conductances and Shockley diodes none.
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b"), n = c.add_node("c");
  c.add(Inductor{"L1", a, b, 1e-3});
  c.add(ideal("D1", a, kGround));
  c.add(shockley("D2", b, kGround));
  c.add(VoltageSource{"V1", a, kGround, 1.0});
  c.add(Conductance{"G1", a, b, 1.0, false});
  c.add(Memristor{"M1", b, n, hp_model(), 0.5});
  c.add(Vcvs{"E1", n, kGround, a, b, 2.0});
  c.add(VoltageSource{"V2", n, b, 1.0});

  // (kind, index in its list, name, description of its unknown)
  std::vector<std::tuple<std::size_t, std::size_t, std::string, std::string>> expected = {
      {kind_index<Inductor>(), 0, "L1", "i(L1) (current of inductor 'L1')"},
      {kind_index<Diode>(), 0, "D1", "i(D1) (current of diode 'D1')"},
      {kind_index<VoltageSource>(), 0, "V1", "i(V1) (current of voltage source 'V1')"},
      {kind_index<Memristor>(), 0, "M1", "x(M1) (state of memristor 'M1')"},
      {kind_index<Vcvs>(), 0, "E1", "i(E1) (current of VCVS 'E1')"},
      {kind_index<VoltageSource>(), 1, "V2", "i(V2) (current of voltage source 'V2')"},
  };
  std::sort(expected.begin(), expected.end());
  const UnknownLayout layout(c);
  REQUIRE(layout.num_nodes() == 3);
  REQUIRE(layout.size() == 3 + 6);
  CHECK(layout.describe(c, 0) == "v(a) (voltage of node 'a')");
  CHECK(layout.describe(c, 2) == "v(c) (voltage of node 'c')");
  for (int i = 3; i < layout.size(); ++i) {
    const auto& item = expected[static_cast<std::size_t>(i - 3)];
    const std::size_t kind = std::get<0>(item), index = std::get<1>(item);
    const std::string& name = std::get<2>(item);
    const std::string& description = std::get<3>(item);
    CAPTURE(name);
    CHECK(layout.first(kind)[index] == i);
    CHECK(layout.owner(i).kind == kind);
    CHECK(layout.owner(i).index == index);
    CHECK(layout.owner(i).j == 0);
    CHECK(layout.describe(c, i) == description);
    CHECK(layout.kind(c, i) == (name == "M1" ? UnknownKind::state : UnknownKind::current));
  }
  CHECK(layout.first(kind_index<Conductance>())[0] == -1);
  CHECK(layout.first(kind_index<Diode>())[1] == -1);  // D2, Shockley
  CHECK(layout.describe(c, 9) == "unknown #9");
  CHECK(layout.describe(c, -1) == "unknown #-1");
}

TEST_CASE("circuit: same_structure tells value changes from structure changes") {
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b");
  c.add(VoltageSource{"V1", a, kGround, 1.0});
  c.add(Conductance{"G1", a, b, 1e-3, true});
  c.add(ideal("D1", b, kGround));
  const UnknownLayout layout(c);
  std::string why;

  Circuit values = c;
  values.list<Conductance>()[0].g = 7.0;
  values.list<VoltageSource>()[0].volts = -1.0;
  CHECK(layout.same_structure(values, why));

  Circuit more = c;
  more.add(Conductance{"G2", b, kGround, 1.0, false});
  CHECK_FALSE(layout.same_structure(more, why));
  CHECK(why.find("nodes 2 -> 2") != std::string::npos);
  CHECK(why.find("conductance 1 -> 2") != std::string::npos);

  Circuit node = c;
  node.add_node("c");
  CHECK_FALSE(layout.same_structure(node, why));
  CHECK(why.find("nodes 2 -> 3") != std::string::npos);

  Circuit moved = c;
  moved.list<Conductance>()[0].b = kGround;
  CHECK_FALSE(layout.same_structure(moved, why));
  CHECK(why.find("terminals") != std::string::npos);

  Circuit model = c;
  model.list<Diode>()[0].model = DiodeModel::Shockley;  // one unknown fewer
  CHECK_FALSE(layout.same_structure(model, why));
  CHECK(why.find("unknowns") != std::string::npos);
}

TEST_CASE("circuit: residual-only instances stamp the KCL residual computed by hand") {
  /// V1 = 1.5 V at node in; G1 = 1 mS from in to mid; G2 = 2 mS from mid to ground; I1 = 0.1 mA
  /// from ground into mid. At x = [v_in, v_mid, i_V1] the residual is, by hand,
  ///   F_in  = G1 (v_in - v_mid) + i_V1,
  ///   F_mid = G1 (v_mid - v_in) + G2 v_mid - I1,
  ///   F_V1  = v_in - 1.5,
  /// zero at the solution v_mid = (G1 1.5 + I1) / (G1 + G2), i_V1 = -G1 (1.5 - v_mid).
  Circuit c;
  const int in = c.add_node("in"), mid = c.add_node("mid");
  c.add(VoltageSource{"V1", in, kGround, 1.5});
  c.add(Conductance{"G1", in, mid, 1e-3, false});
  c.add(Conductance{"G2", mid, kGround, 2e-3, false});
  c.add(CurrentSource{"I1", kGround, mid, 1e-4, false});
  const UnknownLayout layout(c);
  REQUIRE(layout.size() == 3);
  auto residual = [&](const Eigen::Vector3d& x) {
    physlearn::circuits::Assembly out(layout.size(), 0);
    physlearn::circuits::Evaluation e;
    e.x = x.data();
    for (std::size_t kind = 0; kind < c.num_kinds(); ++kind) {
      const auto at = physlearn::circuits::instances(c, layout, kind);
      REQUIRE(at.size() == c.group(kind).size());
      for (std::size_t k = 0; k < at.size(); ++k) {
        CHECK(at[k].index == k);
        CHECK(at[k].unknown == layout.first(kind)[k]);
        for (int p = 0; p < 16; ++p) CHECK(at[k].entry[p] == -1);
      }
      c.group(kind).stamp(at.data(), e, out);
    }
    return Eigen::Vector3d(out.residual);
  };
  const double v_mid = (1e-3 * 1.5 + 1e-4) / 3e-3;
  const Eigen::Vector3d solution(1.5, v_mid, -1e-3 * (1.5 - v_mid));
  CHECK(residual(solution).cwiseAbs().maxCoeff() < 1e-18);
  const Eigen::Vector3d x(1.2, 0.3, 2e-4);
  const Eigen::Vector3d by_hand(1e-3 * (1.2 - 0.3) + 2e-4, 1e-3 * (0.3 - 1.2) + 2e-3 * 0.3 - 1e-4,
                                1.2 - 1.5);
  CHECK((residual(x) - by_hand).cwiseAbs().maxCoeff() < 1e-18);
  CHECK(physlearn::circuits::describe_element(c, kind_index<VoltageSource>(), 0) ==
        "voltage source 'V1'");
  CHECK(physlearn::circuits::describe_element(c, kind_index<Conductance>(), 1) ==
        "conductance 'G2'");
}

TEST_CASE("circuit: DC paths of each kind decide which nodes float") {
  /// A node floats when no DC path joins it to ground: conductances > 0, Shockley diodes, voltage
  /// sources, VCVS outputs, inductors (shorts at DC) and a VCCS sensing its own output join their
  /// nodes; a 0 S conductance, a capacitor (open at DC), an ideal diode (joined only as its mode
  /// requires), a VCCS sensing other nodes and a current source do not. Expected by hand: b, c,
  /// e, g, k float.
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b"), cc = c.add_node("c"), d = c.add_node("d");
  const int e = c.add_node("e"), f = c.add_node("f"), g = c.add_node("g"), h = c.add_node("h");
  const int i = c.add_node("i"), j = c.add_node("j"), k = c.add_node("k");
  c.add(Conductance{"G_a", a, kGround, 1e-3, false});
  c.add(Capacitor{"C_b", b, a, 1e-9});
  c.add(Conductance{"G_c", cc, a, 0.0, false});
  c.add(shockley("D_d", d, kGround));
  c.add(ideal("D_e", e, kGround));
  c.add(Vccs{"G_f", f, kGround, f, kGround, 1e-3});
  c.add(Vccs{"G_g", g, kGround, a, kGround, 1e-3});
  c.add(Inductor{"L_h", h, kGround, 1e-3});
  c.add(VoltageSource{"V_i", i, kGround, 1.0});
  c.add(Vcvs{"E_j", j, kGround, a, kGround, 2.0});
  c.add(CurrentSource{"I_k", kGround, k, 1e-3, false});
  physlearn::circuits::NodeSets groups = physlearn::solvers::dc_groups(c, {});
  CHECK(physlearn::solvers::floating_nodes(groups, c.num_nodes()) == std::vector<int>{b, cc, e, g, k});
  // A nudge (a conductance beta to a target source) joins its node to ground.
  physlearn::circuits::NodeSets nudged = physlearn::solvers::dc_groups(c, {b});
  CHECK(physlearn::solvers::floating_nodes(nudged, c.num_nodes()) == std::vector<int>{cc, e, g, k});

  /// Voltage-defined branches (sources, VCVS outputs, inductors) join their nodes in the
  /// voltage_defined sets, conductances do not: a loop of them has no unique operating point.
  physlearn::circuits::NodeSets voltage(c.num_nodes());
  for (std::size_t kind = 0; kind < c.num_kinds(); ++kind) c.group(kind).voltage_defined(voltage);
  CHECK(voltage.connected(h, kGround));
  CHECK(voltage.connected(i, kGround));
  CHECK(voltage.connected(j, kGround));
  CHECK_FALSE(voltage.connected(a, kGround));
  CHECK_FALSE(voltage.connected(d, kGround));
  CHECK_FALSE(voltage.connected(f, kGround));
}
