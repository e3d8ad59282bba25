#pragma once
/// Stochastic gradient descent with momentum on the parameters of a network, a learning rate per
/// layer (weights and biases apart) decayed geometrically after every epoch:
///   velocity <- momentum * velocity + gradient;  step = -lr * velocity.
#include <Eigen/Dense>
#include <vector>

namespace physlearn::learning {

class SgdMomentum {
 public:
  SgdMomentum(double momentum, std::vector<double> lr_weights, std::vector<double> lr_biases,
              double lr_decay);

  /// The step for parameter block `block` of layer `layer` (is_bias selects the rate):
  /// updates that block's velocity with `gradient` and returns -lr * velocity.
  const Eigen::MatrixXd& step(int layer, bool is_bias, const Eigen::MatrixXd& gradient);
  /// Multiplies every learning rate by lr_decay.
  void end_epoch();

  double lr(int layer, bool is_bias) const;

 private:
  double momentum_;
  std::vector<double> lr_weights_;
  std::vector<double> lr_biases_;
  double lr_decay_;
  std::vector<Eigen::MatrixXd> velocity_weights_, velocity_biases_;
  Eigen::MatrixXd step_;
};

}  // namespace physlearn::learning
