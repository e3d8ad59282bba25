#include "solvers/sparse_cholesky.h"

#include <cholmod.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace physlearn::solvers {

struct SparseCholesky::Impl {
  std::string what;
  mutable cholmod_common common{};
  cholmod_factor* factor = nullptr;
  // solve()'s workspaces, kept between calls (cholmod_solve2 reuses them when the sizes match).
  mutable cholmod_dense* x = nullptr;
  mutable cholmod_dense* y = nullptr;
  mutable cholmod_dense* e = nullptr;
  double flops = 0.0, nonzeros = 0.0;
  bool factored = false;

  /// A header over `a`'s arrays (CHOLMOD reads them; nothing is copied).
  static cholmod_sparse header(const LowerCsc& a) {
    cholmod_sparse s{};
    s.nrow = s.ncol = static_cast<std::size_t>(a.size);
    s.nzmax = a.values.size();
    s.p = const_cast<int*>(a.column_starts.data());
    s.i = const_cast<int*>(a.row_indices.data());
    s.x = const_cast<double*>(a.values.data());
    s.stype = -1;  // the lower triangle is stored
    s.itype = CHOLMOD_INT;
    s.xtype = CHOLMOD_REAL;
    s.dtype = CHOLMOD_DOUBLE;
    s.sorted = 1;
    s.packed = 1;
    return s;
  }
};

SparseCholesky::SparseCholesky(std::string what) : impl_(std::make_unique<Impl>()) {
  impl_->what = std::move(what);
  cholmod_start(&impl_->common);
  impl_->common.print = 0;  // errors are reported here, by exception
  // L L' at every size (CHOLMOD's simplicial default is L D L', which factors an indefinite
  // matrix without a word): a matrix that is not positive definite is always an error.
  impl_->common.final_ll = 1;
}

SparseCholesky::~SparseCholesky() {
  cholmod_common* c = &impl_->common;
  if (impl_->factor) cholmod_free_factor(&impl_->factor, c);
  if (impl_->x) cholmod_free_dense(&impl_->x, c);
  if (impl_->y) cholmod_free_dense(&impl_->y, c);
  if (impl_->e) cholmod_free_dense(&impl_->e, c);
  cholmod_finish(c);
}

bool SparseCholesky::analyzed() const { return impl_->factor != nullptr; }

void SparseCholesky::analyze(const LowerCsc& a) {
  if (impl_->factor) cholmod_free_factor(&impl_->factor, &impl_->common);
  cholmod_sparse s = Impl::header(a);
  impl_->factor = cholmod_analyze(&s, &impl_->common);
  if (impl_->factor == nullptr || impl_->common.status < CHOLMOD_OK)
    throw SolverError(impl_->what + ": the sparse Cholesky analysis failed (CHOLMOD status " +
                      std::to_string(impl_->common.status) + ", out of memory?)");
  impl_->flops = impl_->common.fl;
  impl_->nonzeros = impl_->common.lnz;
  impl_->factored = false;
}

void SparseCholesky::factorize(const LowerCsc& a) {
  if (!impl_->factor) analyze(a);
  cholmod_sparse s = Impl::header(a);
  cholmod_factorize(&s, impl_->factor, &impl_->common);
  impl_->factored = false;
  if (impl_->common.status == CHOLMOD_NOT_POSDEF || impl_->factor->minor < impl_->factor->n)
    throw SolverError(impl_->what + " is not positive definite (pivot " +
                      std::to_string(impl_->factor->minor) + " of " +
                      std::to_string(impl_->factor->n) +
                      "): a node without a conducting path to a fixed potential, or a negative "
                      "nudge larger than the node's conductance to the network");
  if (impl_->common.status < CHOLMOD_OK)
    throw SolverError(impl_->what + ": the sparse Cholesky factorisation failed (CHOLMOD status " +
                      std::to_string(impl_->common.status) + ", out of memory?)");
  impl_->factored = true;
}

void SparseCholesky::solve(Eigen::MatrixXd& b) const {
  if (!impl_->factored) throw SolverError(impl_->what + ": solve before a factorisation");
  const std::size_t n = impl_->factor->n;
  if (static_cast<std::size_t>(b.rows()) != n)
    throw SolverError(impl_->what + ": right-hand side of " + std::to_string(b.rows()) +
                      " rows for a matrix of " + std::to_string(n));
  // Columns in blocks of about 8 M values, so that CHOLMOD's two workspaces stay small.
  const Eigen::Index block =
      std::max<Eigen::Index>(1, static_cast<Eigen::Index>((std::size_t{1} << 23) / std::max<std::size_t>(n, 1)));
  cholmod_common* c = &impl_->common;
  for (Eigen::Index first = 0; first < b.cols(); first += block) {
    const Eigen::Index k = std::min(block, b.cols() - first);
    cholmod_dense rhs{};
    rhs.nrow = n;
    rhs.ncol = static_cast<std::size_t>(k);
    rhs.nzmax = n * static_cast<std::size_t>(k);
    rhs.d = n;
    rhs.x = b.col(first).data();
    rhs.xtype = CHOLMOD_REAL;
    rhs.dtype = CHOLMOD_DOUBLE;
    if (!cholmod_solve2(CHOLMOD_A, impl_->factor, &rhs, nullptr, &impl_->x, nullptr, &impl_->y,
                        &impl_->e, c))
      throw SolverError(impl_->what + ": the sparse solve failed (CHOLMOD status " +
                        std::to_string(c->status) + ")");
    std::memcpy(b.col(first).data(), impl_->x->x, sizeof(double) * n * static_cast<std::size_t>(k));
  }
}

double SparseCholesky::factor_nonzeros() const { return impl_->nonzeros; }
double SparseCholesky::factor_flops() const { return impl_->flops; }
double SparseCholesky::factor_bytes() const {
  return impl_->nonzeros * (sizeof(double) + sizeof(int));
}

}  // namespace physlearn::solvers
