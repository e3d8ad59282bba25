#pragma once
/// The shapes every layered solver shares, in one precision (float64, or float32 for fast
/// training): the node potentials of a mini-batch, what a phase does at the outputs, and a read-only view of
/// the network's arrays.
#include <Eigen/Dense>
#include <vector>

#include "circuits/drn.h"

namespace physlearn::solvers {

template <typename Scalar>
using MatrixX = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using RowVectorX = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

/// Node potentials of a mini-batch: layers[l] is batch x units of layer l+1 (hidden..., output).
template <typename Scalar>
struct BasicLayeredState {
  std::vector<MatrixX<Scalar>> layers;
  const MatrixX<Scalar>& outputs() const { return layers.back(); }
  /// Zero potentials of the right shapes for `batch` samples.
  static BasicLayeredState zeros(const circuits::LayeredNetwork& net, Eigen::Index batch) {
    BasicLayeredState s;
    for (std::size_t l = 1; l < net.sizes.size(); ++l)
      s.layers.push_back(MatrixX<Scalar>::Zero(batch, net.sizes[l]));
    return s;
  }
};

/// What a phase does at the outputs: nothing (free phase), the current beta (targets - o) injected
/// into them (EP's nudge), or their potentials clamped by voltage sources (CHL, coupled learning).
template <typename Scalar>
struct BasicPhaseNudge {
  double beta = 0.0;
  const MatrixX<Scalar>* targets = nullptr;  ///< batch x outputs; needed when beta != 0
  const MatrixX<Scalar>* clamp = nullptr;    ///< batch x outputs: output potentials held fixed

  static BasicPhaseNudge free() { return {}; }
  static BasicPhaseNudge nudge(double beta, const MatrixX<Scalar>& targets) {
    return {beta, &targets, nullptr};
  }
  static BasicPhaseNudge clamped(const MatrixX<Scalar>& outputs) {
    return {0.0, nullptr, &outputs};
  }
};

/// What set_inputs reads of the first layer's conductances weights[0] (inputs x units): each
/// unit's total conductance to the inputs and, with inverted input copies, the difference of the
/// two halves' conductances (solvers/coordinate_descent.h). A training step that rewrites
/// weights[0] anyway fills these as it goes (learning/contrast_step.h), which spares set_inputs
/// a pass over the largest array of the network.
template <typename Scalar>
struct InputLayerSums {
  RowVectorX<Scalar> totals;  ///< column sums of weights[0]
  MatrixX<Scalar> difference;  ///< inverted copies: top half minus bottom half; else empty
  bool valid = false;          ///< false until filled from the current weights[0]

  /// Fills unit i's entries from its column of weights[0].
  template <typename Column>
  void fill(Eigen::Index i, const Column& column, bool inverted) {
    const Eigen::Index half = column.size() / 2;
    if (inverted) {
      difference.col(i) = column.head(half) - column.tail(half);
      totals(i) = column.head(half).sum() + column.tail(half).sum();
    } else {
      totals(i) = column.sum();
    }
  }
  /// Gives the arrays their shapes for weights[0] of `rows` x `cols`.
  void shape(Eigen::Index rows, Eigen::Index cols, bool inverted) {
    totals.resize(cols);
    if (inverted) difference.resize(rows / 2, cols);
    else difference.resize(0, 0);
  }
};

/// What the relaxation reads of a layered network, in one precision: the network's own float64
/// arrays (arrays_of) or float32 copies kept by a fast training path. A view: it owns nothing.
template <typename Scalar>
struct LayeredArrays {
  const std::vector<MatrixX<Scalar>>& weights;   ///< sizes[l] x sizes[l+1] conductances
  const std::vector<RowVectorX<Scalar>>& biases;  ///< 1 x sizes[l+1] bias currents
  const std::vector<circuits::Polarity>& polarity;
  bool has_biases = true;
  /// The second half of the input sources is the inverted copy of the first (LayeredNetwork).
  bool inverted_inputs = false;
  /// Optional: the first layer's sums, when kept up to date by the owner of the weights.
  const InputLayerSums<Scalar>* input_sums = nullptr;
};

/// True when the second half of the columns (input sources) is exactly the negated first half:
/// the inverted input copies of a LayeredNetwork, which lets the input layer's products run on
/// half the depth.
template <typename Scalar>
bool inverted_copies(const MatrixX<Scalar>& input_voltages) {
  const Eigen::Index n = input_voltages.cols() / 2, rows = input_voltages.rows();
  if (n == 0 || input_voltages.cols() != 2 * n) return false;
  for (Eigen::Index j = 0; j < n; ++j) {  // a column pair at a time, by a loop that vectorises
    const Scalar* v = input_voltages.col(j).data();
    const Scalar* inverted = input_voltages.col(n + j).data();
    bool differ = false;
    for (Eigen::Index r = 0; r < rows; ++r) differ |= inverted[r] != -v[r];
    if (differ) return false;
  }
  return true;
}

inline LayeredArrays<double> arrays_of(const circuits::LayeredNetwork& net) {
  return {net.weights, net.biases, net.polarity, net.has_biases, net.inverted_inputs};
}

}  // namespace physlearn::solvers
