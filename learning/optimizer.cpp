#include "learning/optimizer.h"

#include <algorithm>


namespace physlearn::learning {

template <typename Scalar>
BasicSgdMomentum<Scalar>::BasicSgdMomentum(double momentum, std::vector<double> lr_weights,
                                           std::vector<double> lr_biases, double lr_decay)
    : momentum_(momentum),
      lr_weights_(std::move(lr_weights)),
      lr_biases_(std::move(lr_biases)),
      lr_decay_(lr_decay),
      velocity_weights_(lr_weights_.size()),
      velocity_biases_(lr_biases_.size()) {}

template <typename Scalar>
double BasicSgdMomentum<Scalar>::lr(int layer, bool is_bias) const {
  return is_bias ? lr_biases_.at(layer) : lr_weights_.at(layer);
}

template <typename Scalar>
const typename BasicSgdMomentum<Scalar>::Matrix& BasicSgdMomentum<Scalar>::step(
    int layer, bool is_bias, const Matrix& gradient) {
  Matrix& velocity = is_bias ? velocity_biases_.at(layer) : velocity_weights_.at(layer);
  if (velocity.rows() != gradient.rows() || velocity.cols() != gradient.cols())
    velocity = Matrix::Zero(gradient.rows(), gradient.cols());
  velocity = static_cast<Scalar>(momentum_) * velocity + gradient;
  step_ = static_cast<Scalar>(-lr(layer, is_bias)) * velocity;
  return step_;
}

template <typename Scalar>
void BasicSgdMomentum<Scalar>::apply(int layer, bool is_bias,
                                     const Eigen::Ref<const Matrix>& gradient,
                                     Eigen::Ref<Matrix> params, double lo, double hi) {
  Matrix& velocity = is_bias ? velocity_biases_.at(layer) : velocity_weights_.at(layer);
  if (velocity.rows() != gradient.rows() || velocity.cols() != gradient.cols())
    velocity = Matrix::Zero(gradient.rows(), gradient.cols());
  const Scalar rate = static_cast<Scalar>(lr(layer, is_bias)), m = static_cast<Scalar>(momentum_);
  const Scalar low = static_cast<Scalar>(lo), high = static_cast<Scalar>(hi);
  const Eigen::Index n = velocity.size();
  Scalar* v = velocity.data();
  Scalar* w = params.data();
  const Scalar* g = gradient.data();
  for (Eigen::Index i = 0; i < n; ++i) {
    v[i] = m * v[i] + g[i];
    w[i] = std::min(high, std::max(low, w[i] - rate * v[i]));
  }
}

template <typename Scalar>
void BasicSgdMomentum<Scalar>::end_epoch() {
  for (double& r : lr_weights_) r *= lr_decay_;
  for (double& r : lr_biases_) r *= lr_decay_;
}

template <typename Scalar>
json BasicSgdMomentum<Scalar>::state() const {
  return write_optimizer_state(lr_weights_, lr_biases_, "velocity_weights", velocity_weights_,
                               "velocity_biases", velocity_biases_);
}

template <typename Scalar>
void BasicSgdMomentum<Scalar>::set_state(const json& state, const std::string& where) {
  read_optimizer_state(state, where, lr_weights_, lr_biases_, "velocity_weights",
                       velocity_weights_, "velocity_biases", velocity_biases_);
  // One velocity per layer; a layer's is made at its first step when the checkpoint has none.
  velocity_weights_.resize(lr_weights_.size());
  velocity_biases_.resize(lr_biases_.size());
}

template class BasicSgdMomentum<double>;
template class BasicSgdMomentum<float>;

}  // namespace physlearn::learning
