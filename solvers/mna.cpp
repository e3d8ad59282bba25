#include "solvers/mna.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "core/error.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::DiodeModel;
using circuits::kGround;

MnaLayout::MnaLayout(const Circuit& circuit) {
  num_nodes_ = circuit.num_nodes();
  vcvs_begin_ = num_nodes_ + static_cast<int>(circuit.voltage_sources.size());
  ideal_begin_ = vcvs_begin_ + static_cast<int>(circuit.vcvs.size());
  int row = ideal_begin_;
  diode_rows_.reserve(circuit.diodes.size());
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    if (circuit.diodes[k].model == DiodeModel::Ideal) {
      ideal_diodes_.push_back(static_cast<int>(k));
      diode_rows_.push_back(row++);
    } else {
      diode_rows_.push_back(-1);
    }
  }
  size_ = row;

  counts_ = {static_cast<std::size_t>(num_nodes_),
             circuit.conductances.size(),
             circuit.voltage_sources.size(),
             circuit.current_sources.size(),
             circuit.diodes.size(),
             circuit.vcvs.size(),
             circuit.vccs.size()};
  for (const auto& e : circuit.conductances) terminals_.insert(terminals_.end(), {e.a, e.b});
  for (const auto& e : circuit.voltage_sources)
    terminals_.insert(terminals_.end(), {e.plus, e.minus});
  for (const auto& e : circuit.current_sources) terminals_.insert(terminals_.end(), {e.from, e.to});
  for (const auto& e : circuit.diodes)
    terminals_.insert(terminals_.end(), {e.anode, e.cathode, e.model == DiodeModel::Ideal ? 0 : 1});
  for (const auto& e : circuit.vcvs)
    terminals_.insert(terminals_.end(), {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
  for (const auto& e : circuit.vccs)
    terminals_.insert(terminals_.end(), {e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
}

int MnaLayout::ideal_diode_of_row(int row) const {
  if (row < ideal_begin_ || row >= size_) return -1;
  return ideal_diodes_[static_cast<std::size_t>(row - ideal_begin_)];
}

std::string MnaLayout::describe_unknown(const Circuit& circuit, int index) const {
  if (index < 0 || index >= size_) return cat("unknown #", index);
  if (index < num_nodes_) {
    const std::string name = circuit.node_name(index);
    return cat("v(", name, ") (voltage of node '", name, "')");
  }
  if (index < vcvs_begin_) {
    const auto& e = circuit.voltage_sources[static_cast<std::size_t>(index - num_nodes_)];
    return cat("i(", e.name, ") (current of voltage source '", e.name, "')");
  }
  if (index < ideal_begin_) {
    const auto& e = circuit.vcvs[static_cast<std::size_t>(index - vcvs_begin_)];
    return cat("i(", e.name, ") (output current of VCVS '", e.name, "')");
  }
  const auto& e = circuit.diodes[static_cast<std::size_t>(ideal_diode_of_row(index))];
  return cat("i(", e.name, ") (current of ideal diode '", e.name, "')");
}

bool MnaLayout::same_structure(const Circuit& circuit, std::string& why) const {
  const std::vector<std::size_t> counts = {static_cast<std::size_t>(circuit.num_nodes()),
                                           circuit.conductances.size(),
                                           circuit.voltage_sources.size(),
                                           circuit.current_sources.size(),
                                           circuit.diodes.size(),
                                           circuit.vcvs.size(),
                                           circuit.vccs.size()};
  if (counts != counts_) {
    why = cat("the number of nodes or elements changed (nodes ", counts_[0], " -> ", counts[0],
              ", conductances ", counts_[1], " -> ", counts[1], ", voltage sources ", counts_[2],
              " -> ", counts[2], ", current sources ", counts_[3], " -> ", counts[3], ", diodes ",
              counts_[4], " -> ", counts[4], ", VCVS ", counts_[5], " -> ", counts[5], ", VCCS ",
              counts_[6], " -> ", counts[6], ")");
    return false;
  }
  std::size_t i = 0;
  bool same = true;
  auto expect = [&](std::initializer_list<int> values) {
    for (int value : values) same = same && terminals_[i++] == value;
  };
  for (const auto& e : circuit.conductances) expect({e.a, e.b});
  for (const auto& e : circuit.voltage_sources) expect({e.plus, e.minus});
  for (const auto& e : circuit.current_sources) expect({e.from, e.to});
  for (const auto& e : circuit.diodes)
    expect({e.anode, e.cathode, e.model == DiodeModel::Ideal ? 0 : 1});
  for (const auto& e : circuit.vcvs) expect({e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
  for (const auto& e : circuit.vccs) expect({e.out_plus, e.out_minus, e.ctrl_plus, e.ctrl_minus});
  if (!same) why = "an element's terminals or a diode's model changed";
  return same;
}

MnaPattern::MnaPattern(const Circuit& circuit, const MnaLayout& layout) : size_(layout.size()) {
  std::vector<std::vector<int>> columns(static_cast<std::size_t>(size_));
  auto add = [&](int row, int col) {
    if (row < 0 || col < 0) return;
    columns[static_cast<std::size_t>(col)].push_back(row);
  };
  auto add_pair = [&](int a, int b) {
    add(a, a);
    add(a, b);
    add(b, a);
    add(b, b);
  };
  // Node diagonals (nudges may land on any node) and ideal-diode diagonals (OFF rows). Source
  // rows get no structural diagonal: an explicit zero there lets KLU's ordering fill whole
  // blocks (a dense layer's input nodes would couple every hidden node to every other).
  for (int k = 0; k < layout.num_nodes(); ++k) add(k, k);
  for (int k = layout.ideal_begin(); k < size_; ++k) add(k, k);
  for (const auto& e : circuit.conductances) add_pair(e.a, e.b);
  for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k) {
    const auto& e = circuit.voltage_sources[k];
    const int br = layout.voltage_source_row(static_cast<int>(k));
    for (int node : {e.plus, e.minus}) {
      add(node, br);
      add(br, node);
    }
  }
  for (std::size_t k = 0; k < circuit.vcvs.size(); ++k) {
    const auto& e = circuit.vcvs[k];
    const int br = layout.vcvs_row(static_cast<int>(k));
    for (int node : {e.out_plus, e.out_minus}) {
      add(node, br);
      add(br, node);
    }
    add(br, e.ctrl_plus);
    add(br, e.ctrl_minus);
  }
  for (const auto& e : circuit.vccs)
    for (int out : {e.out_plus, e.out_minus})
      for (int ctrl : {e.ctrl_plus, e.ctrl_minus}) add(out, ctrl);
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k) {
    const auto& e = circuit.diodes[k];
    const int br = layout.diode_row(static_cast<int>(k));
    if (br < 0) {
      add_pair(e.anode, e.cathode);
    } else {
      for (int node : {e.anode, e.cathode}) {
        add(node, br);
        add(br, node);
      }
    }
  }
  column_starts_.assign(static_cast<std::size_t>(size_) + 1, 0);
  for (int col = 0; col < size_; ++col) {
    auto& rows = columns[static_cast<std::size_t>(col)];
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    column_starts_[static_cast<std::size_t>(col) + 1] =
        column_starts_[static_cast<std::size_t>(col)] + static_cast<int>(rows.size());
  }
  row_indices_.reserve(static_cast<std::size_t>(column_starts_.back()));
  for (auto& rows : columns) {
    row_indices_.insert(row_indices_.end(), rows.begin(), rows.end());
    std::vector<int>().swap(rows);
  }
  conductance_slots_.reserve(circuit.conductances.size());
  for (const auto& e : circuit.conductances) conductance_slots_.push_back(branch_slots(e.a, e.b));
  diode_slots_.resize(circuit.diodes.size());
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k)
    if (layout.diode_row(static_cast<int>(k)) < 0)
      diode_slots_[k] = branch_slots(circuit.diodes[k].anode, circuit.diodes[k].cathode);
}

BranchSlots MnaPattern::branch_slots(int a, int b) const {
  BranchSlots slots;
  if (a != kGround) slots.aa = position(a, a);
  if (b != kGround) slots.bb = position(b, b);
  if (a != kGround && b != kGround) {
    slots.ab = position(a, b);
    slots.ba = position(b, a);
  }
  return slots;
}

int MnaPattern::position(int row, int col) const {
  const auto begin = row_indices_.begin() + column_starts_[static_cast<std::size_t>(col)];
  const auto end = row_indices_.begin() + column_starts_[static_cast<std::size_t>(col) + 1];
  const auto it = std::lower_bound(begin, end, row);
  if (it == end || *it != row)
    throw std::logic_error(cat("MNA pattern has no entry (", row, ", ", col, ")"));
  return static_cast<int>(it - row_indices_.begin());
}

MnaAssembly::MnaAssembly(int size, const MnaPattern* pattern)
    : residual(Eigen::VectorXd::Zero(size)), scale(Eigen::VectorXd::Zero(size)), pattern_(pattern) {
  if (pattern_ != nullptr)
    jacobian_values.assign(static_cast<std::size_t>(pattern_->nonzeros()), 0.0);
}

void MnaAssembly::clear() {
  residual.setZero();
  scale.setZero();
  std::fill(jacobian_values.begin(), jacobian_values.end(), 0.0);
}

namespace {

/// Voltage of node `index` in x (0 for ground).
double voltage(const Eigen::VectorXd& x, int index) { return index == kGround ? 0.0 : x[index]; }

/// Adds a two-terminal branch current i(V) from a to b, V = v_a - v_b, with dI/dV = g.
void stamp_branch(int a, int b, const BranchSlots& slots, double current, double g,
                  MnaAssembly& out) {
  out.add_residual(a, current);
  out.add_residual(b, -current);
  out.add_jacobian_at(slots.aa, g);
  out.add_jacobian_at(slots.ab, -g);
  out.add_jacobian_at(slots.ba, -g);
  out.add_jacobian_at(slots.bb, g);
}

/// Adds a branch-current unknown at `branch_row` flowing out of `from` and into `to`.
void stamp_branch_current(int from, int to, int branch_row, const Eigen::VectorXd& x,
                          MnaAssembly& out) {
  const double current = x[branch_row];
  out.add_residual(from, current);
  out.add_residual(to, -current);
  out.add_jacobian(from, branch_row, 1.0);
  out.add_jacobian(to, branch_row, -1.0);
}

constexpr double kMaxExponent = 600.0;

}  // namespace

double emission_thermal_voltage(const circuits::Diode& diode) {
  return diode.emission * circuits::kBoltzmannOverCharge * diode.temperature;
}

double critical_voltage(const circuits::Diode& diode) {
  const double nvt = emission_thermal_voltage(diode);
  return nvt * std::log(nvt / (std::sqrt(2.0) * diode.saturation_current));
}

DiodeEvaluation shockley(const circuits::Diode& diode, double volts) {
  const double nvt = emission_thermal_voltage(diode);
  const double u = volts / nvt;
  double e = 0.0;      // exp(u), continued linearly above kMaxExponent
  double slope = 0.0;  // d e / d u
  if (u <= kMaxExponent) {
    e = std::exp(u);
    slope = e;
  } else {
    slope = std::exp(kMaxExponent);
    e = slope * (1.0 + (u - kMaxExponent));
  }
  DiodeEvaluation result;
  result.current = diode.saturation_current * (e - 1.0) + diode.gmin * volts;
  result.conductance = diode.saturation_current * slope / nvt + diode.gmin;
  return result;
}

double limit_junction(double proposed, double previous, double nvt, double vcrit, bool& limited) {
  limited = false;
  if (proposed > vcrit && std::abs(proposed - previous) > 2.0 * nvt) {
    limited = true;
    if (previous > 0.0) {
      const double arg = 1.0 + (proposed - previous) / nvt;
      return arg > 0.0 ? previous + nvt * std::log(arg) : vcrit;
    }
    return nvt * std::log(proposed / nvt);
  }
  if (proposed < 0.0) {
    const double bound = previous > 0.0 ? -previous - 1.0 : 2.0 * previous - 1.0;
    if (proposed < bound) {
      limited = true;
      return bound;
    }
  }
  return proposed;
}

void stamp(const circuits::Conductance& element, const BranchSlots& slots, const Eigen::VectorXd& x,
           MnaAssembly& out) {
  const double v = voltage(x, element.a) - voltage(x, element.b);
  stamp_branch(element.a, element.b, slots, element.g * v, element.g, out);
}

void stamp(const circuits::VoltageSource& element, int branch_row, const Eigen::VectorXd& x,
           MnaAssembly& out) {
  stamp_branch_current(element.plus, element.minus, branch_row, x, out);
  out.add_residual(branch_row, voltage(x, element.plus));
  out.add_residual(branch_row, -voltage(x, element.minus));
  out.add_residual(branch_row, -element.volts);
  out.add_jacobian(branch_row, element.plus, 1.0);
  out.add_jacobian(branch_row, element.minus, -1.0);
}

void stamp(const circuits::CurrentSource& element, MnaAssembly& out) {
  out.add_residual(element.from, element.amps);
  out.add_residual(element.to, -element.amps);
}

void stamp(const circuits::Vcvs& element, int branch_row, const Eigen::VectorXd& x,
           MnaAssembly& out) {
  stamp_branch_current(element.out_plus, element.out_minus, branch_row, x, out);
  out.add_residual(branch_row, voltage(x, element.out_plus));
  out.add_residual(branch_row, -voltage(x, element.out_minus));
  out.add_residual(branch_row, -element.gain * voltage(x, element.ctrl_plus));
  out.add_residual(branch_row, element.gain * voltage(x, element.ctrl_minus));
  out.add_jacobian(branch_row, element.out_plus, 1.0);
  out.add_jacobian(branch_row, element.out_minus, -1.0);
  out.add_jacobian(branch_row, element.ctrl_plus, -element.gain);
  out.add_jacobian(branch_row, element.ctrl_minus, element.gain);
}

void stamp(const circuits::Vccs& element, const Eigen::VectorXd& x, MnaAssembly& out) {
  // SPICE G card: the current flows from out+ through the source to out-, i.e. it leaves node
  // out+ and enters node out-.
  const double current =
      element.gain * (voltage(x, element.ctrl_plus) - voltage(x, element.ctrl_minus));
  out.add_residual(element.out_plus, current);
  out.add_residual(element.out_minus, -current);
  out.add_jacobian(element.out_plus, element.ctrl_plus, element.gain);
  out.add_jacobian(element.out_plus, element.ctrl_minus, -element.gain);
  out.add_jacobian(element.out_minus, element.ctrl_plus, -element.gain);
  out.add_jacobian(element.out_minus, element.ctrl_minus, element.gain);
}

void stamp(const circuits::Diode& element, const BranchSlots& slots, int branch_row, bool on,
           double junction_voltage, double ideal_diode_scale, const Eigen::VectorXd& x,
           MnaAssembly& out) {
  const double v = voltage(x, element.anode) - voltage(x, element.cathode);
  if (element.model == DiodeModel::Shockley) {
    const DiodeEvaluation at = shockley(element, junction_voltage);
    stamp_branch(element.anode, element.cathode, slots,
                 at.current + at.conductance * (v - junction_voltage), at.conductance, out);
    return;
  }
  stamp_branch_current(element.anode, element.cathode, branch_row, x, out);
  if (on) {
    // Short: c (v_anode - v_cathode) = 0.
    const double c = ideal_diode_scale;
    out.add_residual(branch_row, c * voltage(x, element.anode));
    out.add_residual(branch_row, -c * voltage(x, element.cathode));
    out.add_jacobian(branch_row, element.anode, c);
    out.add_jacobian(branch_row, element.cathode, -c);
  } else {
    // Open: i_D = 0.
    out.add_residual(branch_row, x[branch_row]);
    out.add_jacobian(branch_row, branch_row, 1.0);
  }
}

void stamp_nudge(int node, double beta, double target, const Eigen::VectorXd& x, MnaAssembly& out) {
  // Current leaving the node: -beta (target - v).
  out.add_residual(node, -beta * (target - voltage(x, node)));
  out.add_jacobian(node, node, beta);
}

void assemble(const Circuit& circuit, const MnaLayout& layout, const MnaState& state,
              const std::vector<NudgeTerm>& nudges, const Eigen::VectorXd& x, MnaAssembly& out) {
  const MnaPattern* pattern = out.pattern();
  const BranchSlots none;
  for (std::size_t k = 0; k < circuit.conductances.size(); ++k)
    stamp(circuit.conductances[k], pattern ? pattern->conductance_slots(k) : none, x, out);
  for (std::size_t k = 0; k < circuit.voltage_sources.size(); ++k)
    stamp(circuit.voltage_sources[k], layout.voltage_source_row(static_cast<int>(k)), x, out);
  for (const auto& e : circuit.current_sources) stamp(e, out);
  for (std::size_t k = 0; k < circuit.vcvs.size(); ++k)
    stamp(circuit.vcvs[k], layout.vcvs_row(static_cast<int>(k)), x, out);
  for (const auto& e : circuit.vccs) stamp(e, x, out);
  for (std::size_t k = 0; k < circuit.diodes.size(); ++k)
    stamp(circuit.diodes[k], pattern ? pattern->diode_slots(k) : none,
          layout.diode_row(static_cast<int>(k)), state.diode_on[k] != 0, state.junction_voltage[k],
          state.ideal_diode_scale, x, out);
  for (const auto& n : nudges) stamp_nudge(n.node, n.beta, n.target, x, out);
}

DisjointSets::DisjointSets(int num_nodes)
    : ground_(num_nodes), parent_(static_cast<std::size_t>(num_nodes) + 1) {
  std::iota(parent_.begin(), parent_.end(), 0);
}

int DisjointSets::find(int node) {
  int i = vertex(node);
  while (parent_[static_cast<std::size_t>(i)] != i) {
    int& p = parent_[static_cast<std::size_t>(i)];
    p = parent_[static_cast<std::size_t>(p)];  // path halving
    i = p;
  }
  return i;
}

bool DisjointSets::join(int a, int b) {
  const int ra = find(a);
  const int rb = find(b);
  if (ra == rb) return false;
  parent_[static_cast<std::size_t>(ra)] = rb;
  return true;
}

DisjointSets dc_groups(const Circuit& circuit, const std::vector<int>& nudge_nodes) {
  DisjointSets groups(circuit.num_nodes());
  for (const auto& e : circuit.conductances)
    if (e.g > 0.0) groups.join(e.a, e.b);
  for (const auto& e : circuit.voltage_sources) groups.join(e.plus, e.minus);
  for (const auto& e : circuit.vcvs) groups.join(e.out_plus, e.out_minus);
  for (const auto& e : circuit.vccs) {
    // Controlled by its own output voltage: a conductance of +-gain between out+ and out-.
    const bool self = (e.ctrl_plus == e.out_plus && e.ctrl_minus == e.out_minus) ||
                      (e.ctrl_plus == e.out_minus && e.ctrl_minus == e.out_plus);
    if (self && e.gain != 0.0) groups.join(e.out_plus, e.out_minus);
  }
  for (const auto& d : circuit.diodes)
    if (d.model == DiodeModel::Shockley) groups.join(d.anode, d.cathode);
  for (int node : nudge_nodes) groups.join(node, kGround);
  return groups;
}

std::vector<int> floating_nodes(DisjointSets& groups, int num_nodes) {
  std::vector<int> result;
  for (int i = 0; i < num_nodes; ++i)
    if (!groups.connected(i, kGround)) result.push_back(i);
  return result;
}

}  // namespace physlearn::solvers
