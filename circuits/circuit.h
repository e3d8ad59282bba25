#pragma once
/// The circuit view of a network: named nodes and elements, as in a SPICE netlist.
///
/// Node index -1 is ground (names "0" and "gnd"). Elements are plain structs in typed lists; the
/// solvers stamp each kind in one place (see solvers/mna.h). Units are SI: volts, amperes,
/// siemens, kelvin. A layered network (circuits/drn.h) lowers to a Circuit so that every solver
/// can check every other on the same network.
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace physlearn::devices {
class Memristor;  // devices/memristor.h
}  // namespace physlearn::devices

namespace physlearn::circuits {

constexpr int kGround = -1;

/// Linear conductance between nodes a and b: current g (v_a - v_b) flows from a to b.
struct Conductance {
  std::string name;
  int a = kGround;
  int b = kGround;
  double g = 0.0;          ///< siemens, >= 0
  bool trainable = false;  ///< learning rules may change it
};

/// Independent voltage source: v_plus - v_minus = volts. Its branch current (an MNA unknown) is
/// SPICE's: positive when it flows into the plus terminal, through the source, out of minus.
struct VoltageSource {
  std::string name;
  int plus = kGround;
  int minus = kGround;
  double volts = 0.0;
};

/// Independent current source: drives `amps` out of node `from`, through the source, into `to`
/// (SPICE's I card "I1 from to value").
struct CurrentSource {
  std::string name;
  int from = kGround;
  int to = kGround;
  double amps = 0.0;
  bool trainable = false;  ///< a trainable bias current
};

enum class DiodeModel { Ideal, Shockley };

/// Diode from anode to cathode.
/// Shockley: I = Is (exp(V / (n Vt)) - 1) + gmin V, Vt = k T / q, V = v_anode - v_cathode.
/// Ideal: a complementarity constraint: I >= 0, V <= 0, I V = 0 (short forward, open reverse).
struct Diode {
  std::string name;
  int anode = kGround;
  int cathode = kGround;
  DiodeModel model = DiodeModel::Ideal;
  double saturation_current = 1e-14;  ///< Is, amperes (Shockley)
  double emission = 1.0;              ///< n, ideality factor (Shockley)
  double temperature = 300.15;        ///< kelvin (Shockley); 300.15 K matches ngspice's default
  double gmin = 1e-12;                ///< siemens in parallel with the junction, as SPICE does
};

/// Voltage-controlled voltage source (amplifier):
/// v_out_plus - v_out_minus = gain (v_ctrl_plus - v_ctrl_minus). Has a branch current unknown.
struct Vcvs {
  std::string name;
  int out_plus = kGround;
  int out_minus = kGround;
  int ctrl_plus = kGround;
  int ctrl_minus = kGround;
  double gain = 1.0;
};

/// Voltage-controlled current source (transconductance, SPICE's G card): the current
/// gain (v_ctrl_plus - v_ctrl_minus) flows from out_plus through the source to out_minus.
struct Vccs {
  std::string name;
  int out_plus = kGround;
  int out_minus = kGround;
  int ctrl_plus = kGround;
  int ctrl_minus = kGround;
  double gain = 0.0;  ///< siemens
};

/// Linear capacitor between a and b, charge q = C (v_a - v_b). Open at DC; it enters the
/// transient DAE through its charge.
struct Capacitor {
  std::string name;
  int a = kGround;
  int b = kGround;
  double farads = 0.0;  ///< >= 0
};

/// Memristor between a and b, a compact model of devices/memristor.h: the current
/// model->current(x, v) flows from a to b (v = v_a - v_b) and the state x obeys
/// dx/dt = model->rate(x, v), from x0 at t = 0. Only the transient solver (solvers/transient.h)
/// simulates it, with x as one more DAE unknown; the DC solvers and the SPICE and JSON writers
/// reject a circuit that holds one.
struct Memristor {
  std::string name;
  int a = kGround;
  int b = kGround;
  std::shared_ptr<const devices::Memristor> model;
  double x0 = 0.0;  ///< initial state, in [0, 1]
};

/// Boltzmann constant over elementary charge, volts per kelvin (CODATA 2018 exact values).
constexpr double kBoltzmannOverCharge = 1.380649e-23 / 1.602176634e-19;

class Circuit {
 public:
  /// Adds a node (or returns the existing one). "0" and "gnd" (any case) are ground.
  int add_node(const std::string& name);
  /// The node's index; throws physlearn::Error naming the node if it does not exist.
  int node(const std::string& name) const;
  bool has_node(const std::string& name) const;
  int num_nodes() const { return static_cast<int>(names_.size()); }
  /// "0" for ground.
  std::string node_name(int index) const;

  std::vector<Conductance> conductances;
  std::vector<VoltageSource> voltage_sources;
  std::vector<CurrentSource> current_sources;
  std::vector<Diode> diodes;
  std::vector<Vcvs> vcvs;
  std::vector<Vccs> vccs;
  std::vector<Capacitor> capacitors;
  std::vector<Memristor> memristors;

  /// Checks element values (conductance >= 0 and finite, Is > 0, n > 0, T > 0, node indices in
  /// range, a memristor has a model and x0 in [0, 1]); throws physlearn::Error naming the
  /// element, the value and the rule.
  void validate() const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, int> index_;
};

/// True if `name` denotes ground ("0", "gnd", any case).
bool is_ground_name(const std::string& name);

}  // namespace physlearn::circuits
