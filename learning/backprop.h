#pragma once
/// The digital baseline: a conventional feed-forward network with the same layer sizes as the
/// resistive network (raw inputs, hidden layers, outputs; signed weights, so no inverted input
/// copies), ReLU hidden units, linear outputs, the same loss 1/2 ||o - y||^2, trained by backprop
/// with the same optimiser, data order, epochs and batch size, in float64 or float32 (the
/// experiment's solver.precision: float32 by default, as the circuit's fused path, so that
/// comparisons are like for like).
///   h_0 = x;  a_l = h_{l-1} W_l + b_l;  h_l = relu(a_l) (linear for the last layer).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace physlearn::learning {

template <typename Scalar>
class BasicReluNetwork {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

  /// sizes: inputs, hidden..., outputs. Weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (the
  /// PyTorch nn.Linear default; drawn in float64 whatever the precision), biases 0; seeded.
  BasicReluNetwork(const std::vector<int>& sizes, std::uint64_t seed);

  /// Outputs for a batch (batch x inputs).
  const Matrix& forward(const Matrix& inputs);
  /// Gradient of the batch-mean loss after forward() on the same batch.
  void backward(const Matrix& targets);

  int num_layers() const { return static_cast<int>(weights.size()); }
  long num_parameters() const;

  std::vector<Matrix> weights;  ///< fan_in x fan_out
  std::vector<RowVector> biases;
  std::vector<Matrix> weight_gradients;
  std::vector<RowVector> bias_gradients;

 private:
  std::vector<Matrix> activations_;  ///< h_0 .. h_L
  Matrix delta_, back_;
};

using ReluNetwork = BasicReluNetwork<double>;

extern template class BasicReluNetwork<double>;
extern template class BasicReluNetwork<float>;

}  // namespace physlearn::learning
