#include "solvers/sparse_cholesky.h"

#include <cholmod.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace physlearn::solvers {

struct SparseCholesky::Impl {
  std::string what;
  mutable cholmod_common common{};
  cholmod_factor* factor = nullptr;
  /// The solves' CHOLMOD workspace and its solve2 buffers, kept between calls
  /// (cholmod_solve2 reuses them when the sizes match).
  struct Worker {
    cholmod_common common{};
    cholmod_dense* x = nullptr;
    cholmod_dense* y = nullptr;
    cholmod_dense* e = nullptr;
    Worker() { cholmod_start(&common); common.print = 0; }
    ~Worker() {
      if (x) cholmod_free_dense(&x, &common);
      if (y) cholmod_free_dense(&y, &common);
      if (e) cholmod_free_dense(&e, &common);
      cholmod_finish(&common);
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
  };
  mutable std::vector<std::unique_ptr<Worker>> workers;
  double flops = 0.0, nonzeros = 0.0;
  bool factored = false;

  /// Solves columns [first, first + count) of `b` in place with worker `w`.
  void solve_columns(Worker& w, Eigen::MatrixXd& b, Eigen::Index first, Eigen::Index count) const {
    const std::size_t n = factor->n;
    // Blocks of about 8 M values, so that CHOLMOD's two buffers stay small.
    const Eigen::Index block = std::max<Eigen::Index>(
        1, static_cast<Eigen::Index>((std::size_t{1} << 23) / std::max<std::size_t>(n, 1)));
    for (Eigen::Index c = first; c < first + count; c += block) {
      const Eigen::Index k = std::min(block, first + count - c);
      cholmod_dense rhs{};
      rhs.nrow = n;
      rhs.ncol = static_cast<std::size_t>(k);
      rhs.nzmax = n * static_cast<std::size_t>(k);
      rhs.d = n;
      rhs.x = b.col(c).data();
      rhs.xtype = CHOLMOD_REAL;
      rhs.dtype = CHOLMOD_DOUBLE;
      if (!cholmod_solve2(CHOLMOD_A, factor, &rhs, nullptr, &w.x, nullptr, &w.y, &w.e, &w.common))
        throw SolverError(what + ": the sparse solve failed (CHOLMOD status " +
                          std::to_string(w.common.status) + ")");
      std::memcpy(b.col(c).data(), w.x->x, sizeof(double) * n * static_cast<std::size_t>(k));
    }
  }

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
  // Both AMD and METIS nested dissection, keeping the sparser factor (CHOLMOD's default tries
  // METIS only when AMD fills very badly; on a crossbar's long strips METIS is about 30% sparser).
  impl_->common.nmethods = 3;  // methods 0 (a given ordering: none here), 1 (AMD), 2 (METIS)
}

SparseCholesky::~SparseCholesky() {
  impl_->workers.clear();
  cholmod_common* c = &impl_->common;
  if (impl_->factor) cholmod_free_factor(&impl_->factor, c);
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
  // One worker: CHOLMOD could solve column shares in threads, but Debian's serial OpenBLAS is not
  // safe to call from several threads at once (two threads gave wrong solutions here).
  if (impl_->workers.empty()) impl_->workers.push_back(std::make_unique<Impl::Worker>());
  impl_->solve_columns(*impl_->workers[0], b, 0, b.cols());
}


double SparseCholesky::factor_nonzeros() const { return impl_->nonzeros; }
double SparseCholesky::factor_flops() const { return impl_->flops; }
double SparseCholesky::factor_bytes() const {
  return impl_->nonzeros * (sizeof(double) + sizeof(int));
}

}  // namespace physlearn::solvers
