// Phases of a layered network on crossbars (solvers/crossbar_phases.h): the reduced (Kron-
// reduced) solve against Newton on the full crossbar circuit at every node, wires and access
// resistors included; ideal wires against the plain DRN; one device between wire segments
// against the series formula; the starting point, clamps and the iteration count.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "circuits/crossbar.h"
#include "circuits/drn.h"
#include "solvers/crossbar_phases.h"
#include "solvers/equilibrium.h"
#include "solvers_support.h"

using namespace physlearn;
using circuits::CrossbarParams;
using circuits::LayeredNetwork;
using solvers::CrossbarDrive;
using solvers::CrossbarSolver;
using solvers::CrossbarStates;

namespace {

constexpr double kGUnit = 1e-4;  // siemens per network unit

/// 3 inputs (6 rows with the inverted copies), hidden layer of 4 with ideal diodes, 2 outputs;
/// every conductance at least 0.1 so that every cell carries current.
LayeredNetwork small_network(std::uint64_t seed) {
  circuits::DrnParams p;
  p.inputs = 3;
  p.input_gain = 1.5;
  p.hidden = {4};
  p.outputs = 2;
  p.bias_init = 0.1;
  LayeredNetwork net = circuits::build_drn(p, seed);
  for (auto& w : net.weights) w.array() += 0.1;
  return net;
}

/// Wires and access resistors large enough that the IR drop moves the neurons measurably.
CrossbarParams lossy_wires(const std::string& solver) {
  CrossbarParams p;
  p.wire_resistance = 200.0;
  p.access_resistance = 300.0;
  p.row_pairs = "interleaved";
  p.solver = solver;
  return p;
}

/// Drive of each phase kind for sample b (targets y, clamp values 0.8 y).
CrossbarDrive drive(CrossbarDrive::Kind kind, const Eigen::MatrixXd& y, Eigen::Index b) {
  CrossbarDrive d;
  d.kind = kind;
  if (kind == CrossbarDrive::Nudge) {
    d.beta = 0.4;
    d.value = y.row(b);
  } else if (kind == CrossbarDrive::Clamp) {
    d.value = 0.8 * y.row(b);
  }
  return d;
}

const char* kind_name(CrossbarDrive::Kind kind) {
  return kind == CrossbarDrive::Free ? "free" : kind == CrossbarDrive::Nudge ? "nudge" : "clamp";
}

/// Free, nudged and clamped phases (each from its own free state) on `a` and on `b`, both
/// prepared for `v`: checks that every node of every sample agrees within 1e-9 V, and so do
/// the devices' squared drops summed over the batch; returns `a`'s clamped states.
CrossbarStates check_phases_agree(CrossbarSolver& a, CrossbarSolver& b, const LayeredNetwork& net,
                                  const Eigen::MatrixXd& v, const Eigen::MatrixXd& y) {
  a.prepare(net, v);
  b.prepare(net, v);
  CrossbarStates a_free, b_free, a_state;
  for (auto kind : {CrossbarDrive::Free, CrossbarDrive::Nudge, CrossbarDrive::Clamp}) {
    CAPTURE(kind_name(kind));
    const bool free = kind == CrossbarDrive::Free;
    const auto drive_of = [&](Eigen::Index s) { return drive(kind, y, s); };
    CrossbarStates b_state;
    a.run_phase(net, v, drive_of, free ? nullptr : &a_free, a_state, true);
    b.run_phase(net, v, drive_of, free ? nullptr : &b_free, b_state, true);
    double worst = 0.0;
    for (Eigen::Index s = 0; s < v.rows(); ++s)
      worst = std::max(worst, (a.node_potentials(a_state, s) - b.node_potentials(b_state, s)).cwiseAbs().maxCoeff());
    CHECK(worst < 1e-9);
    REQUIRE(a_state.device_squares.size() == b_state.device_squares.size());
    for (std::size_t l = 0; l < a_state.device_squares.size(); ++l)
      CHECK((a_state.device_squares[l] - b_state.device_squares[l]).cwiseAbs().maxCoeff() < 1e-9);
    if (free) {
      a_free = a_state;
      b_free = b_state;
    }
  }
  return a_state;
}

}  // namespace

TEST_CASE("crossbar phases: the sparse and dense solves equal Newton on the full circuit at every node") {
  /// The wire network's elimination is exact for linear wires and devices, so with the diodes'
  /// active set settled the potentials (neurons solved, wire nodes from the sparse factor or from
  /// the dense v_W = M v_T) equal Newton's operating point of the whole crossbar circuit, node by
  /// node: free, nudged (beta (y - o) into the outputs) and clamped phases, four samples.
  std::string solver;
  SUBCASE("sparse") { solver = "sparse"; }
  SUBCASE("dense") { solver = "dense"; }
  CAPTURE(solver);
  const LayeredNetwork net = small_network(11);
  Eigen::MatrixXd x(4, 3);
  x << 0.2, 0.9, 0.4, 0.7, 0.1, 0.5, 0.9, 0.9, 0.1, 0.0, 0.3, 1.0;
  const Eigen::MatrixXd v = net.input_voltages(x);
  const Eigen::MatrixXd y = solvers_test::one_hot(4, 2);
  const solvers::NewtonOptions newton_options;
  CrossbarSolver reduced(net, lossy_wires(solver), kGUnit, newton_options);
  CrossbarSolver newton(net, lossy_wires("newton"), kGUnit, newton_options);
  CHECK(reduced.method() == (solver == "sparse" ? "sparse-neurons" : "dense"));
  REQUIRE(reduced.circuit().num_wire_segments > 0);
  const int nodes = reduced.circuit().lowered.circuit.num_nodes();
  REQUIRE(nodes == newton.circuit().lowered.circuit.num_nodes());
  reduced.prepare(net, v);
  newton.prepare(net, v);
  CrossbarStates reduced_free, newton_free;
  for (auto kind : {CrossbarDrive::Free, CrossbarDrive::Nudge, CrossbarDrive::Clamp}) {
    CAPTURE(kind_name(kind));
    const auto drive_of = [&](Eigen::Index b) { return drive(kind, y, b); };
    CrossbarStates a, b;
    const bool free = kind == CrossbarDrive::Free;
    reduced.run_phase(net, v, drive_of, free ? nullptr : &reduced_free, a);
    newton.run_phase(net, v, drive_of, free ? nullptr : &newton_free, b);
    double worst = 0.0, shift_from_free = 0.0;
    for (Eigen::Index s = 0; s < 4; ++s) {
      for (int n = 0; n < nodes; ++n)
        worst = std::max(worst, std::abs(reduced.potential(a, n, s) - newton.potential(b, n, s)));
      CHECK((reduced.outputs(a, s) - newton.outputs(b, s)).cwiseAbs().maxCoeff() < 1e-9);
      if (!free)
        shift_from_free = std::max(
            shift_from_free,
            (reduced.outputs(a, s) - reduced.outputs(reduced_free, s)).cwiseAbs().maxCoeff());
      if (kind == CrossbarDrive::Clamp)
        CHECK((reduced.outputs(a, s) - 0.8 * y.row(s)).cwiseAbs().maxCoeff() == 0.0);
    }
    CHECK(worst < 1e-9);
    if (free) {
      reduced_free = a;
      newton_free = b;
      /// The case is not trivial: the wires move the outputs away from the plain DRN's (exact
      /// coordinate descent without wires), and some hidden diodes conduct (held at 0 V).
      solvers::CoordinateDescentSolver plain(1, 1e-14, 100000);
      plain.set_inputs(net, v);
      auto drn = solvers::LayeredState::zeros(net, 4);
      plain.relax(net, solvers::PhaseNudge::free(), drn);
      double ir_shift = 0.0;
      int conducting = 0;
      for (Eigen::Index s = 0; s < 4; ++s) {
        ir_shift = std::max(
            ir_shift, (reduced.outputs(a, s) - drn.outputs().row(s)).cwiseAbs().maxCoeff());
        for (int node : reduced.circuit().lowered.layer_nodes[0])
          conducting += reduced.potential(a, node, s) == 0.0;
      }
      CHECK(ir_shift > 1e-3);
      CHECK(conducting > 0);
    } else {
      CHECK(shift_from_free > 1e-3);  // the phase does move the outputs
    }
  }
}

TEST_CASE("crossbar phases: ideal wires give the plain DRN's potentials, reduced and Newton") {
  /// With no wire or access resistance the crossbar is the DRN itself (no internal nodes): both
  /// ways of solving it must give the layered network's exact coordinate-descent solution.
  const LayeredNetwork net = small_network(5);
  const Eigen::MatrixXd v = net.input_voltages(solvers_test::random_inputs(3, 3, 8));
  const Eigen::MatrixXd y = solvers_test::one_hot(3, 2);
  solvers::CoordinateDescentSolver layered(1, 1e-14, 100000);
  layered.set_inputs(net, v);
  for (const std::string solver : {"sparse", "newton"}) {
    CAPTURE(solver);
    CrossbarParams params;
    params.solver = solver;
    CrossbarSolver crossbar(net, params, kGUnit, solvers::NewtonOptions{});
    CHECK(crossbar.circuit().num_wire_segments == 0);
    CHECK(crossbar.circuit().num_access_resistors == 0);
    crossbar.prepare(net, v);
    CrossbarStates free_state;
    auto expected_free = solvers::LayeredState::zeros(net, 3);
    layered.relax(net, solvers::PhaseNudge::free(), expected_free);
    for (auto kind : {CrossbarDrive::Free, CrossbarDrive::Nudge, CrossbarDrive::Clamp}) {
      CAPTURE(kind_name(kind));
      const bool free = kind == CrossbarDrive::Free;
      CrossbarStates s;
      crossbar.run_phase(net, v, [&](Eigen::Index b) { return drive(kind, y, b); },
                         free ? nullptr : &free_state, s);
      if (free) free_state = s;
      auto expected = expected_free;
      const Eigen::MatrixXd clamp = 0.8 * y;
      if (kind == CrossbarDrive::Nudge)
        layered.relax(net, solvers::PhaseNudge::nudge(0.4, y), expected);
      if (kind == CrossbarDrive::Clamp)
        layered.relax(net, solvers::PhaseNudge::clamped(clamp), expected);
      const auto& layer_nodes = crossbar.circuit().lowered.layer_nodes;
      double worst = 0.0;
      for (Eigen::Index b = 0; b < 3; ++b)
        for (std::size_t l = 0; l < layer_nodes.size(); ++l)
          for (std::size_t i = 0; i < layer_nodes[l].size(); ++i)
            worst = std::max(worst, std::abs(crossbar.potential(s, layer_nodes[l][i], b) -
                                             expected.layers[l](b, static_cast<Eigen::Index>(i))));
      CHECK(worst < 1e-9);
    }
  }
}

TEST_CASE("crossbar phases: one device between wire segments follows the series formula") {
  /// One input source V (no inverted copy) to one linear output through one device g, nudged by
  /// beta towards 0 V. On the crossbar the device sits between a row and a column segment and an
  /// access resistor: g_eff = 1 / (1/g + 2/g_w + 1/g_a), o = V g_eff / (g_eff + beta), and the
  /// device's own drop is the chain's current over g: g_eff (V - o) / g.
  const LayeredNetwork net = solvers_test::one_device(0.3);
  CrossbarParams params;
  params.wire_resistance = 1000.0;
  params.access_resistance = 2500.0;
  CrossbarSolver crossbar(net, params, kGUnit, solvers::NewtonOptions{});
  const Eigen::MatrixXd v = Eigen::MatrixXd::Constant(1, 1, 1.5);
  crossbar.prepare(net, v);
  CrossbarStates s;
  const double beta = 0.7;
  crossbar.run_phase(
      net, v,
      [&](Eigen::Index) {
        CrossbarDrive d;
        d.kind = CrossbarDrive::Nudge;
        d.beta = beta;
        d.value = Eigen::RowVectorXd::Zero(1);
        return d;
      },
      nullptr, s);
  const double g_wire = 1.0 / (1000.0 * kGUnit), g_access = 1.0 / (2500.0 * kGUnit);
  const double g_eff = 1.0 / (1.0 / 0.3 + 2.0 / g_wire + 1.0 / g_access);
  const double o = 1.5 * g_eff / (g_eff + beta);
  CHECK(crossbar.outputs(s, 0)(0) == doctest::Approx(o).epsilon(1e-12));
  /// Along the chain V -> row segment -> access resistor -> device -> column segment -> o, each
  /// element drops the chain's current I = g_eff (V - o) over its conductance: the device's row
  /// side (after the access resistor) is at V - I / g_w - I / g_a, its column side at o + I / g_w.
  const double current = g_eff * (1.5 - o);
  const auto [row_side, column_side] = crossbar.circuit().device_nodes[0][0];
  CHECK(crossbar.potential(s, row_side, 0) - crossbar.potential(s, column_side, 0) ==
        doctest::Approx(current / 0.3).epsilon(1e-12));
  CHECK(crossbar.potential(s, row_side, 0) ==
        doctest::Approx(1.5 - current / g_wire - current / g_access).epsilon(1e-12));
  CHECK(crossbar.potential(s, column_side, 0) ==
        doctest::Approx(o + current / g_wire).epsilon(1e-12));
}

TEST_CASE("crossbar phases: the answer does not depend on the start, and iterations are counted") {
  /// The phase's solution is unique (a strictly convex problem under sign constraints): from the
  /// free state, from zeros (an all-zero start) or from the warm start of the last free phase,
  /// the nudged potentials agree.
  const LayeredNetwork net = small_network(3);
  const Eigen::MatrixXd v = net.input_voltages(solvers_test::random_inputs(3, 3, 4));
  const Eigen::MatrixXd y = solvers_test::one_hot(3, 2);
  CrossbarSolver crossbar(net, lossy_wires("sparse"), kGUnit, solvers::NewtonOptions{});
  crossbar.prepare(net, v);
  CHECK(crossbar.take_iterations() == 0);
  CrossbarStates free_state, from_free, from_zeros, warm;
  const auto free_drive = [&](Eigen::Index b) { return drive(CrossbarDrive::Free, y, b); };
  const auto nudge_drive = [&](Eigen::Index b) { return drive(CrossbarDrive::Nudge, y, b); };
  crossbar.run_phase(net, v, free_drive, nullptr, free_state);
  /// At least one active-set iteration per sample; take_iterations resets the count.
  CHECK(crossbar.take_iterations() >= 3);
  CHECK(crossbar.take_iterations() == 0);
  crossbar.run_phase(net, v, nudge_drive, &free_state, from_free);
  CrossbarStates zeros = free_state;
  zeros.neurons.setZero();
  crossbar.run_phase(net, v, nudge_drive, &zeros, from_zeros);
  crossbar.run_phase(net, v, nudge_drive, nullptr, warm);
  for (Eigen::Index b = 0; b < 3; ++b) {
    CHECK((crossbar.outputs(from_free, b) - crossbar.outputs(from_zeros, b)).cwiseAbs().maxCoeff() <
          1e-12);
    CHECK((crossbar.outputs(from_free, b) - crossbar.outputs(warm, b)).cwiseAbs().maxCoeff() <
          1e-12);
  }
}

TEST_CASE("crossbar phases: on tiles with summing resistors the sparse solve still equals Newton") {
  /// Tiles (2 rows x 3 columns: the 6 x 4 input layer on 3 x 2 tiles, the 4 x 2 layer on 2 x 1)
  /// with a summing resistor per tile column: the sparse solver factors whatever wire network
  /// the lowering builds, so every node of every phase must match Newton's.
  const LayeredNetwork net = small_network(13);
  const Eigen::MatrixXd v = net.input_voltages(solvers_test::random_inputs(3, 3, 9));
  const Eigen::MatrixXd y = solvers_test::one_hot(3, 2);
  auto tiled = [](const std::string& solver) {
    CrossbarParams p = lossy_wires(solver);
    p.tile_rows = 2;
    p.tile_cols = 3;
    p.summing_resistance = 150.0;
    return p;
  };
  CrossbarSolver sparse(net, tiled("sparse"), kGUnit, {});
  CrossbarSolver newton(net, tiled("newton"), kGUnit, {});
  CHECK(sparse.circuit().tiles == std::vector<int>{6, 2});
  check_phases_agree(sparse, newton, net, v, y);
}

TEST_CASE("crossbar phases: a linear network with many outputs is solved directly, equal to Newton") {
  /// Without diodes and with more than 64 neurons the sparse solver factors the whole circuit per
  /// phase (the nudge's beta on the outputs' diagonal, the clamped outputs held) instead of
  /// reducing onto the neurons: every node must still equal Newton's, free, nudged and clamped.
  circuits::DrnParams p;
  p.inputs = 3;
  p.input_gain = 1.5;
  p.hidden = {};
  p.outputs = 70;
  p.bias_init = 0.1;
  LayeredNetwork net = circuits::build_drn(p, 4);
  for (auto& w : net.weights) w.array() += 0.05;
  Eigen::MatrixXd x(3, 3);
  x << 0.2, 0.9, 0.4, 0.7, 0.1, 0.5, 0.0, 0.3, 1.0;
  const Eigen::MatrixXd v = net.input_voltages(x);
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(3, 70);
  for (int b = 0; b < 3; ++b) y(b, 7 * b) = 1.0;
  CrossbarSolver sparse(net, lossy_wires("sparse"), kGUnit, {});
  CrossbarSolver newton(net, lossy_wires("newton"), kGUnit, {});
  CHECK(sparse.method() == "sparse-direct");
  const CrossbarStates clamped = check_phases_agree(sparse, newton, net, v, y);
  for (Eigen::Index s = 0; s < 3; ++s)
    CHECK((sparse.outputs(clamped, s) - 0.8 * y.row(s)).cwiseAbs().maxCoeff() == 0.0);
  /// A free state's nodes asked for after a nudged phase (which refactored the circuit with its
  /// beta): the sample is solved again with its own drive.
  CrossbarStates free_state, nudged, newton_free;
  const auto free_drive = [&](Eigen::Index b) { return drive(CrossbarDrive::Free, y, b); };
  sparse.run_phase(net, v, free_drive, nullptr, free_state);
  sparse.run_phase(net, v, [&](Eigen::Index b) { return drive(CrossbarDrive::Nudge, y, b); },
                   &free_state, nudged);
  newton.run_phase(net, v, free_drive, nullptr, newton_free);
  CHECK((sparse.node_potentials(free_state, 1) - newton.node_potentials(newton_free, 1)).cwiseAbs().maxCoeff() <
        1e-9);
}

TEST_CASE("crossbar phases: device squares are the batch's sums of each device's squared drop") {
  /// run_phase(..., device_squares) sums dV^2 over the batch per device (the learning rules'
  /// gradient); it must equal the drops read from every node's potential, sample by sample, for
  /// each solver, and be left empty when not asked for.
  const LayeredNetwork net = small_network(7);
  const Eigen::MatrixXd v = net.input_voltages(solvers_test::random_inputs(3, 3, 5));
  const Eigen::MatrixXd y = solvers_test::one_hot(3, 2);
  for (const std::string solver : {"sparse", "dense", "newton"}) {
    CAPTURE(solver);
    CrossbarSolver crossbar(net, lossy_wires(solver), kGUnit, {});
    crossbar.prepare(net, v);
    CrossbarStates free_state, nudged;
    crossbar.run_phase(net, v, [&](Eigen::Index b) { return drive(CrossbarDrive::Free, y, b); },
                       nullptr, free_state);
    CHECK(free_state.device_squares.empty());
    crossbar.run_phase(net, v, [&](Eigen::Index b) { return drive(CrossbarDrive::Nudge, y, b); },
                       &free_state, nudged, true);
    const auto& devices = crossbar.circuit().device_nodes;
    REQUIRE(nudged.device_squares.size() == devices.size());
    double worst = 0.0, total = 0.0;
    for (std::size_t l = 0; l < devices.size(); ++l) {
      Eigen::VectorXd expected = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(devices[l].size()));
      for (Eigen::Index s = 0; s < 3; ++s) {
        const Eigen::VectorXd nodes = crossbar.node_potentials(nudged, s);
        for (std::size_t k = 0; k < devices[l].size(); ++k) {
          const double d = nodes(devices[l][k].first) - nodes(devices[l][k].second);
          expected(static_cast<Eigen::Index>(k)) += d * d;
        }
      }
      worst = std::max(worst, (nudged.device_squares[l] - expected).cwiseAbs().maxCoeff());
      total += expected.sum();
    }
    CHECK(total > 0.1);
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("crossbar phases: the sparse solve refuses Shockley diodes, which it would treat as ideal") {
  circuits::DrnParams p;
  p.inputs = 3;
  p.hidden = {4};
  p.outputs = 2;
  p.diode = "shockley";
  const auto net = circuits::build_drn(p, 11);
  circuits::CrossbarParams reduced;
  reduced.wire_resistance = 200;
  CHECK_THROWS_WITH_AS(solvers::CrossbarSolver(net, reduced, 1e-4, {}),
                       doctest::Contains("crossbar.solver: \"sparse\""), ConfigError);
  circuits::CrossbarParams newton = reduced;
  newton.solver = "newton";
  CHECK_NOTHROW(solvers::CrossbarSolver(net, newton, 1e-4, {}));
}

TEST_CASE("crossbar phases: the neurons' problem, by either active set, meets its optimality conditions") {
  /// A dense positive definite A that is not an M-matrix (positive off-diagonal entries, as long
  /// wires make), 12 neurons of which 9 have diodes of either polarity and 3 are outputs:
  /// the primal-dual active set (50 iterations allowed) and the primal one alone (0) must reach
  /// the same point, and it must satisfy the conditions of the problem: every diode node on its
  /// side (s v >= 0), a held node (v = 0) has a current s g >= 0, a free node's current is 0.
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    CAPTURE(trial);
    const int n = 12;
    Eigen::MatrixXd B(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) B(i, j) = normal(rng);
    const Eigen::MatrixXd A = B * B.transpose() + 0.5 * Eigen::MatrixXd::Identity(n, n);
    Eigen::VectorXd c(n);
    for (int i = 0; i < n; ++i) c(i) = 3.0 * normal(rng);
    const std::vector<int> polarity = {1, -1, 1, 1, -1, 1, -1, 1, 1, 0, 0, 0};
    CrossbarDrive nudge;
    nudge.kind = CrossbarDrive::Nudge;
    nudge.beta = 0.3;
    nudge.value = Eigen::RowVectorXd::Constant(3, 0.5);
    Eigen::VectorXd dual = Eigen::VectorXd::Zero(n), primal = Eigen::VectorXd::Zero(n);
    solvers::solve_at_neurons(A, c, polarity, 3, nudge, dual, 50);
    solvers::solve_at_neurons(A, c, polarity, 3, nudge, primal, 0);
    CHECK((dual - primal).cwiseAbs().maxCoeff() < 1e-9);
    Eigen::VectorXd d = Eigen::VectorXd::Zero(n), rhs = c;
    for (int i = n - 3; i < n; ++i) {
      d(i) = 0.3;
      rhs(i) += 0.3 * 0.5;
    }
    const Eigen::VectorXd g = A * primal + d.cwiseProduct(primal) - rhs;
    for (int i = 0; i < n; ++i) {
      const int s = polarity[static_cast<std::size_t>(i)];
      if (s != 0 && primal(i) == 0.0) {
        CHECK(s * g(i) >= -1e-9);
      } else {
        CHECK(std::abs(g(i)) < 1e-9);
        CHECK(s * primal(i) >= 0.0);
      }
    }
  }
}

TEST_CASE("crossbar phases: prepare keeps the factorisation while the conductances and biases stay") {
  /// Evaluating a fixed network batch after batch: the second prepare with other inputs but the
  /// same network recomputes nothing and gives the same potentials as a fresh solver; a changed
  /// conductance, or a changed bias, recomputes.
  LayeredNetwork net = small_network(21);
  const Eigen::MatrixXd y = solvers_test::one_hot(3, 2);
  const Eigen::MatrixXd v1 = net.input_voltages(solvers_test::random_inputs(3, 3, 1));
  const Eigen::MatrixXd v2 = net.input_voltages(solvers_test::random_inputs(3, 3, 2));
  for (const std::string solver : {"sparse", "dense"}) {
    CAPTURE(solver);
    CrossbarSolver kept(net, lossy_wires(solver), kGUnit, {});
    const auto free_drive = [&](Eigen::Index b) { return drive(CrossbarDrive::Free, y, b); };
    CrossbarStates s;
    kept.prepare(net, v1);
    kept.run_phase(net, v1, free_drive, nullptr, s);
    CHECK(kept.preparations() == 1);
    kept.prepare(net, v2);
    CHECK(kept.preparations() == 1);
    kept.run_phase(net, v2, free_drive, nullptr, s);
    CrossbarSolver fresh(net, lossy_wires(solver), kGUnit, {});
    CrossbarStates f;
    fresh.prepare(net, v2);
    fresh.run_phase(net, v2, free_drive, nullptr, f);
    for (Eigen::Index b = 0; b < 3; ++b)
      CHECK((kept.node_potentials(s, b) - fresh.node_potentials(f, b)).cwiseAbs().maxCoeff() == 0.0);
    LayeredNetwork changed = net;
    changed.weights[0](2, 1) += 0.01;
    kept.prepare(changed, v2);
    CHECK(kept.preparations() == 2);
    changed.biases[0](0) += 0.01;
    kept.prepare(changed, v2);
    CHECK(kept.preparations() == 3);
  }
}
