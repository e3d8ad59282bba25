// Phases of a layered network simulated in time (solvers/transient_layered.h): a one-device
// network is an RC circuit whose trajectory, settling time and energies (input side folded into
// its Norton equivalent) have closed forms, free and nudged; clamping is a charge jump with its
// closed-form loss; scaling every capacitance scales time and energies exactly; DRN phases end at
// the steady states of the layered and Newton solvers with the energy balance; per-layer
// capacitances; configuration and failures.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "core/error.h"
#include "solvers/equilibrium.h"
#include "solvers/transient_layered.h"
#include "solvers_support.h"

using namespace physlearn;
using solvers_test::one_device;  // with the output's capacitance C: an RC circuit, tau = C / g
using solvers_test::small_drn;

namespace {

/// Tight integration and a settling tolerance of 1e-4 V, a million times the solution's error,
/// so that settling times are exact to about 1e-7 (the crossing of |v - v_dc| = tol moves by the
/// error over the slope: rtol |v| / (tol ln(...))).
solvers::TransientSolverOptions tight(std::vector<double> capacitance) {
  solvers::TransientSolverOptions o;
  o.capacitance = std::move(capacitance);
  o.rtol = 1e-10;
  o.atol = 1e-13;
  o.final_tol = 1e-4;
  return o;
}

/// Purely relative comparison, |a - b| < epsilon max(|a|, |b|): the energies (pJ) and times (ps)
/// here are far below doctest's default absolute scale of 1.
doctest::Approx rel(double value, double epsilon) {
  return doctest::Approx(value).epsilon(epsilon).scale(0.0);
}

/// The balance of solvers/equilibrium.h's PhasePhysics: delivered - spent, relative to the
/// energy delivered.
double relative_imbalance(const solvers::PhasePhysics& p) {
  const double delivered = p.energy_sources + p.energy_nudge;
  const double spent =
      p.energy_conductances + p.energy_diodes + p.energy_impulse + p.energy_stored_change;
  return std::abs(delivered - spent) / (std::abs(p.energy_sources) + std::abs(p.energy_nudge));
}

}  // namespace

TEST_CASE(
    "transient layered: one device is an RC circuit (trajectory, settling time and energies)") {
  /// Free phase from 0 V: C dv/dt = g (V - v), v(t) = V (1 - exp(-t / tau)), tau = C / g. Settled
  /// ("final", |v - V| <= tol) at t_s = tau ln(V / tol); the phase ends at T = t_s (1 + hold). Over
  /// [0, t_s] the source delivers V C v_s (the charge C v_s at V), the node stores 1/2 C v_s^2 and
  /// the conductance dissipates the rest. These are the input side's energies, which the solver
  /// gets from the Norton equivalent (K t_s - integral I v dt, ...). The phase ends at
  /// v(T) = V (1 - exp(-T / tau)), where the conductance dissipates g (V - v(T))^2 ~ 1e-17 W,
  /// nothing at the accuracy of the sum K - 2 I v + G v^2 the solver forms.
  const double g = 0.5, c = 2e-12, tau = c / g, tol = 1e-4;
  const auto net = one_device(g);
  solvers::TransientLayeredSolver solver(tight({c}), net);
  CHECK(solver.name() == "transient");
  CHECK(solver.capacitance() == std::vector<double>{c});
  const Eigen::Vector2d sources(1.2, 0.6);  // two samples
  solver.set_inputs(net, net.input_voltages(sources));
  double worst_deviation = 0.0;
  long observations = 0;
  solver.set_observer([&](Eigen::Index sample, double t, const std::vector<Eigen::VectorXd>& v) {
    const double expected = sources[sample] * (1.0 - std::exp(-t / tau));
    worst_deviation = std::max(worst_deviation, std::abs(v[0](0) - expected));
    ++observations;
  });
  auto state = solvers::LayeredState::zeros(net, 2);
  solver.relax(net, solvers::PhaseNudge::free(), state);
  CHECK(observations > 40);
  CHECK(worst_deviation < 1e-8);
  const auto& physics = *solver.last_physics();
  REQUIRE(physics.size() == 2);
  for (Eigen::Index b = 0; b < 2; ++b) {
    CAPTURE(b);
    const double volts = sources[b];
    const auto& p = physics[static_cast<std::size_t>(b)];
    CHECK(p.settling_time == rel(tau * std::log(volts / tol), 1e-6));
    CHECK(p.duration == rel(2.0 * p.settling_time, 1e-12));
    const double v_s = volts * (1.0 - std::exp(-p.settling_time / tau));
    CHECK(p.energy_sources == rel(volts * c * v_s, 1e-7));
    CHECK(p.energy_stored_change == rel(0.5 * c * v_s * v_s, 1e-7));
    CHECK(p.energy_conductances ==
          rel(volts * c * v_s - 0.5 * c * v_s * v_s, 1e-6));
    CHECK(p.energy_nudge == 0.0);
    CHECK(p.energy_diodes == 0.0);
    CHECK(p.energy_impulse == 0.0);
    CHECK(relative_imbalance(p) < 1e-7);
    CHECK(std::abs(p.power_end) < 1e-14);
    CHECK(state.outputs()(b, 0) == rel(volts * (1.0 - std::exp(-p.duration / tau)), 1e-9));
    CHECK(state.outputs()(b, 0) != rel(volts, 1e-9));  // 1e-8 short of V: the closed form counts
  }
  CHECK(solver.last_iterations() == physics[0].steps + physics[1].steps);
}

TEST_CASE(
    "transient layered: a nudged phase relaxes to (g V + beta y) / (g + beta) in closed form") {
  /// From the free state v0 = V, the nudge beta (y - o) switches on: C dv/dt = g (V - v) +
  /// beta (y - v), so v(t) = v_inf + (v0 - v_inf) exp(-t / tau'), v_inf = (g V + beta y) /
  /// (g + beta), tau' = C / (g + beta), settled at t_s = tau' ln(|v0 - v_inf| / tol). Over
  /// [0, T = t_s], with E1 = tau' (1 - exp(-T / tau')) and E2 = tau' / 2 (1 - exp(-2 T / tau')):
  ///   source  g V integral (V - v) dt = g V ((V - v_inf) T - (v0 - v_inf) E1)
  ///   nudge   beta integral (y - v) v dt, with integral v dt = v_inf T + (v0 - v_inf) E1 and
  ///           integral v^2 dt = v_inf^2 T + 2 v_inf (v0 - v_inf) E1 + (v0 - v_inf)^2 E2.
  const double g = 0.5, c = 2e-12, beta = 0.3, y = 0.2, volts = 1.2, tol = 1e-3;
  const auto net = one_device(g);
  auto options = tight({c});
  options.final_tol = tol;
  solvers::TransientLayeredSolver solver(options, net);
  solver.set_inputs(net, net.input_voltages(Eigen::MatrixXd::Constant(1, 1, volts)));
  auto state = solvers::LayeredState::zeros(net, 1);
  solver.relax(net, solvers::PhaseNudge::free(), state);
  const double v0 = state.outputs()(0, 0);
  const Eigen::MatrixXd targets = Eigen::MatrixXd::Constant(1, 1, y);
  solver.relax(net, solvers::PhaseNudge::nudge(beta, targets), state);
  const auto& p = solver.last_physics()->front();

  const double v_inf = (g * volts + beta * y) / (g + beta), tau = c / (g + beta);
  const double t = p.settling_time;
  CHECK(t == rel(tau * std::log(std::abs(v0 - v_inf) / tol), 1e-6));
  const double v_end = v_inf + (v0 - v_inf) * std::exp(-p.duration / tau);
  CHECK(state.outputs()(0, 0) == rel(v_end, 1e-9));
  const double e1 = tau * (1.0 - std::exp(-t / tau));
  const double e2 = 0.5 * tau * (1.0 - std::exp(-2.0 * t / tau));
  const double integral_v = v_inf * t + (v0 - v_inf) * e1;
  const double integral_v2 = v_inf * v_inf * t + 2.0 * v_inf * (v0 - v_inf) * e1 +
                             (v0 - v_inf) * (v0 - v_inf) * e2;
  const double v_t = v_inf + (v0 - v_inf) * std::exp(-t / tau);
  CHECK(p.energy_sources == rel(g * volts * (volts * t - integral_v), 1e-6));
  CHECK(p.energy_nudge == rel(beta * (y * integral_v - integral_v2), 1e-6));
  CHECK(p.energy_stored_change == rel(0.5 * c * (v_t * v_t - v0 * v0), 1e-6));
  /// The input conductance dissipates g integral (V - v)^2 dt.
  CHECK(p.energy_conductances ==
        rel(g * (volts * volts * t - 2.0 * volts * integral_v + integral_v2), 1e-6));
  CHECK(relative_imbalance(p) < 1e-7);
  /// At the end the network dissipates g (V - v(end))^2 in the input conductance (the nudge is a
  /// source of the phase, not part of the network).
  CHECK(p.power_end == rel(g * (volts - v_end) * (volts - v_end), 1e-8));
}

TEST_CASE("transient layered: clamping is a charge jump that loses 1/2 C (v_c - v0)^2") {
  /// A voltage source switching onto the output node (capacitance C, at v0) moves its potential
  /// to v_c at once: the source delivers v_c C (v_c - v0), the node stores 1/2 C (v_c^2 - v0^2),
  /// and 1/2 C (v_c - v0)^2 is lost in the jump. Nothing else moves, so the phase is settled at
  /// once (t_s = 0) and the input conductance then carries g (V - v_c).
  const double g = 0.5, c = 2e-12, volts = 1.2, clamp_volts = 0.4;
  const auto net = one_device(g);
  solvers::TransientLayeredSolver solver(tight({c}), net);
  solver.set_inputs(net, net.input_voltages(Eigen::MatrixXd::Constant(1, 1, volts)));
  auto state = solvers::LayeredState::zeros(net, 1);
  solver.relax(net, solvers::PhaseNudge::free(), state);
  const double v0 = state.outputs()(0, 0);
  const Eigen::MatrixXd clamp = Eigen::MatrixXd::Constant(1, 1, clamp_volts);
  solver.relax(net, solvers::PhaseNudge::clamped(clamp), state);
  const auto& p = solver.last_physics()->front();
  CHECK(state.outputs()(0, 0) == rel(clamp_volts, 1e-12));
  CHECK(p.settling_time == 0.0);
  CHECK(p.energy_impulse ==
        rel(0.5 * c * (clamp_volts - v0) * (clamp_volts - v0), 1e-9));
  CHECK(p.energy_stored_change ==
        rel(0.5 * c * (clamp_volts * clamp_volts - v0 * v0), 1e-9));
  CHECK(p.energy_nudge == rel(clamp_volts * c * (clamp_volts - v0), 1e-9));
  CHECK(relative_imbalance(p) < 1e-9);
  CHECK(p.power_end ==
        rel(g * (volts - clamp_volts) * (volts - clamp_volts), 1e-9));
}

TEST_CASE("transient layered: scaling every capacitance by k scales time and energies by k") {
  /// C dv/dt = -grad E(v) with every C multiplied by k has the solution v(t / k): the settling
  /// time and every energy over [0, t_s] (power integrated over a k times longer time) scale by
  /// k, the final state and the final power do not. Exact, for any network; here a DRN with two
  /// hidden layers and ideal diodes, free phase and nudged phase.
  const auto net = small_drn({6, 4}, 3);
  const Eigen::MatrixXd inputs = Eigen::MatrixXd::Constant(1, 5, 0.6);
  const Eigen::MatrixXd targets = Eigen::MatrixXd::Identity(1, 3);
  const double k = 3.0;
  std::vector<solvers::PhasePhysics> base, scaled;
  std::vector<solvers::LayeredState> base_states, scaled_states;
  for (double capacitance : {1e-12, k * 1e-12}) {
    solvers::TransientLayeredSolver solver(tight({capacitance}), net);
    solver.set_inputs(net, net.input_voltages(inputs));
    auto state = solvers::LayeredState::zeros(net, 1);
    auto& physics = capacitance == 1e-12 ? base : scaled;
    auto& states = capacitance == 1e-12 ? base_states : scaled_states;
    solver.relax(net, solvers::PhaseNudge::free(), state);
    physics.push_back(solver.last_physics()->front());
    states.push_back(state);
    solver.relax(net, solvers::PhaseNudge::nudge(0.5, targets), state);
    physics.push_back(solver.last_physics()->front());
    states.push_back(state);
  }
  for (std::size_t phase = 0; phase < 2; ++phase) {
    CAPTURE(phase);
    const auto &a = base[phase], &b = scaled[phase];
    CHECK(b.settling_time == rel(k * a.settling_time, 1e-4));
    CHECK(b.energy_sources == rel(k * a.energy_sources, 1e-4));
    if (phase == 0)
      CHECK((a.energy_nudge == 0.0 && b.energy_nudge == 0.0));
    else
      CHECK(b.energy_nudge == rel(k * a.energy_nudge, 1e-4));
    CHECK(b.energy_conductances == rel(k * a.energy_conductances, 1e-4));
    CHECK(b.energy_stored_change == rel(k * a.energy_stored_change, 1e-4));
    CHECK(b.power_end == rel(a.power_end, 1e-6));
    CHECK(relative_imbalance(a) < 1e-6);
    CHECK(relative_imbalance(b) < 1e-6);
    for (std::size_t l = 0; l < base_states[phase].layers.size(); ++l)
      CHECK((base_states[phase].layers[l] - scaled_states[phase].layers[l]).cwiseAbs().maxCoeff() <
            2e-6);
  }
  CHECK(base[1].energy_nudge != 0.0);
}

TEST_CASE("transient layered: options map onto IDA's, and bad capacitances name their key") {
  solvers::TransientSolverOptions o;
  o.settle = "slew";
  o.slew_tol = 5e3;
  o.hold = 0.5;
  o.max_steps = 77;
  const solvers::TransientOptions ida = solvers::transient_options(o);
  CHECK(ida.settle == solvers::SettleCriterion::Slew);
  CHECK(ida.slew_tol == 5e3);
  CHECK(ida.hold == 0.5);
  CHECK(ida.max_steps == 77);
  CHECK(ida.element_energies);  // the Norton elements' energies give the input side's
  o.settle = "soon";
  CHECK_THROWS_WITH_AS(solvers::transient_options(o), doctest::Contains("solver.settle"),
                       ConfigError);

  const auto net = small_drn({6}, 5);
  solvers::TransientSolverOptions per_layer;
  per_layer.capacitance = {1e-12, 2e-12};
  CHECK(solvers::TransientLayeredSolver(per_layer, net).capacitance() ==
        std::vector<double>{1e-12, 2e-12});
  per_layer.capacitance = {3e-12};
  CHECK(solvers::TransientLayeredSolver(per_layer, net).capacitance() ==
        std::vector<double>{3e-12, 3e-12});
  per_layer.capacitance = {1e-12, 0.0};
  CHECK_THROWS_WITH_AS(solvers::TransientLayeredSolver(per_layer, net),
                       doctest::Contains("solver.capacitance[1]"), ConfigError);
  per_layer.capacitance = {1e-12, 2e-12, 3e-12};
  CHECK_THROWS_WITH_AS(solvers::TransientLayeredSolver(per_layer, net),
                       doctest::Contains("solver.capacitance"), ConfigError);
  /// relax before set_inputs is a programming error.
  solvers::TransientLayeredSolver unprepared(solvers::TransientSolverOptions{}, net);
  auto state = solvers::LayeredState::zeros(net, 1);
  CHECK_THROWS_AS(unprepared.relax(net, solvers::PhaseNudge::free(), state), std::logic_error);
}
TEST_CASE("transient DRN phases end at the steady states of the layered and Newton solvers") {
  for (const std::string settle : {"final", "slew"})
    for (auto hidden : std::vector<std::vector<int>>{{6}, {8, 4}}) {
      CAPTURE(settle);
      const auto net = small_drn(hidden, 7);
      solvers::SolverParams params;
      params.type = "transient";
      auto& o = params.options<solvers::TransientSolverOptions>("transient");
      o.settle = settle;
      o.final_tol = 1e-9;
      o.slew_tol = 1e2;  // V/s: with C = 1e-12 F, |dv/dt| C / g ~ 1e-10 V
      o.rtol = 1e-8;
      o.atol = 1e-11;
      auto transient = solvers::make_solver(params, net);
      CHECK(transient->name() == "transient");
      solvers::CoordinateDescentSolver layered(1, 1e-13, 1000000);
      solvers::SolverParams newton_params;
      newton_params.type = "newton";
      auto newton = solvers::make_solver(newton_params, net);

      const Eigen::Index batch = 4;
      std::srand(3);
      const Eigen::MatrixXd inputs = (Eigen::MatrixXd::Random(batch, 5).array() + 1.0) * 0.5;
      const Eigen::MatrixXd voltages = net.input_voltages(inputs);
      Eigen::MatrixXd targets = Eigen::MatrixXd::Zero(batch, 3);
      for (Eigen::Index b = 0; b < batch; ++b) targets(b, b % 3) = 1.0;
      const Eigen::MatrixXd clamp = targets * 0.8;
      for (auto* s :
           {transient.get(), static_cast<solvers::EquilibriumSolver*>(&layered), newton.get()})
        s->set_inputs(net, voltages);

      auto compare = [&](const solvers::PhaseNudge& nudge, const solvers::LayeredState& start) {
        solvers::LayeredState a = start, b = start, c = start;
        transient->relax(net, nudge, a);
        layered.relax(net, nudge, b);
        newton->relax(net, nudge, c);
        for (std::size_t l = 0; l < a.layers.size(); ++l) {
          CHECK((a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-6);
          CHECK((a.layers[l] - c.layers[l]).cwiseAbs().maxCoeff() < 1e-6);
        }
        const auto* physics = transient->last_physics();
        REQUIRE(physics != nullptr);
        REQUIRE(physics->size() == static_cast<std::size_t>(batch));
        for (const auto& p : *physics) {
          CHECK(p.settling_time > 0.0);
          CHECK(p.duration >= p.settling_time);
          const double delivered = p.energy_sources + p.energy_nudge;
          const double spent =
              p.energy_conductances + p.energy_diodes + p.energy_impulse + p.energy_stored_change;
          CHECK(std::abs(delivered - spent) <= 1e-5 * std::abs(p.energy_conductances));
          CHECK(p.energy_conductances > 0.0);
          CHECK(p.power_end > 0.0);
        }
        return a;
      };
      solvers::LayeredState free =
          compare(solvers::PhaseNudge::free(), solvers::LayeredState::zeros(net, batch));
      compare(solvers::PhaseNudge::nudge(0.5, targets), free);
      compare(solvers::PhaseNudge::nudge(-0.5, targets), free);
      compare(solvers::PhaseNudge::clamped(clamp), free);
      CHECK(transient->last_iterations() > 0);
    }
}

TEST_CASE(
    "transient layered solver: Shockley DRN matches Newton, also with per-layer capacitances") {
  const auto net = small_drn({6}, 5, "shockley");
  solvers::SolverParams params;
  params.type = "transient";
  auto& o = params.options<solvers::TransientSolverOptions>("transient");
  o.final_tol = 1e-9;
  o.rtol = 1e-8;
  o.atol = 1e-11;
  auto transient = solvers::make_solver(params, net);
  solvers::SolverParams newton_params;
  newton_params.type = "newton";
  auto newton = solvers::make_solver(newton_params, net);
  const Eigen::MatrixXd voltages = net.input_voltages(Eigen::MatrixXd::Constant(2, 5, 0.4));
  transient->set_inputs(net, voltages);
  newton->set_inputs(net, voltages);
  auto a = solvers::LayeredState::zeros(net, 2), b = a;
  transient->relax(net, solvers::PhaseNudge::free(), a);
  newton->relax(net, solvers::PhaseNudge::free(), b);
  for (std::size_t l = 0; l < a.layers.size(); ++l)
    CHECK((a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-6);

  o.capacitance = {1e-12, 2e-12, 3e-12};
  CHECK_THROWS_WITH_AS(solvers::make_solver(params, net),
                       doctest::Contains("solver.capacitance"), ConfigError);
  /// Per-layer capacitances (hidden 1 pF, output 2 pF): the steady state does not depend on
  /// them (C dv/dt = 0 there), so the phase ends at Newton's operating point again; but more
  /// charge must flow to bring the outputs there, so every sample settles later than with 1 pF
  /// everywhere, and no later than with 2 pF everywhere, which is exactly twice as slow (C -> 2 C
  /// turns v(t) into v(t / 2)). The slowest mode's rate, the smallest lambda of G u = lambda C u
  /// at the equilibrium, falls as any C grows (Courant-Fischer), and it sets the settling time.
  const auto settle = [&](const std::vector<double>& capacitance) {
    o.capacitance = capacitance;
    auto solver = solvers::make_solver(params, net);
    solver->set_inputs(net, voltages);
    auto state = solvers::LayeredState::zeros(net, 2);
    solver->relax(net, solvers::PhaseNudge::free(), state);
    for (std::size_t l = 0; l < state.layers.size(); ++l)
      CHECK((state.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-6);
    std::vector<double> times;
    for (const auto& p : *solver->last_physics()) times.push_back(p.settling_time);
    return times;
  };
  const std::vector<double> uniform = settle({1e-12, 1e-12});
  const std::vector<double> per_layer = settle({1e-12, 2e-12});
  const std::vector<double> doubled = settle({2e-12, 2e-12});
  for (std::size_t s = 0; s < 2; ++s) {
    CAPTURE(s);
    CHECK(doubled[s] == rel(2.0 * uniform[s], 1e-4));
    CHECK(per_layer[s] > 1.05 * uniform[s]);
    CHECK(per_layer[s] <= doubled[s]);
  }
}

TEST_CASE("a failing DRN phase names the phase, the sample, the time and the reason") {
  const auto net = small_drn({6}, 7);
  solvers::SolverParams params;
  params.type = "transient";
  params.options<solvers::TransientSolverOptions>("transient").max_duration = 1e-14;  // << C / g
  auto transient = solvers::make_solver(params, net);
  transient->set_inputs(net, net.input_voltages(Eigen::MatrixXd::Constant(2, 5, 0.5)));
  auto state = solvers::LayeredState::zeros(net, 2);
  CHECK_THROWS_WITH_AS(transient->relax(net, solvers::PhaseNudge::free(), state),
                       doctest::Contains("phase 'free, sample 0' failed at t = 1e-14 s: not "
                                         "settled within max_duration"),
                       SolverError);
}

