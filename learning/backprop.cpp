#include "learning/backprop.h"

#include <cmath>
#include <random>

namespace physlearn::learning {

ReluNetwork::ReluNetwork(const std::vector<int>& sizes, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0xB5C0FBCFEC4D3B2Full);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double s = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
    Eigen::MatrixXd w(sizes[l], sizes[l + 1]);
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = s * (2.0 * unit(rng) - 1.0);
    weights.push_back(std::move(w));
    biases.push_back(Eigen::RowVectorXd::Zero(sizes[l + 1]));
    weight_gradients.push_back(Eigen::MatrixXd::Zero(sizes[l], sizes[l + 1]));
    bias_gradients.push_back(Eigen::RowVectorXd::Zero(sizes[l + 1]));
  }
  activations_.resize(sizes.size());
}

long ReluNetwork::num_parameters() const {
  long n = 0;
  for (std::size_t l = 0; l < weights.size(); ++l) n += weights[l].size() + biases[l].size();
  return n;
}

const Eigen::MatrixXd& ReluNetwork::forward(const Eigen::MatrixXd& inputs) {
  activations_[0] = inputs;
  for (int l = 0; l < num_layers(); ++l) {
    Eigen::MatrixXd& a = activations_[l + 1];
    a.noalias() = activations_[l] * weights[l];
    a.rowwise() += biases[l];
    if (l + 1 < num_layers()) a = a.cwiseMax(0.0);
  }
  return activations_.back();
}

void ReluNetwork::backward(const Eigen::MatrixXd& targets) {
  const double batch = static_cast<double>(targets.rows());
  delta_ = (activations_.back() - targets) / batch;  // dL/da of the linear output layer
  for (int l = num_layers() - 1; l >= 0; --l) {
    weight_gradients[l].noalias() = activations_[l].transpose() * delta_;
    bias_gradients[l] = delta_.colwise().sum();
    if (l > 0) {
      Eigen::MatrixXd back = delta_ * weights[l].transpose();
      // ReLU derivative: 1 where the unit was active.
      delta_ = (activations_[l].array() > 0.0).select(back, 0.0);
    }
  }
}

}  // namespace physlearn::learning
