#include "circuits/circuit.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace physlearn::circuits {

bool is_ground_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "0" || lower == "gnd";
}

Circuit::Circuit() {
  for (const auto& kind : element_kinds()) groups_.push_back(kind->make_empty());
}

Circuit::Circuit(const Circuit& other) : names_(other.names_), index_(other.index_) {
  for (const auto& g : other.groups_) groups_.push_back(g->clone());
}

Circuit& Circuit::operator=(const Circuit& other) {
  if (this == &other) return *this;
  Circuit copy(other);
  *this = std::move(copy);
  return *this;
}

int Circuit::add_node(const std::string& name) {
  if (is_ground_name(name)) return kGround;
  if (name.empty()) throw Error("circuit: a node name is empty");
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int index = num_nodes();
  names_.push_back(name);
  index_.emplace(name, index);
  return index;
}

bool Circuit::has_node(const std::string& name) const {
  return is_ground_name(name) || index_.count(name) > 0;
}

int Circuit::node(const std::string& name) const {
  if (is_ground_name(name)) return kGround;
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(cat("circuit: unknown node \"", name, "\""));
  return it->second;
}

std::string Circuit::node_name(int index) const {
  if (index == kGround) return "0";
  return names_.at(static_cast<std::size_t>(index));
}

std::size_t Circuit::num_elements() const {
  std::size_t n = 0;
  for (const auto& g : groups_) n += g->size();
  return n;
}

void Circuit::validate() const {
  for (const auto& g : groups_) g->validate(num_nodes());
}

UnknownLayout::UnknownLayout(const Circuit& circuit) : num_nodes_(circuit.num_nodes()) {
  int next = num_nodes_;
  first_.resize(circuit.num_kinds());
  counts_.push_back(static_cast<std::size_t>(num_nodes_));
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    std::vector<int>& first = first_[kind];
    first.assign(group.size(), -1);
    counts_.push_back(group.size());
    for (std::size_t k = 0; k < group.size(); ++k) {
      const int n = group.unknowns(k);
      group.terminals(k, fingerprint_);
      fingerprint_.push_back(n);
      if (n == 0) continue;
      first[k] = next;
      for (int j = 0; j < n; ++j) owners_.push_back({kind, k, j});
      next += n;
    }
  }
  size_ = next;
}

std::string UnknownLayout::describe(const Circuit& circuit, int i) const {
  if (i < 0 || i >= size_) return cat("unknown #", i);
  if (i < num_nodes_) {
    const std::string name = circuit.node_name(i);
    return cat("v(", name, ") (voltage of node '", name, "')");
  }
  const Owner& o = owner(i);
  const ElementGroup& group = circuit.group(o.kind);
  const std::string& name = group.name(o.index);
  if (group.unknown_kind(o.index, o.j) == UnknownKind::state)
    return cat("x(", name, ") (state of ", group.noun(), " '", name, "')");
  return cat("i(", name, ") (current of ", group.noun(), " '", name, "')");
}

UnknownKind UnknownLayout::kind(const Circuit& circuit, int i) const {
  const Owner& o = owner(i);
  return circuit.group(o.kind).unknown_kind(o.index, o.j);
}

bool UnknownLayout::same_structure(const Circuit& circuit, std::string& why) const {
  std::vector<std::size_t> counts{static_cast<std::size_t>(circuit.num_nodes())};
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
    counts.push_back(circuit.group(kind).size());
  if (counts != counts_) {
    why = cat("the number of nodes or elements changed (nodes ", counts_[0], " -> ", counts[0]);
    for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind)
      if (counts[kind + 1] != counts_[kind + 1])
        why += cat(", ", circuit.group(kind).noun(), " ", counts_[kind + 1], " -> ",
                   counts[kind + 1]);
    why += ")";
    return false;
  }
  std::vector<int> fingerprint;
  fingerprint.reserve(fingerprint_.size());
  for (std::size_t kind = 0; kind < circuit.num_kinds(); ++kind) {
    const ElementGroup& group = circuit.group(kind);
    for (std::size_t k = 0; k < group.size(); ++k) {
      group.terminals(k, fingerprint);
      fingerprint.push_back(group.unknowns(k));
    }
  }
  if (fingerprint != fingerprint_) {
    why = "an element's terminals or unknowns (e.g. a diode's model) changed";
    return false;
  }
  return true;
}

std::vector<Instance> instances(const Circuit& circuit, const UnknownLayout& layout,
                                std::size_t kind) {
  // Without a pattern every entry is absent (-1): the stamps then add residuals only.
  static const int kAbsent[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                  -1, -1, -1, -1, -1, -1, -1, -1};
  std::vector<Instance> out(circuit.group(kind).size());
  const std::vector<int>& first = layout.first(kind);
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k].index = k;
    out[k].unknown = first[k];
    out[k].entry = kAbsent;
    out[k].charge_entry = kAbsent;
  }
  return out;
}

std::string describe_element(const Circuit& circuit, std::size_t kind, std::size_t index) {
  const ElementGroup& group = circuit.group(kind);
  return cat(group.noun(), " '", group.name(index), "'");
}

}  // namespace physlearn::circuits
