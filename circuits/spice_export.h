#pragma once
/// SPICE netlist writer: a Circuit as a standard netlist (title line, element cards, .model and
/// .options cards, ".op", ".end") that stand-alone `ngspice -b FILE` runs unchanged and that the
/// ngspice backend (solvers/ngspice.h) loads in process. The reader is circuits/spice.h.
///
/// Every kind writes its own cards (circuits/elements/*.h, write_spice), in registration order;
/// each kind's header gives its card (after the ngspice manual: terminals in SPICE's order). What
/// follows is the writer's own part: the options that make ngspice's diode ours, the stand-in for
/// ideal diodes, names and numbers.
///
/// Shockley diodes match our model I = Is (exp(V / (n Vt)) - 1) + gmin V, Vt = (k/q) T:
/// - temperature: ".options temp=<C> tnom=<C>" (Celsius = kelvin - 273.15, ngspice's CONSTCtoK)
///   from SpiceExportOptions::temperature; a diode at another temperature carries "temp=" on its
///   card and its model "TNOM=" at that same temperature, so ngspice's temperature scaling of IS
///   (factor (T / TNOM)^(XTI / N) exp(...(T / TNOM - 1))) is exactly 1 and IS is ours;
/// - k/q: ngspice 39 computes Vt with the CODATA 2014 constants (k/q = 8.617330337217213e-5 V/K,
///   measured from its diode), physlearn with CODATA 2018 (kBoltzmannOverCharge,
///   8.617333262145179e-5 V/K): the exported N is n * kBoltzmannOverCharge /
///   SpiceExportOptions::boltzmann_over_charge (1 + 3.4e-7) so that N Vt_ngspice = n Vt ours to
///   rounding. Set boltzmann_over_charge = kBoltzmannOverCharge to write n unchanged;
/// - gmin: ngspice puts ".options gmin" (default 1e-12 S) across every junction. The exported
///   gmin is SpiceExportOptions::gmin when > 0, else the gmin of the circuit's first Shockley
///   diode; a diode whose own gmin differs gets a parallel resistor "R<diode>_gmin" of
///   1 / (gmin_diode - gmin_exported) ohms (negative when smaller; ngspice accepts negative
///   resistances), which is exact;
/// - reverse region: below V = -3 n Vt ngspice's diode uses -Is (1 + (3 n Vt / (e V))^3) instead
///   of Is (exp(V / (n Vt)) - 1) (dioload.c); the two differ by less than 0.05 Is (5e-16 A at
///   Is = 1e-14 A). Breakdown, series resistance and capacitances are left at their defaults
///   (none).
///
/// Ideal diodes have no SPICE element. They are exported as a steep Shockley diode, model
/// "dideal": IS = ideal_diode_saturation_current, N = ideal_diode_emission (default 1e-8, so
/// N Vt = 0.26 nV at 300.15 K). Its error against the ideal constraint: a forward drop of
/// N Vt ln(1 + I / IS) (about 8 nV at 1 A, 9 nV at 100 A with the defaults) and a reverse leakage
/// of IS + gmin |V| (1e-11 A at 10 V). ngspice's junction limiting (pnjlim) converges on it in a
/// handful of Newton iterations (measured: 4-8 on a 1568-100-10 DRN).
///
/// Names: SPICE folds case, so every node name is lowercased; characters other than [a-z0-9_]
/// become '_'; a name that is empty, starts with something other than a letter, or denotes
/// ground ("0", "gnd") after that, gets the prefix "n"; a name already taken by an earlier node
/// (index order) gets "_<index>" appended. Ground is "0". Element names go through the same
/// mapping, then get the element's SPICE letter and "_" in front unless they already start with
/// that letter (conductance "G0_1_2" -> "R_g0_1_2", source "V_in0" -> "v_in0"); duplicates get
/// "_<index in its list>". Renamed nodes are listed in comment lines. SpiceNetlist gives every
/// name, so results map back to the circuit.
///
/// Numbers are written with 17 significant digits ("%.17g"), which reads back to the same double.
#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "circuits/circuit.h"

namespace physlearn::circuits {

/// k/q of ngspice 39 (CODATA 2014: k = 1.38064852e-23 J/K, q = 1.6021766208e-19 C), volts per
/// kelvin; measured from its diode to 1e-16.
constexpr double kNgspiceBoltzmannOverCharge = 1.38064852e-23 / 1.6021766208e-19;

struct SpiceExportOptions {
  std::string title = "physlearn circuit";  ///< the title line (line breaks become spaces)
  /// Kelvin: ".options temp= tnom=" (in Celsius). 0: the first Shockley diode's temperature, or
  /// 300.15 K (ngspice's default, 27 C) when there is none.
  double temperature = 0.0;
  /// ".options" tolerances for tight comparisons; 0 leaves ngspice's default (reltol 1e-3,
  /// abstol 1e-12 A, vntol 1e-6 V).
  double reltol = 0.0;
  double abstol = 0.0;  ///< A
  double vntol = 0.0;   ///< V
  /// S: ".options gmin"; 0: the first Shockley diode's gmin (see the file comment); written only
  /// when the circuit has diodes or this is > 0.
  double gmin = 0.0;
  int itl1 = 0;  ///< ".options itl1" (DC Newton iteration limit, ngspice default 100); 0: omit
  /// The steep Shockley model standing for ideal diodes (see the file comment).
  double ideal_diode_saturation_current = 1e-14;  ///< A
  double ideal_diode_emission = 1e-8;
  /// V/K: the k/q of the simulator that will read the netlist (ngspice 39 by default).
  double boltzmann_over_charge = kNgspiceBoltzmannOverCharge;
  bool write_op = true;  ///< write the ".op" card before ".end"
};

/// How the reader of a netlist (solvers/ngspice.h) finds an extra unknown of the circuit (a
/// branch current): a vector of the simulator ("v1#branch"), or a function of the node voltages
/// (an ideal diode's current through its exported model).
struct SpiceUnknown {
  std::string vector;
  std::function<double(const Eigen::VectorXd& voltages)> from_voltages;
};

/// A netlist in pieces, with the SPICE name of every node and element so that results read back
/// by name map to the circuit.
struct SpiceNetlist {
  std::string title;
  std::vector<std::string> header;    ///< comment and ".options" cards
  std::vector<std::string> elements;  ///< element cards, kind by kind, each in list order
  std::vector<std::string> models;    ///< ".model" cards
  bool write_op = true;

  std::vector<std::string> node_names;  ///< SPICE name per node index (lowercase)
  /// Per kind (registration order), per element: its SPICE name ("" when left out, e.g. a 0 S
  /// conductance).
  std::vector<std::vector<std::string>> element_names;
  /// Per extra unknown of the circuit (UnknownLayout order, after the nodes).
  std::vector<SpiceUnknown> unknowns;
  double gmin = 1e-12;  ///< S: the ".options gmin" in force (ngspice's default if unset)

  /// The SPICE names of kind `Element`'s elements.
  template <class Element>
  const std::vector<std::string>& names() const {
    return element_names[kind_index<Element>()];
  }
  /// The whole netlist: title, header, elements, models, ".op", ".end", one card a line, each
  /// line ending in '\n'.
  std::string text() const;
};

/// What the whole netlist shares: the temperature and gmin in force (".options temp= tnom=
/// gmin="), chosen from the options and the kinds' proposals (the diodes', spice_globals).
struct SpiceGlobals {
  double temperature = std::nan("");  ///< K; NaN: not chosen yet (then 300.15 K)
  double gmin = std::nan("");         ///< S; NaN: not chosen yet (then 1e-12 S)
  bool write_gmin = false;            ///< ".options gmin" is written
};

/// The writer as a kind's write_spice sees it (circuits/elements/*.h).
class SpiceWriter {
 public:
  SpiceWriter(const SpiceExportOptions& options, SpiceNetlist& net, const SpiceGlobals& globals,
              int num_nodes);
  const SpiceExportOptions& options() const { return options_; }
  const SpiceGlobals& globals() const { return globals_; }
  /// The SPICE name of node `index` ("0" for ground).
  const std::string& node(int index) const;
  /// A unique element name from `name`, starting with `letter` (see the file comment); `index`
  /// makes duplicates unique.
  std::string claim(char letter, const std::string& name, std::size_t index);
  /// Records `spice_name` as the name of element `k` of the kind being written.
  void name(std::size_t k, const std::string& spice_name);
  void card(std::string text) { net_.elements.push_back(std::move(text)); }
  /// Writes element k of the kind being written as "<name> <nodes...> <value>" (its name claimed
  /// from `name` with `letter` and recorded); returns the SPICE name.
  std::string element(char letter, std::size_t k, const std::string& name,
                      std::initializer_list<int> nodes, const std::string& value);
  void model(std::string text) { net_.models.push_back(std::move(text)); }
  /// A comment line in the header.
  void note(std::string text) { net_.header.push_back(std::move(text)); }
  /// How the unknown `unknown` (the circuit's index) reads back.
  void unknown(int unknown, SpiceUnknown source);
  /// Starts writing kind `kind`.
  void begin_kind(std::size_t kind, std::size_t size);

 private:
  const SpiceExportOptions& options_;
  SpiceNetlist& net_;
  SpiceGlobals globals_;
  int num_nodes_;
  std::size_t kind_ = 0;
  std::set<std::string> used_;
};

/// Exports `circuit` (validated first: physlearn::Error for invalid element values).
SpiceNetlist export_spice(const Circuit& circuit, const SpiceExportOptions& options = {});

/// export_spice(circuit, options).text().
std::string write_spice_netlist(const Circuit& circuit, const SpiceExportOptions& options = {});

/// A SPICE-safe, lowercase node name for `name` (the first step of the mapping above, without
/// the de-duplication).
std::string spice_safe_name(const std::string& name);

/// A number as written in netlists: 17 significant digits ("%.17g").
std::string spice_number(double value);

}  // namespace physlearn::circuits
