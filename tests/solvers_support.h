#pragma once
// Networks, inputs and targets for the layered solvers' tests (tests/solvers_*_test.cpp); solving
// a hand-made circuit with its KCL checked, the transient's tight options and energy balance,
// for the solver tests and the element kinds' tests (tests/circuits_elements_*_test.cpp).
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "circuits/drn.h"
#include "circuits_support.h"
#include "core/error.h"
#include "solvers/mna.h"
#include "solvers/newton.h"
#include "solvers/transient.h"

namespace solvers_test {

using physlearn::circuits::Circuit;
using physlearn::solvers::NewtonOptions;
using physlearn::solvers::Nudge;
using physlearn::solvers::OperatingPoint;

/// Node `name`'s voltage at the operating point.
inline double v(const Circuit& c, const OperatingPoint& op, const std::string& name) {
  return op.voltages[c.node(name)];
}

/// Total current magnitude scale for a relative KCL check.
inline double current_scale(const Circuit& c, const OperatingPoint& op) {
  using namespace physlearn::circuits;
  double scale = 0.0;
  for (double i : physlearn::solvers::currents<VoltageSource>(c, op))
    scale = std::max(scale, std::abs(i));
  for (double i : physlearn::solvers::currents<Diode>(c, op)) scale = std::max(scale, std::abs(i));
  for (double i : physlearn::solvers::currents<Vcvs>(c, op)) scale = std::max(scale, std::abs(i));
  for (const auto& s : c.list<CurrentSource>()) scale = std::max(scale, std::abs(s.amps));
  return std::max(scale, 1e-3);
}

/// Solves with Newton and checks KCL at every node to 1e-12 relative to the circuit's current
/// scale.
inline OperatingPoint solve_checked(const Circuit& c, const std::vector<Nudge>& nudges = {},
                                    const Eigen::VectorXd* initial = nullptr,
                                    NewtonOptions options = {}) {
  physlearn::solvers::NewtonSolver solver(c, options);
  OperatingPoint op = solver.solve(c, nudges, initial);
  const double residual = physlearn::solvers::kcl_residual(c, op, nudges);
  CHECK(residual <= 1e-12 * current_scale(c, op));
  CHECK(op.residual_norm <= 1e-12 * current_scale(c, op));
  return op;
}

/// Message of the SolverError thrown by solving `c` with Newton, or "" if none.
inline std::string solver_error(const Circuit& c, NewtonOptions options = {},
                                const std::vector<Nudge>& nudges = {}) {
  try {
    physlearn::solvers::NewtonSolver solver(c, options);
    solver.solve(c, nudges);
  } catch (const physlearn::SolverError& e) {
    return e.what();
  }
  return "";
}

/// Transient options tight enough for comparisons with closed forms.
inline physlearn::solvers::TransientOptions tight() {
  physlearn::solvers::TransientOptions o;
  o.rtol = 1e-9;
  o.atol = 1e-12;
  o.final_tol = 1e-9;
  o.max_duration = 10.0;
  return o;
}

/// Largest |delivered - dissipated - stored| relative to the energy delivered.
inline double relative_imbalance(const physlearn::solvers::TransientEnergy& e) {
  const double scale = std::abs(e.sources) + std::abs(e.controlled) + std::abs(e.nudges) +
                       std::abs(e.conductances) + 1e-300;
  return std::abs(e.balance()) / scale;
}

/// A batch of seeded inputs in [0, 1], like pixels.
inline Eigen::MatrixXd random_inputs(Eigen::Index batch, Eigen::Index features, unsigned seed) {
  std::srand(seed);
  return (Eigen::MatrixXd::Random(batch, features).array() + 1.0) * 0.5;
}

/// One-hot targets, sample b of class b mod classes.
inline Eigen::MatrixXd one_hot(Eigen::Index batch, Eigen::Index classes) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(batch, classes);
  for (Eigen::Index b = 0; b < batch; ++b) y(b, b % classes) = 1.0;
  return y;
}

/// One input source (no inverted copy) joined to one linear output node by one conductance g,
/// no hidden layer, no biases: a single device, whose answers are series formulas.
inline physlearn::circuits::LayeredNetwork one_device(double g) {
  physlearn::circuits::DrnParams p;
  p.inputs = 1;
  p.inverted_inputs = false;
  p.hidden = {};
  p.outputs = 1;
  p.biases = false;
  p.diode = "none";
  physlearn::circuits::LayeredNetwork net = physlearn::circuits::build_drn(p, 1);
  net.weights[0](0, 0) = g;
  return net;
}

/// A small seeded DRN: `inputs` inputs (with inverted copies, gain 3), the given hidden layers,
/// 3 outputs, conductances uniform in [0.05, 1], biases within +-0.5.
inline physlearn::circuits::LayeredNetwork small_drn(std::vector<int> hidden, std::uint64_t seed,
                                                     const std::string& diode = "ideal",
                                                     int inputs = 5) {
  physlearn::circuits::DrnParams p;
  p.inputs = inputs;
  p.input_gain = 3.0;
  p.hidden = std::move(hidden);
  p.outputs = 3;
  p.diode = diode;
  p.init = "uniform";
  p.init_low = 0.05;
  p.init_high = 1.0;
  p.bias_init = 0.5;
  return physlearn::circuits::build_drn(p, seed);
}

}  // namespace solvers_test
