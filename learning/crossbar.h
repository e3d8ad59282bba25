#pragma once
/// The crossbar view's executor: every phase of a rule's plan solved on the full crossbar circuit
/// (wires and access resistors included, solvers/crossbar_phases.h), and each device's update
/// from the drop across that device alone: what a crossbar trained in situ by its own physics
/// does, IR drop included.
#include <Eigen/Dense>
#include <memory>

#include "circuits/crossbar.h"
#include "learning/executor.h"
#include "solvers/crossbar_phases.h"

namespace physlearn::learning {

class CrossbarExecutor final : public PhaseExecutor {
 public:
  /// `g_unit`: siemens per network unit (resolved); `newton_options` for crossbar.solver
  /// "newton".
  CrossbarExecutor(const circuits::LayeredNetwork& net, const circuits::CrossbarParams& params,
                   double g_unit, const solvers::NewtonOptions& newton_options);

  std::string name() const override { return "crossbar " + solver_name_; }
  /// The plan's phases for every sample of the batch, and its direction from the device drops:
  /// scale / batch times the sum over the batch of 1/2 (dV_a^2 - dV_b^2) per device and
  /// -(v_a - v_b) per bias, as learning/gradient.h's energy_contrast. A plan that needs the
  /// layered view (the exact gradient) is a ConfigError.
  void direction(const PhasePlan& plan, const circuits::LayeredNetwork& net,
                 const Eigen::MatrixXd& input_voltages, const Eigen::MatrixXd& targets,
                 Eigen::MatrixXd& free_outputs, ParameterGradient& direction) override;
  void predict(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
               Eigen::MatrixXd& outputs) override;

  /// Iterations used since the last call.
  long take_iterations() { return solver_.take_iterations(); }
  /// The circuit (for export and checks).
  const circuits::LoweredCrossbar& circuit() const { return solver_.circuit(); }

 private:
  /// The free phase of every sample from the network's state (prepare included), its outputs
  /// into `outputs`; with `device_squares`, the devices' squared drops too.
  void free_phase(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
                  Eigen::MatrixXd& outputs, bool device_squares);
  /// Adds scale * (1/2 (dV_a^2 - dV_b^2), -(v_a - v_b)) summed over the batch to `out`.
  void accumulate(const circuits::LayeredNetwork& net, const solvers::CrossbarStates& a,
                  const solvers::CrossbarStates& b, Eigen::Index batch, double scale,
                  ParameterGradient& out) const;

  solvers::CrossbarSolver solver_;
  std::string solver_name_;
  std::vector<solvers::CrossbarStates> states_;  ///< per phase of the last plan
};

/// Throws the ConfigError of a plan that needs the layered view (the exact gradient) on a
/// crossbar.
void check_crossbar_plan(const PhasePlan& plan);

}  // namespace physlearn::learning
