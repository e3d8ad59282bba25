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
#include "solvers/mna.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::Complementarity;
using circuits::EnergyKind;
using circuits::Instance;
using circuits::JumpConstraint;
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

double node_v(const double* x, int node) { return circuits::node_voltage(x, node); }

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
    double totals[circuits::kEnergyKinds] = {0.0, 0.0, 0.0, 0.0, 0.0};
    double nudges = 0.0;
    double impulse = 0.0;
    ElementEnergies elements;
  };

  TransientOptions options;
  UnknownLayout layout;
  MnaPattern pattern;  // dF/dx and dQ/dx
  int size = 0;
  int num_nodes = 0;
  int num_roots = 0;
  std::vector<sunindextype> column_starts, row_indices;
  std::vector<int> node_diagonal;       // per node, the position of (k, k)
  std::vector<int> diagonal;            // per unknown, the position of (i, i), or -1
  std::vector<ComplementarityRef> comps;  // the ideal diodes, in kind and element order
  // Consistent initial conditions: our own KLU (int indices) on the pattern, analysed once.
  std::vector<int> ic_column_starts, ic_row_indices;
  std::vector<double> ic_values;
  klu_common ic_common{};
  klu_symbolic* ic_symbolic = nullptr;

  // Per run.
  const Circuit* circuit = nullptr;
  std::vector<NudgeTerm> nudges;
  std::vector<KindState> states;  // modes of the ideal diodes (no linearisation points)
  std::vector<char> on;           // per ideal diode: ON
  Assembly residual_assembly;     // F only
  Assembly jacobian_assembly;     // dF/dx
  Assembly charge_assembly;       // dQ/dx
  Eigen::VectorXd node_capacitance;      // F per node (zeros when none)
  Eigen::VectorXd charge_diagonal;       // per unknown: dQ/dx on the diagonal, node caps included
  Eigen::VectorXd final_voltages;
  std::vector<char> differential;  // per unknown: IDASetId value
  double c = 1.0;
  double eps = 0.0;
  double now = 0.0;  // s: the time at which the sources' waveforms are evaluated
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

  double diode_voltage(const double* x, std::size_t j) const {
    return node_v(x, comps[j].c.a) - node_v(x, comps[j].c.b);
  }
  std::string diode_name(std::size_t j) const {
    return circuit->group(comps[j].kind).name(comps[j].index);
  }
  /// A readable name of unknown i.
  std::string describe(int i) const { return layout.describe(*circuit, i); }
  /// Copies the ideal diodes' modes into their kinds' state, for the stamps.
  void sync_modes() {
    for (std::size_t j = 0; j < comps.size(); ++j) states[comps[j].kind].mode[comps[j].index] = on[j];
  }
  /// F(x) at `now` into residual_assembly (or jacobian_assembly with dF/dx).
  void assemble_f(const double* x, Assembly& out) {
    sync_modes();
    AssemblyPoint at;
    at.x = x;
    at.time = now;
    at.conductance_scale = c;
    at.states = &states;
    out.clear();
    assemble(*circuit, pattern, at, nudges, out);
  }

  void residual(const double* x, const double* xp, double* r);
  void jacobian(double cj, const double* x, SUNMatrix jac);
  void roots(const double* x, const double* xp, double* g);
  double settle_measure(const double* x, const double* xp) const;
  double stored_energy(const double* x) const;
  void add_power(const double* x, double weight, Accumulator& acc);
  void integrate_energy(double a, double b, Accumulator& acc);
  bool jump(Eigen::VectorXd& x, Accumulator& acc, const std::string& phase, double t);
  void choose_differential(const Eigen::VectorXd& x);
  void consistent_initial_conditions(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp,
                                     const std::string& phase);
  int check_modes(const Eigen::VectorXd& x);
  void restart(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp, Accumulator& acc,
               TransientResult& result, const std::string& phase);
  TransientEnergy energy(const Accumulator& a) const {
    TransientEnergy e;
    e.sources = a.totals[static_cast<int>(EnergyKind::sources)];
    e.controlled = a.totals[static_cast<int>(EnergyKind::controlled)];
    e.conductances = a.totals[static_cast<int>(EnergyKind::conductances)];
    e.diodes = a.totals[static_cast<int>(EnergyKind::diodes)];
    e.memristors = a.totals[static_cast<int>(EnergyKind::memristors)];
    e.nudges = a.nudges;
    e.impulse = a.impulse;
    return e;
  }
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
      pattern(c0, layout, true),
      size(layout.size()),
      num_nodes(layout.num_nodes()),
      comps(complementarities(c0, pattern)),
      residual_assembly(layout.size(), 0),
      jacobian_assembly(layout.size(), pattern.nonzeros()),
      charge_assembly(layout.size(), pattern.nonzeros()) {
  column_starts.assign(pattern.column_starts().begin(), pattern.column_starts().end());
  row_indices.assign(pattern.row_indices().begin(), pattern.row_indices().end());
  for (int k = 0; k < num_nodes; ++k) node_diagonal.push_back(pattern.position(k, k));
  for (int i = 0; i < size; ++i) diagonal.push_back(pattern.position(i, i));
  num_roots = static_cast<int>(comps.size()) + 1;
  differential.assign(static_cast<std::size_t>(size), 0);
  if (size == 0) return;

  ic_column_starts = pattern.column_starts();
  ic_row_indices = pattern.row_indices();
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
  assemble_f(x, residual_assembly);
  // d/dt Q(x): the kinds' charge currents, then the node capacitances to ground.
  assemble_charge(*circuit, pattern, x, xp, 0.0, residual_assembly);
  Eigen::VectorXd& f = residual_assembly.residual;
  for (int k = 0; k < num_nodes; ++k) f[k] += node_capacitance[k] * xp[k];
  std::copy(f.data(), f.data() + size, r);
}

void TransientSolver::Impl::jacobian(double cj, const double* x, SUNMatrix jac) {
  assemble_f(x, jacobian_assembly);
  assemble_charge(*circuit, pattern, x, nullptr, cj, jacobian_assembly);
  std::vector<double>& values = jacobian_assembly.jacobian;
  for (int k = 0; k < num_nodes; ++k)
    values[static_cast<std::size_t>(node_diagonal[k])] += cj * node_capacitance[k];
  // IDA zeroes the matrix (index arrays included) before calling us: write the pattern anew.
  std::copy(column_starts.begin(), column_starts.end(), SUNSparseMatrix_IndexPointers(jac));
  std::copy(row_indices.begin(), row_indices.end(), SUNSparseMatrix_IndexValues(jac));
  std::copy(values.begin(), values.end(), SUNSparseMatrix_Data(jac));
}

void TransientSolver::Impl::roots(const double* x, const double* xp, double* g) {
  for (std::size_t j = 0; j < comps.size(); ++j)
    // ON: current (in volts through c) falling below -eps; OFF: voltage rising above eps.
    g[j] = on[j] ? x[comps[j].c.row] / c + eps : diode_voltage(x, j) - eps;
  // A run to stop_time watches no settling criterion: a constant root function (else a drive
  // whose slew passes the tolerance at a restart looks like a root there).
  if (options.stop_time > 0.0) {
    g[comps.size()] = 1.0;
    return;
  }
  const double tol =
      options.settle == SettleCriterion::Final ? options.final_tol : options.slew_tol;
  g[comps.size()] = settle_measure(x, xp) - tol;
}

double TransientSolver::Impl::stored_energy(const double* x) const {
  double e = 0.0;
  for (std::size_t kind = 0; kind < circuit->num_kinds(); ++kind) {
    const auto& group = circuit->group(kind);
    if (group.size() > 0) e += group.stored_energy(pattern.instances(kind).data(), x);
  }
  for (int k = 0; k < num_nodes; ++k) e += 0.5 * node_capacitance[k] * x[k] * x[k];
  return e;
}

void TransientSolver::Impl::add_power(const double* x, double w, Accumulator& acc) {
  const bool each = options.element_energies;
  circuits::Evaluation ev;
  ev.x = x;
  ev.time = now;
  ev.conductance_scale = c;
  for (std::size_t kind = 0; kind < circuit->num_kinds(); ++kind) {
    const auto& group = circuit->group(kind);
    if (group.size() == 0) continue;
    circuits::EnergySink sink;
    sink.totals = acc.totals;
    sink.each = each ? acc.elements.kinds[kind].data() : nullptr;
    group.power(layout.first(kind).data(), ev, w, sink);
  }
  for (std::size_t k = 0; k < nudges.size(); ++k) {
    const auto& n = nudges[k];
    const double v = node_v(x, n.node);
    const double p = w * n.beta * (n.target - v) * v;
    acc.nudges += p;
    if (each) acc.elements.nudges[k] += p;
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
  // The impulsive branches' constraints and their violations at the carried-over state: the
  // kinds' (voltage sources, VCVS outputs), then the ON ideal diodes' (V = 0).
  struct Branch {
    std::size_t kind;
    Instance at;
    JumpConstraint constraint;
  };
  std::vector<Branch> branches;
  for (std::size_t kind = 0; kind < cir.num_kinds(); ++kind) {
    const auto& group = cir.group(kind);
    for (const Instance& at : pattern.instances(kind)) {
      Branch b{kind, at, {}};
      if (group.jump(at, xd, t, b.constraint)) branches.push_back(std::move(b));
    }
  }
  std::vector<JumpConstraint> clamps;  // ON ideal diodes
  for (std::size_t j = 0; j < comps.size(); ++j) {
    if (!on[j]) continue;
    const Complementarity& d = comps[j].c;
    JumpConstraint jc;
    jc.row = d.row;
    jc.incidence = {{d.a, 1.0}, {d.b, -1.0}};
    jc.coefficients = {{d.a, 1.0}, {d.b, -1.0}};
    jc.violation = diode_voltage(xd, j);
    clamps.push_back(std::move(jc));
  }
  Eigen::VectorXd violation = Eigen::VectorXd::Zero(size);
  std::vector<char> impulsive(static_cast<std::size_t>(size), 0);
  double worst = 0.0;
  auto note = [&](const JumpConstraint& jc) {
    violation[jc.row] = jc.violation;
    impulsive[static_cast<std::size_t>(jc.row)] = 1;
    worst = std::max(worst, std::abs(jc.violation) / (1.0 + jc.scale));
  };
  for (const Branch& b : branches) note(b.constraint);
  for (const JumpConstraint& jc : clamps) note(jc);
  if (worst <= 1e-12) return false;

  // (C + delta I) dv + s B J~ = 0 at the nodes; s B^T dv = -s violation in the branch rows;
  // J = s J~ is the charge each impulsive branch moves (SPICE sign). s scales the branch rows to
  // capacitance size; delta (a negligible capacitance at every node) keeps nodes that carry no
  // capacitance, or float capacitively, determined. Every other extra unknown (an OFF diode's
  // current, a state, a current that cannot jump) holds.
  const double cmax =
      std::max(num_nodes > 0 ? charge_diagonal.head(num_nodes).maxCoeff() : 0.0, 0.0);
  const double s = cmax > 0.0 ? cmax : 1.0;
  const double delta = 1e-12 * s;
  std::vector<Eigen::Triplet<double>> triplets;
  for (int k = 0; k < num_nodes; ++k) triplets.emplace_back(k, k, node_capacitance[k] + delta);
  charge_assembly.clear();
  assemble_charge(cir, pattern, xd, nullptr, 1.0, charge_assembly);
  const auto& starts = pattern.column_starts();
  const auto& rows = pattern.row_indices();
  for (int col = 0; col < num_nodes; ++col)
    for (int p = starts[static_cast<std::size_t>(col)];
         p < starts[static_cast<std::size_t>(col) + 1]; ++p) {
      const int row = rows[static_cast<std::size_t>(p)];
      const double value = charge_assembly.jacobian[static_cast<std::size_t>(p)];
      if (row < num_nodes && value != 0.0) triplets.emplace_back(row, col, value);
    }
  auto branch = [&](const JumpConstraint& jc) {
    for (const auto& [node, sign] : jc.incidence)
      if (node != kGround) triplets.emplace_back(node, jc.row, sign * s);
    for (const auto& [node, coefficient] : jc.coefficients)
      if (node != kGround) triplets.emplace_back(jc.row, node, coefficient * s);
  };
  for (const Branch& b : branches) branch(b.constraint);
  for (const JumpConstraint& jc : clamps) branch(jc);
  for (int i = num_nodes; i < size; ++i)
    if (!impulsive[static_cast<std::size_t>(i)]) triplets.emplace_back(i, i, s);  // holds
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
  // Energy the impulsive branches deliver while moving their charge J at their (post-switch)
  // voltage: -J E (SPICE sign); ideal diodes have V = 0.
  double delivered = 0.0;
  for (const Branch& b : branches) {
    const double charge = s * solution[b.constraint.row];
    EnergyKind kind = EnergyKind::sources;
    const double e = cir.group(b.kind).jump_energy(b.at, charge, x.data(), t, kind);
    acc.totals[static_cast<int>(kind)] += e;
    if (options.element_energies) acc.elements.kinds[b.kind][b.at.index] += e;
    delivered += e;
  }
  acc.impulse += delivered - (after - before);
  return true;
}

void TransientSolver::Impl::choose_differential(const Eigen::VectorXd& x) {
  const Circuit& cir = *circuit;
  // Nodes held together by impulsive branches (algebraic voltage constraints).
  circuits::NodeSets groups(num_nodes);
  for (std::size_t kind = 0; kind < cir.num_kinds(); ++kind) {
    const auto& group = cir.group(kind);
    JumpConstraint jc;
    for (const Instance& at : pattern.instances(kind))
      if (group.jump(at, x.data(), now, jc) && jc.incidence.size() == 2)
        groups.join(jc.incidence[0].first, jc.incidence[1].first);
  }
  for (std::size_t j = 0; j < comps.size(); ++j)
    if (on[j]) groups.join(comps[j].c.a, comps[j].c.b);
  // Per group: the node with the largest capacitance (none when the group holds ground).
  std::vector<int> representative(static_cast<std::size_t>(num_nodes) + 1, -1);
  const int ground = groups.find(kGround);
  std::fill(differential.begin(), differential.end(), 0);
  for (int k = 0; k < num_nodes; ++k) {
    if (charge_diagonal[k] <= 0.0) continue;
    const int root = groups.find(k);
    if (root == ground) continue;
    int& best = representative[static_cast<std::size_t>(root)];
    if (best < 0 || charge_diagonal[k] > charge_diagonal[best]) best = k;
  }
  for (int r : representative)
    if (r >= 0) differential[static_cast<std::size_t>(r)] = 1;
  // An extra unknown with a charge of its own (a state, ...) is differential.
  for (int i = num_nodes; i < size; ++i)
    if (charge_diagonal[i] != 0.0) differential[static_cast<std::size_t>(i)] = 1;
  double* idd = N_VGetArrayPointer(id);
  for (int i = 0; i < size; ++i) idd[i] = differential[static_cast<std::size_t>(i)];
}

int TransientSolver::Impl::check_modes(const Eigen::VectorXd& x) {
  int flips = 0;
  for (std::size_t j = 0; j < comps.size(); ++j) {
    const Complementarity& d = comps[j].c;
    if (d.a == d.b) continue;
    if (on[j] && x[d.row] < -c * eps) {
      on[j] = 0;
      ++flips;
    } else if (!on[j] && diode_voltage(x.data(), j) > eps) {
      on[j] = 1;
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
  const auto& starts = pattern.column_starts();
  for (int iteration = 0;; ++iteration) {
    residual(x.data(), xp.data(), r.data());
    // Row scale: the magnitudes of the stamps' terms plus the charge currents.
    scale = residual_assembly.scale;
    for (int i = 0; i < size; ++i) scale[i] += std::abs(charge_diagonal[i]) * std::abs(xp[i]);
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
               " iterations (residual ", r[worst], " in the row of ", describe(worst), ")"));
    // The exact Jacobian of the initial-condition problem (IDA's IDA_YA_YDP_INIT): dF/dy in the
    // columns of algebraic unknowns, dF/dy' = dQ/dx in those of differential ones.
    assemble_f(x.data(), jacobian_assembly);
    charge_assembly.clear();
    assemble_charge(*circuit, pattern, x.data(), nullptr, 1.0, charge_assembly);
    for (int k = 0; k < num_nodes; ++k)
      charge_assembly.jacobian[static_cast<std::size_t>(node_diagonal[k])] += node_capacitance[k];
    for (int col = 0; col < size; ++col) {
      const auto& source = differential[static_cast<std::size_t>(col)]
                               ? charge_assembly.jacobian
                               : jacobian_assembly.jacobian;
      for (int p = starts[static_cast<std::size_t>(col)];
           p < starts[static_cast<std::size_t>(col) + 1]; ++p)
        ic_values[static_cast<std::size_t>(p)] = source[static_cast<std::size_t>(p)];
    }
    klu_numeric* numeric = klu_factor(ic_column_starts.data(), ic_row_indices.data(),
                                      ic_values.data(), ic_symbolic, &ic_common);
    if (numeric == nullptr || ic_common.status == KLU_SINGULAR) {
      const int column = ic_common.singular_col;
      if (numeric != nullptr) klu_free_numeric(&numeric, &ic_common);
      fail(phase, t,
           cat("consistent initial conditions: the matrix is singular",
               column >= 0 && column < size ? " at " + describe(column) : std::string(),
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

double TransientSolver::Impl::settle_measure(const double* x, const double* xp) const {
  double m = 0.0;
  if (options.settle == SettleCriterion::Final && final_voltages.size() == num_nodes) {
    for (int k = 0; k < num_nodes; ++k) m = std::max(m, std::abs(x[k] - final_voltages[k]));
    return m;
  }
  for (int k = 0; k < num_nodes; ++k) m = std::max(m, std::abs(xp[k]));
  return m;
}

void TransientSolver::Impl::restart(double t, Eigen::VectorXd& x, Eigen::VectorXd& xp,
                                    Accumulator& acc, TransientResult& result,
                                    const std::string& phase) {
  std::set<std::string> seen;
  for (;;) {
    jump(x, acc, phase, t);
    choose_differential(x);
    for (int i = 0; i < size; ++i)
      if (!differential[static_cast<std::size_t>(i)]) xp[i] = 0.0;
    consistent_initial_conditions(t, x, xp, phase);
    ++result.restarts;
    seen.insert(std::string(on.begin(), on.end()));
    const std::vector<char> before = on;
    const int flips = check_modes(x);
    if (flips != 0 &&
        !seen.insert(std::string(on.begin(), on.end())).second) {
      // The set cycles at this instant: keep the consistent one; root finding takes over.
      on = before;
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
  choose_differential(x);
  std::copy(x.data(), x.data() + size, N_VGetArrayPointer(y));
  std::copy(xp.data(), xp.data() + size, N_VGetArrayPointer(yp));
  check(IDAReInit(ida, t, y, yp), "IDAReInit");
  check(IDASetId(ida, id), "IDASetId");
  std::vector<int> direction(static_cast<std::size_t>(num_roots), 0);
  for (std::size_t j = 0; j < comps.size(); ++j) direction[j] = on[j] ? -1 : 1;
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
                                     const Eigen::VectorXd& initial, const std::string& phase) {
  Impl& s = *impl_;
  const TransientOptions& o = s.options;
  std::string why;
  if (!s.layout.same_structure(circuit, why))
    throw SolverError(
        cat("transient solver: the circuit's structure differs from the one this "
            "solver was built for: ",
            why, "; build a new TransientSolver"));
  circuit.validate();
  if (!(o.rtol >= 0.0) || !(o.atol > 0.0) || !(o.max_duration > 0.0) || !(o.hold >= 0.0))
    throw Error(cat("transient solver: rtol ", o.rtol, ", atol ", o.atol, " V, max_duration ",
                    o.max_duration, " s, hold ", o.hold,
                    ": need rtol >= 0, atol > 0, max_duration > 0, hold >= 0"));
  const int n = s.num_nodes;
  if (initial.size() != n && initial.size() != s.size)
    throw Error(cat("transient solver: initial values have ", initial.size(),
                    " entries; the circuit has ", n, " nodes and ", s.size, " unknowns"));
  if (!initial.allFinite()) throw Error("transient solver: initial values not finite");
  const Eigen::VectorXd initial_voltages = initial.head(n);
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

  s.circuit = &circuit;
  s.nudges.clear();
  for (const auto& nudge : nudges) {
    if (nudge.node < 0 || nudge.node >= n || !std::isfinite(nudge.beta) ||
        !std::isfinite(nudge.target))
      throw Error(cat("transient solver: nudge at node index ", nudge.node, " (beta ", nudge.beta,
                      ", target ", nudge.target, "): no such node or not finite"));
    s.nudges.push_back({nudge.node, nudge.beta, nudge.target});
  }
  // Conductance scale of the ideal diodes, as NewtonSolver chooses it.
  s.c = conductance_scale(circuit, o.ideal_diode_scale);
  s.eps = kSwitchOffset * o.atol;
  s.states = make_states(circuit, s.layout);
  for (auto& st : s.states) st.point.clear();  // nonlinear elements evaluated exactly
  s.on.assign(s.comps.size(), 0);
  s.error = nullptr;
  s.residual_evaluations = s.jacobian_evaluations = 0;
  s.now = 0.0;

  Eigen::VectorXd x = Eigen::VectorXd::Zero(s.size), xp = Eigen::VectorXd::Zero(s.size);
  if (initial.size() == s.size) {
    x = initial;
  } else {
    x.head(n) = initial_voltages;
    for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
      if (circuit.group(kind).size() > 0)
        circuit.group(kind).initial(s.pattern.instances(kind).data(), x.data());
  }
  // dQ/dx on the diagonal (the kinds' charges do not depend on x) and the node capacitances.
  s.charge_assembly.clear();
  assemble_charge(circuit, s.pattern, x.data(), nullptr, 1.0, s.charge_assembly);
  s.charge_diagonal = Eigen::VectorXd::Zero(s.size);
  for (int i = 0; i < s.size; ++i) {
    if (s.diagonal[static_cast<std::size_t>(i)] >= 0)
      s.charge_diagonal[i] = s.charge_assembly.jacobian[static_cast<std::size_t>(s.diagonal[i])];
    if (i < n) s.charge_diagonal[i] += s.node_capacitance[i];
  }

  TransientResult result;
  Impl::Accumulator acc;
  if (o.element_energies) {
    acc.elements.kinds.resize(circuit.num_kinds());
    for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
      acc.elements.kinds[kind].assign(circuit.group(kind).size(), 0.0);
    acc.elements.nudges.assign(nudges.size(), 0.0);
  }
  const double stored_start = s.stored_energy(x.data());
  auto finish_energy = [&](const Impl::Accumulator& a, const Eigen::VectorXd& at) {
    TransientEnergy e = s.energy(a);
    e.stored_change = s.stored_energy(at.data()) - stored_start;
    return e;
  };
  if (s.size == 0) {
    result.voltages = initial_voltages;
    result.unknowns = x;
    return result;
  }

  // A run to stop_time watches no settling criterion, so it needs no DC point (a circuit may
  // have none: a capacitor-only node, a memristor).
  if (o.settle == SettleCriterion::Final && !(o.stop_time > 0.0)) {
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

  // Absolute tolerances: atol for node voltages and states, atol * c for branch currents.
  {
    double* a = N_VGetArrayPointer(s.atol);
    for (int i = 0; i < s.size; ++i)
      a[i] = i < n || s.layout.kind(circuit, i) == circuits::UnknownKind::state ? o.atol
                                                                                : o.atol * s.c;
  }
  s.check(IDASVtolerances(s.ida, o.rtol, s.atol), "IDASVtolerances");

  for (std::size_t j = 0; j < s.comps.size(); ++j) {
    const Complementarity& d = s.comps[j].c;
    s.on[j] = d.a != d.b && s.diode_voltage(x.data(), j) > -o.atol;
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
    for (std::size_t j = 0; j < s.comps.size(); ++j)
      if (found[j] != 0) {
        s.on[j] = !s.on[j];
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
  for (std::size_t j = 0; j < s.comps.size(); ++j) {
    const double current = x[s.comps[j].c.row];
    const double voltage = s.diode_voltage(x.data(), j);
    if ((s.on[j] && current < -s.c * o.atol) || (!s.on[j] && voltage > o.atol))
      s.fail(phase, t,
             cat("ideal diode '", s.diode_name(j), "' ends ",
                 s.on[j] ? "conducting backwards (" : "forward biased (", current, " A, ",
                 voltage, " V): its switching was missed"));
  }
  result.voltages = x.head(n);
  result.unknowns = x;
  result.modes = s.on;
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
  result.power_end = power.totals[static_cast<int>(EnergyKind::conductances)] +
                     power.totals[static_cast<int>(EnergyKind::diodes)] +
                     power.totals[static_cast<int>(EnergyKind::memristors)];
  result.residual_evaluations = s.residual_evaluations;
  result.jacobian_evaluations = s.jacobian_evaluations;
  return result;
}

}  // namespace physlearn::solvers
