#pragma once
/// Learning on crossbars: every phase solved by Newton on the full crossbar circuit (wires and
/// access resistors included, circuits/crossbar.h), and each device's update computed from the
/// drop across that device alone: what a crossbar trained in situ by its own physics does, IR drop
/// included.
#include <Eigen/Dense>
#include <memory>

#include "circuits/crossbar.h"
#include "learning/gradient.h"
#include "learning/rules.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

class CrossbarPhases {
 public:
  /// `g_unit`: siemens per network unit (resolved). Newton's tolerances come from `solver`.
  /// Throws ConfigError for a rule that needs the layered view ("exact").
  CrossbarPhases(const circuits::LayeredNetwork& net, const circuits::CrossbarParams& params,
                 double g_unit, const solvers::SolverParams& solver, const Rule& rule);
  ~CrossbarPhases();
  CrossbarPhases(const CrossbarPhases&) = delete;
  CrossbarPhases& operator=(const CrossbarPhases&) = delete;

  /// Free-phase outputs of a batch (batch x outputs) for source voltages `input_voltages`.
  void predict(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
               Eigen::MatrixXd& outputs);
  /// The rule's phases for every sample of the batch, and its update direction from the device
  /// drops: sum over the batch of scale * 1/2 (dV_a^2 - dV_b^2) / batch per device, and
  /// -scale (v_a - v_b) / batch per bias, like learning/gradient.h's energy_contrast.
  /// `free_outputs` receives the free phase's outputs.
  void direction(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
                 const Eigen::MatrixXd& targets, Eigen::MatrixXd& free_outputs,
                 ParameterGradient& direction);

  /// Newton iterations used since the last call.
  long take_iterations();
  /// The circuit (for export and checks).
  const circuits::LoweredCrossbar& circuit() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace physlearn::learning
