#include "solvers/mna.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "core/error.h"

namespace physlearn::solvers {

using circuits::Circuit;
using circuits::ElementGroup;
using circuits::EntryList;
using circuits::Instance;
using circuits::kGround;

MnaPattern::MnaPattern(const Circuit& circuit, const UnknownLayout& layout, bool with_charge)
    : size_(layout.size()) {
  // Every element's declared entries, kind by kind: first the F entries of all, then the charge
  // entries (positions are filled once the pattern is compressed).
  instances_.resize(circuit.num_kinds());
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    instances_[kind] = circuits::instances(circuit, layout, kind);
  std::vector<std::pair<int, int>> declared;
  std::vector<std::size_t> entry_offset, charge_offset;  // per element, into `declared`
  auto declare = [&](bool charge, std::vector<std::size_t>& offset) {
    EntryList list;
    for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
      for (const Instance& at : instances_[kind]) {
        offset.push_back(declared.size());
        list.entries.clear();
        if (charge)
          circuit.group(kind).charge_entries(at, list);
        else
          circuit.group(kind).entries(at, list);
        declared.insert(declared.end(), list.entries.begin(), list.entries.end());
      }
  };
  declare(false, entry_offset);
  const std::size_t first_charge = declared.size();
  declare(true, charge_offset);

  std::vector<std::vector<int>> columns(static_cast<std::size_t>(size_));
  auto add = [&](int row, int col) {
    if (row < 0 || col < 0) return;
    columns[static_cast<std::size_t>(col)].push_back(row);
  };
  // Node diagonals: nudges may land on any node. Branch rows get no structural diagonal unless
  // an element declares one: an explicit zero there lets KLU's ordering fill whole blocks (a
  // dense layer's input nodes would couple every hidden node to every other).
  for (int k = 0; k < layout.num_nodes(); ++k) add(k, k);
  const std::size_t last = with_charge ? declared.size() : first_charge;
  for (std::size_t e = 0; e < last; ++e) add(declared[e].first, declared[e].second);
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

  positions_.resize(declared.size());
  for (std::size_t e = 0; e < declared.size(); ++e)
    positions_[e] = e < last ? position(declared[e].first, declared[e].second) : -1;
  std::size_t element = 0;
  for (auto& list : instances_)
    for (Instance& at : list) {
      at.entry = positions_.data() + entry_offset[element];
      at.charge_entry = positions_.data() + charge_offset[element];
      ++element;
    }
}

int MnaPattern::position(int row, int col) const {
  if (row < 0 || col < 0) return -1;
  const auto begin = row_indices_.begin() + column_starts_[static_cast<std::size_t>(col)];
  const auto end = row_indices_.begin() + column_starts_[static_cast<std::size_t>(col) + 1];
  const auto it = std::lower_bound(begin, end, row);
  if (it == end || *it != row) return -1;
  return static_cast<int>(it - row_indices_.begin());
}

std::vector<ComplementarityRef> complementarities(const Circuit& circuit,
                                                  const MnaPattern& pattern) {
  std::vector<ComplementarityRef> out;
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    for (const Instance& at : pattern.instances(kind)) {
      ComplementarityRef ref;
      if (group.complementarity(at, ref.c)) {
        ref.kind = kind;
        ref.index = at.index;
        out.push_back(ref);
      }
    }
  }
  return out;
}

std::vector<KindState> make_states(const Circuit& circuit, const UnknownLayout& layout) {
  std::vector<KindState> states(circuit.num_kinds());
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    bool switching = false, linearised = false;
    Complementarity c;
    for (const Instance& at : circuits::instances(circuit, layout, kind)) {
      switching = switching || group.complementarity(at, c);
      linearised = linearised || group.nonlinear(at.index);
    }
    if (switching) states[kind].mode.assign(group.size(), 0);
    if (linearised) states[kind].point.assign(group.size(), 0.0);
  }
  return states;
}

void assemble(const Circuit& circuit, const MnaPattern& pattern, const AssemblyPoint& at,
              const std::vector<NudgeTerm>& nudges, Assembly& out) {
  circuits::Evaluation e;
  e.x = at.x;
  e.time = at.time;
  e.conductance_scale = at.conductance_scale;
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    if (group.size() == 0) continue;
    e.mode = nullptr;
    e.point = nullptr;
    if (at.states) {
      const KindState& s = (*at.states)[kind];
      if (!s.mode.empty()) e.mode = s.mode.data();
      if (!s.point.empty()) e.point = s.point.data();
    }
    group.stamp(pattern.instances(kind).data(), e, out);
  }
  for (const auto& n : nudges) {
    // Current leaving the node: -beta (target - v).
    out.add_residual(n.node, -n.beta * (n.target - circuits::node_voltage(at.x, n.node)));
    out.add(pattern.position(n.node, n.node), n.beta);
  }
}

void assemble_charge(const Circuit& circuit, const MnaPattern& pattern, const double* x,
                     const double* xp, double scale, Assembly& out) {
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    if (group.size() > 0) group.charge(pattern.instances(kind).data(), x, xp, scale, out);
  }
}

double conductance_scale(const Circuit& circuit, double given) {
  if (given > 0.0) return given;
  double sum = 0.0;
  long count = 0;
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    circuit.group(kind).conductance_scale(sum, count);
  return count > 0 ? sum / static_cast<double>(count) : 1.0;
}

circuits::NodeSets dc_groups(const Circuit& circuit, const std::vector<int>& nudge_nodes) {
  circuits::NodeSets groups(circuit.num_nodes());
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    circuit.group(kind).dc_paths(groups);
  for (int node : nudge_nodes) groups.join(node, kGround);
  return groups;
}

std::vector<int> floating_nodes(circuits::NodeSets& groups, int num_nodes) {
  std::vector<int> result;
  for (int i = 0; i < num_nodes; ++i)
    if (!groups.connected(i, kGround)) result.push_back(i);
  return result;
}

std::vector<double> kind_currents(const Circuit& circuit, const UnknownLayout& layout,
                                  const Eigen::VectorXd& x, std::size_t kind) {
  const ElementGroup& group = circuit.group(kind);
  std::vector<double> out;
  for (const Instance& at : circuits::instances(circuit, layout, kind))
    out.push_back(group.current(at, x.data()));
  return out;
}

double element_current(const Circuit& circuit, const UnknownLayout& layout,
                       const Eigen::VectorXd& x, const std::string& name) {
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    for (std::size_t k = 0; k < group.size(); ++k)
      if (group.name(k) == name) {
        Instance at;
        at.index = k;
        at.unknown = layout.first(kind)[k];
        return group.current(at, x.data());
      }
  }
  throw Error(cat("circuit: no element named '", name, "'"));
}

}  // namespace physlearn::solvers
