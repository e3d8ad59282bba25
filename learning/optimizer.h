#pragma once
/// Stochastic gradient descent with momentum on the parameters of a network, a learning rate per
/// layer (weights and biases apart) decayed geometrically after every epoch:
///   velocity <- momentum * velocity + gradient;  step = -lr * velocity.
/// In float64, or float32 (solver.precision) for the backprop baseline.
#include <Eigen/Dense>
#include <vector>

#include "core/schema.h"

namespace physlearn::learning {

template <typename Scalar>
class BasicSgdMomentum {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  BasicSgdMomentum(double momentum, std::vector<double> lr_weights, std::vector<double> lr_biases,
                   double lr_decay);

  /// The step for parameter block `block` of layer `layer` (is_bias selects the rate):
  /// updates that block's velocity with `gradient` and returns -lr * velocity.
  const Matrix& step(int layer, bool is_bias, const Matrix& gradient);
  /// The same step applied in place, in one pass over memory, to parameters kept in [lo, hi]:
  ///   velocity <- momentum velocity + gradient;  params <- clip(params - lr velocity, lo, hi).
  /// This is an ideal device's update, fused so that the hot loop reads each array once.
  void apply(int layer, bool is_bias, const Eigen::Ref<const Matrix>& gradient,
             Eigen::Ref<Matrix> params, double lo, double hi);
  /// Multiplies every learning rate by lr_decay.
  void end_epoch();

  double lr(int layer, bool is_bias) const;
  double momentum() const { return momentum_; }

  /// The learning rates (decayed so far) and velocities, bit for bit, for checkpoints; set_state
  /// restores them into an optimiser made with the same number of layers.
  json state() const;
  void set_state(const json& state, const std::string& where);

 private:
  double momentum_;
  std::vector<double> lr_weights_;
  std::vector<double> lr_biases_;
  double lr_decay_;
  std::vector<Matrix> velocity_weights_, velocity_biases_;
  Matrix step_;
};

using SgdMomentum = BasicSgdMomentum<double>;

extern template class BasicSgdMomentum<double>;
extern template class BasicSgdMomentum<float>;

}  // namespace physlearn::learning
