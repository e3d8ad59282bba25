#pragma once
/// A sparse symmetric positive definite factorisation A = L L' by CHOLMOD (SuiteSparse): the fill-
/// reducing ordering (AMD, or METIS nested dissection where AMD fills badly) and the symbolic
/// analysis are done once for a pattern; `factorize` then refactors new values of the same pattern
/// (supernodal with BLAS on large problems), and `solve` solves for many right-hand sides at once.
/// The crossbar solver (solvers/crossbar_phases.h) factors its wire networks with it.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

namespace physlearn::solvers {

/// The lower triangle (row >= column) of a symmetric matrix in compressed sparse columns, rows
/// sorted within each column; `values` is what changes between factorisations.
struct LowerCsc {
  int size = 0;
  std::vector<int> column_starts;  ///< size + 1
  std::vector<int> row_indices;
  std::vector<double> values;
};

class SparseCholesky {
 public:
  /// `what` names the matrix in errors ("crossbar wire network").
  explicit SparseCholesky(std::string what);
  ~SparseCholesky();
  SparseCholesky(const SparseCholesky&) = delete;
  SparseCholesky& operator=(const SparseCholesky&) = delete;

  /// Orders and analyses the pattern of `a` (done once; later factorisations reuse it).
  void analyze(const LowerCsc& a);
  bool analyzed() const;
  /// Factors `a` (the pattern given to analyze). Throws SolverError when `a` is not positive
  /// definite (a floating node, or a negative diagonal term).
  void factorize(const LowerCsc& a);
  /// Solves A X = B in place for every column of `b`.
  void solve(Eigen::MatrixXd& b) const;

  /// Nonzeros of the factor L and the flops of one factorisation (from the analysis).
  double factor_nonzeros() const;
  double factor_flops() const;
  /// Bytes of the factor (its numeric values and indices).
  double factor_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace physlearn::solvers
