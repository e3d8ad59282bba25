#include "learning/gradient.h"

#include <Eigen/Cholesky>

namespace physlearn::learning {

ParameterGradient ParameterGradient::zeros_like(const circuits::LayeredNetwork& net) {
  ParameterGradient g;
  for (const auto& w : net.weights) g.weights.push_back(Eigen::MatrixXd::Zero(w.rows(), w.cols()));
  for (const auto& b : net.biases)
    g.biases.push_back(Eigen::RowVectorXd::Zero(net.has_biases ? b.size() : 0));
  return g;
}

Eigen::VectorXd ParameterGradient::flatten_layer(int layer) const {
  const auto& w = weights[layer];
  const auto& b = biases[layer];
  Eigen::VectorXd out(w.size() + b.size());
  out.head(w.size()) = Eigen::Map<const Eigen::VectorXd>(w.data(), w.size());
  out.tail(b.size()) = b.transpose();
  return out;
}

Eigen::VectorXd ParameterGradient::flatten() const {
  Eigen::Index n = 0;
  for (std::size_t l = 0; l < weights.size(); ++l) n += weights[l].size() + biases[l].size();
  Eigen::VectorXd out(n);
  Eigen::Index k = 0;
  for (const auto& w : weights) {
    out.segment(k, w.size()) = Eigen::Map<const Eigen::VectorXd>(w.data(), w.size());
    k += w.size();
  }
  for (const auto& b : biases) {
    out.segment(k, b.size()) = b.transpose();
    k += b.size();
  }
  return out;
}

double batch_loss(const Eigen::MatrixXd& outputs, const Eigen::MatrixXd& targets) {
  return 0.5 * (outputs - targets).squaredNorm() / static_cast<double>(outputs.rows());
}

void energy_contrast(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
                     const solvers::LayeredState& a, const solvers::LayeredState& b, double scale,
                     ParameterGradient& out) {
  const double batch = static_cast<double>(input_voltages.rows());
  const double s = scale / batch;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const Eigen::MatrixXd& qa = a.layers[l];
    const Eigen::MatrixXd& qb = b.layers[l];
    Eigen::MatrixXd& w = out.weights[l];
    // sum_b 1/2 (p_j - q_i)^2 = 1/2 sum_b p_j^2 - sum_b p_j q_i + 1/2 sum_b q_i^2
    const Eigen::RowVectorXd post = 0.5 * (qa.array().square().colwise().sum() -
                                           qb.array().square().colwise().sum()).matrix();
    if (l == 0) {
      // The inputs are clamped in both phases: one product of the inputs with the difference.
      w.noalias() = (-s) * input_voltages.transpose() * (qa - qb);
      w.rowwise() += s * post;
    } else {
      const Eigen::MatrixXd& pa = a.layers[l - 1];
      const Eigen::MatrixXd& pb = b.layers[l - 1];
      w.noalias() = (-s) * pa.transpose() * qa;
      w.noalias() += s * pb.transpose() * qb;
      const Eigen::VectorXd pre = 0.5 * (pa.array().square().colwise().sum() -
                                         pb.array().square().colwise().sum()).matrix().transpose();
      w.rowwise() += s * post;
      w.colwise() += s * pre;
    }
    if (net.has_biases) out.biases[l] = -s * (qa - qb).colwise().sum();
  }
}

namespace {

/// True where a unit of layer `l` is held at 0 V by its diode at `state` (its unconstrained
/// minimiser lies on the forbidden side).
Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic> clamped_units(
    const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
    const solvers::LayeredState& state, int l) {
  const int last = net.num_weight_layers() - 1;
  const Eigen::MatrixXd& below = l == 0 ? input_voltages : state.layers[l - 1];
  Eigen::MatrixXd numerator = below * net.weights[l];
  if (l < last) numerator += state.layers[l + 1] * net.weights[l + 1].transpose();
  if (net.has_biases) numerator.rowwise() += net.biases[l];
  Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic> clamped(numerator.rows(), numerator.cols());
  for (Eigen::Index i = 0; i < numerator.cols(); ++i)
    for (Eigen::Index b = 0; b < numerator.rows(); ++b) {
      const int p = net.polarity[l](i);
      clamped(b, i) = (p > 0 && numerator(b, i) <= 0.0) || (p < 0 && numerator(b, i) >= 0.0);
    }
  return clamped;
}

}  // namespace

ParameterGradient exact_gradient(const circuits::LayeredNetwork& net,
                                 const Eigen::MatrixXd& input_voltages,
                                 const solvers::LayeredState& free, const Eigen::MatrixXd& targets) {
  const int layers = net.num_weight_layers();
  const Eigen::Index batch = input_voltages.rows();
  // Offsets of each free layer in the stacked unknown vector.
  std::vector<Eigen::Index> offset(layers + 1, 0);
  for (int l = 0; l < layers; ++l) offset[l + 1] = offset[l] + net.sizes[l + 1];
  const Eigen::Index n = offset[layers];

  // Hessian of the energy over all free-layer nodes (a weighted graph Laplacian, grounded at the
  // clamped inputs): H_ii = sum of the node's conductances, H_ik = -g_ik.
  Eigen::MatrixXd hessian = Eigen::MatrixXd::Zero(n, n);
  for (int l = 0; l < layers; ++l) {
    hessian.diagonal().segment(offset[l], net.sizes[l + 1]) += net.weights[l].colwise().sum().transpose();
    if (l + 1 < layers) {
      hessian.diagonal().segment(offset[l], net.sizes[l + 1]) += net.weights[l + 1].rowwise().sum();
      hessian.block(offset[l], offset[l + 1], net.sizes[l + 1], net.sizes[l + 2]) = -net.weights[l + 1];
      hessian.block(offset[l + 1], offset[l], net.sizes[l + 2], net.sizes[l + 1]) =
          -net.weights[l + 1].transpose();
    }
  }
  std::vector<Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>> clamped;
  for (int l = 0; l < layers; ++l) clamped.push_back(clamped_units(net, input_voltages, free, l));

  // Adjoint potentials lambda (batch x units per layer).
  std::vector<Eigen::MatrixXd> lambda;
  for (int l = 0; l < layers; ++l) lambda.push_back(Eigen::MatrixXd::Zero(batch, net.sizes[l + 1]));
  const Eigen::MatrixXd loss_gradient = (free.outputs() - targets) / static_cast<double>(batch);
  for (Eigen::Index b = 0; b < batch; ++b) {
    std::vector<Eigen::Index> keep;
    for (int l = 0; l < layers; ++l)
      for (int i = 0; i < net.sizes[l + 1]; ++i)
        if (!clamped[l](b, i)) keep.push_back(offset[l] + i);
    const Eigen::Index m = static_cast<Eigen::Index>(keep.size());
    Eigen::MatrixXd h(m, m);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(m);
    for (Eigen::Index r = 0; r < m; ++r) {
      for (Eigen::Index c = 0; c < m; ++c) h(r, c) = hessian(keep[r], keep[c]);
      if (keep[r] >= offset[layers - 1]) rhs(r) = loss_gradient(b, keep[r] - offset[layers - 1]);
    }
    Eigen::LDLT<Eigen::MatrixXd> factor(h);
    if (factor.info() != Eigen::Success)
      throw SolverError("exact gradient: the free-state Hessian is singular (a floating node?)");
    const Eigen::VectorXd x = factor.solve(rhs);
    for (Eigen::Index r = 0; r < m; ++r) {
      int l = 0;
      while (keep[r] >= offset[l + 1]) ++l;
      lambda[l](b, keep[r] - offset[l]) = x(r);
    }
  }

  ParameterGradient g = ParameterGradient::zeros_like(net);
  for (int l = 0; l < layers; ++l) {
    const Eigen::MatrixXd& q = free.layers[l];
    const Eigen::MatrixXd& lq = lambda[l];
    Eigen::MatrixXd& w = g.weights[l];
    // -sum_b (lp_j - lq_i)(p_j - q_i) = -[sum lp p]_j - [sum lq q]_i + [lp^T q]_ji + [p^T lq]_ji
    w.noalias() = (l == 0 ? input_voltages : free.layers[l - 1]).transpose() * lq;
    w.rowwise() -= (lq.array() * q.array()).colwise().sum().matrix();
    if (l > 0) {
      const Eigen::MatrixXd& p = free.layers[l - 1];
      const Eigen::MatrixXd& lp = lambda[l - 1];
      w.noalias() += lp.transpose() * q;
      w.colwise() -= (lp.array() * p.array()).colwise().sum().matrix().transpose();
    }
    if (net.has_biases) g.biases[l] = lq.colwise().sum();
  }
  return g;
}

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double na = a.norm(), nb = b.norm();
  if (na == 0.0 || nb == 0.0) return 0.0;
  return a.dot(b) / (na * nb);
}

}  // namespace physlearn::learning
