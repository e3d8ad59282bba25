#include "learning/backprop.h"

#include <cmath>
#include <random>

namespace physlearn::learning {

template <typename Scalar>
BasicReluNetwork<Scalar>::BasicReluNetwork(const std::vector<int>& sizes, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0xB5C0FBCFEC4D3B2Full);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double s = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
    Eigen::MatrixXd w(sizes[l], sizes[l + 1]);
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = s * (2.0 * unit(rng) - 1.0);
    weights.push_back(w.cast<Scalar>());
    biases.push_back(RowVector::Zero(sizes[l + 1]));
    weight_gradients.push_back(Matrix::Zero(sizes[l], sizes[l + 1]));
    bias_gradients.push_back(RowVector::Zero(sizes[l + 1]));
  }
  activations_.resize(sizes.size());
}

template <typename Scalar>
long BasicReluNetwork<Scalar>::num_parameters() const {
  long n = 0;
  for (std::size_t l = 0; l < weights.size(); ++l) n += weights[l].size() + biases[l].size();
  return n;
}

template <typename Scalar>
const typename BasicReluNetwork<Scalar>::Matrix& BasicReluNetwork<Scalar>::forward(
    const Matrix& inputs) {
  activations_[0] = inputs;
  for (int l = 0; l < num_layers(); ++l) {
    Matrix& a = activations_[l + 1];
    a.noalias() = activations_[l] * weights[l];
    a.rowwise() += biases[l];
    if (l + 1 < num_layers()) a = a.cwiseMax(Scalar(0));
  }
  return activations_.back();
}

template <typename Scalar>
void BasicReluNetwork<Scalar>::backward(const Matrix& targets) {
  const Scalar batch = static_cast<Scalar>(targets.rows());
  delta_ = (activations_.back() - targets) / batch;  // dL/da of the linear output layer
  for (int l = num_layers() - 1; l >= 0; --l) {
    weight_gradients[l].noalias() = activations_[l].transpose() * delta_;
    bias_gradients[l] = delta_.colwise().sum();
    if (l > 0) {
      back_.noalias() = delta_ * weights[l].transpose();
      // ReLU derivative: 1 where the unit was active.
      delta_ = (activations_[l].array() > Scalar(0)).select(back_, Scalar(0));
    }
  }
}

template class BasicReluNetwork<double>;
template class BasicReluNetwork<float>;

}  // namespace physlearn::learning
