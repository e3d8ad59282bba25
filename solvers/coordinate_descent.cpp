#include "solvers/coordinate_descent.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/error.h"

namespace physlearn::solvers {

template <typename Scalar>
BlockCoordinateDescent<Scalar>::BlockCoordinateDescent(int sweeps, double tolerance, int max_sweeps)
    : sweeps_(sweeps), tolerance_(tolerance), max_sweeps_(max_sweeps) {}

template <typename Scalar>
void BlockCoordinateDescent<Scalar>::set_inputs(const LayeredArrays<Scalar>& net,
                                                const Matrix& input_voltages) {
  const int layers = static_cast<int>(net.weights.size());
  const Matrix& first = net.weights[0];
  conductance_sums_.resize(layers);
  numerators_.resize(layers);
  // The inputs are clamped in every phase: their drive into the first layer is computed once.
  const bool inverted = net.inverted_inputs && inverted_copies(input_voltages);
  const InputLayerSums<Scalar>* sums = net.input_sums;
  if (!sums || !sums->valid || (sums->difference.size() > 0) != inverted) {
    own_sums_.shape(first.rows(), first.cols(), inverted);
    for (Eigen::Index i = 0; i < first.cols(); ++i) own_sums_.fill(i, first.col(i), inverted);
    sums = &own_sums_;
  }
  if (inverted)
    input_drive_.noalias() = input_voltages.leftCols(first.rows() / 2) * sums->difference;
  else
    input_drive_.noalias() = input_voltages * first;
  conductance_sums_[0] = sums->totals;
  if (net.has_biases) input_drive_.rowwise() += net.biases[0];
  for (int l = 0; l < layers; ++l) {
    if (l > 0) conductance_sums_[l] = net.weights[l].colwise().sum();
    if (l + 1 < layers) conductance_sums_[l] += net.weights[l + 1].rowwise().sum().transpose();
  }
}

template <typename Scalar>
double BlockCoordinateDescent<Scalar>::update_layer(const LayeredArrays<Scalar>& net,
                                                    const Nudge& nudge, int layer, State& state) {
  const int last = static_cast<int>(net.weights.size()) - 1;
  Matrix& v = state.layers[layer];
  // Numerator: currents the neighbours drive through their conductances, plus the bias.
  Matrix& numerator = numerators_[layer];
  if (layer == 0) {
    numerator = input_drive_;  // biases included
  } else {
    numerator.noalias() = state.layers[layer - 1] * net.weights[layer];
    if (net.has_biases) numerator.rowwise() += net.biases[layer];
  }
  if (layer < last)
    numerator.noalias() += state.layers[layer + 1] * net.weights[layer + 1].transpose();
  const bool nudged = layer == last && nudge.beta != 0.0;
  if (nudged) numerator += static_cast<Scalar>(nudge.beta) * *nudge.targets;
  const Scalar extra = nudged ? static_cast<Scalar>(nudge.beta) : Scalar(0);
  const auto& polarity = net.polarity[layer];
  constexpr Scalar kInfinity = std::numeric_limits<Scalar>::infinity();
  const Eigen::Index batch = v.rows();
  // Column by column (a unit of the layer for the whole batch): scale by the inverse total
  // conductance, project onto the diode's side, track the change. Plain loops over the batch
  // that vectorise, with no reduction per column.
  change_.setZero(batch);
  for (Eigen::Index i = 0; i < v.cols(); ++i) {
    const Scalar d = conductance_sums_[layer](i) + extra;
    if (d < 0 || (d == 0 && nudged))
      throw SolverError(cat("layered solver: output ", i, " has total conductance ", d,
                            " with the nudge beta = ", nudge.beta,
                            ": the nudged energy has no minimum (|beta| too large)"));
    const Scalar inverse = d > 0 ? Scalar(1) / d : Scalar(0);  // an isolated node stays at 0 V
    const Scalar low = polarity(i) > 0 ? Scalar(0) : -kInfinity;
    const Scalar high = polarity(i) < 0 ? Scalar(0) : kInfinity;
    const Scalar* x = numerator.col(i).data();
    Scalar* out = v.col(i).data();
    Scalar* worst = change_.data();
    for (Eigen::Index b = 0; b < batch; ++b) {
      const Scalar updated = std::min(high, std::max(low, x[b] * inverse));
      worst[b] = std::max(worst[b], std::abs(updated - out[b]));
      out[b] = updated;
    }
  }
  const Scalar change = batch > 0 ? change_.maxCoeff() : Scalar(0);
  return static_cast<double>(change);
}

template <typename Scalar>
void BlockCoordinateDescent<Scalar>::relax(const LayeredArrays<Scalar>& net, const Nudge& nudge,
                                           State& state) {
  const Eigen::Index batch = input_drive_.rows();
  if (batch == 0 || state.layers.front().rows() != batch)
    throw std::logic_error("BlockCoordinateDescent: relax without set_inputs for this batch");
  if (nudge.beta != 0.0 && (!nudge.targets || nudge.targets->rows() != batch))
    throw std::logic_error("BlockCoordinateDescent: nudge without targets for the batch");
  const int layers = static_cast<int>(net.weights.size());
  // Clamped outputs are held by sources: set once, never relaxed.
  const int relaxed = nudge.clamp ? layers - 1 : layers;
  if (nudge.clamp) {
    if (nudge.clamp->rows() != batch || nudge.clamp->cols() != state.layers.back().cols())
      throw std::logic_error("BlockCoordinateDescent: clamp of the wrong shape");
    state.layers.back() = *nudge.clamp;
  }
  const int limit = tolerance_ > 0.0 ? max_sweeps_ : sweeps_;
  last_sweeps_ = 0;
  for (int sweep = 0; sweep < limit; ++sweep) {
    double change = 0.0;
    for (int parity = 0; parity < 2; ++parity)
      for (int l = parity; l < relaxed; l += 2)
        change = std::max(change, update_layer(net, nudge, l, state));
    ++last_sweeps_;
    if (tolerance_ > 0.0 && change < tolerance_) return;
  }
  if (tolerance_ > 0.0)
    throw SolverError(cat("layered solver: no convergence to tolerance ", tolerance_, " V in ",
                          max_sweeps_, " sweeps (raise solver.max_sweeps)"));
}

template class BlockCoordinateDescent<double>;
template class BlockCoordinateDescent<float>;

}  // namespace physlearn::solvers
