#pragma once
/// A two-phase local rule's update fused with SGD momentum, for ideal devices: the fast path's
/// update (learning/fused_model.h), in float64 or float32.
///
/// The rule's direction for the conductance between unit j of layer l and unit i of layer l+1 is
/// energy_contrast's (learning/gradient.h), with s = scale / batch:
///   d_ji = s [1/2 sum_b (p^a_bj - q^a_bi)^2 - 1/2 sum_b (p^b_bj - q^b_bi)^2]
///        = s (pre_j + post_i - cross_ji),   cross = P_a^T Q_a - P_b^T Q_b,
///   pre_j = 1/2 sum_b (p^a_bj^2 - p^b_bj^2),   post_i = 1/2 sum_b (q^a_bi^2 - q^b_bi^2).
/// Into the first layer both phases see the same inputs X: pre = 0 and cross = X^T (Q_a - Q_b),
/// one product; with inverted input copies X = [U, -U] its halves are +-U^T (Q_a - Q_b), one
/// product of half the size. Biases: d_i = -s sum_b (q^a_bi - q^b_bi).
///
/// The momentum step, as BasicSgdMomentum::apply:
///   v <- m v + d;   g <- clip(g - lr v, g_min, g_max)   (biases unbounded),
/// keeps c = m v ("carried velocity") between steps, so that the cross term's product accumulates
/// straight into c, and one pass over each column then adds pre + post, steps, clips and stores
/// m v. With inverted input copies the first layer's c is kept as its top half and the sum of
/// its two halves: the half-size cross term then enters the top half alone (it cancels from the
/// sum), still by a product accumulating in place, a block of columns at a time, each block
/// stepped while the product's result is in cache. The sum's direction is the same in every row
/// of a column (2 post), so the sum is kept as one value per column. Beyond the products, each
/// weight array and its velocity are read and written once per mini-batch, and the first layer's
/// sums for the next
/// batch's relaxation are taken in the same pass; nothing is allocated once the work arrays have
/// their shapes.
#include <vector>

#include "solvers/layered_state.h"

namespace physlearn::learning {

template <typename Scalar>
class ContrastStep {
 public:
  using Matrix = solvers::MatrixX<Scalar>;
  using RowVector = solvers::RowVectorX<Scalar>;
  using State = solvers::BasicLayeredState<Scalar>;

  /// One learning rate per layer (weights and biases apart), multiplied by lr_decay at every
  /// end_epoch; conductances kept in [g_min, g_max].
  ContrastStep(double momentum, std::vector<double> lr_weights, std::vector<double> lr_biases,
               double lr_decay, double g_min, double g_max);

  /// One step along scale (dE/dtheta(a) - dE/dtheta(b)), the two phases' states of the batch
  /// whose source voltages are `input_voltages`, applied to `weights` and (when has_biases)
  /// `biases`. When `input_sums` is given, it is filled from the new weights[0] in the same pass
  /// (for the next batch's set_inputs).
  void apply(std::vector<Matrix>& weights, std::vector<RowVector>& biases, bool has_biases,
             const Matrix& input_voltages, const State& a, const State& b, double scale,
             solvers::InputLayerSums<Scalar>* input_sums = nullptr);
  /// Multiplies every learning rate by lr_decay.
  void end_epoch();

  /// Learning rates (decayed so far) and momentum arrays, bit for bit, for checkpoints; set_state
  /// restores them into a step made with the same number of layers.
  json state() const;
  void set_state(const json& state, const std::string& where);

 private:
  Scalar momentum_;
  std::vector<double> lr_weights_, lr_biases_;
  double lr_decay_;
  Scalar g_min_, g_max_;
  std::vector<Matrix> carried_;  ///< momentum * velocity, per weight layer
  std::vector<RowVector> carried_biases_;
  /// Keeps carried_[0] as [top half; sum of the halves] (inverted inputs) or as [top; bottom].
  void keep_sum_form(bool sum_form);
  /// In sum form, keeps the sum of the halves as one value per column when it is one.
  void use_sum_vector();

  bool sum_form_ = false;
  bool sum_vector_ = false;  ///< the sum of the halves is sum_ (carried_[0]'s bottom is unused)
  RowVector sum_;
  Matrix difference_;  ///< Q_a - Q_b of the first layer, batch x units
  RowVector post_, bias_direction_;
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> pre_;
};

extern template class ContrastStep<double>;
extern template class ContrastStep<float>;

}  // namespace physlearn::learning
