#include "learning/executor.h"

#include "learning/physics.h"

namespace physlearn::learning {
namespace {

/// The direction of `plan` from the states of its phases.
void contrast(const PhasePlan& plan, const circuits::LayeredNetwork& net,
              const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
              const std::vector<solvers::LayeredState>& states, ParameterGradient& direction) {
  if (plan.exact)
    direction = exact_gradient(net, input_voltages, states[0], targets);
  else
    energy_contrast(net, input_voltages, states[plan.a], states[plan.b], plan.scale, direction);
}

void run(const PhasePlan& plan, const circuits::LayeredNetwork& net,
         solvers::EquilibriumSolver& solver, const Eigen::MatrixXd& input_voltages,
         const Eigen::MatrixXd& targets, std::vector<solvers::LayeredState>& states,
         std::vector<Eigen::MatrixXd>& clamps, ParameterGradient& direction) {
  solver.set_inputs(net, input_voltages);
  states.resize(plan.phases.size());
  states[0] = solvers::LayeredState::zeros(net, input_voltages.rows());
  run_layered_plan(plan, targets, states, clamps,
                   [&](const solvers::PhaseNudge& nudge, solvers::LayeredState& state) {
                     solver.relax(net, nudge, state);
                   });
  contrast(plan, net, input_voltages, targets, states, direction);
}

class LayeredExecutor final : public PhaseExecutor {
 public:
  explicit LayeredExecutor(std::unique_ptr<solvers::EquilibriumSolver> solver)
      : solver_(std::move(solver)), recorder_(*solver_) {}

  std::string name() const override { return solver_->name(); }

  void direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                 const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
                 Eigen::MatrixXd& free_outputs, ParameterGradient& direction) override {
    run(plan, net, recorder_, input_voltages, targets, states_, clamps_, direction);
    free_outputs = states_[0].outputs();
  }

  void predict(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
               Eigen::MatrixXd& outputs) override {
    auto state = solvers::LayeredState::zeros(net, input_voltages.rows());
    solver_->set_inputs(net, input_voltages);
    solver_->relax(net, solvers::PhaseNudge::free(), state);
    outputs = state.outputs();
  }

  json take_physics(const std::vector<int>& digital_sizes, double energy_per_mac) override {
    return recorder_.take(digital_sizes, energy_per_mac);
  }

  const solvers::LayeredState* free_state() const override {
    return states_.empty() ? nullptr : &states_[0];
  }

 private:
  std::unique_ptr<solvers::EquilibriumSolver> solver_;
  PhysicsRecorder recorder_;  ///< the training steps' relax calls go through it
  std::vector<solvers::LayeredState> states_;
  std::vector<Eigen::MatrixXd> clamps_;
};

}  // namespace

std::unique_ptr<PhaseExecutor> make_layered_executor(
    std::unique_ptr<solvers::EquilibriumSolver> solver) {
  return std::make_unique<LayeredExecutor>(std::move(solver));
}

void layered_direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                       solvers::EquilibriumSolver& solver, const Eigen::MatrixXd& input_voltages,
                       const Eigen::MatrixXd& targets, solvers::LayeredState& free,
                       ParameterGradient& direction) {
  std::vector<solvers::LayeredState> states;
  std::vector<Eigen::MatrixXd> clamps;
  run(plan, net, solver, input_voltages, targets, states, clamps, direction);
  free = states[0];
}

}  // namespace physlearn::learning
