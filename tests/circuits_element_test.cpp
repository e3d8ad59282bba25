// The element registry (circuits/element.h, circuits/elements.cpp), checked generically: every
// registered kind's DC stamp against central finite differences of its own residual, its charge
// dq/dx against differences of the charge it implies, its current hook against its stamp, its JSON
// form and SPICE card written and read back to the same element (the same residual and Jacobian),
// and the errors for kinds nobody registered, which list the registered names. The loops run over
// element_kinds(); each kind needs a sample element below (a new kind without one fails the first
// case), and is then checked by every case without further code.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "circuits/circuit_json.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"
#include "core/error.h"
#include "devices/memristor.h"
#include "solvers/mna.h"

using physlearn::ConfigError;
using physlearn::Error;
using physlearn::circuits::Assembly;
using physlearn::circuits::Capacitor;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::ElementGroup;
using physlearn::circuits::element_kinds;
using physlearn::circuits::Inductor;
using physlearn::circuits::Instance;
using physlearn::circuits::kGround;
using physlearn::circuits::KindState;
using physlearn::circuits::Memristor;
using physlearn::circuits::UnknownKind;
using physlearn::circuits::UnknownLayout;
using physlearn::circuits::Vccs;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;
using physlearn::solvers::AssemblyPoint;
using physlearn::solvers::MnaPattern;

namespace {

/// One element of a kind in a circuit of its own (its nodes named a, b, c, d; ground "0").
struct Sample {
  std::string label;
  std::function<void(Circuit&)> build;
  /// False where the element's SPICE card stands for another element (an ideal diode is written
  /// as a steep Shockley diode, circuits/spice_export.h), so no card reads back to it.
  bool spice_round_trip = true;
};

std::shared_ptr<const physlearn::devices::Memristor> hp_memristor(const std::string& window) {
  physlearn::devices::HpParams p;
  p.window = window;
  p.p = 2.0;
  return std::make_shared<const physlearn::devices::HpMemristor>(p);
}

/// Sample elements of every kind this file knows, by element type: terminals on nodes and on
/// ground, every model of a kind.
const std::map<std::type_index, std::vector<Sample>>& samples() {
  static const std::map<std::type_index, std::vector<Sample>> table = {
      {typeid(Conductance),
       {{"conductance a-b", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Conductance{"G1", a, b, 2.5e-3, true});
         }},
        {"conductance to ground", [](Circuit& c) {
           c.add(Conductance{"G2", c.add_node("a"), kGround, 0.7, false});
         }}}},
      {typeid(VoltageSource),
       {{"voltage source a-b", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(VoltageSource{"V1", a, b, 1.25});
         }},
        {"voltage source from ground", [](Circuit& c) {
           c.add(VoltageSource{"V2", kGround, c.add_node("a"), -0.5});
         }}}},
      {typeid(CurrentSource),
       {{"current source a-b", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(CurrentSource{"I1", a, b, 1.5e-3, true});
         }}}},
      {typeid(Diode),
       {{"ideal diode a-b",
         [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           Diode d;
           d.name = "D1";
           d.anode = a;
           d.cathode = b;
           c.add(d);
         },
         false},
        {"Shockley diode a-ground, hot, own gmin", [](Circuit& c) {
           Diode d;
           d.name = "D2";
           d.anode = c.add_node("a");
           d.model = DiodeModel::Shockley;
           d.saturation_current = 2e-14;
           d.emission = 1.3;
           d.temperature = 330.0;
           d.gmin = 1e-9;
           c.add(d);
         }},
        {"Shockley diode ground-a, defaults", [](Circuit& c) {
           Diode d;
           d.name = "D3";
           d.cathode = c.add_node("a");
           d.model = DiodeModel::Shockley;
           c.add(d);
         }}}},
      {typeid(Vcvs),
       {{"VCVS, four nodes", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b"), cc = c.add_node("c"),
                     d = c.add_node("d");
           c.add(Vcvs{"E1", a, b, cc, d, -12.5});
         }},
        {"VCVS to ground", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Vcvs{"E2", a, kGround, b, kGround, 3.0});
         }}}},
      {typeid(Vccs),
       {{"VCCS, four nodes", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b"), cc = c.add_node("c"),
                     d = c.add_node("d");
           c.add(Vccs{"G1", a, b, cc, d, 3e-3});
         }},
        {"VCCS sensing its own output", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Vccs{"G2", a, b, a, b, -1e-3});
         }}}},
      {typeid(Capacitor),
       {{"capacitor a-b", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Capacitor{"C1", a, b, 4.7e-9});
         }},
        {"capacitor from ground", [](Circuit& c) {
           c.add(Capacitor{"C2", kGround, c.add_node("a"), 1e-6});
         }}}},
      {typeid(Memristor),
       {{"memristor (HP, Joglekar window)", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Memristor{"M1", a, b, hp_memristor("joglekar"), 0.3});
         }},
        {"memristor (HP, hard bounds) to ground", [](Circuit& c) {
           c.add(Memristor{"M2", c.add_node("a"), kGround, hp_memristor("none"), 0.5});
         }}}},
      {typeid(Inductor),
       {{"inductor a-b", [](Circuit& c) {
           const int a = c.add_node("a"), b = c.add_node("b");
           c.add(Inductor{"L1", a, b, 2.2e-3});
         }}}},
  };
  return table;
}

/// Every sample of every registered kind, built: (kind index, label, circuit, SPICE round trip).
struct Built {
  std::size_t kind;
  std::string label;
  Circuit circuit;
  bool spice_round_trip;
};

std::vector<Built> every_sample() {
  std::vector<Built> out;
  const auto& kinds = element_kinds();
  for (std::size_t kind = 0; kind < kinds.size(); ++kind) {
    const auto it = samples().find(std::type_index(kinds[kind]->element_type()));
    if (it == samples().end()) continue;  // reported by the first test case
    for (const Sample& s : it->second) {
      Built b{kind, s.label, Circuit(), s.spice_round_trip};
      s.build(b.circuit);
      out.push_back(std::move(b));
    }
  }
  return out;
}

/// A random operating point: node voltages in [-0.4, 0.4] V (a diode sees up to 0.8 V), branch
/// currents in [-10, 10] mA, states in [0.2, 0.8] (inside a memristor's bounds).
Eigen::VectorXd random_point(const Circuit& c, const UnknownLayout& layout, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  Eigen::VectorXd x(layout.size());
  for (int i = 0; i < layout.size(); ++i) {
    if (i < layout.num_nodes())
      x[i] = 0.4 * unit(rng);
    else if (layout.kind(c, i) == UnknownKind::state)
      x[i] = 0.5 + 0.3 * unit(rng);
    else
      x[i] = 1e-2 * unit(rng);
  }
  return x;
}

/// What the stamps are evaluated with (AssemblyPoint without x).
struct Setting {
  std::string name;
  double conductance_scale = 1.0;
  const std::vector<KindState>* states = nullptr;
};

Eigen::VectorXd residual(const Circuit& c, const MnaPattern& p, const Setting& s,
                         const Eigen::VectorXd& x) {
  Assembly out(p.size(), 0);
  AssemblyPoint at;
  at.x = x.data();
  at.conductance_scale = s.conductance_scale;
  at.states = s.states;
  physlearn::solvers::assemble(c, p, at, {}, out);
  return out.residual;
}

/// The values on the pattern as a dense matrix.
Eigen::MatrixXd dense(const MnaPattern& p, const std::vector<double>& values) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(p.size(), p.size());
  for (int col = 0; col < p.size(); ++col)
    for (int k = p.column_starts()[static_cast<std::size_t>(col)];
         k < p.column_starts()[static_cast<std::size_t>(col) + 1]; ++k)
      m(p.row_indices()[static_cast<std::size_t>(k)], col) += values[static_cast<std::size_t>(k)];
  return m;
}

Eigen::MatrixXd jacobian(const Circuit& c, const MnaPattern& p, const Setting& s,
                         const Eigen::VectorXd& x) {
  Assembly out(p.size(), p.nonzeros());
  AssemblyPoint at;
  at.x = x.data();
  at.conductance_scale = s.conductance_scale;
  at.states = s.states;
  physlearn::solvers::assemble(c, p, at, {}, out);
  return dense(p, out.jacobian);
}

/// scale * dQ/dx at x, as the charges stamp it.
Eigen::MatrixXd charge_jacobian(const Circuit& c, const MnaPattern& p, const Eigen::VectorXd& x,
                                double scale) {
  Assembly out(p.size(), p.nonzeros());
  physlearn::solvers::assemble_charge(c, p, x.data(), nullptr, scale, out);
  return dense(p, out.jacobian);
}

/// The charge current dQ/dx(x) xp, as the charges stamp it into the residual.
Eigen::VectorXd charge_current(const Circuit& c, const MnaPattern& p, const Eigen::VectorXd& x,
                               const Eigen::VectorXd& xp) {
  Assembly out(p.size(), 0);
  physlearn::solvers::assemble_charge(c, p, x.data(), xp.data(), 0.0, out);
  return out.residual;
}

/// Central differences of f at x, column j from x +- h_j e_j, h_j = step (1 + |x_j|).
Eigen::MatrixXd central_differences(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f,
                                    const Eigen::VectorXd& x, double step) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd d(f(x).size(), n);
  for (Eigen::Index j = 0; j < n; ++j) {
    Eigen::VectorXd up = x, down = x;
    up[j] += step * (1.0 + std::abs(x[j]));
    down[j] -= step * (1.0 + std::abs(x[j]));
    d.col(j) = (f(up) - f(down)) / (up[j] - down[j]);
  }
  return d;
}

/// Largest |a - b| of each row over the row's largest entry of a or b (0 for a zero row), the
/// worst over the rows.
double worst_row_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  double worst = 0.0;
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    const double size = std::max(a.row(i).cwiseAbs().maxCoeff(), b.row(i).cwiseAbs().maxCoeff());
    const double error = (a.row(i) - b.row(i)).cwiseAbs().maxCoeff();
    if (error > 0.0) worst = std::max(worst, error / size);
  }
  return worst;
}

/// The settings every stamp is checked in: exact (ideal diodes OFF, nonlinear elements at x) and
/// switched (every complementarity element ON with a conductance scale of 0.37 S, nonlinear
/// elements linearised at the voltages of another point `other`).
std::vector<KindState> switched_states(const Circuit& c, const UnknownLayout& layout,
                                       const Eigen::VectorXd& other) {
  std::vector<KindState> states = physlearn::solvers::make_states(c, layout);
  for (std::size_t kind = 0; kind < c.num_kinds(); ++kind) {
    std::fill(states[kind].mode.begin(), states[kind].mode.end(), static_cast<char>(1));
    for (std::size_t k = 0; k < states[kind].point.size(); ++k)
      states[kind].point[k] = c.group(kind).point_voltage(k, other.data());
  }
  return states;
}

/// x of `to` from x of `from`: node voltages by node name through `names` (from's node index ->
/// the name `to` knows it by), the extra unknowns in order.
Eigen::VectorXd map_point(const Circuit& from, const std::vector<std::string>& names,
                          const Circuit& to, const Eigen::VectorXd& x) {
  const UnknownLayout a(from), b(to);
  Eigen::VectorXd y(b.size());
  for (int n = 0; n < a.num_nodes(); ++n) y[to.node(names[static_cast<std::size_t>(n)])] = x[n];
  y.tail(b.size() - b.num_nodes()) = x.tail(a.size() - a.num_nodes());
  return y;
}

/// The permutation of unknowns from `from` to `to` (as map_point) as a matrix P: x_to = P x_from.
Eigen::MatrixXd permutation(const Circuit& from, const std::vector<std::string>& names,
                            const Circuit& to) {
  const UnknownLayout a(from);
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(a.size(), a.size());
  for (int j = 0; j < a.size(); ++j)
    p.col(j) = map_point(from, names, to, Eigen::VectorXd::Unit(a.size(), j));
  return p;
}

/// The comma-separated names after `intro` in `message`, up to `end` (or the message's end).
std::vector<std::string> listed(const std::string& message, const std::string& intro,
                                const std::string& end) {
  std::vector<std::string> names;
  const std::size_t start = message.find(intro);
  if (start == std::string::npos) return names;
  const std::size_t first = start + intro.size();
  const std::size_t stop = std::min(message.find(end, first), message.size());
  std::string list = message.substr(first, stop - first);
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(", ", pos), list.size());
    names.push_back(list.substr(pos, comma - pos));
    pos = comma + 2;
  }
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

TEST_CASE("element registry: every registered kind has a sample here, and a name") {
  /// The generic checks below see a kind through its samples: a kind without one is unchecked.
  const auto& kinds = element_kinds();
  REQUIRE(kinds.size() >= 9);
  for (const auto& kind : kinds) {
    CAPTURE(kind->noun());
    CHECK_MESSAGE(samples().count(std::type_index(kind->element_type())) == 1,
                  "the element kind '" << kind->noun()
                                       << "' has no sample in tests/circuits_element_test.cpp");
    CHECK(kind->noun() != "element");  // KindDefaults' placeholder: the kind names itself
    CHECK(kind->size() == 0);          // the registry's groups are empty templates
  }
  // Each kind is registered once: element_kind_index finds the kind of its own type.
  for (std::size_t k = 0; k < kinds.size(); ++k)
    CHECK(physlearn::circuits::element_kind_index(kinds[k]->element_type()) == k);
  CHECK(physlearn::circuits::kind_index<Inductor>() ==
        physlearn::circuits::element_kind_index(typeid(Inductor)));
}

TEST_CASE("element registry: each kind's DC Jacobian equals central differences of its residual") {
  /// dF/dx (the stamp's Jacobian on the MNA pattern, only at the entries the kind declared)
  /// against (F(x + h e_j) - F(x - h e_j)) / 2h of the stamp's own residual, h = 1e-6 (1 + |x_j|),
  /// at three random points, exact and switched (ideal diodes ON, Shockley diodes linearised at
  /// another point). Per row, |difference| <= 1e-7 of the row's largest entry.
  std::mt19937_64 rng(20240611);
  for (Built& s : every_sample()) {
    CAPTURE(s.label);
    const Circuit& c = s.circuit;
    const UnknownLayout layout(c);
    const MnaPattern pattern(c, layout, true);
    for (int trial = 0; trial < 3; ++trial) {
      const Eigen::VectorXd x = random_point(c, layout, rng);
      const std::vector<KindState> states = switched_states(c, layout, random_point(c, layout, rng));
      for (const Setting& setting : {Setting{"exact", 1.0, nullptr}, Setting{"switched", 0.37, &states}}) {
        CAPTURE(setting.name);
        const Eigen::MatrixXd j = jacobian(c, pattern, setting, x);
        const Eigen::MatrixXd fd = central_differences(
            [&](const Eigen::VectorXd& y) { return residual(c, pattern, setting, y); }, x, 1e-6);
        CAPTURE(j);
        CAPTURE(fd);
        CHECK(worst_row_error(j, fd) < 1e-7);
      }
    }
  }
}

TEST_CASE("element registry: each kind's current is what its stamp puts into its terminals' rows") {
  /// The `current` hook (first terminal to second, SPICE's sign) equals the residual of the
  /// element's first terminal's KCL row (current leaving that node into the element), or minus
  /// that of its second where the first is ground; exact evaluation at random points.
  std::mt19937_64 rng(7);
  for (Built& s : every_sample()) {
    CAPTURE(s.label);
    const Circuit& c = s.circuit;
    const UnknownLayout layout(c);
    const MnaPattern pattern(c, layout, false);
    std::vector<int> terminals;
    c.group(s.kind).terminals(0, terminals);
    REQUIRE(terminals.size() >= 2);
    for (int trial = 0; trial < 3; ++trial) {
      const Eigen::VectorXd x = random_point(c, layout, rng);
      const Eigen::VectorXd f = residual(c, pattern, Setting{}, x);
      const double current = c.group(s.kind).current(pattern.instances(s.kind)[0], x.data());
      REQUIRE(std::isfinite(current));
      const double expected = terminals[0] != kGround ? f[terminals[0]] : -f[terminals[1]];
      CHECK(std::abs(current - expected) <= 1e-14 * std::max(std::abs(current), std::abs(expected)));
    }
  }
}

TEST_CASE("element registry: each kind's charge dq/dx is the derivative of the charge it stamps") {
  /// The transient adds d/dt Q(x) = dQ/dx x' to F. Checked per kind: (1) the charge current the
  /// stamp adds for a rate x' equals dQ/dx x' with the dQ/dx of its Jacobian (c dQ/dx for a
  /// scale c); (2) a charge exists and dQ/dx is its derivative: Q(x) = int_0^1 dQ/dx(s x) x ds
  /// (5-point Gauss-Legendre along the segment from 0), and central differences of that Q at a
  /// random point equal the stamped dQ/dx there.
  std::mt19937_64 rng(99);
  // Gauss-Legendre nodes and weights on [0, 1].
  const double gauss_node[5] = {0.04691007703066800, 0.23076534494715845, 0.5,
                                0.76923465505284155, 0.95308992296933200};
  const double gauss_weight[5] = {0.11846344252809454, 0.23931433524968324, 0.28444444444444444,
                                  0.23931433524968324, 0.11846344252809454};
  for (Built& s : every_sample()) {
    CAPTURE(s.label);
    const Circuit& c = s.circuit;
    const UnknownLayout layout(c);
    const MnaPattern pattern(c, layout, true);
    const Eigen::VectorXd x = random_point(c, layout, rng);
    const Eigen::VectorXd xp = random_point(c, layout, rng) * 1e3;  // a rate, per second
    const Eigen::MatrixXd dq = charge_jacobian(c, pattern, x, 1.0);
    CAPTURE(dq);
    // (1) The charge current and the scaled Jacobian.
    const Eigen::VectorXd expected_current = dq * xp;
    CHECK(worst_row_error(charge_current(c, pattern, x, xp), expected_current) < 1e-12);
    CHECK(worst_row_error(charge_jacobian(c, pattern, x, 2.5e4), 2.5e4 * dq) < 1e-15);
    // (2) Q from the line integral, and its central differences.
    auto charge = [&](const Eigen::VectorXd& y) {
      Eigen::VectorXd q = Eigen::VectorXd::Zero(y.size());
      for (int k = 0; k < 5; ++k)
        q += gauss_weight[k] * charge_current(c, pattern, gauss_node[k] * y, y);
      return q;
    };
    CHECK(worst_row_error(central_differences(charge, x, 1e-6), dq) < 1e-8);
  }
}

TEST_CASE("element registry: each kind's JSON form reads back to the same element") {
  /// circuit_to_json -> circuit_from_json -> circuit_to_json gives the same JSON (numbers
  /// included, exactly), the same nodes and structure, and the same residual, Jacobian and dQ/dx
  /// to the bit at a random point. A kind without a JSON form refuses to be written, naming the
  /// element.
  std::mt19937_64 rng(3);
  for (Built& s : every_sample()) {
    CAPTURE(s.label);
    const Circuit& c = s.circuit;
    const std::string name = c.group(s.kind).name(0);
    if (c.group(s.kind).json_forms().empty()) {
      CHECK_THROWS_WITH_AS(physlearn::circuits::circuit_to_json(c), doctest::Contains(name.c_str()), Error);
      continue;
    }
    const nlohmann::json written = physlearn::circuits::circuit_to_json(c);
    const Circuit back = physlearn::circuits::circuit_from_json(written, "circuit");
    CHECK(physlearn::circuits::circuit_to_json(back) == written);
    CHECK(back.node_names() == c.node_names());
    REQUIRE(back.num_elements() == 1);
    REQUIRE(back.group(s.kind).size() == 1);
    CHECK(back.group(s.kind).name(0) == name);
    const UnknownLayout layout(c);
    std::string why;
    CHECK_MESSAGE(layout.same_structure(back, why), why);
    const MnaPattern pattern(c, layout, true);
    const UnknownLayout back_layout(back);
    const MnaPattern back_pattern(back, back_layout, true);
    const Eigen::VectorXd x = random_point(c, layout, rng);
    CHECK(residual(back, back_pattern, Setting{}, x) == residual(c, pattern, Setting{}, x));
    CHECK(jacobian(back, back_pattern, Setting{}, x) == jacobian(c, pattern, Setting{}, x));
    CHECK(charge_jacobian(back, back_pattern, x, 1.0) == charge_jacobian(c, pattern, x, 1.0));
  }
}

TEST_CASE("element registry: each kind's SPICE card reads back to the same element") {
  /// export_spice -> read_spice_netlist, with no warning: one element of the same kind under the
  /// name the writer gave it, on the nodes of the names it gave them, and the same residual,
  /// Jacobian and dQ/dx at a random point (the unknowns permuted by node name) to 1e-13 of each
  /// row (a resistance written as 1 / g reads back as g to an ulp; the diode's k/q conversion and
  /// Celsius temperatures round). A kind without a SPICE card refuses to be written, naming the
  /// element.
  std::mt19937_64 rng(5);
  for (Built& s : every_sample()) {
    CAPTURE(s.label);
    const Circuit& c = s.circuit;
    const std::string name = c.group(s.kind).name(0);
    if (c.group(s.kind).spice_letters().empty()) {
      CHECK_THROWS_WITH_AS(physlearn::circuits::export_spice(c), doctest::Contains(name.c_str()), Error);
      continue;
    }
    const physlearn::circuits::SpiceNetlist net = physlearn::circuits::export_spice(c);
    const std::string text = net.text();
    CAPTURE(text);
    physlearn::circuits::SpiceOptions options;
    const Circuit back = physlearn::circuits::read_spice_netlist(text, "roundtrip.cir", &options);
    CHECK(options.warnings.empty());
    if (!s.spice_round_trip) continue;  // written as a stand-in element (see Sample)
    REQUIRE(back.num_elements() == 1);
    REQUIRE(back.group(s.kind).size() == 1);
    CHECK(back.group(s.kind).name(0) == net.element_names[s.kind][0]);
    REQUIRE(back.num_nodes() == c.num_nodes());
    const UnknownLayout layout(c), back_layout(back);
    REQUIRE(back_layout.size() == layout.size());
    const MnaPattern pattern(c, layout, true), back_pattern(back, back_layout, true);
    const Eigen::MatrixXd p = permutation(c, net.node_names, back);
    const Eigen::VectorXd x = random_point(c, layout, rng);
    const Eigen::VectorXd y = p * x;
    // Rows of `back` are permuted like its unknowns: F_back(P x) = P F(x), J_back = P J P^T.
    CHECK(worst_row_error(residual(back, back_pattern, Setting{}, y),
                          p * residual(c, pattern, Setting{}, x)) < 1e-13);
    CHECK(worst_row_error(jacobian(back, back_pattern, Setting{}, y),
                          p * jacobian(c, pattern, Setting{}, x) * p.transpose()) < 1e-13);
    CHECK(worst_row_error(charge_jacobian(back, back_pattern, y, 1.0),
                          p * charge_jacobian(c, pattern, x, 1.0) * p.transpose()) < 1e-13);
  }
}

TEST_CASE("element registry: an unknown kind is an error that lists the registered names") {
  const auto& kinds = element_kinds();
  SUBCASE("a JSON type lists every kind's JSON types") {
    const nlohmann::json j = nlohmann::json::parse(
        R"({"elements": [{"type": "transistor", "nodes": ["a", "0", "b"]}]})");
    try {
      physlearn::circuits::circuit_from_json(j, "circuit");
      FAIL("an unknown JSON element type was accepted");
    } catch (const ConfigError& e) {
      CHECK(e.path() == "circuit.elements[0].type");
      const std::string message = e.what();
      CHECK(message.find("\"transistor\"") != std::string::npos);
      const std::vector<std::string> names = listed(message, "must be one of: ", "\n");
      std::size_t types = 0;
      for (const auto& kind : kinds)
        for (const auto& form : kind->json_forms()) {
          CHECK_MESSAGE(contains(names, form.type), message, " lacks ", form.type);
          ++types;
        }
      CHECK(names.size() == types);
      CHECK(types >= 9);
    }
  }
  SUBCASE("a SPICE element letter lists every kind's letters") {
    // The first letter that no kind reads and that SPICE does not reserve for an element physlearn
    // refuses by name (X, F, H, B, Q, M, J, Z).
    std::string letters;
    for (const auto& kind : kinds) letters += kind->spice_letters();
    char unused = 0;
    for (char l = 'a'; l <= 'z' && unused == 0; ++l)
      if (letters.find(l) == std::string::npos && std::string("xfhbqmjz").find(l) == std::string::npos)
        unused = l;
    REQUIRE(unused != 0);
    const std::string card = std::string(1, unused) + "1 a 0 1";
    try {
      physlearn::circuits::read_spice_netlist("title\n" + card + "\n", "unknown.cir");
      FAIL("an unknown SPICE element letter was accepted: ", card);
    } catch (const Error& e) {
      const std::string message = e.what();
      CHECK(message.find("unknown.cir:2:") != std::string::npos);
      CHECK(message.find("unknown element type") != std::string::npos);
      const std::vector<std::string> names = listed(message, "(supported: ", ")");
      for (char l : letters)
        CHECK_MESSAGE(
            contains(names, std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(l))))),
            message, " lacks ", l);
      CHECK(names.size() == letters.size());
    }
  }
  SUBCASE("a SPICE model type lists every kind's model types") {
    try {
      physlearn::circuits::read_spice_netlist("title\n.model q1 npn(bf=100)\n", "model.cir");
      FAIL("an unknown SPICE model type was accepted");
    } catch (const Error& e) {
      const std::string message = e.what();
      CHECK(message.find("unknown model type 'npn'") != std::string::npos);
      const std::vector<std::string> names = listed(message, "(supported: ", ")");
      std::size_t types = 0;
      for (const auto& kind : kinds) {
        const std::string type = kind->spice_model_type();
        if (type.empty()) continue;
        std::string written = type;
        written[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(written[0])));
        CHECK_MESSAGE(contains(names, written), message, " lacks ", written);
        ++types;
      }
      CHECK(names.size() == types);
      CHECK(types >= 1);
    }
  }
  SUBCASE("a C++ type nobody registered") {
    CHECK_THROWS_AS(physlearn::circuits::element_kind_index(typeid(double)), std::logic_error);
  }
}

TEST_CASE("element helpers: node sets, branch stamps and the assembly's row scales by hand") {
  /// NodeSets is a union-find over the nodes and ground; stamp_branch and stamp_branch_current
  /// put +-I into the terminals' rows and +-g, +-1 at the declared positions; a row's scale is
  /// the sum of the |terms| added to it.
  physlearn::circuits::NodeSets sets(4);
  CHECK_FALSE(sets.connected(0, kGround));
  CHECK(sets.join(0, 1));
  CHECK(sets.join(1, kGround));
  CHECK_FALSE(sets.join(0, kGround));  // already one set: a loop
  CHECK(sets.connected(0, kGround));
  CHECK_FALSE(sets.connected(2, kGround));
  CHECK(sets.join(2, 3));
  CHECK_FALSE(sets.connected(3, 0));

  Assembly out(3, 8);
  const int positions[4] = {0, 1, -1, 3};  // (a,a), (a,b), (b,a) absent, (b,b)
  physlearn::circuits::stamp_branch(0, 1, 2e-3, 0.5, positions, out);
  physlearn::circuits::stamp_branch(1, kGround, -1e-3, 0.25, positions, out);
  CHECK(out.residual[0] == 2e-3);
  CHECK(out.residual[1] == -2e-3 + -1e-3);
  CHECK(out.scale[1] == 2e-3 + 1e-3);
  CHECK(out.jacobian[0] == 0.5 + 0.25);
  CHECK(out.jacobian[1] == -0.5 - 0.25);
  CHECK(out.jacobian[3] == 0.5 + 0.25);
  const int current_positions[2] = {5, -1};
  physlearn::circuits::stamp_branch_current(2, kGround, 0.125, current_positions, out);
  CHECK(out.residual[2] == 0.125);
  CHECK(out.jacobian[5] == 1.0);
  out.clear();
  CHECK(out.residual.cwiseAbs().maxCoeff() == 0.0);
  CHECK(out.jacobian[0] == 0.0);
  Assembly residual_only(2, 0);
  CHECK_FALSE(residual_only.wants_jacobian());
  residual_only.add(0, 1.0);  // no Jacobian: ignored
  CHECK(residual_only.jacobian.empty());
}
