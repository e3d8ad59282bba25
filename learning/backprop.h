#pragma once
/// The digital baseline: a conventional feed-forward network with the same layer sizes as the
/// resistive network (raw inputs, hidden layers, outputs; signed weights, so no inverted input
/// copies), ReLU hidden units, linear outputs, the same loss 1/2 ||o - y||^2, trained by backprop
/// with the same optimiser, data order, epochs and batch size.
///   h_0 = x;  a_l = h_{l-1} W_l + b_l;  h_l = relu(a_l) (linear for the last layer).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace physlearn::learning {

class ReluNetwork {
 public:
  /// sizes: inputs, hidden..., outputs. Weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (the
  /// PyTorch nn.Linear default), biases 0; seeded.
  ReluNetwork(const std::vector<int>& sizes, std::uint64_t seed);

  /// Outputs for a batch (batch x inputs).
  const Eigen::MatrixXd& forward(const Eigen::MatrixXd& inputs);
  /// Gradient of the batch-mean loss after forward() on the same batch.
  void backward(const Eigen::MatrixXd& targets);

  int num_layers() const { return static_cast<int>(weights.size()); }
  long num_parameters() const;

  std::vector<Eigen::MatrixXd> weights;          ///< fan_in x fan_out
  std::vector<Eigen::RowVectorXd> biases;
  std::vector<Eigen::MatrixXd> weight_gradients;
  std::vector<Eigen::RowVectorXd> bias_gradients;

 private:
  std::vector<Eigen::MatrixXd> activations_;  ///< h_0 .. h_L
  Eigen::MatrixXd delta_;
};

}  // namespace physlearn::learning
