#include "solvers/coordinate_descent.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

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
  // A narrow next layer (the output layer) is fed back by a product of small depth: it runs as a
  // coefficient-wise product on the weights' transpose (contiguous per unit), kept for the batch.
  // Hidden layers' inverse total conductances (an isolated node, 0 S, stays at 0 V).
  inverse_sums_.resize(layers);
  for (int l = 0; l + 1 < layers; ++l) {
    const RowVectorX<Scalar>& total = conductance_sums_[l];
    for (Eigen::Index i = 0; i < total.size(); ++i)
      if (!(total(i) >= 0))
        throw SolverError(cat("layered solver: node ", i, " of hidden layer ", l + 1,
                              " has total conductance ", total(i), " (must be >= 0)"));
    inverse_sums_[l] = (total.array() > 0).select(total.array().inverse(), Scalar(0));
  }
  next_transposed_.resize(layers);
  for (int l = 0; l + 1 < layers; ++l) {
    if (net.weights[l + 1].cols() <= kNarrow) next_transposed_[l] = net.weights[l + 1].transpose();
    else next_transposed_[l].resize(0, 0);
  }
}

template <typename Scalar>
double BlockCoordinateDescent<Scalar>::update_layer(const LayeredArrays<Scalar>& net,
                                                    const Nudge& nudge, int layer, State& state) {
  return update(net, nudge, layer, state, true);
}

template <typename Scalar>
double BlockCoordinateDescent<Scalar>::update(const LayeredArrays<Scalar>& net, const Nudge& nudge,
                                              int layer, State& state, bool track_change) {
  const int last = static_cast<int>(net.weights.size()) - 1;
  Matrix& v = state.layers[layer];
  // Numerator: currents the neighbours drive through their conductances, plus the bias.
  Matrix& numerator = numerators_[layer];
  // A narrow next layer (the output layer): the packed kernel takes its currents, the scaling
  // and the projection in one pass (without the largest change); otherwise the products below.
  const bool packed = layer < last && next_transposed_.at(layer).size() > 0 && !track_change &&
                      v.rows() % kPacket == 0;
  if (layer > 0) {
    // A narrow layer fed by the one below (the output layer): its currents by the packed
    // product on the weights' transpose, which the layer below keeps for its own update.
    const Matrix& transposed = next_transposed_.at(layer - 1);
    if (transposed.size() > 0 && v.rows() % kPacket == 0)
      narrow_product(state.layers[layer - 1], transposed, numerator);
    else
      numerator.noalias() = state.layers[layer - 1] * net.weights[layer];
    if (net.has_biases) numerator.rowwise() += net.biases[layer];
  }
  if (packed) {  // from what the layer below drives (the inputs' drive includes the biases)
    project_narrow(layer == 0 ? input_drive_ : numerator, layer, net, state);
    return 0.0;
  }
  if (layer == 0) numerator = input_drive_;
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
  if (track_change) change_.setZero(batch);
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
    if (track_change) {
      Scalar* worst = change_.data();
      for (Eigen::Index b = 0; b < batch; ++b) {
        const Scalar updated = std::min(high, std::max(low, x[b] * inverse));
        worst[b] = std::max(worst[b], std::abs(updated - out[b]));
        out[b] = updated;
      }
    } else {
      for (Eigen::Index b = 0; b < batch; ++b)
        out[b] = std::min(high, std::max(low, x[b] * inverse));
    }
  }
  const Scalar change = track_change && batch > 0 ? change_.maxCoeff() : Scalar(0);
  return static_cast<double>(change);
}

template <typename Scalar>
void BlockCoordinateDescent<Scalar>::project_narrow(const Matrix& base, int layer,
                                                   const LayeredArrays<Scalar>& net,
                                                   State& state) {
  using Eigen::internal::padd;
  using Eigen::internal::pmadd;
  using Eigen::internal::pmax;
  using Eigen::internal::pmin;
  using Eigen::internal::pmul;
  using Eigen::internal::pset1;
  Matrix& v = state.layers[layer];
  const Matrix& next = state.layers[layer + 1];
  const Matrix& g = next_transposed_[layer];  // next units x this layer's units
  const Eigen::Index batch = v.rows(), units = v.cols(), n = next.cols();
  const auto& polarity = net.polarity[layer];
  constexpr Scalar kInfinity = std::numeric_limits<Scalar>::infinity();
  const Scalar* inverse = inverse_sums_[layer].data();
  Packet next_rows[kNarrow];
  for (Eigen::Index b = 0; b < batch; b += kPacket) {
    // The next layer's potentials for these samples stay in registers for every unit.
    for (Eigen::Index k = 0; k < n; ++k)
      next_rows[k] = Eigen::internal::ploadu<Packet>(next.col(k).data() + b);
    // Units in groups of kGroup, so that their sums are independent chains of multiply-adds.
    auto set_units = [&](Eigen::Index first, auto group) {
      constexpr int kCount = decltype(group)::value;
      Packet x[kCount];
      for (int u = 0; u < kCount; ++u)
        x[u] = pmul(next_rows[0], pset1<Packet>(g(0, first + u)));
      for (Eigen::Index k = 1; k < n; ++k)
        for (int u = 0; u < kCount; ++u)
          x[u] = pmadd(next_rows[k], pset1<Packet>(g(k, first + u)), x[u]);
      for (int u = 0; u < kCount; ++u) {
        // sum_k g_ik v_k, plus the base, scaled, projected.
        const Eigen::Index i = first + u;
        x[u] = padd(Eigen::internal::ploadu<Packet>(base.col(i).data() + b), x[u]);
        const Scalar low = polarity(i) > 0 ? Scalar(0) : -kInfinity;
        const Scalar high = polarity(i) < 0 ? Scalar(0) : kInfinity;
        x[u] = pmin(pset1<Packet>(high),
                    pmax(pset1<Packet>(low), pmul(x[u], pset1<Packet>(inverse[i]))));
        Eigen::internal::pstoreu(v.col(i).data() + b, x[u]);
      }
    };
    constexpr int kGroup = 8;
    Eigen::Index i = 0;
    for (; i + kGroup <= units; i += kGroup) set_units(i, std::integral_constant<int, kGroup>());
    for (; i < units; ++i) set_units(i, std::integral_constant<int, 1>());
  }
}

namespace {

/// out's columns first .. first + G - 1, rows of S interleaved sums over the units of `below`
/// (batch x units) weighted by `transposed` (out's columns x units), C packets of samples at a
/// time starting at row b: the G x C sums stay in registers over all the units.
template <typename Scalar, typename Packet, int C, int G, int S>
void narrow_block(const MatrixX<Scalar>& below, const MatrixX<Scalar>& transposed,
                  Eigen::Index first, Eigen::Index b, MatrixX<Scalar>& out) {
  using Eigen::internal::padd;
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  constexpr Eigen::Index kSize = Eigen::internal::unpacket_traits<Packet>::size;
  const Eigen::Index units = below.cols();
  Packet sum[S][C][G];
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < C; ++c)
      for (int g = 0; g < G; ++g) sum[s][c][g] = pset1<Packet>(Scalar(0));
  auto add_unit = [&](Eigen::Index i, auto split) {
    constexpr int kSplit = decltype(split)::value;
    const Scalar* w = transposed.col(i).data() + first;
    Packet p[C];
    for (int c = 0; c < C; ++c)
      p[c] = Eigen::internal::ploadu<Packet>(below.col(i).data() + b + c * kSize);
    for (int g = 0; g < G; ++g) {
      const Packet wg = pset1<Packet>(w[g]);
      for (int c = 0; c < C; ++c) sum[kSplit][c][g] = pmadd(p[c], wg, sum[kSplit][c][g]);
    }
  };
  Eigen::Index i = 0;
  if constexpr (S == 2) {
    for (; i + 2 <= units; i += 2) {
      add_unit(i, std::integral_constant<int, 0>());
      add_unit(i + 1, std::integral_constant<int, 1>());
    }
  }
  for (; i < units; ++i) add_unit(i, std::integral_constant<int, 0>());
  for (int c = 0; c < C; ++c)
    for (int g = 0; g < G; ++g) {
      Packet total = sum[0][c][g];
      if constexpr (S == 2) total = padd(total, sum[1][c][g]);
      Eigen::internal::pstoreu(out.col(first + g).data() + b + c * kSize, total);
    }
}

template <typename Scalar, typename Packet, int C>
void narrow_rows(const MatrixX<Scalar>& below, const MatrixX<Scalar>& transposed, Eigen::Index b,
                 MatrixX<Scalar>& out) {
  const Eigen::Index n = transposed.rows();
  Eigen::Index k = 0;
  for (; k + 8 <= n; k += 8) narrow_block<Scalar, Packet, C, 8, 1>(below, transposed, k, b, out);
  if (k + 4 <= n) {
    narrow_block<Scalar, Packet, C, 4, (C * 4 <= 8 ? 2 : 1)>(below, transposed, k, b, out);
    k += 4;
  }
  if (k + 2 <= n) {
    narrow_block<Scalar, Packet, C, 2, 2>(below, transposed, k, b, out);
    k += 2;
  }
  if (k < n) narrow_block<Scalar, Packet, C, 1, 2>(below, transposed, k, b, out);
}

}  // namespace

template <typename Scalar>
void BlockCoordinateDescent<Scalar>::narrow_product(const Matrix& below, const Matrix& transposed,
                                                    Matrix& out) const {
  const Eigen::Index batch = below.rows();
  out.resize(batch, transposed.rows());
  Eigen::Index b = 0;
  for (; b + 2 * kPacket <= batch; b += 2 * kPacket)
    narrow_rows<Scalar, Packet, 2>(below, transposed, b, out);
  for (; b < batch; b += kPacket) narrow_rows<Scalar, Packet, 1>(below, transposed, b, out);
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
        change = std::max(change, update(net, nudge, l, state, tolerance_ > 0.0));
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
