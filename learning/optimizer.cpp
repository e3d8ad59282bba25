#include "learning/optimizer.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/binary.h"

namespace physlearn::learning {

SgdMomentum::SgdMomentum(double momentum, std::vector<double> lr_weights,
                         std::vector<double> lr_biases, double lr_decay)
    : momentum_(momentum),
      lr_weights_(std::move(lr_weights)),
      lr_biases_(std::move(lr_biases)),
      lr_decay_(lr_decay),
      velocity_weights_(lr_weights_.size()),
      velocity_biases_(lr_biases_.size()) {}

double SgdMomentum::lr(int layer, bool is_bias) const {
  return is_bias ? lr_biases_.at(layer) : lr_weights_.at(layer);
}

const Eigen::MatrixXd& SgdMomentum::step(int layer, bool is_bias, const Eigen::MatrixXd& gradient) {
  Eigen::MatrixXd& velocity = is_bias ? velocity_biases_.at(layer) : velocity_weights_.at(layer);
  if (velocity.rows() != gradient.rows() || velocity.cols() != gradient.cols())
    velocity = Eigen::MatrixXd::Zero(gradient.rows(), gradient.cols());
  velocity = momentum_ * velocity + gradient;
  step_ = -lr(layer, is_bias) * velocity;
  return step_;
}

void SgdMomentum::apply(int layer, bool is_bias, const Eigen::Ref<const Eigen::MatrixXd>& gradient,
                        Eigen::Ref<Eigen::MatrixXd> params, double lo, double hi) {
  Eigen::MatrixXd& velocity = is_bias ? velocity_biases_.at(layer) : velocity_weights_.at(layer);
  if (velocity.rows() != gradient.rows() || velocity.cols() != gradient.cols())
    velocity = Eigen::MatrixXd::Zero(gradient.rows(), gradient.cols());
  const double rate = lr(layer, is_bias), m = momentum_;
  const Eigen::Index n = velocity.size();
  double* v = velocity.data();
  double* w = params.data();
  const double* g = gradient.data();
  for (Eigen::Index i = 0; i < n; ++i) {
    v[i] = m * v[i] + g[i];
    w[i] = std::min(hi, std::max(lo, w[i] - rate * v[i]));
  }
}

void SgdMomentum::end_epoch() {
  for (double& r : lr_weights_) r *= lr_decay_;
  for (double& r : lr_biases_) r *= lr_decay_;
}

json SgdMomentum::state() const {
  return {{"lr_weights", encode_array(lr_weights_.data(), lr_weights_.size())},
          {"lr_biases", encode_array(lr_biases_.data(), lr_biases_.size())},
          {"velocity_weights", encode_matrices(velocity_weights_)},
          {"velocity_biases", encode_matrices(velocity_biases_)}};
}

void SgdMomentum::set_state(const json& state, const std::string& where) {
  lr_weights_ = decode_array<double>(member(state, "lr_weights", where), lr_weights_.size(),
                                     where + ".lr_weights");
  lr_biases_ = decode_array<double>(member(state, "lr_biases", where), lr_biases_.size(),
                                    where + ".lr_biases");
  decode_matrices(member(state, "velocity_weights", where), velocity_weights_, false,
                  where + ".velocity_weights");
  decode_matrices(member(state, "velocity_biases", where), velocity_biases_, false,
                  where + ".velocity_biases");
}

}  // namespace physlearn::learning
