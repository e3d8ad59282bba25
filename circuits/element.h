#pragma once
/// What an element kind is: one file under circuits/elements/ carries all of it, and the
/// solvers, readers and writers reach it only through the interface below (registered in
/// circuits/elements.cpp, one line per kind, in the order every loop over the kinds follows).
///
/// A kind file declares the element's struct (its parameters, plain data with SI units) and a
/// struct of static hooks derived from KindDefaults<Element>; a hook it does not define keeps the
/// default (no unknowns, no stamp, no charge, no power, no JSON or SPICE form, ...):
///   validate            parameter rules; throws physlearn::Error naming the element
///   terminals           its nodes (the structure of the circuit, with its unknowns)
///   unknowns            extra MNA unknowns per element (branch currents, states); their kind
///   entries             the entries of dF/dx its stamp may touch, declared once per solver
///   stamp               F(x) (amperes in node rows) and dF/dx, at time t (NaN at DC)
///   charge_entries      the entries of dQ/dx
///   charge              the charge currents dQ/dx x' into the residual and c dQ/dx into the
///                       Jacobian (the transient's DAE F(x) + d/dt Q(x) = 0)
///   power, stored_energy, current   for the energy balance and the operating point's report
///   initial             initial values of its states (memristor x0)
///   dc_paths, voltage_defined       what it joins at DC (floating nodes, loops of sources)
///   jump                the voltage constraint an impulsive branch imposes when the circuit
///                       switches (sources, VCVS outputs), and the energy it delivers then
///   complementarity     an ideal diode: I >= 0, V <= 0, I V = 0, switched by the solvers
///   linearisation       a junction linearised and limited by Newton (Shockley diode)
///   json_forms, read_json, write_json     its form in circuit JSON
///   spice_letters, read_spice, spice_model_type, read_spice_model, spice_globals, write_spice
///                       its SPICE card (and .model card), read and written
/// Unknowns x: one voltage per node (ground has none), then every element's extra unknowns,
/// kind by kind in registration order, element by element.
#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "core/error.h"

namespace physlearn::circuits {

constexpr int kGround = -1;

/// Boltzmann constant over elementary charge, volts per kelvin (CODATA 2018 exact values).
constexpr double kBoltzmannOverCharge = 1.380649e-23 / 1.602176634e-19;

class Circuit;
class JsonElement;    // circuits/circuit_json.h
struct SpiceCard;     // circuits/spice.h
class SpiceReader;    // circuits/spice.h
class SpiceWriter;    // circuits/spice_export.h
struct SpiceGlobals;  // circuits/spice_export.h

/// Voltage of node `node` in the unknowns (0 for ground).
inline double node_voltage(const double* x, int node) { return node == kGround ? 0.0 : x[node]; }

/// Union-find over the nodes plus one vertex for ground (node index -1).
class NodeSets {
 public:
  explicit NodeSets(int num_nodes)
      : ground_(num_nodes), parent_(static_cast<std::size_t>(num_nodes) + 1) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }
  /// The representative of `node` (kGround allowed).
  int find(int node) {
    int i = vertex(node);
    while (parent_[static_cast<std::size_t>(i)] != i) {
      int& p = parent_[static_cast<std::size_t>(i)];
      p = parent_[static_cast<std::size_t>(p)];  // path halving
      i = p;
    }
    return i;
  }
  /// Joins the sets of a and b; returns false if they were already one set.
  bool join(int a, int b) {
    const int ra = find(a), rb = find(b);
    if (ra == rb) return false;
    parent_[static_cast<std::size_t>(ra)] = rb;
    return true;
  }
  bool connected(int a, int b) { return find(a) == find(b); }

 private:
  int vertex(int node) const { return node == kGround ? ground_ : node; }
  int ground_;
  std::vector<int> parent_;
};

/// The (row, column) entries a stamp may touch, in the order the element declares them; an
/// entry with a ground row or column is kept (its position is -1) so that positions stay in
/// declaration order.
struct EntryList {
  std::vector<std::pair<int, int>> entries;
  void add(int row, int col) { entries.emplace_back(row, col); }
  /// A two-terminal branch's (a,a), (a,b), (b,a), (b,b): stamp_branch's entries.
  void add_branch(int a, int b) {
    add(a, a);
    add(a, b);
    add(b, a);
    add(b, b);
  }
  /// A branch current's (a,u), (b,u) (stamp_branch_current's entries), then its row's (u,a),
  /// (u,b).
  void add_branch_current(int a, int b, int unknown) {
    add(a, unknown);
    add(b, unknown);
    add(unknown, a);
    add(unknown, b);
  }
};

/// One element as the solvers see it: its index in its kind's list, its first extra unknown, and
/// the positions (in the solver's value array, -1 for ground) of the entries it declared.
struct Instance {
  std::size_t index = 0;
  int unknown = -1;
  const int* entry = nullptr;         ///< positions of `entries`, in declaration order
  const int* charge_entry = nullptr;  ///< positions of `charge_entries`
};

/// Residual, row scales and Jacobian values collected from the stamps, on a fixed pattern.
class Assembly {
 public:
  Assembly() = default;
  /// `values`: the number of Jacobian entries (0: residual only).
  Assembly(int size, int values)
      : residual(Eigen::VectorXd::Zero(size)),
        scale(Eigen::VectorXd::Zero(size)),
        jacobian(static_cast<std::size_t>(values), 0.0),
        wants_jacobian_(values > 0) {}
  void clear() {
    residual.setZero();
    scale.setZero();
    std::fill(jacobian.begin(), jacobian.end(), 0.0);
  }
  /// Adds `value` to residual row `row` (ignored for ground) and |value| to its scale.
  void add_residual(int row, double value) {
    if (row < 0) return;
    residual[row] += value;
    scale[row] += std::abs(value);
  }
  /// Adds a Jacobian value at a position (ignored for -1 or without a Jacobian).
  void add(int position, double value) {
    if (position < 0 || !wants_jacobian_) return;
    jacobian[static_cast<std::size_t>(position)] += value;
  }
  bool wants_jacobian() const { return wants_jacobian_; }

  Eigen::VectorXd residual;  ///< F(x): amperes in node rows, the element's units elsewhere
  Eigen::VectorXd scale;     ///< sum of |terms| per row: the scale of relative tolerances
  std::vector<double> jacobian;

 private:
  bool wants_jacobian_ = false;
};

/// Stamps a two-terminal current `current` from a to b with dI/dV = g (V = v_a - v_b), at the
/// positions p[0..3] of its entries (a,a), (a,b), (b,a), (b,b).
inline void stamp_branch(int a, int b, double current, double g, const int* p, Assembly& out) {
  out.add_residual(a, current);
  out.add_residual(b, -current);
  out.add(p[0], g);
  out.add(p[1], -g);
  out.add(p[2], -g);
  out.add(p[3], g);
}

/// Stamps a branch-current unknown `current` that leaves node a and enters node b, at the
/// positions p[0], p[1] of its entries (a, unknown), (b, unknown).
inline void stamp_branch_current(int a, int b, double current, const int* p, Assembly& out) {
  out.add_residual(a, current);
  out.add_residual(b, -current);
  out.add(p[0], 1.0);
  out.add(p[1], -1.0);
}

/// What the stamps evaluate at.
struct Evaluation {
  const double* x = nullptr;  ///< the unknowns
  /// s: the time of a transient (sources follow their waveforms); NaN at DC (sources take their
  /// constant values).
  double time = std::numeric_limits<double>::quiet_NaN();
  /// S: the conductance scale c of complementarity rows (c (v_a - v_b) = 0 when ON).
  double conductance_scale = 1.0;
  /// Per element of the kind: complementarity ON (1) or OFF (0), or null (all OFF).
  const char* mode = nullptr;
  /// Per element of the kind: the point a nonlinear element is linearised at, or null
  /// (evaluated exactly at x).
  const double* point = nullptr;
};

/// The solver's per-element state of one kind (complementarity modes, linearisation points).
struct KindState {
  std::vector<char> mode;
  std::vector<double> point;
};

/// Energy categories of the transient's balance (solvers/transient.h).
enum class EnergyKind { sources, controlled, conductances, diodes, memristors };
constexpr int kEnergyKinds = 5;

/// Collects the power (W, times a quadrature weight: joules) or energies of a kind's elements.
struct EnergySink {
  double* totals = nullptr;     ///< per EnergyKind
  double* each = nullptr;       ///< per element of the kind, or null when not asked
  void total(EnergyKind kind, double e) { totals[static_cast<int>(kind)] += e; }
  void element(std::size_t k, double e) {
    if (each) each[k] += e;
  }
  /// Both: the category total and the element's own.
  void add(EnergyKind kind, std::size_t k, double e) {
    total(kind, e);
    element(k, e);
  }
};

/// An ideal diode's complementarity: current i = x[row] from a to b, V = v_a - v_b, with
/// i >= 0, V <= 0, i V = 0. ON: the row holds c V = 0; OFF: it holds i = 0.
struct Complementarity {
  int row = -1;
  int a = kGround;
  int b = kGround;
};

/// The voltage constraint of an impulsive branch (voltage source, VCVS output, ON ideal diode)
/// when the circuit switches: row `row` is sum of coefficient * v = the branch's value, its
/// current enters the node rows with `incidence`; `violation` is the constraint's residual at the
/// carried-over state and `scale` the size it is measured against (1 + scale).
struct JumpConstraint {
  int row = -1;
  std::vector<std::pair<int, double>> incidence;     ///< (node, coefficient of the current)
  std::vector<std::pair<int, double>> coefficients;  ///< (node, coefficient in the row)
  double violation = 0.0;
  double scale = 0.0;
};

/// Physical meaning of an extra unknown: a current (amperes: tolerances scale with the
/// conductance scale) or a dimensionless state.
enum class UnknownKind { current, state };

/// One JSON form of a kind: its "type", the letter of generated names, its nodes, its keys
/// besides type, name and nodes.
struct JsonForm {
  std::string type;
  std::string letter;
  std::vector<std::string> roles;  ///< node roles, e.g. {"a", "b"}
  std::vector<std::string> keys;
};

/// Default hooks; a kind's hook struct derives from KindDefaults<Element> and hides what it
/// defines. Element is a struct with a `name` member.
template <class Element>
struct KindDefaults {
  using Type = Element;
  static void validate(const Element&) {}
  static void terminals(const Element&, std::vector<int>&) {}
  static int unknowns(const Element&) { return 0; }
  static UnknownKind unknown_kind(const Element&, int) { return UnknownKind::current; }
  static void entries(const Element&, const Instance&, EntryList&) {}
  static void stamp(const Element&, const Instance&, const Evaluation&, Assembly&) {}
  static void charge_entries(const Element&, const Instance&, EntryList&) {}
  /// Adds dQ/dx xp (the charge current, when xp) to the residual and scale * dQ/dx to the
  /// Jacobian (when the assembly wants one).
  static void charge(const Element&, const Instance&, const double* /*x*/, const double* /*xp*/,
                     double /*scale*/, Assembly&) {}
  static double stored_energy(const Element&, const Instance&, const double*) { return 0.0; }
  /// The current through the element (amperes, from its first terminal to its second; SPICE's
  /// sign for branch currents), NaN where it has none.
  static double current(const Element&, const Instance&, const double*) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  static void initial(const Element&, const Instance&, double*) {}
  static void dc_paths(const Element&, NodeSets&) {}
  static void voltage_defined(const Element&, NodeSets&) {}
  static bool jump(const Element&, const Instance&, const double*, double, JumpConstraint&) {
    return false;
  }
  /// The energy (J) an impulsive branch delivers moving `charge` (SPICE sign) at the state after
  /// the jump; its category.
  static double jump_energy(const Element&, const Instance&, double /*charge*/, const double*,
                            double /*time*/, EnergyKind& kind) {
    kind = EnergyKind::sources;
    return 0.0;
  }
  static bool complementarity(const Element&, const Instance&, Complementarity&) { return false; }
  /// A linearised nonlinear element: its starting point (a voltage), limited or not.
  static bool nonlinear(const Element&) { return false; }
  static double start_point(const Element&, double v, bool /*warm*/, bool /*limiting*/) {
    return v;
  }
  static double next_point(const Element&, double v, double /*previous*/, bool /*limiting*/,
                           bool& limited) {
    limited = false;
    return v;
  }
  /// The voltage a linearised element is linearised in.
  static double point_voltage(const Element&, const double*) { return 0.0; }
  static void conductance_scale(const Element&, double& /*sum*/, long& /*count*/) {}
  static void power(const std::vector<Element>&, const int* /*unknown*/, const Evaluation&,
                    double /*weight*/, EnergySink&) {}
  /// Why the DC solvers do not take this kind, or null.
  static const char* dc_unsupported() { return nullptr; }
  /// True when the element's branch current is reported with the node voltages (SPICE's
  /// "<name>#branch" vectors).
  static bool branch_output() { return false; }
  static std::string noun() { return "element"; }
  static std::vector<JsonForm> json_forms() { return {}; }
  static Element read_json(const JsonElement&, std::size_t /*form*/);
  static nlohmann::json write_json(const Element& e, const std::vector<std::string>&) {
    throw Error("circuit JSON: element " + e.name + ": this kind has no JSON form");
  }
  static const char* spice_letters() { return ""; }
  static void read_spice(SpiceReader&, const SpiceCard&) {}
  static const char* spice_model_type() { return ""; }
  static std::map<std::string, double> read_spice_model(SpiceReader&, const SpiceCard&,
                                                        const std::string&, std::size_t) {
    return {};
  }
  static void spice_globals(const std::vector<Element>&, SpiceGlobals&) {}
  static void write_spice(const std::vector<Element>& items, const int*, SpiceWriter&) {
    if (!items.empty())
      throw Error("SPICE export: " + items.front().name + ": this kind has no SPICE element");
  }
};

template <class Element>
Element KindDefaults<Element>::read_json(const JsonElement&, std::size_t) {
  return Element{};
}

/// A kind's elements in a circuit, behind the interface the generic code uses. Made by the
/// registry (circuits/elements.cpp) from a hook struct; every loop is inside, one call per kind.
class ElementGroup {
 public:
  virtual ~ElementGroup() = default;
  virtual std::unique_ptr<ElementGroup> clone() const = 0;
  virtual std::unique_ptr<ElementGroup> make_empty() const = 0;
  virtual const std::type_info& element_type() const = 0;
  virtual void* items() = 0;
  virtual const void* items() const = 0;
  /// The kind's name for messages ("voltage source").
  virtual std::string noun() const = 0;
  virtual std::size_t size() const = 0;
  virtual const std::string& name(std::size_t k) const = 0;

  virtual void validate(int num_nodes) const = 0;
  virtual void terminals(std::size_t k, std::vector<int>& out) const = 0;
  virtual int unknowns(std::size_t k) const = 0;
  virtual UnknownKind unknown_kind(std::size_t k, int j) const = 0;
  virtual void entries(const Instance& at, EntryList& out) const = 0;
  virtual void charge_entries(const Instance& at, EntryList& out) const = 0;
  /// Stamps every element: `at` holds one Instance per element.
  virtual void stamp(const Instance* at, const Evaluation& e, Assembly& out) const = 0;
  virtual void charge(const Instance* at, const double* x, const double* xp, double scale,
                      Assembly& out) const = 0;
  virtual double stored_energy(const Instance* at, const double* x) const = 0;
  virtual double current(const Instance& at, const double* x) const = 0;
  virtual void initial(const Instance* at, double* x) const = 0;
  virtual void dc_paths(NodeSets& sets) const = 0;
  virtual void voltage_defined(NodeSets& sets) const = 0;
  virtual bool jump(const Instance& at, const double* x, double time,
                    JumpConstraint& out) const = 0;
  virtual double jump_energy(const Instance& at, double charge, const double* x, double time,
                             EnergyKind& kind) const = 0;
  virtual bool complementarity(const Instance& at, Complementarity& out) const = 0;
  virtual bool nonlinear(std::size_t k) const = 0;
  virtual double start_point(std::size_t k, const double* x, bool warm, bool limiting) const = 0;
  virtual double next_point(std::size_t k, const double* x, double previous, bool limiting,
                            bool& limited) const = 0;
  virtual double point_voltage(std::size_t k, const double* x) const = 0;
  virtual void conductance_scale(double& sum, long& count) const = 0;
  virtual void power(const int* unknown, const Evaluation& e, double weight,
                     EnergySink& sink) const = 0;
  virtual const char* dc_unsupported() const = 0;
  virtual bool branch_output() const = 0;
  virtual std::vector<JsonForm> json_forms() const = 0;
  virtual void read_json(const JsonElement& in, std::size_t form) = 0;
  virtual nlohmann::json write_json(std::size_t k, const std::vector<std::string>& node_names) const = 0;
  virtual std::string spice_letters() const = 0;
  virtual void read_spice(SpiceReader& reader, const SpiceCard& card) const = 0;
  virtual std::string spice_model_type() const = 0;
  virtual std::map<std::string, double> read_spice_model(SpiceReader& reader,
                                                         const SpiceCard& card,
                                                         const std::string& name,
                                                         std::size_t first) const = 0;
  virtual void spice_globals(SpiceGlobals& globals) const = 0;
  virtual void write_spice(const int* unknown, SpiceWriter& writer) const = 0;
};

/// The group of one kind, from its hook struct `Kind` (Kind::Type is the element).
template <class Kind>
class KindGroup final : public ElementGroup {
 public:
  using Element = typename Kind::Type;
  std::vector<Element> list;

  std::unique_ptr<ElementGroup> clone() const override {
    return std::make_unique<KindGroup>(*this);
  }
  std::unique_ptr<ElementGroup> make_empty() const override {
    return std::make_unique<KindGroup>();
  }
  const std::type_info& element_type() const override { return typeid(Element); }
  void* items() override { return &list; }
  const void* items() const override { return &list; }
  std::string noun() const override { return Kind::noun(); }
  std::size_t size() const override { return list.size(); }
  const std::string& name(std::size_t k) const override { return list[k].name; }

  void validate(int num_nodes) const override {
    std::vector<int> nodes;
    for (const Element& e : list) {
      nodes.clear();
      Kind::terminals(e, nodes);
      for (int n : nodes)
        if (n != kGround && (n < 0 || n >= num_nodes))
          throw Error(cat("circuit: element ", e.name, " refers to node index ", n,
                          ", which does not exist"));
      Kind::validate(e);
    }
  }
  void terminals(std::size_t k, std::vector<int>& out) const override {
    Kind::terminals(list[k], out);
  }
  int unknowns(std::size_t k) const override { return Kind::unknowns(list[k]); }
  UnknownKind unknown_kind(std::size_t k, int j) const override {
    return Kind::unknown_kind(list[k], j);
  }
  void entries(const Instance& at, EntryList& out) const override {
    Kind::entries(list[at.index], at, out);
  }
  void charge_entries(const Instance& at, EntryList& out) const override {
    Kind::charge_entries(list[at.index], at, out);
  }
  void stamp(const Instance* at, const Evaluation& e, Assembly& out) const override {
    for (std::size_t k = 0; k < list.size(); ++k) Kind::stamp(list[k], at[k], e, out);
  }
  void charge(const Instance* at, const double* x, const double* xp, double scale,
              Assembly& out) const override {
    for (std::size_t k = 0; k < list.size(); ++k) Kind::charge(list[k], at[k], x, xp, scale, out);
  }
  double stored_energy(const Instance* at, const double* x) const override {
    double e = 0.0;
    for (std::size_t k = 0; k < list.size(); ++k) e += Kind::stored_energy(list[k], at[k], x);
    return e;
  }
  double current(const Instance& at, const double* x) const override {
    return Kind::current(list[at.index], at, x);
  }
  void initial(const Instance* at, double* x) const override {
    for (std::size_t k = 0; k < list.size(); ++k) Kind::initial(list[k], at[k], x);
  }
  void dc_paths(NodeSets& sets) const override {
    for (const Element& e : list) Kind::dc_paths(e, sets);
  }
  void voltage_defined(NodeSets& sets) const override {
    for (const Element& e : list) Kind::voltage_defined(e, sets);
  }
  bool jump(const Instance& at, const double* x, double time,
            JumpConstraint& out) const override {
    return Kind::jump(list[at.index], at, x, time, out);
  }
  double jump_energy(const Instance& at, double charge, const double* x, double time,
                     EnergyKind& kind) const override {
    return Kind::jump_energy(list[at.index], at, charge, x, time, kind);
  }
  bool complementarity(const Instance& at, Complementarity& out) const override {
    return Kind::complementarity(list[at.index], at, out);
  }
  bool nonlinear(std::size_t k) const override { return Kind::nonlinear(list[k]); }
  double start_point(std::size_t k, const double* x, bool warm, bool limiting) const override {
    return Kind::start_point(list[k], Kind::point_voltage(list[k], x), warm, limiting);
  }
  double next_point(std::size_t k, const double* x, double previous, bool limiting,
                    bool& limited) const override {
    return Kind::next_point(list[k], Kind::point_voltage(list[k], x), previous, limiting, limited);
  }
  double point_voltage(std::size_t k, const double* x) const override {
    return Kind::point_voltage(list[k], x);
  }
  void conductance_scale(double& sum, long& count) const override {
    for (const Element& e : list) Kind::conductance_scale(e, sum, count);
  }
  void power(const int* unknown, const Evaluation& e, double weight,
             EnergySink& sink) const override {
    Kind::power(list, unknown, e, weight, sink);
  }
  const char* dc_unsupported() const override { return Kind::dc_unsupported(); }
  bool branch_output() const override { return Kind::branch_output(); }
  std::vector<JsonForm> json_forms() const override { return Kind::json_forms(); }
  void read_json(const JsonElement& in, std::size_t form) override {
    list.push_back(Kind::read_json(in, form));
  }
  nlohmann::json write_json(std::size_t k,
                            const std::vector<std::string>& node_names) const override {
    return Kind::write_json(list[k], node_names);
  }
  std::string spice_letters() const override { return Kind::spice_letters(); }
  void read_spice(SpiceReader& reader, const SpiceCard& card) const override {
    Kind::read_spice(reader, card);
  }
  std::string spice_model_type() const override { return Kind::spice_model_type(); }
  std::map<std::string, double> read_spice_model(SpiceReader& reader, const SpiceCard& card,
                                                 const std::string& name,
                                                 std::size_t first) const override {
    return Kind::read_spice_model(reader, card, name, first);
  }
  void spice_globals(SpiceGlobals& globals) const override { Kind::spice_globals(list, globals); }
  void write_spice(const int* unknown, SpiceWriter& writer) const override {
    Kind::write_spice(list, unknown, writer);
  }
};

/// Every registered kind, in registration order: an empty group of each (circuits/elements.cpp).
const std::vector<std::unique_ptr<ElementGroup>>& element_kinds();

/// Index in element_kinds() of the kind whose element type is `type`; a logic_error for an
/// unregistered type.
std::size_t element_kind_index(const std::type_info& type);

template <class Element>
std::size_t kind_index() {
  static const std::size_t index = element_kind_index(typeid(Element));
  return index;
}

}  // namespace physlearn::circuits
