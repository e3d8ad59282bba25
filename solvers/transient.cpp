#include "solvers/transient.h"

#include <ida/ida.h>
#include <klu.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>

#include "core/error.h"
#include "devices/memristor.h"
#include "solvers/mna.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::DiodeModel;
using circuits::kGround;

SettleCriterion parse_settle_criterion(const std::string& name, const std::string& path) {
  if (name == "final") return SettleCriterion::Final;
  if (name == "slew") return SettleCriterion::Slew;
  throw ConfigError(path, "\"" + name + "\"", "must be one of: final, slew");
}

namespace {

/// Gauss-Legendre rules on [-1, 1] with n = 1..6 points (nodes, weights): n points integrate
/// polynomials of degree <= 2n - 1 exactly.
struct GaussRule {
  int points;
  double nodes[6];
  double weights[6];
};
constexpr GaussRule kGauss[6] = {
    {1, {0.0}, {2.0}},
    {2, {-0.5773502691896257, 0.5773502691896257}, {1.0, 1.0}},
    {3,
     {-0.7745966692414834, 0.0, 0.7745966692414834},
     {0.5555555555555556, 0.8888888888888888, 0.5555555555555556}},
    {4,
     {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526},
     {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538}},
    {5,
     {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640},
     {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
      0.2369268850561891}},
    {6,
     {-0.9324695142031521, -0.6612093864662645, -0.2386191860831969, 0.2386191860831969,
      0.6612093864662645, 0.9324695142031521},
     {0.1713244923791704, 0.3607615730481386, 0.4679139345726910, 0.4679139345726910,
      0.3607615730481386, 0.1713244923791704}}};

/// Switching offset of the ideal diodes' root functions, relative to atol (see transient.h).
constexpr double kSwitchOffset = 1e-3;

double node_v(const double* x, int node) { return node == kGround ? 0.0 : x[node]; }

/// IDA's return flag as text (IDAGetReturnFlagName returns malloc'ed memory).
std::string flag_name(int flag) {
  char* name = IDAGetReturnFlagName(flag);
  std::string text = name != nullptr ? name : cat("flag ", flag);
  std::free(name);
  return text;
}

/// What an IDA failure flag means, in the words of the IDA user guide.
std::string flag_meaning(int flag) {
  switch (flag) {
    case IDA_TOO_MUCH_WORK:
      return "too many internal steps";
    case IDA_TOO_MUCH_ACC:
      return "the requested accuracy is beyond machine precision (tolerances too tight)";
    case IDA_ERR_FAIL:
      return "the local error test failed repeatedly or with |h| = hmin (step size collapse)";
    case IDA_CONV_FAIL:
      return "the nonlinear (Newton) iteration failed repeatedly or with |h| = hmin (step size "
             "collapse)";
    case IDA_LINIT_FAIL:
    case IDA_LSETUP_FAIL:
      return "the KLU factorisation of the iteration matrix failed (singular circuit matrix)";
    case IDA_LSOLVE_FAIL:
      return "the KLU solve failed";
    case IDA_RES_FAIL:
      return "the residual function failed";
    case IDA_REP_RES_ERR:
      return "repeated recoverable residual errors (non-finite values)";
    case IDA_RTFUNC_FAIL:
      return "the root function failed";
    case IDA_FIRST_RES_FAIL:
      return "the first residual evaluation of the initial-condition computation failed";
    case IDA_LINESEARCH_FAIL:
      return "the line search of the initial-condition computation failed";
    case IDA_NO_RECOVERY:
      return "a recoverable error in the initial-condition computation could not be recovered";
    case IDA_BAD_EWT:
      return "an error weight became non-positive (an absolute tolerance of 0 on a zero value)";
    case IDA_ILL_INPUT:
      return "illegal input";
    default:
      return "IDA failure";
  }
}

}  // namespace

struct TransientSolver::Impl {
  /// Running sums of the energies (and per element when asked).
  struct Accumulator {
    TransientEnergy total;
    ElementEnergies elements;
  };

  TransientOptions options;
  MnaLayout layout;
  MnaPattern pattern;
  int mna_size = 0;  // the MNA unknowns; the memristor states follow
  int size = 0;
  int num_nodes = 0;
  int num_roots = 0;
  // Our CSC pattern: the MNA pattern plus the capacitors' entries.
  std::vector<sunindextype> column_starts, row_indices;
  std::vector<int> from_mna;                 // MNA pattern position -> our position
  std::vector<BranchSlots> capacitor_slots;  // per capacitor, our positions
  std::vector<std::pair<int, int>> capacitor_terminals;
  std::vector<int> node_diagonal;  // per node, our position of (k, k)
  // Per memristor, our positions of its entries (rows, columns: a, b and its state s; -1 where
  // a terminal is ground), and its terminals.
  struct MemristorSlots {
    int aa = -1, ab = -1, as = -1, ba = -1, bb = -1, bs = -1, sa = -1, sb = -1, ss = -1;
  };
  std::vector<MemristorSlots> memristor_slots;
  std::vector<std::pair<int, int>> memristor_terminals;
  // Consistent initial conditions: our own KLU (int indices) on our pattern, analysed once.
  std::vector<int> ic_column_starts, ic_row_indices;
  std::vector<double> ic_values;
  klu_common ic_common{};
  klu_symbolic* ic_symbolic = nullptr;
  std::vector<int> ideal;  // diode index of each ideal diode, in row order

  // Per run.
  const Circuit* circuit = nullptr;
  std::vector<NudgeTerm> nudges;
  MnaState state;
  MnaAssembly residual_assembly;
  MnaAssembly jacobian_assembly;
  Eigen::VectorXd x_scratch;
  Eigen::VectorXd node_capacitance;      // F per node (zeros when none)
  Eigen::VectorXd capacitance_diagonal;  // F: node capacitance plus capacitors at the node
  Eigen::VectorXd final_voltages;
  // Conductances as flat arrays for the power sums (ground: index num_nodes of node_scratch).
  std::vector<int> conductance_a, conductance_b;
  std::vector<double> conductance_g;
  std::vector<double> node_scratch;
  std::vector<char> differential;  // per unknown: IDASetId value
  double c = 1.0;
  double eps = 0.0;
  double now = 0.0;  // s: the time at which source waveforms are evaluated
  long residual_evaluations = 0;
  long jacobian_evaluations = 0;
  std::exception_ptr error;
  std::string ida_message;
  std::unique_ptr<NewtonSolver> newton;

  // SUNDIALS objects.
  SUNContext context = nullptr;
  void* ida = nullptr;
  N_Vector y = nullptr, yp = nullptr, id = nullptr, atol = nullptr, scratch = nullptr;
  SUNMatrix matrix = nullptr;
  SUNLinearSolver linear_solver = nullptr;

  Impl(const Circuit& c, TransientOptions o);
  ~Impl();
  // C callbacks of IDA: they never let an exception through (it is stored and rethrown).
  static int residual_callback(sunrealtype, N_Vector y, N_Vector yp, N_Vector r, void* data);
  static int jacobian_callback(sunrealtype, sunrealtype cj, N_Vector y, N_Vector, N_Vector,
                               SUNMatrix jac, void* data, N_Vector, N_Vector, N_Vector);
  static int root_callback(sunrealtype, N_Vector y, N_Vector yp, sunrealtype* g, void* data);
  static void error_callback(int, const char* module, const char* function, char* message,
                             void* data);
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void check(int flag, const char* call) const {
    if (flag < 0)
      throw SolverError(cat("transient solver: SUNDIALS call ", call, " failed (", flag_name(flag),
                            ")", ida_message.empty() ? "" : ": " + ida_message));
  }

  double diode_voltage(const double* x, std::size_t k) const {
    const auto& d = circuit->diodes[k];
    return node_v(x, d.anode) - node_v(x, d.cathode);
  }

  /// The voltage of source k at time `now` (its waveform, else volts).
  double source_volts(std::size_t k) const {
    const auto& w = options.voltage_waveforms;
    return k < w.size() && w[k] ? w[k](now) : circuit->voltage_sources[k].volts;
  }
  /// dx/dt of memristor k, held at the bounds of a model without a window.
  double memristor_rate(std::size_t k, double x, double v) const {
    const devices::Memristor& m = *circuit->memristors[k].model;
    const double rate = m.rate(x, v);
    if (m.hard_bounds() && ((x >= 1.0 && rate > 0.0) || (x <= 0.0 && rate < 0.0))) return 0.0;
    return rate;
  }
  /// Central-difference partials of memristor k's current and rate in v and x.
  struct MemristorPartials {
    double i_v, i_x, f_v, f_x;
  };
  MemristorPartials memristor_partials(std::size_t k, double x, double v) const {
    const devices::Memristor& m = *circuit->memristors[k].model;
    const double hv = 1e-6 * (1.0 + std::abs(v)), hx = 1e-7;
    return {(m.current(x, v + hv) - m.current(x, v - hv)) / (2.0 * hv),
            (m.current(x + hx, v) - m.current(x - hx, v)) / (2.0 * hx),
            (memristor_rate(k, x, v + hv) - memristor_rate(k, x, v - hv)) / (2.0 * hv),
            (memristor_rate(k, x + hx, v) - memristor_rate(k, x - hx, v)) / (2.0 * hx)};
  }
  double memristor_voltage(const double* x, std::size_t k) const {
    const auto& e = circuit->memristors[k];
    return node_v(x, e.a) - node_v(x, e.b);
  }
  /// A readable name of unknown i (MNA unknowns as MnaLayout, then the memristor states).
  std::string describe(int i) const {
    if (i < mna_size) return layout.describe_unknown(*circuit, i);
    return cat("x(", circuit->memristors[static_cast<std::size_t>(i - mna_size)].name,
               ") (state of memristor '",
               circuit->memristors[static_cast<std::size_t>(i - mna_size)].name, "')");
  }

  void residual(const double* x, const double* xp, double* r);
  void jacobian(double cj, const double* x, SUNMatrix jac);
  void roots(const double* x, const double* xp, double* g);
  double settle_measure(const double* x, const double* xp) const;
  double stored_energy(const double* x) const;
  void add_power(const double* x, double weight, Accumulator& acc);
  void integrate_energy(double a, double b, Accumulator& acc);
  bool jump(Eigen::VectorXd& x, Accumulator& acc, const std::string& phase, double t);
  void choose_differential();
  void consistent_initial_conditions(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp,
                                     const std::string& phase);
  int check_modes(const Eigen::VectorXd& x);
  void restart(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp, Accumulator& acc,
               TransientResult& result, const std::string& phase);
  [[noreturn]] void fail(const std::string& phase, double t, const std::string& reason) const {
    throw SolverError(
        cat("transient solver: phase '", phase, "' failed at t = ", t, " s: ", reason));
  }
  [[noreturn]] void fail_ida(const std::string& phase, int flag, const std::string& during) {
    if (error) std::rethrow_exception(error);
    sunrealtype t = 0.0;
    IDAGetCurrentTime(ida, &t);
    fail(phase, t,
         cat("IDA returned ", flag_name(flag), " ", during, ": ", flag_meaning(flag),
             ida_message.empty() ? "" : " (IDA: " + ida_message + ")"));
  }
};

int TransientSolver::Impl::residual_callback(sunrealtype t, N_Vector y, N_Vector yp, N_Vector r,
                                             void* data) {
  auto* s = static_cast<TransientSolver::Impl*>(data);
  try {
    s->now = t;
    s->residual(N_VGetArrayPointer(y), N_VGetArrayPointer(yp), N_VGetArrayPointer(r));
    ++s->residual_evaluations;
    // A non-finite residual is recoverable: IDA retries with a smaller step.
    for (int i = 0; i < s->size; ++i)
      if (!std::isfinite(N_VGetArrayPointer(r)[i])) return 1;
    return 0;
  } catch (...) {
    s->error = std::current_exception();
    return -1;
  }
}

int TransientSolver::Impl::jacobian_callback(sunrealtype, sunrealtype cj, N_Vector y, N_Vector,
                                             N_Vector, SUNMatrix jac, void* data, N_Vector,
                                             N_Vector, N_Vector) {
  auto* s = static_cast<TransientSolver::Impl*>(data);
  try {
    s->jacobian(cj, N_VGetArrayPointer(y), jac);
    ++s->jacobian_evaluations;
    return 0;
  } catch (...) {
    s->error = std::current_exception();
    return -1;
  }
}

int TransientSolver::Impl::root_callback(sunrealtype, N_Vector y, N_Vector yp, sunrealtype* g,
                                         void* data) {
  auto* s = static_cast<TransientSolver::Impl*>(data);
  try {
    s->roots(N_VGetArrayPointer(y), N_VGetArrayPointer(yp), g);
    return 0;
  } catch (...) {
    s->error = std::current_exception();
    return -1;
  }
}

void TransientSolver::Impl::error_callback(int, const char* module, const char* function,
                                           char* message, void* data) {
  auto* s = static_cast<TransientSolver::Impl*>(data);
  s->ida_message = cat(module, ".", function, ": ", message);
}

TransientSolver::Impl::Impl(const Circuit& c0, TransientOptions o)
    : options(std::move(o)),
      layout(c0),
      pattern(c0, layout),
      mna_size(layout.size()),
      size(layout.size() + static_cast<int>(c0.memristors.size())),
      num_nodes(layout.num_nodes()),
      residual_assembly(layout.size(), nullptr),
      jacobian_assembly(layout.size(), &pattern) {
  // Our pattern: the MNA pattern's columns plus the capacitor entries.
  std::vector<std::vector<int>> columns(static_cast<std::size_t>(size));
  const auto& starts = pattern.column_starts();
  const auto& rows = pattern.row_indices();
  for (int col = 0; col < mna_size; ++col)
    for (int p = starts[static_cast<std::size_t>(col)];
         p < starts[static_cast<std::size_t>(col) + 1]; ++p)
      columns[static_cast<std::size_t>(col)].push_back(rows[static_cast<std::size_t>(p)]);
  auto add = [&](int row, int col) {
    if (row >= 0 && col >= 0) columns[static_cast<std::size_t>(col)].push_back(row);
  };
  for (const auto& e : c0.capacitors) {
    add(e.a, e.a);
    add(e.a, e.b);
    add(e.b, e.a);
    add(e.b, e.b);
  }
  for (std::size_t k = 0; k < c0.memristors.size(); ++k) {
    const auto& e = c0.memristors[k];
    const int st = mna_size + static_cast<int>(k);
    for (int row : {e.a, e.b, st})
      for (int col : {e.a, e.b, st}) add(row, col);
  }
  column_starts.assign(static_cast<std::size_t>(size) + 1, 0);
  for (int col = 0; col < size; ++col) {
    auto& list = columns[static_cast<std::size_t>(col)];
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    column_starts[static_cast<std::size_t>(col) + 1] =
        column_starts[static_cast<std::size_t>(col)] + static_cast<sunindextype>(list.size());
    row_indices.insert(row_indices.end(), list.begin(), list.end());
  }
  auto position = [&](int row, int col) {
    const auto begin = row_indices.begin() + column_starts[static_cast<std::size_t>(col)];
    const auto end = row_indices.begin() + column_starts[static_cast<std::size_t>(col) + 1];
    return static_cast<int>(std::lower_bound(begin, end, row) - row_indices.begin());
  };
  from_mna.resize(static_cast<std::size_t>(pattern.nonzeros()));
  for (int col = 0; col < mna_size; ++col)
    for (int p = starts[static_cast<std::size_t>(col)];
         p < starts[static_cast<std::size_t>(col) + 1]; ++p)
      from_mna[static_cast<std::size_t>(p)] = position(rows[static_cast<std::size_t>(p)], col);
  for (const auto& e : c0.capacitors) {
    BranchSlots s;
    if (e.a != kGround) s.aa = position(e.a, e.a);
    if (e.b != kGround) s.bb = position(e.b, e.b);
    if (e.a != kGround && e.b != kGround) {
      s.ab = position(e.a, e.b);
      s.ba = position(e.b, e.a);
    }
    capacitor_slots.push_back(s);
    capacitor_terminals.emplace_back(e.a, e.b);
  }
  for (std::size_t k = 0; k < c0.memristors.size(); ++k) {
    const auto& e = c0.memristors[k];
    const int st = mna_size + static_cast<int>(k);
    auto at = [&](int row, int col) { return row >= 0 && col >= 0 ? position(row, col) : -1; };
    MemristorSlots m;
    m.aa = at(e.a, e.a);
    m.ab = at(e.a, e.b);
    m.as = at(e.a, st);
    m.ba = at(e.b, e.a);
    m.bb = at(e.b, e.b);
    m.bs = at(e.b, st);
    m.sa = at(st, e.a);
    m.sb = at(st, e.b);
    m.ss = at(st, st);
    memristor_slots.push_back(m);
    memristor_terminals.emplace_back(e.a, e.b);
  }
  for (int k = 0; k < num_nodes; ++k) node_diagonal.push_back(position(k, k));
  for (int row = layout.ideal_begin(); row < mna_size; ++row)
    ideal.push_back(layout.ideal_diode_of_row(row));
  num_roots = static_cast<int>(ideal.size()) + 1;
  x_scratch = Eigen::VectorXd::Zero(mna_size);
  differential.assign(static_cast<std::size_t>(size), 0);
  if (size == 0) return;

  ic_column_starts.assign(column_starts.begin(), column_starts.end());
  ic_row_indices.assign(row_indices.begin(), row_indices.end());
  ic_values.assign(row_indices.size(), 0.0);
  klu_defaults(&ic_common);
  ic_symbolic = klu_analyze(size, ic_column_starts.data(), ic_row_indices.data(), &ic_common);
  if (ic_symbolic == nullptr)
    throw SolverError(cat("transient solver: sparse analysis of the ", size,
                          "-unknown circuit matrix failed (KLU status ", ic_common.status, ")"));

  check(SUNContext_Create(nullptr, &context), "SUNContext_Create");
  y = N_VNew_Serial(size, context);
  yp = N_VNew_Serial(size, context);
  id = N_VNew_Serial(size, context);
  atol = N_VNew_Serial(size, context);
  scratch = N_VNew_Serial(size, context);
  matrix =
      SUNSparseMatrix(size, size, static_cast<sunindextype>(row_indices.size()), CSC_MAT, context);
  if (!y || !yp || !id || !atol || !scratch || !matrix)
    throw SolverError("transient solver: out of memory for SUNDIALS vectors");
  N_VConst(0.0, y);
  N_VConst(0.0, yp);
  N_VConst(1.0, atol);
  linear_solver = SUNLinSol_KLU(y, matrix, context);
  if (!linear_solver) throw SolverError("transient solver: SUNLinSol_KLU failed");
  // AMD ordering, as NewtonSolver uses (SUNDIALS defaults to COLAMD).
  check(SUNLinSol_KLUSetOrdering(linear_solver, 0), "SUNLinSol_KLUSetOrdering");
  ida = IDACreate(context);
  if (!ida) throw SolverError("transient solver: IDACreate failed");
  check(IDASetErrHandlerFn(ida, error_callback, this), "IDASetErrHandlerFn");
  check(IDAInit(ida, residual_callback, 0.0, y, yp), "IDAInit");
  check(IDASetUserData(ida, this), "IDASetUserData");
  check(IDASStolerances(ida, options.rtol, options.atol), "IDASStolerances");
  check(IDASetLinearSolver(ida, linear_solver, matrix), "IDASetLinearSolver");
  check(IDASetJacFn(ida, jacobian_callback), "IDASetJacFn");
  check(IDARootInit(ida, num_roots, root_callback), "IDARootInit");
  check(IDASetNoInactiveRootWarn(ida), "IDASetNoInactiveRootWarn");
  check(IDASetSuppressAlg(ida, SUNTRUE), "IDASetSuppressAlg");
}

TransientSolver::Impl::~Impl() {
  if (ic_symbolic) klu_free_symbolic(&ic_symbolic, &ic_common);
  if (ida) IDAFree(&ida);
  if (linear_solver) SUNLinSolFree(linear_solver);
  if (matrix) SUNMatDestroy(matrix);
  for (N_Vector v : {y, yp, id, atol, scratch})
    if (v) N_VDestroy(v);
  if (context) SUNContext_Free(&context);
}

void TransientSolver::Impl::residual(const double* x, const double* xp, double* r) {
  std::copy(x, x + mna_size, x_scratch.data());
  for (std::size_t k = 0; k < circuit->diodes.size(); ++k)
    if (circuit->diodes[k].model == DiodeModel::Shockley)
      state.junction_voltage[k] = diode_voltage(x, k);
  residual_assembly.clear();
  assemble(*circuit, layout, state, nudges, x_scratch, residual_assembly);
  std::copy(residual_assembly.residual.data(), residual_assembly.residual.data() + mna_size, r);
  // Source waveforms: the row holds v_plus - v_minus - volts; make it - v(t).
  for (std::size_t k = 0; k < options.voltage_waveforms.size(); ++k)
    if (options.voltage_waveforms[k])
      r[layout.voltage_source_row(static_cast<int>(k))] +=
          circuit->voltage_sources[k].volts - source_volts(k);
  // Memristors: the current in the node rows, the state equation in their own rows.
  for (std::size_t k = 0; k < circuit->memristors.size(); ++k) {
    const auto& e = circuit->memristors[k];
    const int st = mna_size + static_cast<int>(k);
    const double v = memristor_voltage(x, k);
    const double i = e.model->current(x[st], v);
    if (e.a != kGround) r[e.a] += i;
    if (e.b != kGround) r[e.b] -= i;
    r[st] = xp[st] - memristor_rate(k, x[st], v);
  }
  // d/dt Q(x): capacitors, then the node capacitances to ground.
  for (const auto& e : circuit->capacitors) {
    const double i = e.farads * (node_v(xp, e.a) - node_v(xp, e.b));
    if (e.a != kGround) r[e.a] += i;
    if (e.b != kGround) r[e.b] -= i;
  }
  for (int k = 0; k < num_nodes; ++k) r[k] += node_capacitance[k] * xp[k];
}

void TransientSolver::Impl::jacobian(double cj, const double* x, SUNMatrix jac) {
  std::copy(x, x + mna_size, x_scratch.data());
  for (std::size_t k = 0; k < circuit->diodes.size(); ++k)
    if (circuit->diodes[k].model == DiodeModel::Shockley)
      state.junction_voltage[k] = diode_voltage(x, k);
  jacobian_assembly.clear();
  assemble(*circuit, layout, state, nudges, x_scratch, jacobian_assembly);
  // IDA zeroes the matrix (index arrays included) before calling us: write the pattern anew.
  std::copy(column_starts.begin(), column_starts.end(), SUNSparseMatrix_IndexPointers(jac));
  std::copy(row_indices.begin(), row_indices.end(), SUNSparseMatrix_IndexValues(jac));
  double* values = SUNSparseMatrix_Data(jac);
  std::fill(values, values + row_indices.size(), 0.0);
  for (std::size_t p = 0; p < from_mna.size(); ++p)
    values[from_mna[p]] += jacobian_assembly.jacobian_values[p];
  // c_j dQ/dx.
  for (std::size_t k = 0; k < circuit->capacitors.size(); ++k) {
    const double g = cj * circuit->capacitors[k].farads;
    const BranchSlots& s = capacitor_slots[k];
    if (s.aa >= 0) values[s.aa] += g;
    if (s.ab >= 0) values[s.ab] -= g;
    if (s.ba >= 0) values[s.ba] -= g;
    if (s.bb >= 0) values[s.bb] += g;
  }
  for (int k = 0; k < num_nodes; ++k) values[node_diagonal[k]] += cj * node_capacitance[k];
  for (std::size_t k = 0; k < memristor_slots.size(); ++k) {
    const int st = mna_size + static_cast<int>(k);
    const MemristorPartials d = memristor_partials(k, x[st], memristor_voltage(x, k));
    const MemristorSlots& m = memristor_slots[k];
    auto put = [&](int slot, double value) {
      if (slot >= 0) values[slot] += value;
    };
    put(m.aa, d.i_v);
    put(m.ab, -d.i_v);
    put(m.as, d.i_x);
    put(m.ba, -d.i_v);
    put(m.bb, d.i_v);
    put(m.bs, -d.i_x);
    put(m.sa, -d.f_v);
    put(m.sb, d.f_v);
    put(m.ss, cj - d.f_x);
  }
}

double TransientSolver::Impl::settle_measure(const double* x, const double* xp) const {
  double m = 0.0;
  if (options.settle == SettleCriterion::Final) {
    for (int k = 0; k < num_nodes; ++k) m = std::max(m, std::abs(x[k] - final_voltages[k]));
    return m;
  }
  for (int k = 0; k < num_nodes; ++k) m = std::max(m, std::abs(xp[k]));
  return m;
}

void TransientSolver::Impl::roots(const double* x, const double* xp, double* g) {
  for (std::size_t j = 0; j < ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(ideal[j]);
    const int row = layout.diode_row(ideal[j]);
    // ON: current (in volts through c) falling below -eps; OFF: voltage rising above eps.
    g[j] = state.diode_on[k] ? x[row] / c + eps : diode_voltage(x, k) - eps;
  }
  const double tol =
      options.settle == SettleCriterion::Final ? options.final_tol : options.slew_tol;
  g[ideal.size()] = settle_measure(x, xp) - tol;
}

double TransientSolver::Impl::stored_energy(const double* x) const {
  double e = 0.0;
  for (const auto& cap : circuit->capacitors) {
    const double v = node_v(x, cap.a) - node_v(x, cap.b);
    e += 0.5 * cap.farads * v * v;
  }
  for (int k = 0; k < num_nodes; ++k) e += 0.5 * node_capacitance[k] * x[k] * x[k];
  return e;
}

void TransientSolver::Impl::add_power(const double* x, double w, Accumulator& acc) {
  const Circuit& cir = *circuit;
  const bool each = options.element_energies;
  ElementEnergies& el = acc.elements;
  TransientEnergy& total = acc.total;
  // Conductances, the bulk of the elements: flat arrays, ground as a zero at index num_nodes.
  std::copy(x, x + num_nodes, node_scratch.begin());
  const double* volts = node_scratch.data();
  const int* ia = conductance_a.data();
  const int* ib = conductance_b.data();
  const double* g = conductance_g.data();
  const std::size_t count = conductance_g.size();
  double sum = 0.0;
  if (each) {
    double* out = el.conductances.data();
    for (std::size_t k = 0; k < count; ++k) {
      const double d = volts[ia[k]] - volts[ib[k]];
      const double p = g[k] * d * d;
      sum += p;
      out[k] += w * p;
    }
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      const double d = volts[ia[k]] - volts[ib[k]];
      sum += g[k] * d * d;
    }
  }
  total.conductances += w * sum;
  for (std::size_t k = 0; k < cir.voltage_sources.size(); ++k) {
    const double p =
        -w * x[layout.voltage_source_row(static_cast<int>(k))] *
        (node_v(x, cir.voltage_sources[k].plus) - node_v(x, cir.voltage_sources[k].minus));
    total.sources += p;
    if (each) el.voltage_sources[k] += p;
  }
  for (std::size_t k = 0; k < cir.current_sources.size(); ++k) {
    const auto& e = cir.current_sources[k];
    const double p = w * e.amps * (node_v(x, e.to) - node_v(x, e.from));
    total.sources += p;
    if (each) el.current_sources[k] += p;
  }
  for (std::size_t k = 0; k < cir.diodes.size(); ++k) {
    const auto& d = cir.diodes[k];
    const double v = diode_voltage(x, k);
    const double i = d.model == DiodeModel::Ideal ? x[layout.diode_row(static_cast<int>(k))]
                                                  : shockley(d, v).current;
    const double p = w * i * v;
    total.diodes += p;
    if (each) el.diodes[k] += p;
  }
  for (std::size_t k = 0; k < cir.vcvs.size(); ++k) {
    const auto& e = cir.vcvs[k];
    const double p = -w * x[layout.vcvs_row(static_cast<int>(k))] *
                     (node_v(x, e.out_plus) - node_v(x, e.out_minus));
    total.controlled += p;
    if (each) el.vcvs[k] += p;
  }
  for (std::size_t k = 0; k < cir.vccs.size(); ++k) {
    const auto& e = cir.vccs[k];
    const double i = e.gain * (node_v(x, e.ctrl_plus) - node_v(x, e.ctrl_minus));
    const double p = -w * i * (node_v(x, e.out_plus) - node_v(x, e.out_minus));
    total.controlled += p;
    if (each) el.vccs[k] += p;
  }
  for (std::size_t k = 0; k < nudges.size(); ++k) {
    const auto& n = nudges[k];
    const double v = node_v(x, n.node);
    const double p = w * n.beta * (n.target - v) * v;
    total.nudges += p;
    if (each) el.nudges[k] += p;
  }
  for (std::size_t k = 0; k < cir.memristors.size(); ++k) {
    const double v = memristor_voltage(x, k);
    const double p = w * cir.memristors[k].model->current(x[mna_size + static_cast<int>(k)], v) * v;
    total.memristors += p;
    if (each) el.memristors[k] += p;
  }
}

void TransientSolver::Impl::integrate_energy(double a, double b, Accumulator& acc) {
  if (!(b > a)) return;
  // IDA's interpolant over the last step has the degree q of the order used (IDAGetLastOrder),
  // so a quadratic power has degree 2q: q + 1 Gauss points integrate it exactly.
  int order = 5;
  check(IDAGetLastOrder(ida, &order), "IDAGetLastOrder");
  const GaussRule& rule = kGauss[std::clamp(order, 0, 5)];
  const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
  for (int q = 0; q < rule.points; ++q) {
    now = mid + half * rule.nodes[q];
    check(IDAGetDky(ida, now, 0, scratch), "IDAGetDky");
    add_power(N_VGetArrayPointer(scratch), half * rule.weights[q], acc);
  }
}

bool TransientSolver::Impl::jump(Eigen::VectorXd& x, Accumulator& acc, const std::string& phase,
                                 double t) {
  const Circuit& cir = *circuit;
  const double* xd = x.data();
  now = t;
  // Violations of the voltage-defined rows at the carried-over state.
  Eigen::VectorXd violation = Eigen::VectorXd::Zero(size);
  double worst = 0.0;
  auto note = [&](int row, double value, double scale) {
    violation[row] = value;
    worst = std::max(worst, std::abs(value) / (1.0 + scale));
  };
  for (std::size_t k = 0; k < cir.voltage_sources.size(); ++k) {
    const auto& e = cir.voltage_sources[k];
    const double v = node_v(xd, e.plus) - node_v(xd, e.minus);
    const double volts = source_volts(k);
    note(layout.voltage_source_row(static_cast<int>(k)), v - volts, std::abs(volts));
  }
  for (std::size_t k = 0; k < cir.vcvs.size(); ++k) {
    const auto& e = cir.vcvs[k];
    const double out = node_v(xd, e.out_plus) - node_v(xd, e.out_minus);
    const double ctrl = e.gain * (node_v(xd, e.ctrl_plus) - node_v(xd, e.ctrl_minus));
    note(layout.vcvs_row(static_cast<int>(k)), out - ctrl, std::abs(out) + std::abs(ctrl));
  }
  for (std::size_t j = 0; j < ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(ideal[j]);
    if (state.diode_on[k]) note(layout.diode_row(ideal[j]), diode_voltage(xd, k), 0.0);
  }
  if (worst <= 1e-12) return false;

  // (C + delta I) dv + s B J~ = 0 at the nodes; s B^T dv = -s violation in the branch rows;
  // J = s J~ is the charge each voltage-defined branch moves (SPICE sign). s scales the branch
  // rows to capacitance size; delta (a negligible capacitance at every node) keeps nodes that
  // carry no capacitance, or float capacitively, determined.
  const double cmax =
      std::max(capacitance_diagonal.size() ? capacitance_diagonal.maxCoeff() : 0.0, 0.0);
  const double s = cmax > 0.0 ? cmax : 1.0;
  const double delta = 1e-12 * s;
  std::vector<Eigen::Triplet<double>> triplets;
  for (int k = 0; k < num_nodes; ++k) triplets.emplace_back(k, k, node_capacitance[k] + delta);
  for (const auto& e : cir.capacitors) {
    if (e.a != kGround) triplets.emplace_back(e.a, e.a, e.farads);
    if (e.b != kGround) triplets.emplace_back(e.b, e.b, e.farads);
    if (e.a != kGround && e.b != kGround) {
      triplets.emplace_back(e.a, e.b, -e.farads);
      triplets.emplace_back(e.b, e.a, -e.farads);
    }
  }
  auto branch = [&](int plus, int minus, int row) {
    for (auto [node, sign] : {std::pair<int, double>{plus, 1.0}, {minus, -1.0}}) {
      if (node == kGround) continue;
      triplets.emplace_back(node, row, sign * s);
      triplets.emplace_back(row, node, sign * s);
    }
  };
  for (std::size_t k = 0; k < cir.voltage_sources.size(); ++k)
    branch(cir.voltage_sources[k].plus, cir.voltage_sources[k].minus,
           layout.voltage_source_row(static_cast<int>(k)));
  for (std::size_t k = 0; k < cir.vcvs.size(); ++k) {
    const auto& e = cir.vcvs[k];
    const int row = layout.vcvs_row(static_cast<int>(k));
    branch(e.out_plus, e.out_minus, row);
    if (e.ctrl_plus != kGround) triplets.emplace_back(row, e.ctrl_plus, -e.gain * s);
    if (e.ctrl_minus != kGround) triplets.emplace_back(row, e.ctrl_minus, e.gain * s);
  }
  for (std::size_t j = 0; j < ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(ideal[j]);
    const int row = layout.diode_row(ideal[j]);
    if (state.diode_on[k])
      branch(cir.diodes[k].anode, cir.diodes[k].cathode, row);
    else
      triplets.emplace_back(row, row, s);
  }
  for (int st = mna_size; st < size; ++st) triplets.emplace_back(st, st, s);  // states hold
  Eigen::SparseMatrix<double> m(size, size);
  m.setFromTriplets(triplets.begin(), triplets.end());
  Eigen::SparseLU<Eigen::SparseMatrix<double>> lu;
  lu.compute(m);
  if (lu.info() != Eigen::Success)
    fail(phase, t,
         "the voltage-defined branches (voltage sources, VCVS outputs, conducting ideal diodes) "
         "form a loop: no consistent state after the switch");
  const Eigen::VectorXd rhs = -s * violation;
  const Eigen::VectorXd solution = lu.solve(rhs);
  if (!solution.allFinite()) fail(phase, t, "the charge jump at the switch is not finite");

  const double before = stored_energy(xd);
  x.head(num_nodes) += solution.head(num_nodes);
  const double after = stored_energy(x.data());
  // Energy the voltage-defined branches deliver while moving their charge J at their
  // (post-switch) voltage: -J E (SPICE sign); ideal diodes have V = 0.
  double delivered = 0.0;
  for (std::size_t k = 0; k < cir.voltage_sources.size(); ++k) {
    const double charge = s * solution[layout.voltage_source_row(static_cast<int>(k))];
    const double e = -charge * source_volts(k);
    acc.total.sources += e;
    if (options.element_energies) acc.elements.voltage_sources[k] += e;
    delivered += e;
  }
  for (std::size_t k = 0; k < cir.vcvs.size(); ++k) {
    const auto& v = cir.vcvs[k];
    const double charge = s * solution[layout.vcvs_row(static_cast<int>(k))];
    const double e = -charge * (node_v(x.data(), v.out_plus) - node_v(x.data(), v.out_minus));
    acc.total.controlled += e;
    if (options.element_energies) acc.elements.vcvs[k] += e;
    delivered += e;
  }
  acc.total.impulse += delivered - (after - before);
  return true;
}

void TransientSolver::Impl::choose_differential() {
  const Circuit& cir = *circuit;
  DisjointSets groups(num_nodes);
  for (const auto& e : cir.voltage_sources) groups.join(e.plus, e.minus);
  for (const auto& e : cir.vcvs) groups.join(e.out_plus, e.out_minus);
  for (std::size_t j = 0; j < ideal.size(); ++j) {
    const auto& d = cir.diodes[static_cast<std::size_t>(ideal[j])];
    if (state.diode_on[static_cast<std::size_t>(ideal[j])]) groups.join(d.anode, d.cathode);
  }
  // Per group: the node with the largest capacitance (none when the group holds ground).
  std::vector<int> representative(static_cast<std::size_t>(num_nodes) + 1, -1);
  const int ground = groups.find(kGround);
  std::fill(differential.begin(), differential.end(), 0);
  for (int k = 0; k < num_nodes; ++k) {
    if (capacitance_diagonal[k] <= 0.0) continue;
    const int root = groups.find(k);
    if (root == ground) continue;
    int& best = representative[static_cast<std::size_t>(root)];
    if (best < 0 || capacitance_diagonal[k] > capacitance_diagonal[best]) best = k;
  }
  for (int r : representative)
    if (r >= 0) differential[static_cast<std::size_t>(r)] = 1;
  for (int st = mna_size; st < size; ++st) differential[static_cast<std::size_t>(st)] = 1;
  double* idd = N_VGetArrayPointer(id);
  for (int i = 0; i < size; ++i) idd[i] = differential[static_cast<std::size_t>(i)];
}

int TransientSolver::Impl::check_modes(const Eigen::VectorXd& x) {
  int flips = 0;
  for (std::size_t j = 0; j < ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(ideal[j]);
    const auto& d = circuit->diodes[k];
    if (d.anode == d.cathode) continue;
    if (state.diode_on[k] && x[layout.diode_row(ideal[j])] < -c * eps) {
      state.diode_on[k] = 0;
      ++flips;
    } else if (!state.diode_on[k] && diode_voltage(x.data(), k) > eps) {
      state.diode_on[k] = 1;
      ++flips;
    }
  }
  return flips;
}

void TransientSolver::Impl::consistent_initial_conditions(double t, Eigen::VectorXd& x,
                                                          Eigen::VectorXd& xp,
                                                          const std::string& phase) {
  constexpr int kMaxIterations = 50;
  constexpr double kRelativeTolerance = 1e-11;
  Eigen::VectorXd r(size), delta(size), scale(size);
  now = t;
  for (int iteration = 0;; ++iteration) {
    residual(x.data(), xp.data(), r.data());
    // Row scale: the magnitudes of the stamps' terms plus the charge currents (and the
    // memristors' currents and rates).
    scale.setZero();
    scale.head(mna_size) = residual_assembly.scale;
    for (int k = 0; k < num_nodes; ++k) scale[k] += capacitance_diagonal[k] * std::abs(xp[k]);
    for (std::size_t k = 0; k < circuit->memristors.size(); ++k) {
      const auto& e = circuit->memristors[k];
      const int st = mna_size + static_cast<int>(k);
      const double v = memristor_voltage(x.data(), k);
      const double i = std::abs(e.model->current(x[st], v));
      if (e.a != kGround) scale[e.a] += i;
      if (e.b != kGround) scale[e.b] += i;
      scale[st] += std::abs(xp[st]) + std::abs(memristor_rate(k, x[st], v));
    }
    int worst = -1;
    double worst_ratio = 0.0;
    for (int i = 0; i < size; ++i) {
      const double ratio = std::abs(r[i]) / (scale[i] + 1e-300);
      if (std::abs(r[i]) > kRelativeTolerance * scale[i] && ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = i;
      }
    }
    if (worst < 0) return;
    if (iteration == kMaxIterations)
      fail(phase, t,
           cat("consistent initial conditions: Newton did not converge in ", kMaxIterations,
               " iterations (residual ", r[worst], " in the row of ",
               describe(worst), ")"));
    // The exact Jacobian of the initial-condition problem (IDA's IDA_YA_YDP_INIT): dF/dy in the
    // columns of algebraic unknowns, dF/dy' = the capacitances in those of differential ones.
    for (std::size_t k = 0; k < circuit->diodes.size(); ++k)
      if (circuit->diodes[k].model == DiodeModel::Shockley)
        state.junction_voltage[k] = diode_voltage(x.data(), k);
    jacobian_assembly.clear();
    x_scratch = x.head(mna_size);
    assemble(*circuit, layout, state, nudges, x_scratch, jacobian_assembly);
    std::fill(ic_values.begin(), ic_values.end(), 0.0);
    for (std::size_t p = 0; p < from_mna.size(); ++p)
      ic_values[static_cast<std::size_t>(from_mna[p])] += jacobian_assembly.jacobian_values[p];
    for (int col = 0; col < num_nodes; ++col)
      if (differential[static_cast<std::size_t>(col)])
        std::fill(ic_values.begin() + ic_column_starts[static_cast<std::size_t>(col)],
                  ic_values.begin() + ic_column_starts[static_cast<std::size_t>(col) + 1], 0.0);
    auto is_differential = [&](int node) {
      return node != kGround && differential[static_cast<std::size_t>(node)];
    };
    for (std::size_t k = 0; k < circuit->capacitors.size(); ++k) {
      const auto& e = circuit->capacitors[k];
      const BranchSlots& sl = capacitor_slots[k];
      if (is_differential(e.a)) {
        if (sl.aa >= 0) ic_values[static_cast<std::size_t>(sl.aa)] += e.farads;
        if (sl.ba >= 0) ic_values[static_cast<std::size_t>(sl.ba)] -= e.farads;
      }
      if (is_differential(e.b)) {
        if (sl.ab >= 0) ic_values[static_cast<std::size_t>(sl.ab)] -= e.farads;
        if (sl.bb >= 0) ic_values[static_cast<std::size_t>(sl.bb)] += e.farads;
      }
    }
    for (int k = 0; k < num_nodes; ++k)
      if (is_differential(k))
        ic_values[static_cast<std::size_t>(node_diagonal[k])] += node_capacitance[k];
    // Memristors: dF/dv in the columns of algebraic nodes; the state (differential) column
    // holds dF/dx' = 1 in the state's row.
    for (std::size_t k = 0; k < memristor_slots.size(); ++k) {
      const auto& e = circuit->memristors[k];
      const int st = mna_size + static_cast<int>(k);
      const MemristorPartials d = memristor_partials(k, x[st], memristor_voltage(x.data(), k));
      const MemristorSlots& m = memristor_slots[k];
      auto put = [&](int slot, double value) {
        if (slot >= 0) ic_values[static_cast<std::size_t>(slot)] += value;
      };
      if (e.a != kGround && !is_differential(e.a)) {
        put(m.aa, d.i_v);
        put(m.ba, -d.i_v);
        put(m.sa, -d.f_v);
      }
      if (e.b != kGround && !is_differential(e.b)) {
        put(m.ab, -d.i_v);
        put(m.bb, d.i_v);
        put(m.sb, d.f_v);
      }
      put(m.ss, 1.0);
    }
    klu_numeric* numeric = klu_factor(ic_column_starts.data(), ic_row_indices.data(),
                                      ic_values.data(), ic_symbolic, &ic_common);
    if (numeric == nullptr || ic_common.status == KLU_SINGULAR) {
      const int column = ic_common.singular_col;
      if (numeric != nullptr) klu_free_numeric(&numeric, &ic_common);
      fail(phase, t,
           cat("consistent initial conditions: the matrix is singular",
               column >= 0 && column < size ? " at " + describe(column)
                                            : std::string(),
               " (a node with no capacitance and no DC path, or a loop of voltage sources and "
               "conducting ideal diodes)"));
    }
    delta = -r;
    const int ok = klu_solve(ic_symbolic, numeric, size, 1, delta.data(), &ic_common);
    klu_free_numeric(&numeric, &ic_common);
    if (!ok || !delta.allFinite())
      fail(phase, t, "consistent initial conditions: the linear solve failed");
    for (int i = 0; i < size; ++i) {
      if (differential[static_cast<std::size_t>(i)])
        xp[i] += delta[i];
      else
        x[i] += delta[i];
    }
  }
}

void TransientSolver::Impl::restart(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp,
                                    Accumulator& acc, TransientResult& result,
                                    const std::string& phase) {
  std::set<std::string> seen;
  for (;;) {
    jump(x, acc, phase, t);
    choose_differential();
    for (int i = 0; i < size; ++i)
      if (!differential[static_cast<std::size_t>(i)]) xp[i] = 0.0;
    consistent_initial_conditions(t, x, xp, phase);
    ++result.restarts;
    seen.insert(std::string(state.diode_on.begin(), state.diode_on.end()));
    const std::vector<char> before = state.diode_on;
    const int flips = check_modes(x);
    if (flips != 0 &&
        !seen.insert(std::string(state.diode_on.begin(), state.diode_on.end())).second) {
      // The set cycles at this instant: keep the consistent one; root finding takes over.
      state.diode_on = before;
    } else if (flips != 0) {
      result.events += flips;
      if (result.events > options.max_events)
        fail(phase, t,
             cat("more than max_events = ", options.max_events,
                 " ideal-diode switches (the diodes chatter)"));
      continue;
    }
    break;
  }
  // The consistent point starts IDA afresh (order 1, new history).
  choose_differential();
  std::copy(x.data(), x.data() + size, N_VGetArrayPointer(y));
  std::copy(xp.data(), xp.data() + size, N_VGetArrayPointer(yp));
  check(IDAReInit(ida, t, y, yp), "IDAReInit");
  check(IDASetId(ida, id), "IDASetId");
  std::vector<int> direction(static_cast<std::size_t>(num_roots), 0);
  for (std::size_t j = 0; j < ideal.size(); ++j)
    direction[j] = state.diode_on[static_cast<std::size_t>(ideal[j])] ? -1 : 1;
  check(IDASetRootDirection(ida, direction.data()), "IDASetRootDirection");
}

TransientSolver::TransientSolver(const Circuit& circuit, TransientOptions options)
    : impl_(std::make_unique<Impl>(circuit, std::move(options))) {}
TransientSolver::~TransientSolver() = default;
TransientSolver::TransientSolver(TransientSolver&&) noexcept = default;
TransientSolver& TransientSolver::operator=(TransientSolver&&) noexcept = default;
TransientOptions& TransientSolver::options() { return impl_->options; }
const TransientOptions& TransientSolver::options() const { return impl_->options; }

TransientResult TransientSolver::run(const Circuit& circuit, const std::vector<Nudge>& nudges,
                                     const Eigen::VectorXd& initial_voltages,
                                     const std::string& phase) {
  Impl& s = *impl_;
  const TransientOptions& o = s.options;
  std::string why;
  bool same_capacitors = circuit.capacitors.size() == s.capacitor_terminals.size();
  for (std::size_t k = 0; same_capacitors && k < circuit.capacitors.size(); ++k)
    same_capacitors = s.capacitor_terminals[k] ==
                      std::make_pair(circuit.capacitors[k].a, circuit.capacitors[k].b);
  bool same_memristors = circuit.memristors.size() == s.memristor_terminals.size();
  for (std::size_t k = 0; same_memristors && k < circuit.memristors.size(); ++k)
    same_memristors = s.memristor_terminals[k] ==
                      std::make_pair(circuit.memristors[k].a, circuit.memristors[k].b);
  if (!same_memristors && why.empty()) why = "the memristors changed";
  if (!s.layout.same_structure(circuit, why) || !same_capacitors || !same_memristors)
    throw SolverError(
        cat("transient solver: the circuit's structure differs from the one this "
            "solver was built for: ",
            why.empty() ? "the capacitors changed" : why, "; build a new TransientSolver"));
  for (std::size_t k = 0; k < circuit.capacitors.size(); ++k) {
    const auto& e = circuit.capacitors[k];
    if (!(e.farads >= 0.0) || !std::isfinite(e.farads))
      throw Error(
          cat("capacitor '", e.name, "': capacitance ", e.farads, " F: must be finite and >= 0"));
  }
  circuit.validate();
  if (!o.voltage_waveforms.empty() && o.voltage_waveforms.size() != circuit.voltage_sources.size())
    throw Error(cat("transient solver: ", o.voltage_waveforms.size(),
                    " voltage waveforms for ", circuit.voltage_sources.size(),
                    " voltage sources (give one per source, empty for a constant one)"));
  if (!(o.rtol >= 0.0) || !(o.atol > 0.0) || !(o.max_duration > 0.0) || !(o.hold >= 0.0))
    throw Error(cat("transient solver: rtol ", o.rtol, ", atol ", o.atol, " V, max_duration ",
                    o.max_duration, " s, hold ", o.hold,
                    ": need rtol >= 0, atol > 0, max_duration > 0, hold >= 0"));
  const int n = s.num_nodes;
  if (initial_voltages.size() != n)
    throw Error(cat("transient solver: initial voltages have ", initial_voltages.size(),
                    " entries; the circuit has ", n, " nodes"));
  if (!initial_voltages.allFinite()) throw Error("transient solver: initial voltages not finite");
  s.node_capacitance = Eigen::VectorXd::Zero(n);
  if (o.node_capacitance.size() != 0) {
    if (o.node_capacitance.size() != n)
      throw Error(cat("transient solver: node_capacitance has ", o.node_capacitance.size(),
                      " entries; the circuit has ", n, " nodes"));
    for (int k = 0; k < n; ++k)
      if (!(o.node_capacitance[k] >= 0.0) || !std::isfinite(o.node_capacitance[k]))
        throw Error(cat("transient solver: capacitance of node '", circuit.node_name(k), "' is ",
                        o.node_capacitance[k], " F: must be finite and >= 0"));
    s.node_capacitance = o.node_capacitance;
  }
  s.capacitance_diagonal = s.node_capacitance;
  for (const auto& e : circuit.capacitors) {
    if (e.a != kGround) s.capacitance_diagonal[e.a] += e.farads;
    if (e.b != kGround) s.capacitance_diagonal[e.b] += e.farads;
  }

  s.circuit = &circuit;
  s.node_scratch.assign(static_cast<std::size_t>(n) + 1, 0.0);
  s.conductance_a.clear();
  s.conductance_b.clear();
  s.conductance_g.clear();
  for (const auto& e : circuit.conductances) {
    s.conductance_a.push_back(e.a == kGround ? n : e.a);
    s.conductance_b.push_back(e.b == kGround ? n : e.b);
    s.conductance_g.push_back(e.g);
  }
  s.nudges.clear();
  for (const auto& nudge : nudges) {
    if (nudge.node < 0 || nudge.node >= n || !std::isfinite(nudge.beta) ||
        !std::isfinite(nudge.target))
      throw Error(cat("transient solver: nudge at node index ", nudge.node, " (beta ", nudge.beta,
                      ", target ", nudge.target, "): no such node or not finite"));
    s.nudges.push_back({nudge.node, nudge.beta, nudge.target});
  }
  // Conductance scale of the ideal diodes, as NewtonSolver chooses it.
  s.c = o.ideal_diode_scale;
  if (!(s.c > 0.0)) {
    double sum = 0.0;
    long count = 0;
    for (const auto& e : circuit.conductances)
      if (e.g > 0.0) {
        sum += e.g;
        ++count;
      }
    s.c = count > 0 ? sum / static_cast<double>(count) : 1.0;
  }
  s.eps = kSwitchOffset * o.atol;
  s.state.diode_on.assign(circuit.diodes.size(), 0);
  s.state.junction_voltage.assign(circuit.diodes.size(), 0.0);
  s.state.ideal_diode_scale = s.c;
  s.error = nullptr;
  s.residual_evaluations = s.jacobian_evaluations = 0;

  TransientResult result;
  Impl::Accumulator acc;
  if (o.element_energies) {
    ElementEnergies& el = acc.elements;
    el.conductances.assign(circuit.conductances.size(), 0.0);
    el.voltage_sources.assign(circuit.voltage_sources.size(), 0.0);
    el.current_sources.assign(circuit.current_sources.size(), 0.0);
    el.diodes.assign(circuit.diodes.size(), 0.0);
    el.vcvs.assign(circuit.vcvs.size(), 0.0);
    el.vccs.assign(circuit.vccs.size(), 0.0);
    el.nudges.assign(nudges.size(), 0.0);
    el.memristors.assign(circuit.memristors.size(), 0.0);
  }
  Eigen::VectorXd x = Eigen::VectorXd::Zero(s.size), xp = Eigen::VectorXd::Zero(s.size);
  x.head(n) = initial_voltages;
  for (std::size_t k = 0; k < circuit.memristors.size(); ++k)
    x[s.mna_size + static_cast<int>(k)] = circuit.memristors[k].x0;
  const double stored_start = s.stored_energy(x.data());
  auto finish_energy = [&](const Impl::Accumulator& a, const Eigen::VectorXd& at) {
    TransientEnergy e = a.total;
    e.stored_change = s.stored_energy(at.data()) - stored_start;
    return e;
  };
  if (s.size == 0) {
    result.voltages = initial_voltages;
    result.unknowns = x;
    return result;
  }

  if (o.settle == SettleCriterion::Final) {
    try {
      if (!s.newton) s.newton = std::make_unique<NewtonSolver>(circuit);
      s.final_voltages = s.newton->solve(circuit, nudges, &initial_voltages).voltages;
    } catch (const SolverError& e) {
      throw SolverError(cat("transient solver: phase '", phase,
                            "': the DC operating point needed by the \"final\" settling "
                            "criterion failed: ",
                            e.what()));
    }
  }

  // Absolute tolerances: atol for node voltages, atol * c for branch currents.
  {
    double* a = N_VGetArrayPointer(s.atol);
    for (int i = 0; i < s.size; ++i) a[i] = i < n || i >= s.mna_size ? o.atol : o.atol * s.c;
  }
  s.check(IDASVtolerances(s.ida, o.rtol, s.atol), "IDASVtolerances");

  for (std::size_t j = 0; j < s.ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(s.ideal[j]);
    const auto& d = circuit.diodes[k];
    s.state.diode_on[k] = d.anode != d.cathode && s.diode_voltage(x.data(), k) > -o.atol;
  }

  const double tol = o.settle == SettleCriterion::Final ? o.final_tol : o.slew_tol;
  double t = 0.0;
  s.restart(t, x, xp, acc, result, phase);
  if (o.observer) o.observer(t, x);

  // Settling bookkeeping: the candidate t_s and the energies and state there.
  bool settled = false;
  double t_settle = 0.0;
  Impl::Accumulator acc_settle;
  Eigen::VectorXd x_settle;
  auto check_settled_here = [&]() {
    const bool holds = s.settle_measure(x.data(), xp.data()) <= tol;
    if (holds && !settled) {
      settled = true;
      t_settle = t;
      acc_settle = acc;
      x_settle = x;
    } else if (!holds) {
      settled = false;
    }
  };
  check_settled_here();
  std::vector<int> found(static_cast<std::size_t>(s.num_roots), 0);
  const bool fixed = o.stop_time > 0.0;  // a SPICE .tran: run to stop_time, no settling
  if (o.max_step > 0.0) s.check(IDASetMaxStep(s.ida, o.max_step), "IDASetMaxStep");
  std::vector<double> breakpoints;
  if (fixed)
    for (double b : o.breakpoints)
      if (b > t && b < o.stop_time) breakpoints.push_back(b);
  std::sort(breakpoints.begin(), breakpoints.end());
  std::size_t next_breakpoint = 0;
  for (;;) {
    // At a breakpoint: restart (IDA's history does not reach across a corner of the drive).
    if (next_breakpoint < breakpoints.size() &&
        t >= breakpoints[next_breakpoint] * (1.0 - 1e-14)) {
      while (next_breakpoint < breakpoints.size() &&
             breakpoints[next_breakpoint] <= t * (1.0 + 1e-14))
        ++next_breakpoint;
      s.restart(t, x, xp, acc, result, phase);
    }
    const double t_stop = fixed     ? (next_breakpoint < breakpoints.size()
                                           ? breakpoints[next_breakpoint]
                                           : o.stop_time)
                          : settled ? std::min(t_settle * (1.0 + o.hold), o.max_duration)
                                    : o.max_duration;
    if ((settled || fixed) && t >= t_stop * (1.0 - 1e-14) &&
        (!fixed || next_breakpoint >= breakpoints.size()))
      break;
    if (!settled && !fixed && t >= o.max_duration * (1.0 - 1e-14))
      s.fail(phase, t,
             cat("not settled within max_duration = ", o.max_duration, " s (",
                 o.settle == SettleCriterion::Final ? "max |v - v_dc| = " : "max |dv/dt| = ",
                 s.settle_measure(x.data(), xp.data()),
                 o.settle == SettleCriterion::Final ? " V" : " V/s", ", tolerance ", tol, ")"));
    // IDA may already have stepped past t_stop (a root inside the last step): then IDASolve
    // first searches the rest of that step for roots, and the end is interpolated below.
    sunrealtype t_internal = t;
    s.check(IDAGetCurrentTime(s.ida, &t_internal), "IDAGetCurrentTime");
    if (t_stop > t_internal) s.check(IDASetStopTime(s.ida, t_stop), "IDASetStopTime");
    sunrealtype t_ret = t;
    s.ida_message.clear();
    const int flag = IDASolve(s.ida, t_stop, &t_ret, s.y, s.yp, IDA_ONE_STEP);
    if (s.error) std::rethrow_exception(s.error);
    if (flag < 0) s.fail_ida(phase, flag, "while integrating");
    if (t_ret > t_stop) {
      // No root before t_stop (IDA reports roots in order): the phase ends at t_stop, on IDA's
      // interpolating polynomial (valid over the last step).
      s.integrate_energy(t, t_stop, acc);
      s.check(IDAGetDky(s.ida, t_stop, 0, s.y), "IDAGetDky");
      s.check(IDAGetDky(s.ida, t_stop, 1, s.yp), "IDAGetDky");
      t = t_stop;
      std::copy(N_VGetArrayPointer(s.y), N_VGetArrayPointer(s.y) + s.size, x.data());
      std::copy(N_VGetArrayPointer(s.yp), N_VGetArrayPointer(s.yp) + s.size, xp.data());
      if (o.observer) o.observer(t, x);
      continue;
    }
    s.integrate_energy(t, t_ret, acc);
    t = t_ret;
    std::copy(N_VGetArrayPointer(s.y), N_VGetArrayPointer(s.y) + s.size, x.data());
    std::copy(N_VGetArrayPointer(s.yp), N_VGetArrayPointer(s.yp) + s.size, xp.data());
    if (flag != IDA_ROOT_RETURN) ++result.steps;
    if (o.observer) o.observer(t, x);
    if (result.steps > o.max_steps)
      s.fail(phase, t, cat("more than max_steps = ", o.max_steps, " IDA steps"));
    if (flag != IDA_ROOT_RETURN) continue;

    s.check(IDAGetRootInfo(s.ida, found.data()), "IDAGetRootInfo");
    // At the root the measure equals the tolerance up to rounding: the crossing's direction
    // (IDA: -1 decreasing, +1 increasing) says whether the criterion starts or stops holding.
    if (found.back() < 0 && !settled) {
      settled = true;
      t_settle = t;
      acc_settle = acc;
      x_settle = x;
    } else if (found.back() > 0) {
      settled = false;
    }
    int flips = 0;
    for (std::size_t j = 0; j < s.ideal.size(); ++j)
      if (found[j] != 0) {
        auto& on = s.state.diode_on[static_cast<std::size_t>(s.ideal[j])];
        on = !on;
        ++flips;
      }
    if (flips == 0) continue;
    result.events += flips;
    if (result.events > o.max_events)
      s.fail(phase, t,
             cat("more than max_events = ", o.max_events,
                 " ideal-diode switches (the diodes chatter)"));
    s.restart(t, x, xp, acc, result, phase);
    if (o.observer) o.observer(t, x);
    check_settled_here();
  }

  if (fixed) {
    t_settle = t;
    acc_settle = acc;
    x_settle = x;
  }
  for (std::size_t j = 0; j < s.ideal.size(); ++j) {
    const auto k = static_cast<std::size_t>(s.ideal[j]);
    const double current = x[s.layout.diode_row(s.ideal[j])];
    const double voltage = s.diode_voltage(x.data(), k);
    if ((s.state.diode_on[k] && current < -s.c * o.atol) ||
        (!s.state.diode_on[k] && voltage > o.atol))
      s.fail(phase, t,
             cat("ideal diode '", circuit.diodes[k].name, "' ends ",
                 s.state.diode_on[k] ? "conducting backwards (" : "forward biased (", current,
                 " A, ", voltage, " V): its switching was missed"));
  }
  result.voltages = x.head(n);
  result.unknowns = x;
  result.diode_on = s.state.diode_on;
  result.settling_time = t_settle;
  result.end_time = t;
  result.energy_settled = finish_energy(acc_settle, x_settle);
  result.energy_end = finish_energy(acc, x);
  if (o.element_energies) {
    result.elements_settled = acc_settle.elements;
    result.elements_end = acc.elements;
  }
  Impl::Accumulator power;
  power.elements = acc.elements;  // sized, unused
  s.now = t;
  s.add_power(x.data(), 1.0, power);
  result.power_end = power.total.conductances + power.total.diodes + power.total.memristors;
  result.residual_evaluations = s.residual_evaluations;
  result.jacobian_evaluations = s.jacobian_evaluations;
  return result;
}

}  // namespace physlearn::solvers
