// The sparse Cholesky factorisation (solvers/sparse_cholesky.h, CHOLMOD) against Eigen's dense
// LLT on the same matrix: many right-hand sides, a refactorisation with new values of the same
// pattern, the statistics of the analysis, and the errors of a matrix that is not positive
// definite or a right-hand side of the wrong size.
#include <doctest/doctest.h>

#include <Eigen/Dense>

#include "core/error.h"
#include "solvers/sparse_cholesky.h"

using physlearn::SolverError;
using physlearn::solvers::LowerCsc;
using physlearn::solvers::SparseCholesky;

namespace {

/// A chain of n nodes with conductance g between neighbours, the first tied to ground by g0 and
/// node k to ground by extra(k): the lower triangle of its Laplacian, and the dense matrix.
LowerCsc chain(int n, double g, double g0, const Eigen::VectorXd& extra, Eigen::MatrixXd& dense) {
  dense = Eigen::MatrixXd::Zero(n, n);
  for (int k = 0; k + 1 < n; ++k) {
    dense(k, k) += g;
    dense(k + 1, k + 1) += g;
    dense(k, k + 1) -= g;
    dense(k + 1, k) -= g;
  }
  dense(0, 0) += g0;
  dense.diagonal() += extra;
  LowerCsc a;
  a.size = n;
  a.column_starts.push_back(0);
  for (int j = 0; j < n; ++j) {
    for (int i = j; i < n && i <= j + 1; ++i) {
      a.row_indices.push_back(i);
      a.values.push_back(dense(i, j));
    }
    a.column_starts.push_back(static_cast<int>(a.row_indices.size()));
  }
  return a;
}

}  // namespace

TEST_CASE("sparse cholesky: solves many right-hand sides as the dense factorisation does") {
  const int n = 200;
  Eigen::MatrixXd dense;
  const Eigen::VectorXd extra = Eigen::VectorXd::LinSpaced(n, 0.0, 0.01);
  LowerCsc a = chain(n, 3.0, 0.5, extra, dense);
  SparseCholesky chol("test chain");
  CHECK_FALSE(chol.analyzed());
  chol.analyze(a);
  CHECK(chol.analyzed());
  /// A tridiagonal matrix in its natural order fills nothing: n diagonal and n - 1 below.
  CHECK(chol.factor_nonzeros() == doctest::Approx(2 * n - 1));
  CHECK(chol.factor_flops() > 0.0);
  chol.factorize(a);
  const Eigen::MatrixXd b = Eigen::MatrixXd::Random(n, 7);
  Eigen::MatrixXd x = b;
  chol.solve(x);
  CHECK((x - dense.llt().solve(b)).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((dense * x - b).cwiseAbs().maxCoeff() < 1e-10);

  /// New values of the same pattern: the ordering is kept, the answer follows the values.
  Eigen::MatrixXd dense2;
  const LowerCsc a2 = chain(n, 1.5, 2.0, 2.0 * extra, dense2);
  chol.factorize(a2);
  x = b;
  chol.solve(x);
  CHECK((dense2 * x - b).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((dense * x - b).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("sparse cholesky: a floating chain or a negative diagonal is not positive definite") {
  Eigen::MatrixXd dense;
  /// No tie to ground: the Laplacian is singular (a node without a path to a fixed potential).
  LowerCsc floating = chain(10, 1.0, 0.0, Eigen::VectorXd::Zero(10), dense);
  SparseCholesky chol("floating chain");
  CHECK_THROWS_WITH_AS(chol.factorize(floating), doctest::Contains("floating chain is not positive definite"),
                       SolverError);
  /// A solve before a successful factorisation is refused.
  Eigen::MatrixXd b = Eigen::MatrixXd::Ones(10, 1);
  CHECK_THROWS_WITH_AS(chol.solve(b), doctest::Contains("solve before a factorisation"), SolverError);
  Eigen::VectorXd negative = Eigen::VectorXd::Zero(10);
  negative(4) = -5.0;
  LowerCsc indefinite = chain(10, 1.0, 1.0, negative, dense);
  CHECK_THROWS_AS(chol.factorize(indefinite), SolverError);
  LowerCsc fine = chain(10, 1.0, 1.0, Eigen::VectorXd::Zero(10), dense);
  chol.factorize(fine);
  Eigen::MatrixXd wrong = Eigen::MatrixXd::Ones(9, 1);
  CHECK_THROWS_WITH_AS(chol.solve(wrong), doctest::Contains("right-hand side of 9 rows"), SolverError);
}
