#pragma once
/// Exact block coordinate descent (Scellier 2024) on a layered network, in float64 or float32.
///
/// Layers do not touch themselves, so each layer is set at once to its exact minimiser given its
/// neighbours,
///   v_i = (sum_j g_ij v_j + b_i [+ beta y_i]) / (sum_j g_ij [+ beta]),
/// then projected onto its diode's constraint (v >= 0 or v <= 0). Odd layers, then even layers,
/// make one sweep. An isolated node (all its conductances zero) is held at 0 V.
///
/// Cost: what is the same in every sweep and phase of a mini-batch is done once, in set_inputs:
/// the inputs' drive into the first layer (the one large product, batch x inputs x hidden) with
/// the first layer's biases, and each node's total conductance. With inverted input copies
/// (v_{n+j} = -v_j exactly) the drive is one product of half the depth,
///   sum_j v_j g_j,i + sum_j (-v_j) g_{n+j},i = sum_j v_j (g_j,i - g_{n+j},i).
/// Those sums come from the owner of the weights when it keeps them (LayeredArrays::input_sums).
/// A sweep then costs the small products between the hidden and output layers; nothing is
/// allocated once the work arrays have their shapes.
#include "solvers/layered_state.h"

namespace physlearn::solvers {

template <typename Scalar>
class BlockCoordinateDescent {
 public:
  using Matrix = MatrixX<Scalar>;
  using State = BasicLayeredState<Scalar>;
  using Nudge = BasicPhaseNudge<Scalar>;

  /// `sweeps` per phase when `tolerance` is 0; else sweeps until the largest change of a sweep
  /// is below `tolerance` (V), at most `max_sweeps`.
  BlockCoordinateDescent(int sweeps, double tolerance, int max_sweeps);

  /// Applies a mini-batch's inputs (source voltages, batch x sizes[0]). The conductances and
  /// biases must not change until the batch's phases are done.
  void set_inputs(const LayeredArrays<Scalar>& net, const Matrix& input_voltages);
  /// Relaxes `state` (the starting point on entry) to the steady state of the phase.
  void relax(const LayeredArrays<Scalar>& net, const Nudge& nudge, State& state);
  /// Sets layer `layer` (index into state.layers) to its exact constrained minimiser. Returns the
  /// largest change.
  double update_layer(const LayeredArrays<Scalar>& net, const Nudge& nudge, int layer,
                      State& state);
  /// Sweeps used by the last relax call.
  long last_sweeps() const { return last_sweeps_; }

 private:
  int sweeps_;
  double tolerance_;
  int max_sweeps_;
  long last_sweeps_ = 0;
  /// Next layers at most this wide feed back through next_transposed_.
  static constexpr Eigen::Index kNarrow = 32;
  /// update_layer, tracking the largest change only when asked (a fixed number of sweeps does
  /// not need it).
  double update(const LayeredArrays<Scalar>& net, const Nudge& nudge, int layer, State& state,
                bool track_change);
  using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
  static constexpr Eigen::Index kPacket = Eigen::internal::unpacket_traits<Packet>::size;
  /// Sets layer `layer` from `base` (what the layers below drive, biases included) and the
  /// narrow next layer's currents, a packet of samples at a time: the next layer's potentials of
  /// those samples stay in registers while every unit of the layer is set.
  void project_narrow(const Matrix& base, int layer, const LayeredArrays<Scalar>& net,
                      State& state);
  /// out = below * transposed^T for a narrow out (transposed: out's columns x below's columns)
  /// and a batch that is a whole number of packets: the sums stay in registers over the units.
  void narrow_product(const Matrix& below, const Matrix& transposed, Matrix& out) const;
  Matrix input_drive_;  ///< input_voltages * weights[0] + biases[0], batch x sizes[1]
  InputLayerSums<Scalar> own_sums_;  ///< computed here when the owner of the weights keeps none
  /// Per free layer, each node's total conductance to its neighbours.
  std::vector<RowVectorX<Scalar>> conductance_sums_;
  std::vector<Matrix> numerators_;  ///< work space, one per layer
  /// Per layer l, weights[l+1] transposed when layer l+1 is narrow (kNarrow); else empty.
  std::vector<Matrix> next_transposed_;
  /// Per hidden layer, 1 / conductance_sums_ (0 where the sum is 0).
  std::vector<RowVectorX<Scalar>> inverse_sums_;
  Eigen::Array<Scalar, Eigen::Dynamic, 1> change_;  ///< per sample, the largest change of a layer
};

extern template class BlockCoordinateDescent<double>;
extern template class BlockCoordinateDescent<float>;

}  // namespace physlearn::solvers
