#pragma once
/// Gradients with respect to a layered network's parameters (conductances and bias currents), the
/// local energy derivatives learning rules are built from, and the exact gradient of the loss by
/// implicit differentiation at the free equilibrium.
#include <Eigen/Dense>
#include <vector>

#include "circuits/drn.h"
#include "solvers/equilibrium.h"

namespace physlearn::learning {

/// One value per trainable parameter, shaped like the network's weights and biases.
struct ParameterGradient {
  std::vector<Eigen::MatrixXd> weights;
  std::vector<Eigen::RowVectorXd> biases;  ///< empty rows when the network has no biases

  static ParameterGradient zeros_like(const circuits::LayeredNetwork& net);
  /// All entries in one vector: weights layer by layer (column-major), then biases.
  Eigen::VectorXd flatten() const;
  /// The same for one layer's weights and biases.
  Eigen::VectorXd flatten_layer(int layer) const;
};

/// Mean squared-error loss of a batch, 1/B sum_b 1/2 ||o_b - y_b||^2.
double batch_loss(const Eigen::MatrixXd& outputs, const Eigen::MatrixXd& targets);

/// The local rule's contrast of two phases a and b, batch-averaged:
///   out = scale * (dE/dtheta(state_a) - dE/dtheta(state_b)),
/// with dE/dg_ij = 1/2 (v_i - v_j)^2 for every conductance and dE/db_i = -v_i for every bias.
/// Each conductance sees only its own voltage drops. Computed with batched matrix products.
void energy_contrast(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
                     const solvers::LayeredState& state_a, const solvers::LayeredState& state_b,
                     double scale, ParameterGradient& out);

/// Exact gradient of batch_loss with respect to every parameter, at the free equilibrium `free`
/// (which must be converged), by implicit differentiation: with H the Hessian of the energy over
/// the unclamped nodes, lambda = H^-1 dL/dv (one adjoint solve per sample), and
///   dL/dg_ij = -(lambda_i - lambda_j)(v_i - v_j),  dL/db_i = lambda_i.
/// Nodes held at 0 V by their diode are fixed (lambda = 0), as are the inputs.
ParameterGradient exact_gradient(const circuits::LayeredNetwork& net,
                                 const Eigen::MatrixXd& input_voltages,
                                 const solvers::LayeredState& free, const Eigen::MatrixXd& targets);

/// Cosine similarity of two gradients (0 when either is zero).
double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

}  // namespace physlearn::learning
