// Modified nodal analysis (solvers/mna.h): the stamped residual, row scales and Jacobian of a
// small circuit against its hand-written modified nodal equations, the compressed sparse column
// pattern against the entries counted by hand, the Jacobian of nonlinear and controlled elements
// against central finite differences of the residual, the charge terms, and the helpers
// (complementarities, states, DC groups, currents, conductance scale).
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "solvers/mna.h"

using namespace physlearn;
using circuits::Assembly;
using circuits::Circuit;
using circuits::kGround;
using circuits::UnknownLayout;
using solvers::AssemblyPoint;
using solvers::MnaPattern;
using solvers::NudgeTerm;

namespace {

/// The linear test circuit and its values.
///   V1 (volts) from a to ground; G1 (g1) a-b; G2 (g2) b-ground; I1 (amps) from ground into b;
///   G3 (g3) c-ground; C1 (farads) b-c.
/// Unknowns x = [v_a, v_b, v_c, i_V1] (nodes first, then V1's branch current, which leaves node a
/// through the source: SPICE's sign).
struct LinearCircuit {
  double volts = 1.5, g1 = 2e-3, g2 = 5e-3, g3 = 1e-3, amps = 1e-3, farads = 1e-6;
  Circuit circuit;
  int a = 0, b = 0, c = 0;
  LinearCircuit() {
    a = circuit.add_node("a");
    b = circuit.add_node("b");
    c = circuit.add_node("c");
    circuit.add(circuits::VoltageSource{"V1", a, kGround, volts});
    circuit.add(circuits::Conductance{"G1", a, b, g1, false});
    circuit.add(circuits::Conductance{"G2", b, kGround, g2, false});
    circuit.add(circuits::CurrentSource{"I1", kGround, b, amps, false});
    circuit.add(circuits::Conductance{"G3", c, kGround, g3, false});
    circuit.add(circuits::Capacitor{"C1", b, c, farads});
  }
  /// The modified nodal equations written by hand, F(x) = A x - z:
  ///   row a:  g1 (v_a - v_b) + i_V1            = 0
  ///   row b:  g1 (v_b - v_a) + g2 v_b - I1     = 0
  ///   row c:  g3 v_c                           = 0
  ///   row V1: v_a - V1                         = 0
  Eigen::Matrix4d matrix() const {
    Eigen::Matrix4d m;
    m << g1, -g1, 0, 1,  //
        -g1, g1 + g2, 0, 0,  //
        0, 0, g3, 0,  //
        1, 0, 0, 0;
    return m;
  }
  Eigen::Vector4d rhs() const { return {0.0, amps, 0.0, volts}; }
};

/// The Jacobian values of `out` on `pattern` as a dense matrix.
Eigen::MatrixXd dense_jacobian(const MnaPattern& pattern, const Assembly& out) {
  Eigen::MatrixXd j = Eigen::MatrixXd::Zero(pattern.size(), pattern.size());
  for (int col = 0; col < pattern.size(); ++col)
    for (int k = pattern.column_starts()[static_cast<std::size_t>(col)];
         k < pattern.column_starts()[static_cast<std::size_t>(col) + 1]; ++k)
      j(pattern.row_indices()[static_cast<std::size_t>(k)], col) =
          out.jacobian[static_cast<std::size_t>(k)];
  return j;
}

/// True where the pattern holds entry (row, col).
Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic> structure(const MnaPattern& pattern) {
  Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic> s =
      Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic>::Constant(pattern.size(), pattern.size(),
                                                                    false);
  for (int row = 0; row < pattern.size(); ++row)
    for (int col = 0; col < pattern.size(); ++col) s(row, col) = pattern.position(row, col) >= 0;
  return s;
}

/// F(x) (residual only) at `x` with the given states and conductance scale.
Eigen::VectorXd residual_at(const Circuit& circuit, const MnaPattern& pattern,
                            const Eigen::VectorXd& x,
                            const std::vector<circuits::KindState>* states, double scale) {
  Assembly out(pattern.size(), 0);
  AssemblyPoint at;
  at.x = x.data();
  at.states = states;
  at.conductance_scale = scale;
  solvers::assemble(circuit, pattern, at, {}, out);
  return out.residual;
}

}  // namespace

TEST_CASE("MNA: the stamped residual and Jacobian are the hand-written nodal equations") {
  const LinearCircuit lc;
  const UnknownLayout layout(lc.circuit);
  REQUIRE(layout.size() == 4);
  const MnaPattern pattern(lc.circuit, layout, false);
  Assembly out(pattern.size(), pattern.nonzeros());
  const Eigen::Vector4d x(0.3, -0.7, 0.2, 1e-3);
  AssemblyPoint at;
  at.x = x.data();
  solvers::assemble(lc.circuit, pattern, at, {}, out);

  /// F(x) = A x - z and dF/dx = A, entry by entry.
  const Eigen::Vector4d expected = lc.matrix() * x - lc.rhs();
  for (int row = 0; row < 4; ++row)
    CHECK(out.residual[row] == doctest::Approx(expected[row]).epsilon(1e-14));
  CHECK((dense_jacobian(pattern, out) - lc.matrix()).cwiseAbs().maxCoeff() == 0.0);

  /// Row scales: the sum of |each stamp's term| in the row.
  const double through_g1 = std::abs(lc.g1 * (x[0] - x[1]));
  CHECK(out.scale[0] == doctest::Approx(through_g1 + std::abs(x[3])).epsilon(1e-14));
  CHECK(out.scale[1] ==
        doctest::Approx(through_g1 + std::abs(lc.g2 * x[1]) + lc.amps).epsilon(1e-14));
  CHECK(out.scale[2] == doctest::Approx(lc.g3 * std::abs(x[2])).epsilon(1e-14));
  CHECK(out.scale[3] == doctest::Approx(std::abs(x[0]) + lc.volts).epsilon(1e-14));

  /// At the hand solution v_a = V1, v_b = (g1 V1 + I1) / (g1 + g2), v_c = 0,
  /// i_V1 = -g1 (v_a - v_b), every row vanishes.
  const double vb = (lc.g1 * lc.volts + lc.amps) / (lc.g1 + lc.g2);
  const Eigen::Vector4d solution(lc.volts, vb, 0.0, -lc.g1 * (lc.volts - vb));
  CHECK(residual_at(lc.circuit, pattern, solution, nullptr, 1.0).cwiseAbs().maxCoeff() < 1e-17);
}

TEST_CASE("MNA: a nudge adds beta (v - target) to its node's row and beta to the diagonal") {
  const LinearCircuit lc;
  const UnknownLayout layout(lc.circuit);
  const MnaPattern pattern(lc.circuit, layout, false);
  const Eigen::Vector4d x(0.3, -0.7, 0.2, 1e-3);
  const double beta = 4e-3, target = 0.9;
  Assembly plain(pattern.size(), pattern.nonzeros()), nudged(pattern.size(), pattern.nonzeros());
  AssemblyPoint at;
  at.x = x.data();
  solvers::assemble(lc.circuit, pattern, at, {}, plain);
  /// Node c's diagonal is in the pattern although nothing but G3 touches it: nudges fit anywhere.
  solvers::assemble(lc.circuit, pattern, at, {{lc.b, beta, target}, {lc.c, -beta, target}}, nudged);
  Eigen::Vector4d added = Eigen::Vector4d::Zero();
  added[lc.b] = -beta * (target - x[lc.b]);
  added[lc.c] = beta * (target - x[lc.c]);
  CHECK((nudged.residual - plain.residual - added).cwiseAbs().maxCoeff() < 1e-16);
  Eigen::Matrix4d diagonal = Eigen::Matrix4d::Zero();
  diagonal(lc.b, lc.b) = beta;
  diagonal(lc.c, lc.c) = -beta;
  CHECK((dense_jacobian(pattern, nudged) - dense_jacobian(pattern, plain) - diagonal)
            .cwiseAbs()
            .maxCoeff() < 1e-16);
}

TEST_CASE(
    "MNA: the CSC pattern holds the entries counted by hand, rows sorted, charges on demand") {
  const LinearCircuit lc;
  const UnknownLayout layout(lc.circuit);
  /// Without charges: node diagonals (a,a), (b,b), (c,c); G1's (a,b), (b,a); V1's (a,i), (i,a).
  /// No structural diagonal on V1's row. Columns a: rows a, b, i; b: a, b; c: c; i: a.
  const MnaPattern dc(lc.circuit, layout, false);
  CHECK(dc.size() == 4);
  CHECK(dc.nonzeros() == 7);
  CHECK(dc.column_starts() == std::vector<int>{0, 3, 5, 6, 7});
  CHECK(dc.row_indices() == std::vector<int>{0, 1, 3, 0, 1, 2, 0});
  CHECK(dc.position(3, 3) == -1);
  CHECK(dc.position(lc.b, lc.c) == -1);
  CHECK(dc.position(kGround, lc.a) == -1);
  CHECK(dc.position(lc.a, kGround) == -1);
  /// position() indexes the value array: row_indices at it is the row, and it lies in the column.
  for (int col = 0; col < 4; ++col)
    for (int row = 0; row < 4; ++row) {
      const int p = dc.position(row, col);
      if (p < 0) continue;
      CHECK(dc.row_indices()[static_cast<std::size_t>(p)] == row);
      CHECK(p >= dc.column_starts()[static_cast<std::size_t>(col)]);
      CHECK(p < dc.column_starts()[static_cast<std::size_t>(col) + 1]);
    }
  /// With charges: C1 adds (b,c) and (c,b).
  const MnaPattern transient(lc.circuit, layout, true);
  CHECK(transient.nonzeros() == 9);
  CHECK(transient.column_starts() == std::vector<int>{0, 3, 6, 8, 9});
  CHECK(transient.row_indices() == std::vector<int>{0, 1, 3, 0, 1, 2, 1, 2, 0});
  CHECK(transient.position(lc.b, lc.c) >= 0);
}

TEST_CASE("MNA: charges add C (x'_b - x'_c) to the rows and scale C to the Jacobian") {
  const LinearCircuit lc;
  const UnknownLayout layout(lc.circuit);
  const MnaPattern pattern(lc.circuit, layout, true);
  const Eigen::Vector4d x(0.3, -0.7, 0.2, 1e-3), xp(10.0, -40.0, 25.0, 0.0);
  const double scale = 3e5;  // IDA's c_j = alpha / h
  Assembly out(pattern.size(), pattern.nonzeros());
  solvers::assemble_charge(lc.circuit, pattern, x.data(), xp.data(), scale, out);
  const double charge_current = lc.farads * (xp[lc.b] - xp[lc.c]);
  const Eigen::Vector4d expected_residual(0.0, charge_current, -charge_current, 0.0);
  CHECK(out.residual == Eigen::VectorXd(expected_residual));
  Eigen::Matrix4d expected = Eigen::Matrix4d::Zero();
  expected(lc.b, lc.b) = expected(lc.c, lc.c) = scale * lc.farads;
  expected(lc.b, lc.c) = expected(lc.c, lc.b) = -scale * lc.farads;
  CHECK((dense_jacobian(pattern, out) - expected).cwiseAbs().maxCoeff() < 1e-18);
  /// Without x' only the Jacobian.
  Assembly jacobian_only(pattern.size(), pattern.nonzeros());
  solvers::assemble_charge(lc.circuit, pattern, x.data(), nullptr, scale, jacobian_only);
  CHECK(jacobian_only.residual.isZero(0.0));
  CHECK(dense_jacobian(pattern, jacobian_only) == dense_jacobian(pattern, out));
}

TEST_CASE("MNA: the Jacobian of diodes and controlled sources is the derivative of the residual") {
  /// V1 (0.9 V) at n1; G1 n1-n2; Shockley diode n2 -> n3; G2 n3-ground; VCCS from n3 to ground
  /// controlled by n1-n2; VCVS output n4-ground = 2 (v_n2 - v_n3); G3 n4-n3; ideal diode
  /// n4 -> ground. Central differences (h = 1e-7) of F(x) against dF/dx, every entry: those the
  /// stamps leave out of the pattern must be 0.
  Circuit c;
  const int n1 = c.add_node("n1"), n2 = c.add_node("n2"), n3 = c.add_node("n3"),
            n4 = c.add_node("n4");
  c.add(circuits::VoltageSource{"V1", n1, kGround, 0.9});
  c.add(circuits::Conductance{"G1", n1, n2, 1e-3, false});
  circuits::Diode shockley;
  shockley.name = "D1";
  shockley.anode = n2;
  shockley.cathode = n3;
  shockley.model = circuits::DiodeModel::Shockley;
  c.add(shockley);
  c.add(circuits::Conductance{"G2", n3, kGround, 2e-3, false});
  c.add(circuits::Vccs{"GM", n3, kGround, n1, n2, 3e-4});
  c.add(circuits::Vcvs{"E1", n4, kGround, n2, n3, 2.0});
  c.add(circuits::Conductance{"G3", n4, n3, 5e-4, false});
  circuits::Diode ideal;
  ideal.name = "D2";
  ideal.anode = n4;
  ideal.cathode = kGround;
  c.add(ideal);
  const UnknownLayout layout(c);
  REQUIRE(layout.size() == 7);  // 4 nodes, i(V1), i(D2), i(E1)
  const MnaPattern pattern(c, layout, false);
  Eigen::VectorXd x(7);
  x << 0.9, 0.62, 0.05, -0.3, -2e-4, 1e-4, 3e-4;  // the diode junction at 0.57 V

  auto states = solvers::make_states(c, layout);
  const std::size_t diodes = circuits::kind_index<circuits::Diode>();
  const double scale = 1e-3;
  for (const bool with_states : {false, true}) {
    CAPTURE(with_states);
    /// Without states: the ideal diode OFF, the Shockley diode exact at x. With states: the
    /// ideal diode ON and the Shockley diode linearised at its state's point (0.55 V).
    if (with_states) {
      states[diodes].mode[1] = 1;
      states[diodes].point[0] = 0.55;
    }
    const auto* evaluated = with_states ? &states : nullptr;
    Assembly out(pattern.size(), pattern.nonzeros());
    AssemblyPoint at;
    at.x = x.data();
    at.states = evaluated;
    at.conductance_scale = scale;
    solvers::assemble(c, pattern, at, {}, out);
    const Eigen::MatrixXd jacobian = dense_jacobian(pattern, out);
    const auto in_pattern = structure(pattern);
    const double h = 1e-7;
    for (int col = 0; col < 7; ++col) {
      Eigen::VectorXd up = x, down = x;
      up[col] += h;
      down[col] -= h;
      const Eigen::VectorXd derivative =
          (residual_at(c, pattern, up, evaluated, scale) -
           residual_at(c, pattern, down, evaluated, scale)) /
          (2.0 * h);
      for (int row = 0; row < 7; ++row) {
        CAPTURE(row);
        CAPTURE(col);
        CHECK(std::abs(jacobian(row, col) - derivative[row]) <=
              1e-6 * std::abs(derivative[row]) + 1e-12);
        if (!in_pattern(row, col)) CHECK(derivative[row] == 0.0);
      }
    }
    /// The nonlinear entry is really exercised: the diode's conductance at its junction,
    /// Is / (n Vt) exp(V / (n Vt)) + gmin.
    const double junction = with_states ? 0.55 : x[n2] - x[n3];
    const double nvt = circuits::emission_thermal_voltage(shockley);
    CHECK(jacobian(n2, n2) ==
          doctest::Approx(1e-3 + shockley.saturation_current / nvt * std::exp(junction / nvt) +
                          shockley.gmin)
              .epsilon(1e-12));
  }
}

TEST_CASE("MNA: ideal diodes are the complementarities, and states are sized per kind") {
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b");
  c.add(circuits::Conductance{"G1", a, b, 1.0, false});
  circuits::Diode d1, d2, d3;
  d1.name = "D1";
  d1.anode = a;
  d2.name = "D2";
  d2.anode = b;
  d2.model = circuits::DiodeModel::Shockley;
  d3.name = "D3";
  d3.anode = kGround;
  d3.cathode = b;
  c.add(d1);
  c.add(d2);
  c.add(d3);
  const UnknownLayout layout(c);
  const MnaPattern pattern(c, layout, false);
  const std::size_t diodes = circuits::kind_index<circuits::Diode>();
  /// D1 and D3, in list order, each with its current unknown (after the nodes: 2 and 3).
  const auto refs = solvers::complementarities(c, pattern);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].kind == diodes);
  CHECK(refs[0].index == 0);
  CHECK(refs[0].c.row == 2);
  CHECK(refs[0].c.a == a);
  CHECK(refs[0].c.b == kGround);
  CHECK(refs[1].index == 2);
  CHECK(refs[1].c.row == 3);
  CHECK(refs[1].c.a == kGround);
  CHECK(refs[1].c.b == b);
  /// Modes and points for every diode of the kind (it has both), nothing for the others.
  const auto states = solvers::make_states(c, layout);
  REQUIRE(states.size() == c.num_kinds());
  for (std::size_t kind = 0; kind < c.num_kinds(); ++kind) {
    CAPTURE(kind);
    CHECK(states[kind].mode.size() == (kind == diodes ? 3u : 0u));
    CHECK(states[kind].point.size() == (kind == diodes ? 3u : 0u));
  }
}

TEST_CASE("MNA: DC groups leave capacitors and ideal diodes open, and nudges ground their node") {
  /// a: held by V1; b: G1 to a; c: only a capacitor to b; d: only an ideal diode to ground;
  /// e: a Shockley diode to d; f: a VCCS controlled by its own terminals to ground.
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b"), cn = c.add_node("c"), d = c.add_node("d"),
            e = c.add_node("e"), f = c.add_node("f");
  c.add(circuits::VoltageSource{"V1", a, kGround, 1.0});
  c.add(circuits::Conductance{"G1", a, b, 1.0, false});
  c.add(circuits::Capacitor{"C1", b, cn, 1e-9});
  circuits::Diode ideal, soft;
  ideal.name = "D1";
  ideal.anode = d;
  soft.name = "D2";
  soft.anode = e;
  soft.cathode = d;
  soft.model = circuits::DiodeModel::Shockley;
  c.add(ideal);
  c.add(soft);
  c.add(circuits::Vccs{"GF", f, kGround, f, kGround, 1e-3});
  auto groups = solvers::dc_groups(c, {});
  CHECK(solvers::floating_nodes(groups, c.num_nodes()) == std::vector<int>{cn, d, e});
  CHECK(groups.connected(d, e));
  auto nudged = solvers::dc_groups(c, {cn, d});
  CHECK(solvers::floating_nodes(nudged, c.num_nodes()).empty());
}

TEST_CASE("MNA: element currents at x follow each kind's law, and an unknown name is an error") {
  const LinearCircuit lc;
  const UnknownLayout layout(lc.circuit);
  Eigen::VectorXd x(4);
  x << 0.3, -0.7, 0.2, 1e-3;
  CHECK(solvers::element_current(lc.circuit, layout, x, "G1") ==
        doctest::Approx(lc.g1 * (0.3 + 0.7)).epsilon(1e-15));
  CHECK(solvers::element_current(lc.circuit, layout, x, "V1") == 1e-3);
  CHECK(solvers::element_current(lc.circuit, layout, x, "I1") == lc.amps);
  CHECK(solvers::element_current(lc.circuit, layout, x, "C1") == 0.0);  // none at DC
  CHECK_THROWS_WITH_AS(solvers::element_current(lc.circuit, layout, x, "R9"),
                       doctest::Contains("no element named 'R9'"), Error);
  const auto conductances = solvers::kind_currents(lc.circuit, layout, x,
                                                   circuits::kind_index<circuits::Conductance>());
  REQUIRE(conductances.size() == 3);
  CHECK(conductances[1] == doctest::Approx(lc.g2 * -0.7).epsilon(1e-15));
  CHECK(conductances[2] == doctest::Approx(lc.g3 * 0.2).epsilon(1e-15));
}

TEST_CASE("MNA: the conductance scale is the given one, else the mean positive conductance") {
  const LinearCircuit lc;
  CHECK(solvers::conductance_scale(lc.circuit, 0.25) == 0.25);
  CHECK(solvers::conductance_scale(lc.circuit, 0.0) ==
        doctest::Approx((lc.g1 + lc.g2 + lc.g3) / 3.0).epsilon(1e-15));
  Circuit sources_only;
  sources_only.add(circuits::VoltageSource{"V1", sources_only.add_node("a"), kGround, 1.0});
  sources_only.add(circuits::Conductance{"G0", sources_only.node("a"), kGround, 0.0, false});
  CHECK(solvers::conductance_scale(sources_only, 0.0) == 1.0);
}
