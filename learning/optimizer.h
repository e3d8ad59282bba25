#pragma once
/// Stochastic gradient descent with momentum on the parameters of a network, a learning rate per
/// layer (weights and biases apart) decayed geometrically after every epoch:
///   velocity <- momentum * velocity + gradient;  step = -lr * velocity.
/// In float64, or float32 (solver.precision) for the backprop baseline.
#include <Eigen/Dense>
#include <vector>

#include "core/binary.h"
#include "core/schema.h"

namespace physlearn::learning {

/// The checkpoint form of an optimiser's state, shared by every optimiser here (SgdMomentum,
/// learning/contrast_step.h's ContrastStep): the learning rates decayed so far, weights and
/// biases apart (keys lr_weights, lr_biases), and its momentum arrays for weights and biases
/// under the optimiser's own keys, bit for bit (core/binary.h).
template <class WeightMatrix, class BiasMatrix>
json write_optimizer_state(const std::vector<double>& lr_weights,
                           const std::vector<double>& lr_biases, const char* weights_key,
                           const std::vector<WeightMatrix>& weights, const char* biases_key,
                           const std::vector<BiasMatrix>& biases) {
  return {{"lr_weights", encode_array(lr_weights.data(), lr_weights.size())},
          {"lr_biases", encode_array(lr_biases.data(), lr_biases.size())},
          {weights_key, encode_matrices(weights)},
          {biases_key, encode_matrices(biases)}};
}

/// Reads what write_optimizer_state wrote into an optimiser made with the same number of layers:
/// the rates must have that count; the momentum arrays are at most one per layer, and each list
/// takes the stored count (an optimiser makes its arrays at its first step). An Error naming
/// `where` and the key otherwise.
template <class WeightMatrix, class BiasMatrix>
void read_optimizer_state(const json& state, const std::string& where,
                          std::vector<double>& lr_weights, std::vector<double>& lr_biases,
                          const char* weights_key, std::vector<WeightMatrix>& weights,
                          const char* biases_key, std::vector<BiasMatrix>& biases) {
  lr_weights = decode_array<double>(member(state, "lr_weights", where), lr_weights.size(),
                                    where + ".lr_weights");
  lr_biases = decode_array<double>(member(state, "lr_biases", where), lr_biases.size(),
                                   where + ".lr_biases");
  const json& w = member(state, weights_key, where);
  const json& b = member(state, biases_key, where);
  if (!w.is_array() || w.size() > lr_weights.size())
    throw Error(where + "." + weights_key + ": must hold at most one matrix per layer");
  if (!b.is_array() || b.size() > lr_biases.size())
    throw Error(where + "." + biases_key + ": must hold at most one matrix per layer");
  weights.resize(w.size());
  biases.resize(b.size());
  decode_matrices(w, weights, false, where + "." + weights_key);
  decode_matrices(b, biases, false, where + "." + biases_key);
}

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
