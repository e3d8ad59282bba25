#pragma once
/// The circuit view of a network: named nodes and elements, as in a SPICE netlist.
///
/// Node index -1 is ground (names "0" and "gnd"). Elements are plain structs, one list per kind
/// (circuits/elements/*.h; every kind is registered in circuits/elements.cpp and reached by the
/// generic code through circuits/element.h). Units are SI: volts, amperes, siemens, farads,
/// henries, kelvin. A layered network (circuits/drn.h) lowers to a Circuit so that every solver
/// can check every other on the same network.
///
///   Circuit c;
///   c.add(Conductance{"G1", c.add_node("a"), kGround, 1e-3});
///   for (auto& g : c.list<Conductance>()) g.g *= 2;
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "circuits/element.h"

namespace physlearn::circuits {

class Circuit {
 public:
  /// An empty list of every registered kind.
  Circuit();
  Circuit(const Circuit& other);
  Circuit& operator=(const Circuit& other);
  Circuit(Circuit&&) noexcept = default;
  Circuit& operator=(Circuit&&) noexcept = default;

  /// Adds a node (or returns the existing one). "0" and "gnd" (any case) are ground.
  int add_node(const std::string& name);
  /// The node's index; throws physlearn::Error naming the node if it does not exist.
  int node(const std::string& name) const;
  bool has_node(const std::string& name) const;
  int num_nodes() const { return static_cast<int>(names_.size()); }
  /// "0" for ground.
  std::string node_name(int index) const;
  /// Every node's name, in index order.
  const std::vector<std::string>& node_names() const { return names_; }

  /// The elements of kind `Element` (a registered kind's struct).
  template <class Element>
  std::vector<Element>& list() {
    return *static_cast<std::vector<Element>*>(groups_[kind_index<Element>()]->items());
  }
  template <class Element>
  const std::vector<Element>& list() const {
    return *static_cast<const std::vector<Element>*>(groups_[kind_index<Element>()]->items());
  }
  /// Appends an element; returns its index in its kind's list.
  template <class Element>
  std::size_t add(Element element) {
    auto& elements = list<Element>();
    elements.push_back(std::move(element));
    return elements.size() - 1;
  }

  /// The kinds' lists, in registration order (circuits/element.h).
  std::size_t num_kinds() const { return groups_.size(); }
  ElementGroup& group(std::size_t kind) { return *groups_[kind]; }
  const ElementGroup& group(std::size_t kind) const { return *groups_[kind]; }
  /// Elements of every kind.
  std::size_t num_elements() const;

  /// Checks node indices and element values (each kind's rules, e.g. conductance >= 0 and
  /// finite); throws physlearn::Error naming the element, the value and the rule.
  void validate() const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, int> index_;
  std::vector<std::unique_ptr<ElementGroup>> groups_;
};

/// True if `name` denotes ground ("0", "gnd", any case).
bool is_ground_name(const std::string& name);

/// Where every unknown lives: the node voltages first (index = node index), then each element's
/// extra unknowns (branch currents, states), kind by kind in registration order.
class UnknownLayout {
 public:
  UnknownLayout() = default;
  explicit UnknownLayout(const Circuit& circuit);

  int num_nodes() const { return num_nodes_; }
  /// Total number of unknowns.
  int size() const { return size_; }
  /// Per kind, per element: the element's first extra unknown, or -1.
  const std::vector<int>& first(std::size_t kind) const { return first_[kind]; }
  /// The element (kind, index) and local number j of unknown `i` >= num_nodes().
  struct Owner {
    std::size_t kind = 0;
    std::size_t index = 0;
    int j = 0;
  };
  const Owner& owner(int i) const { return owners_[static_cast<std::size_t>(i - num_nodes_)]; }
  /// A readable name of unknown `i`: "v(x) (voltage of node 'x')", "i(V1) (current of voltage
  /// source 'V1')".
  std::string describe(const Circuit& circuit, int i) const;
  /// The physical kind of unknown i: a node voltage (false) or an element's (owner's kind).
  UnknownKind kind(const Circuit& circuit, int i) const;

  /// True when `circuit` has the structure of the circuit this layout was made from (nodes,
  /// elements of each kind, their terminals and unknowns); otherwise `why` says what differs.
  bool same_structure(const Circuit& circuit, std::string& why) const;

 private:
  int num_nodes_ = 0;
  int size_ = 0;
  std::vector<std::vector<int>> first_;
  std::vector<Owner> owners_;
  std::vector<std::size_t> counts_;  ///< nodes, then elements per kind
  std::vector<int> fingerprint_;     ///< every element's terminals and unknown count
};

/// Every element of kind `kind` with its first unknown and no matrix entries (every position -1,
/// at most 16 per element): enough for residual-only assemblies; solvers/mna.h's MnaPattern gives
/// the instances with their positions.
std::vector<Instance> instances(const Circuit& circuit, const UnknownLayout& layout,
                                std::size_t kind);

/// The name of `kind`'s element `index` and its kind, for messages: "voltage source 'V1'".
std::string describe_element(const Circuit& circuit, std::size_t kind, std::size_t index);

}  // namespace physlearn::circuits
