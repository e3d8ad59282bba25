#include "learning/contrast_step.h"

#include "core/binary.h"
#include "learning/optimizer.h"


namespace physlearn::learning {
namespace {

/// Weight arrays at least this large are stepped by every OpenMP thread (when built with OpenMP).
[[maybe_unused]] constexpr Eigen::Index kParallelEntries = 1 << 16;
/// Columns of the first layer stepped together after their block of the cross term's product:
/// with 784 inputs, a block of the velocity and both halves' conductances is about 600 KB in
/// float32, within a core's L2 cache.
constexpr Eigen::Index kColumnBlock = 64;

/// The momentum step of one stretch of a column: v = c + d (c: carried velocity, d: direction);
/// g <- clip(g - lr v, lo, hi); c <- m v. `direction` is an array expression or a scalar.
template <typename Carried, typename Weights, typename Direction, typename Scalar>
void step_stretch(Carried carried, Weights weights, const Direction& direction, Scalar lr, Scalar m,
                  Scalar lo, Scalar hi) {
  weights = (weights - lr * (carried + direction)).max(lo).min(hi);
  carried = m * (carried + direction);
}

}  // namespace

template <typename Scalar>
ContrastStep<Scalar>::ContrastStep(double momentum, std::vector<double> lr_weights,
                                   std::vector<double> lr_biases, double lr_decay, double g_min,
                                   double g_max)
    : momentum_(static_cast<Scalar>(momentum)),
      lr_weights_(std::move(lr_weights)),
      lr_biases_(std::move(lr_biases)),
      lr_decay_(lr_decay),
      g_min_(static_cast<Scalar>(g_min)),
      g_max_(static_cast<Scalar>(g_max)) {}

template <typename Scalar>
void ContrastStep<Scalar>::apply(std::vector<Matrix>& weights, std::vector<RowVector>& biases,
                                 bool has_biases, const Matrix& input_voltages, const State& a,
                                 const State& b, double scale,
                                 solvers::InputLayerSums<Scalar>* input_sums) {
  const int layers = static_cast<int>(weights.size());
  const Scalar s = static_cast<Scalar>(scale / static_cast<double>(input_voltages.rows()));
  carried_.resize(layers);
  carried_biases_.resize(layers);
  for (int l = 0; l < layers; ++l) {
    Matrix& w = weights[l];
    Matrix& c = carried_[l];
    if (c.rows() != w.rows() || c.cols() != w.cols()) {
      c.setZero(w.rows(), w.cols());
      if (l == 0) {
        sum_.setZero(w.cols());
        sum_vector_ = sum_form_;
      }
    }
    const Matrix& qa = a.layers[l];
    const Matrix& qb = b.layers[l];
    const Scalar lr = static_cast<Scalar>(lr_weights_.at(l));
    post_ = (s / 2) * (qa.array().square().colwise().sum() - qb.array().square().colwise().sum());
    // The cross term, by products accumulating into the carried velocity.
    bool inverted = false;
    const Eigen::Index half = w.rows() / 2;
    if (l == 0) {
      difference_ = qa - qb;
      inverted = solvers::inverted_copies(input_voltages);
      keep_sum_form(inverted);
      if (!inverted) c.noalias() -= s * (input_voltages.transpose() * difference_);
      // Inverted copies: -s U^T (Q_a - Q_b) enters the top half alone (the sum of the halves has
      // none), block by block in the pass below.
    } else {
      const Matrix& pa = a.layers[l - 1];
      const Matrix& pb = b.layers[l - 1];
      c.noalias() -= s * (pa.transpose() * qa);
      c.noalias() += s * (pb.transpose() * qb);
      pre_ = (s / 2) * (pa.array().square().colwise().sum() - pb.array().square().colwise().sum())
                           .transpose();
    }
    const bool fill_sums = l == 0 && input_sums;
    if (fill_sums) input_sums->shape(w.rows(), w.cols(), inverted);
    // One pass over the columns: add pre + post, step, clip. The columns are independent.
    auto step_column = [&](Eigen::Index i) {
      auto cc = c.col(i).array();
      auto wc = w.col(i).array();
      const Scalar post = post_(i);
      if (inverted) {
        // top: the top half's carried velocity with its cross term; sum: both halves' carried
        // velocities. Bottom velocity: c_bottom + s U^T (Q_a - Q_b) + post = sum - top + post.
        auto top = cc.head(half);
        wc.head(half) = (wc.head(half) - lr * (top + post)).max(g_min_).min(g_max_);
        if (sum_vector_) {
          Scalar& sum = sum_(i);
          wc.tail(half) = (wc.tail(half) - lr * (sum - top + post)).max(g_min_).min(g_max_);
          sum = momentum_ * (sum + 2 * post);
        } else {
          auto sum = cc.tail(half);
          wc.tail(half) = (wc.tail(half) - lr * (sum - top + post)).max(g_min_).min(g_max_);
          sum = momentum_ * (sum + 2 * post);
        }
        top = momentum_ * (top + post);
      } else if (l == 0) {
        step_stretch(cc, wc, post, lr, momentum_, g_min_, g_max_);
      } else {
        step_stretch(cc, wc, pre_.array() + post, lr, momentum_, g_min_, g_max_);
      }
      if (fill_sums) input_sums->fill(i, w.col(i), inverted);
    };
    // Inverted copies: the cross term's product and the pass go block by block of columns, so
    // that a block of the top half's velocity is stepped while its product's result is still in
    // cache (the velocity is read and written once from memory, not twice). With OpenMP, each
    // thread takes a fixed share of the blocks (or columns).
    const Eigen::Index block = inverted ? kColumnBlock : 1;
    const Eigen::Index blocks = (w.cols() + block - 1) / block;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (w.size() >= kParallelEntries)
#endif
    for (Eigen::Index k = 0; k < blocks; ++k) {
      const Eigen::Index first = k * block, n = std::min(block, w.cols() - first);
      if (inverted)
        c.topRows(half).middleCols(first, n).noalias() -=
            s * (input_voltages.leftCols(half).transpose() * difference_.middleCols(first, n));
      for (Eigen::Index i = first; i < first + n; ++i) step_column(i);
    }
    if (fill_sums) input_sums->valid = true;
    if (!has_biases) continue;
    RowVector& cb = carried_biases_[l];
    if (cb.size() != biases[l].size()) cb.setZero(biases[l].size());
    const Scalar lr_bias = static_cast<Scalar>(lr_biases_.at(l));
    bias_direction_ = -s * (qa - qb).colwise().sum();
    biases[l] -= lr_bias * (cb + bias_direction_);
    cb = momentum_ * (cb + bias_direction_);
  }
}

template <typename Scalar>
void ContrastStep<Scalar>::keep_sum_form(bool sum_form) {
  if (sum_form == sum_form_) return;
  Matrix& c = carried_[0];
  const Eigen::Index half = c.rows() / 2;
  if (sum_form) {
    c.bottomRows(half) += c.topRows(half);
    use_sum_vector();
  } else {
    if (sum_vector_) c.bottomRows(half).rowwise() = sum_;
    c.bottomRows(half) -= c.topRows(half);
    sum_vector_ = false;
  }
  sum_form_ = sum_form;
}

template <typename Scalar>
void ContrastStep<Scalar>::use_sum_vector() {
  // The sum of the halves' directions is the same in every row of a column (pre = 0 and the
  // cross term cancels), so from a column-constant start (zero, at the first step) it stays one:
  // one value per column.
  const Matrix& c = carried_[0];
  const Eigen::Index half = c.rows() / 2;
  sum_vector_ = false;
  if (half == 0) return;
  auto sum = c.bottomRows(half);
  for (Eigen::Index r = 1; r < half; ++r)
    if ((sum.row(r).array() != sum.row(0).array()).any()) return;
  sum_ = sum.row(0);
  sum_vector_ = true;
}

template <typename Scalar>
void ContrastStep<Scalar>::end_epoch() {
  for (double& r : lr_weights_) r *= lr_decay_;
  for (double& r : lr_biases_) r *= lr_decay_;
}

template <typename Scalar>
json ContrastStep<Scalar>::state() const {
  // The first layer's sum of the halves is written out as its full array.
  std::vector<Matrix> carried_state = carried_;
  if (sum_vector_ && !carried_state.empty()) {
    Matrix& c = carried_state[0];
    c.bottomRows(c.rows() / 2).rowwise() = sum_;
  }
  json out = write_optimizer_state(lr_weights_, lr_biases_, "carried", carried_state,
                                   "carried_biases", carried_biases_);
  out["sum_form"] = sum_form_;
  return out;
}

template <typename Scalar>
void ContrastStep<Scalar>::set_state(const json& state, const std::string& where) {
  const json& sum_form = member(state, "sum_form", where);
  if (!sum_form.is_boolean()) throw Error(where + ".sum_form: must be true or false");
  // The momentum arrays are made at the first step: as many as the checkpoint holds (0 or one
  // per layer).
  read_optimizer_state(state, where, lr_weights_, lr_biases_, "carried", carried_,
                       "carried_biases", carried_biases_);
  sum_form_ = sum_form.get<bool>();
  sum_vector_ = false;
  if (sum_form_ && !carried_.empty()) use_sum_vector();
}

template class ContrastStep<double>;
template class ContrastStep<float>;

}  // namespace physlearn::learning
