#include "solvers/equilibrium.h"

#include <utility>

#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"
#include "solvers/transient_layered.h"

namespace physlearn::solvers {

namespace {

/// A registry entry for a type whose solver is made from its own options.
template <class Options>
SolverType registered(const std::string& name, const std::string& doc,
                      std::unique_ptr<EquilibriumSolver> (*make)(const Options&,
                                                                 const circuits::LayeredNetwork&)) {
  return {name, doc, [] { return std::make_unique<SolverOptionsOf<Options>>(); },
          [name, make](const SolverParams& params, const circuits::LayeredNetwork& net) {
            return make(params.options<Options>(name), net);
          }};
}

const SolverType* find_solver_type(const std::string& name) {
  for (const auto& t : solver_types())
    if (t.name == name) return &t;
  return nullptr;
}

std::string solver_type_names() {
  std::string names;
  for (const auto& t : solver_types()) names += (names.empty() ? "" : ", ") + t.name;
  return names;
}

}  // namespace

const std::vector<SolverType>& solver_types() {
  static const std::vector<SolverType> types = {
      registered<LayeredSolverOptions>(
          "layered", "exact block coordinate descent (ideal diodes or none)", make_layered_solver),
      registered<NewtonOptions>("newton", "Newton on the lowered circuit (any diode)",
                                make_newton_layered_solver),
      registered<NgspiceSolverOptions>(
          "ngspice",
          "the lowered circuit solved by ngspice's op, in process (ideal diodes as steep "
          "Shockley diodes)",
          make_ngspice_layered_solver),
      registered<TransientSolverOptions>("transient", "every phase simulated in time by IDA",
                                         make_transient_layered_solver),
  };
  return types;
}

void describe(Schema& s, LayeredSolverOptions& o) {
  s.field("sweeps", o.sweeps, "sweeps per phase when tolerance is 0").min(1);
  s.field("tolerance", o.tolerance,
          "sweep until the largest potential change is below this (0: fixed sweeps)")
      .unit("V").min(0.0);
  s.field("max_sweeps", o.max_sweeps, "most sweeps when tolerance > 0").min(1);
}

SolverParams::SolverParams() {
  for (const auto& t : solver_types()) options_[t.name] = t.default_options();
}

SolverParams::SolverParams(const SolverParams& other)
    : type(other.type), precision(other.precision) {
  for (const auto& [name, options] : other.options_) options_[name] = options->clone();
}

SolverParams& SolverParams::operator=(const SolverParams& other) {
  if (this != &other) {
    SolverParams copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SolverParams::~SolverParams() = default;

const SolverOptions& SolverParams::options_object(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) throw std::logic_error("no solver type \"" + name + "\" registered");
  return *it->second;
}

SolverOptions& SolverParams::options_object(const std::string& name) {
  return const_cast<SolverOptions&>(std::as_const(*this).options_object(name));
}

void describe_solver(Schema& schema, const std::string& key, const std::string& doc,
                     SolverParams& p) {
  std::vector<Schema::Alternative> types;
  for (const auto& t : solver_types())
    types.push_back(
        {t.name, [&p, name = t.name](Schema& s) { p.options_object(name).describe_into(s); },
         t.doc});
  schema.variant(key, doc, "type", p.type, std::move(types), [&p](Schema& s) {
    s.field("precision", p.precision,
            "arithmetic of the phases and the update: auto (float32 where the fused path trains, "
            "i.e. ep on the layered solver with ideal devices and no alignment logging, and for "
            "the backprop baseline; float64 elsewhere), float64, or float32 (an error where the "
            "fused path does not train); float32 gave the same test errors as float64 on "
            "Fashion-MNIST (docs/benchmarks.md)")
        .one_of({"auto", "float64", "float32"});
  });
}

json to_json(const SolverParams& params) {
  SolverParams copy = params;
  Schema schema;
  describe_solver(schema, "solver", "", copy);
  return schema.write()["solver"];
}

std::unique_ptr<EquilibriumSolver> make_solver(const SolverParams& p,
                                               const circuits::LayeredNetwork& net) {
  const SolverType* t = find_solver_type(p.type);
  if (!t)
    throw ConfigError("solver.type", json_text(json(p.type)),
                      "must be one of: " + solver_type_names());
  return t->make(p, net);
}

std::unique_ptr<EquilibriumSolver> make_layered_solver(const LayeredSolverOptions& o,
                                                       const circuits::LayeredNetwork& net) {
  if (!net.ideal_diodes && net.params.diode != "none")
    throw ConfigError("solver.type", "\"layered\"",
                      "needs network.diode \"ideal\" or \"none\" (use \"newton\" for " +
                          net.params.diode + " diodes)");
  return std::make_unique<CoordinateDescentSolver>(o.sweeps, o.tolerance, o.max_sweeps);
}

CoordinateDescentSolver::CoordinateDescentSolver(int sweeps, double tolerance, int max_sweeps)
    : descent_(sweeps, tolerance, max_sweeps) {}

double CoordinateDescentSolver::update_layer(const circuits::LayeredNetwork& net,
                                             const PhaseNudge& nudge, int layer, LayeredState& state) {
  return descent_.update_layer(arrays_of(net), nudge, layer, state);
}

void CoordinateDescentSolver::set_inputs(const circuits::LayeredNetwork& net,
                                         const Eigen::MatrixXd& input_voltages) {
  descent_.set_inputs(arrays_of(net), input_voltages);
}

void CoordinateDescentSolver::relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge,
                                    LayeredState& state) {
  descent_.relax(arrays_of(net), nudge, state);
}

}  // namespace physlearn::solvers
