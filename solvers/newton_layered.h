#pragma once
/// A layered network solved as a circuit: the network is lowered once (circuits/drn.h), and every
/// sample of a mini-batch is a Newton solve of that circuit with its own source values and nudge.
/// Slower than the layered solver, but it handles Shockley diodes and checks the layered solver.
#include <memory>

#include "solvers/equilibrium.h"
#include "solvers/newton.h"

namespace physlearn::solvers {

/// The options of solver.type "newton" (every key of NewtonOptions, described by
/// describe(Schema&, NewtonOptions&) in solvers/newton.h); NewtonOptions' defaults when the
/// section chose another type.
NewtonOptions newton_options(const SolverParams& params);

/// The "newton" solver type: every sample of a phase is a Newton solve of the lowered circuit.
std::unique_ptr<EquilibriumSolver> make_newton_layered_solver(const NewtonOptions& options,
                                                              const circuits::LayeredNetwork& net);

}  // namespace physlearn::solvers
