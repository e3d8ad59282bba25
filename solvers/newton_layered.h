#pragma once
/// A layered network solved as a circuit: the network is lowered once (circuits/drn.h), and every
/// sample of a mini-batch is a Newton solve of that circuit with its own source values and nudge.
/// Slower than the layered solver, but it handles Shockley diodes and checks the layered solver.
#include <memory>

#include "solvers/equilibrium.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

/// Newton's tolerances from the solver section (newton_abstol, newton_vntol, newton_max_iterations).
NewtonOptions newton_options(const SolverParams& params);

std::unique_ptr<EquilibriumSolver> make_newton_layered_solver(const SolverParams& params,
                                                              const circuits::LayeredNetwork& net);

}  // namespace physlearn::solvers
