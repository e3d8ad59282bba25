#pragma once
/// Diode from anode to cathode, V = v_anode - v_cathode, I anode -> cathode.
/// Shockley: I = Is (exp(V / (n Vt)) - 1) + gmin V, Vt = k T / q; Newton linearises it at a
/// junction voltage it limits as SPICE does (pnjlim). Ideal: a complementarity constraint,
/// I >= 0, V <= 0, I V = 0 (short forward, open reverse), its current one more unknown; the
/// solvers switch it ON (row c V = 0) or OFF (row I = 0).
///   JSON: {"type": "diode", "nodes": [anode, cathode], "model": "shockley", "Is": 1e-14,
///          "n": 1, "temperature": 300.15, "gmin": 1e-12} (model "ideal" takes none of those).
///   SPICE: D<name> anode cathode model [area] [AREA=a] [M=m] [TEMP=celsius] [DTEMP=kelvin]
///   [OFF] [IC=v] with `.model NAME D(IS= N= RS= TNOM= EG= XTI= ...)` (circuits/spice.h says
///   which parameters count). Written with one ".model <m> D(IS= N= TNOM=)" per distinct
///   (Is, n, T) and a parallel "R<diode>_gmin" where its gmin differs from the netlist's (see
///   circuits/spice_export.h); an ideal diode as the steep Shockley model "dideal".
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "circuits/circuit_json.h"
#include "circuits/element.h"
#include "circuits/elements/conductance.h"
#include "circuits/spice.h"
#include "circuits/spice_export.h"

namespace physlearn::circuits {

enum class DiodeModel { Ideal, Shockley };

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

/// Current and small-signal conductance of a Shockley diode at junction voltage V:
///   I = Is (exp(V / (n Vt)) - 1) + gmin V,  dI/dV = Is / (n Vt) exp(V / (n Vt)) + gmin.
/// Beyond V / (n Vt) = 600 the exponential is continued linearly (finite, C1) so that no
/// iterate overflows; no converged operating point of a sane circuit gets there.
struct DiodeEvaluation {
  double current = 0.0;      ///< amperes, anode -> cathode
  double conductance = 0.0;  ///< siemens
};

/// n Vt = n k T / q, volts.
inline double emission_thermal_voltage(const Diode& d) {
  return d.emission * kBoltzmannOverCharge * d.temperature;
}

inline DiodeEvaluation shockley(const Diode& d, double volts) {
  constexpr double kMaxExponent = 600.0;
  const double nvt = emission_thermal_voltage(d);
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
  result.current = d.saturation_current * (e - 1.0) + d.gmin * volts;
  result.conductance = d.saturation_current * slope / nvt + d.gmin;
  return result;
}

/// SPICE's critical voltage vcrit = n Vt ln(n Vt / (sqrt(2) Is)), volts: above it the
/// exponential is steep enough that Newton steps must be limited.
inline double critical_voltage(const Diode& d) {
  const double nvt = emission_thermal_voltage(d);
  return nvt * std::log(nvt / (std::sqrt(2.0) * d.saturation_current));
}

/// SPICE's junction limiting (pnjlim, as in ngspice DEVpnjlim): the new junction voltage
/// `proposed` is pulled towards `previous` so that the diode current changes by a bounded factor.
/// Above vcrit a forward step becomes logarithmic: previous + nVt ln(1 + (proposed -
/// previous)/nVt); a reverse step is bounded by -previous - 1 (previous > 0) or 2 previous - 1
/// volts. Sets `limited` when the returned value differs from `proposed`.
inline double limit_junction(double proposed, double previous, double nvt, double vcrit,
                             bool& limited) {
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

/// ngspice's diode current (dioload.c) at V for a model exported as IS, N (already scaled by the
/// k/q ratio), temperature and junction gmin, with ngspice's k/q `kq`: below -3 N Vt it uses
/// -IS (1 + (3 N Vt / (e V))^3) instead of the exponential.
inline double ngspice_diode_current(double saturation_current, double emission, double temperature,
                                    double gmin, double kq, double v) {
  const double vte = emission * kq * temperature;
  double i;
  if (v >= -3.0 * vte) {
    i = saturation_current * std::expm1(v / vte);
  } else {
    const double arg = 3.0 * vte / (v * std::exp(1.0));
    i = -saturation_current * (1.0 + arg * arg * arg);
  }
  return i + gmin * v;
}

namespace diode_spice {

/// Diode model parameters that mean nothing at DC (junction charge, noise): accepted silently.
inline const std::set<std::string>& charge_parameters() {
  static const std::set<std::string> names = {
      "cjo",   "cj0",  "cj",  "vj",   "pb",  "m",   "mj",  "tt",  "fc",   "kf",  "af",
      "cjp",   "cjsw", "php", "mjsw", "fcs", "cta", "ctp", "tpb", "tphp", "tm1", "tm2",
      "tlevc", "tcv",  "ffe", "lm",   "lp",  "wm",  "wp",  "xom", "xoi",  "xm",  "xp"};
  return names;
}

/// Diode model parameters with a DC meaning that physlearn's Shockley diode does not model.
inline const std::set<std::string>& unmodelled_parameters() {
  static const std::set<std::string> names = {
      "bv",     "ibv",    "nbv",    "ik",     "ikf",  "ikr",    "jsw",     "ns",   "isr",  "nr",
      "trs",    "trs1",   "trs2",   "ttt1",   "ttt2", "tbv1",   "tbv2",    "tlev", "gap1", "gap2",
      "area",   "pj",     "jtun",   "jtunsw", "ntun", "xtitun", "keg",     "isw",  "rsw",  "bv_max",
      "fv_max", "id_max", "pd_max", "te_max", "rth0", "cth0",   "thermal", "soa",  "dskip"};
  return names;
}

}  // namespace diode_spice

struct DiodeKind : KindDefaults<Diode> {
  /// A warm start (the previous solution) is trusted up to the junction voltage of this current.
  static constexpr double kWarmStartMaxCurrent = 1e3;  // A

  static std::string noun() { return "diode"; }
  static void validate(const Diode& d) {
    if (d.model != DiodeModel::Shockley) return;
    if (!(d.saturation_current > 0.0) || !std::isfinite(d.saturation_current))
      throw Error(cat("circuit: diode ", d.name, ": Is = ", d.saturation_current, ": must be > 0"));
    if (!(d.emission > 0.0) || !std::isfinite(d.emission))
      throw Error(cat("circuit: diode ", d.name, ": n = ", d.emission, ": must be > 0"));
    if (!(d.temperature > 0.0) || !std::isfinite(d.temperature))
      throw Error(cat("circuit: diode ", d.name, ": T = ", d.temperature, ": must be > 0 K"));
    if (!(d.gmin >= 0.0) || !std::isfinite(d.gmin))
      throw Error(cat("circuit: diode ", d.name, ": gmin = ", d.gmin, ": must be >= 0"));
  }
  static void terminals(const Diode& d, std::vector<int>& out) {
    out.insert(out.end(), {d.anode, d.cathode});
  }
  static int unknowns(const Diode& d) { return d.model == DiodeModel::Ideal ? 1 : 0; }
  static void entries(const Diode& d, const Instance& at, EntryList& out) {
    if (d.model == DiodeModel::Shockley) {
      out.add_branch(d.anode, d.cathode);
      return;
    }
    out.add_branch_current(d.anode, d.cathode, at.unknown);
    out.add(at.unknown, at.unknown);
  }
  static void stamp(const Diode& d, const Instance& at, const Evaluation& ev, Assembly& out) {
    const double* x = ev.x;
    const double v = node_voltage(x, d.anode) - node_voltage(x, d.cathode);
    if (d.model == DiodeModel::Shockley) {
      const double junction = ev.point ? ev.point[at.index] : v;
      const DiodeEvaluation j = shockley(d, junction);
      stamp_branch(d.anode, d.cathode, j.current + j.conductance * (v - junction), j.conductance,
                   at.entry, out);
      return;
    }
    const int br = at.unknown;
    stamp_branch_current(d.anode, d.cathode, x[br], at.entry, out);
    if (ev.mode && ev.mode[at.index]) {
      // ON, a short: c (v_anode - v_cathode) = 0.
      const double c = ev.conductance_scale;
      out.add_residual(br, c * node_voltage(x, d.anode));
      out.add_residual(br, -c * node_voltage(x, d.cathode));
      out.add(at.entry[2], c);
      out.add(at.entry[3], -c);
    } else {
      // OFF, open: i = 0.
      out.add_residual(br, x[br]);
      out.add(at.entry[4], 1.0);
    }
  }
  static double current(const Diode& d, const Instance& at, const double* x) {
    if (d.model == DiodeModel::Ideal) return x[at.unknown];
    return shockley(d, node_voltage(x, d.anode) - node_voltage(x, d.cathode)).current;
  }
  static void dc_paths(const Diode& d, NodeSets& sets) {
    if (d.model == DiodeModel::Shockley) sets.join(d.anode, d.cathode);
  }
  static bool complementarity(const Diode& d, const Instance& at, Complementarity& out) {
    if (d.model != DiodeModel::Ideal) return false;
    out = {at.unknown, d.anode, d.cathode};
    return true;
  }
  static bool nonlinear(const Diode& d) { return d.model == DiodeModel::Shockley; }
  static double point_voltage(const Diode& d, const double* x) {
    return node_voltage(x, d.anode) - node_voltage(x, d.cathode);
  }
  /// SPICE starts junctions no higher than vcrit. A given starting point (typically the previous
  /// solution) is trusted up to the voltage of a 1 kA junction current, so that a warm start at a
  /// high-current solution is not pulled back to vcrit.
  static double start_point(const Diode& d, double v, bool warm, bool limiting) {
    const double nvt = emission_thermal_voltage(d), vcrit = critical_voltage(d);
    const double trusted =
        !warm ? vcrit
              : std::max(vcrit, nvt * std::log1p(kWarmStartMaxCurrent / d.saturation_current));
    return limiting ? std::min(v, trusted) : v;
  }
  static double next_point(const Diode& d, double v, double previous, bool limiting,
                           bool& limited) {
    limited = false;
    if (!limiting) return v;
    return limit_junction(v, previous, emission_thermal_voltage(d), critical_voltage(d), limited);
  }
  /// Dissipated: I V (0 for an ideal diode, whose I or V is 0).
  static void power(const std::vector<Diode>& list, const int* unknown, const Evaluation& ev,
                    double w, EnergySink& sink) {
    const double* x = ev.x;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Diode& d = list[k];
      const double v = node_voltage(x, d.anode) - node_voltage(x, d.cathode);
      const double i = d.model == DiodeModel::Ideal ? x[unknown[k]] : shockley(d, v).current;
      sink.add(EnergyKind::diodes, k, w * i * v);
    }
  }

  static std::vector<JsonForm> json_forms() {
    return {{"diode", "D", {"anode", "cathode"}, {"model", "Is", "n", "temperature", "gmin"}}};
  }
  static Diode read_json(const JsonElement& in, std::size_t) {
    Diode d;
    d.name = in.name();
    d.anode = in.node(0);
    d.cathode = in.node(1);
    const std::string model = in.string_or("model", "ideal");
    auto positive = [](double x) { return x > 0.0; };
    if (model == "ideal") {
      d.model = DiodeModel::Ideal;
      for (const char* key : {"Is", "n", "temperature", "gmin"})
        if (in.has(key)) in.fail(key, "applies only to model \"shockley\" (this diode is ideal)");
    } else if (model == "shockley") {
      d.model = DiodeModel::Shockley;
      d.saturation_current = in.number_or("Is", d.saturation_current);
      if (in.has("Is")) in.require("Is", d.saturation_current, positive, "must be > 0 (amperes)");
      d.emission = in.number_or("n", d.emission);
      if (in.has("n")) in.require("n", d.emission, positive, "must be > 0");
      d.temperature = in.number_or("temperature", d.temperature);
      if (in.has("temperature"))
        in.require("temperature", d.temperature, positive, "must be > 0 (kelvin)");
      d.gmin = in.number_or("gmin", d.gmin);
      if (in.has("gmin"))
        in.require("gmin", d.gmin, [](double x) { return x >= 0.0; }, "must be >= 0 (siemens)");
    } else {
      in.fail("model", "must be one of: ideal, shockley");
    }
    return d;
  }
  static nlohmann::json write_json(const Diode& d, const std::vector<std::string>& nodes) {
    nlohmann::json j = json_element("diode", d.name, {d.anode, d.cathode}, nodes);
    j["model"] = d.model == DiodeModel::Ideal ? "ideal" : "shockley";
    if (d.model == DiodeModel::Shockley) {
      j["Is"] = d.saturation_current;
      j["n"] = d.emission;
      j["temperature"] = d.temperature;
      j["gmin"] = d.gmin;
    }
    return j;
  }

  static const char* spice_model_type() { return "d"; }
  static std::map<std::string, double> read_spice_model(SpiceReader& r, const SpiceCard& card,
                                                        const std::string& name,
                                                        std::size_t first) {
    const std::vector<SpiceToken> tokens = r.tokenize(card, true);
    std::map<std::string, double> values;
    for (const auto& [param, value_token] : r.assignments(card, tokens, first)) {
      if (value_token == nullptr)
        r.fail(card, cat(".model ", name, ": parameter '", param, "' has no value (", param, "=...)"));
      const double x = r.number(card, *value_token, cat(".model ", name, " ", param));
      if (values.count(param) > 0 || (param == "js" && values.count("is") > 0) ||
          (param == "is" && values.count("js") > 0))
        r.fail(card, cat(".model ", name, ": parameter '", param, "' given twice"));
      if (param == "is" || param == "js" || param == "n") {
        if (!(x > 0.0)) r.fail(card, cat(".model ", name, ": ", param, " = ", x, ": must be > 0"));
        values[param == "js" ? "is" : param] = x;
      } else if (param == "rs") {
        if (x < 0.0) r.fail(card, cat(".model ", name, ": rs = ", x, ": must be >= 0 (ohms)"));
        values[param] = x;
      } else if (param == "tnom") {
        if (!(x + kCelsiusToKelvin > 0.0))
          r.fail(card, cat(".model ", name, ": tnom = ", x, " Celsius is at or below 0 K"));
        values[param] = x + kCelsiusToKelvin;
      } else if (param == "eg" || param == "xti") {
        values[param] = x;
      } else if (param == "level") {
        if (x != 1.0)
          r.fail(card, cat(".model ", name, ": level = ", x,
                           ": only level 1 (the SPICE diode) is supported"));
      } else if (diode_spice::charge_parameters().count(param) > 0) {
        // Charge and noise: nothing at DC.
      } else if (diode_spice::unmodelled_parameters().count(param) > 0) {
        r.warn(card, cat(".model ", name, ": ", param,
                         " ignored (not modelled: physlearn's diode is Shockley with a series "
                         "resistance)"));
      } else {
        r.fail(card, cat(".model ", name, ": unknown diode parameter '", param, "'"));
      }
    }
    return values;
  }

  static const char* spice_letters() { return "d"; }
  static void read_spice(SpiceReader& r, const SpiceCard& card) {
    const auto& tokens = card.tokens;
    const std::string& name = tokens[0].text;
    const std::string usage = cat(name, " anode cathode model [area] [temp=Celsius]");
    if (tokens.size() < 4 || tokens[3].expression) r.fail(card, cat(name, ": needs ", usage));
    const std::string model_name = tokens[3].text;
    const SpiceModel* model = r.model(model_name);
    if (model == nullptr || model->type != "d")
      r.fail(card, cat(name, ": model '", model_name, "' is not defined (.model ", model_name,
                       " D(...))"));
    double area = 1.0, multiplier = 1.0;
    double temperature = r.options().temperature;
    bool area_given = false, temp_given = false;
    std::size_t first_assignment = 4;
    if (tokens.size() > 4 && tokens[4].text != "=" &&
        !(tokens.size() > 5 && tokens[5].text == "=") && spice_lower(tokens[4].text) != "off") {
      area = r.number(card, tokens[4], cat(name, " area"));
      area_given = true;
      first_assignment = 5;
    }
    double dtemp = 0.0;
    for (const auto& [key, value] : r.assignments(card, tokens, first_assignment)) {
      if (key == "off" && value == nullptr) continue;  // a starting hint
      if (value == nullptr) r.fail(card, cat(name, ": unexpected field '", key, "' (", usage, ")"));
      const double x = r.number(card, *value, cat(name, " ", key));
      if (key == "area" && !area_given) {
        area = x;
        area_given = true;
      } else if (key == "m") {
        multiplier = x;
      } else if (key == "temp" && !temp_given) {
        temperature = x + kCelsiusToKelvin;
        temp_given = true;
      } else if (key == "dtemp") {
        dtemp = x;
      } else if (key == "ic") {
        // A transient initial condition.
      } else {
        r.fail(card, cat(name, ": unexpected field '", key, "' (", usage, ")"));
      }
    }
    if (!(area > 0.0)) r.fail(card, cat(name, ": area = ", area, ": must be > 0"));
    if (!(multiplier > 0.0)) r.fail(card, cat(name, ": m = ", multiplier, ": must be > 0"));
    if (!temp_given) temperature += dtemp;
    if (!(temperature > 0.0))
      r.fail(card, cat(name, ": temperature ", temperature - kCelsiusToKelvin,
                       " Celsius is at or below 0 K"));

    auto param = [&](const char* key, double fallback) {
      const auto it = model->values.find(key);
      return it == model->values.end() ? fallback : it->second;
    };
    const double is = param("is", 1e-14), n = param("n", 1.0), rs = param("rs", 0.0);
    const double tnom = param("tnom", r.options().tnom), eg = param("eg", 1.11),
                 xti = param("xti", 3.0);
    // ngspice diotemp.c: IS at the diode's temperature T from its value at TNOM.
    const double vt = kNgspiceBoltzmannOverCharge * temperature;
    const double ratio = temperature / tnom;
    const double saturation =
        is * area * multiplier * std::exp((ratio - 1.0) * eg / (n * vt) + xti / n * std::log(ratio));
    if (!(saturation > 0.0) || !std::isfinite(saturation))
      r.fail(card, cat(name, ": the saturation current at ", temperature - kCelsiusToKelvin,
                       " Celsius is ", saturation, " A (from IS = ", is,
                       " at TNOM = ", tnom - kCelsiusToKelvin, " Celsius): must be finite and > 0"));

    Diode d;
    d.name = name;
    d.anode = r.node(tokens[1].text);
    d.cathode = r.node(tokens[2].text);
    d.model = DiodeModel::Shockley;
    d.saturation_current = saturation;
    d.emission = n * kNgspiceBoltzmannOverCharge / kBoltzmannOverCharge;
    d.temperature = temperature;
    d.gmin = r.options().gmin;
    const std::size_t index = r.circuit().add(d);
    if (rs > 0.0) {
      // The series resistance: an internal node on the anode side, named once every card is
      // read so that it takes no node name of the netlist.
      const double conductance = area * multiplier / rs;
      SpiceReader* reader = &r;
      r.defer([reader, index, conductance]() {
        Circuit& c = reader->circuit();
        const std::string diode = c.list<Diode>()[index].name;
        std::string internal = diode + "#internal";
        for (int k = 2; reader->has_node(internal); ++k)
          internal = diode + "#internal" + std::to_string(k);
        const int inner = reader->node(internal);
        const int anode = c.list<Diode>()[index].anode;
        c.add(Conductance{diode + "#rs", anode, inner, conductance, false});
        c.list<Diode>()[index].anode = inner;
      });
    }
  }

  /// The netlist's temperature and gmin default to the first Shockley diode's.
  static void spice_globals(const std::vector<Diode>& list, SpiceGlobals& g) {
    if (!list.empty()) g.write_gmin = true;
    for (const Diode& d : list) {
      if (d.model != DiodeModel::Shockley) continue;
      if (std::isnan(g.temperature)) g.temperature = d.temperature;
      if (std::isnan(g.gmin)) g.gmin = d.gmin;
      break;
    }
  }
  static void write_spice(const std::vector<Diode>& list, const int* unknown, SpiceWriter& w) {
    const SpiceExportOptions& o = w.options();
    const double temperature = w.globals().temperature, gmin = w.globals().gmin;
    const double kq_ratio = kBoltzmannOverCharge / o.boltzmann_over_charge;
    // Diode models, one per distinct (IS, N, T); the ideal model first when needed.
    std::map<std::tuple<bool, double, double, double>, std::string> models;
    int shockley_models = 0;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Diode& d = list[k];
      const bool ideal = d.model == DiodeModel::Ideal;
      const double is = ideal ? o.ideal_diode_saturation_current : d.saturation_current;
      const double n = (ideal ? o.ideal_diode_emission : d.emission) * kq_ratio;
      const double t = ideal ? temperature : d.temperature;
      const auto key = std::make_tuple(ideal, is, n, t);
      auto it = models.find(key);
      if (it == models.end()) {
        const std::string model = ideal ? "dideal" : "dmod" + std::to_string(++shockley_models);
        it = models.emplace(key, model).first;
        if (ideal)
          w.model("* dideal: ideal diodes as a steep Shockley diode (forward drop N Vt "
                  "ln(1 + I/IS), reverse leakage IS + gmin |V|)");
        w.model(".model " + model + " D(IS=" + spice_number(is) + " N=" + spice_number(n) +
                " TNOM=" + spice_number(t - kCelsiusToKelvin) + ")");
      }
      const std::string name = w.claim('d', d.name, k);
      w.name(k, name);
      std::string line = name + " " + w.node(d.anode) + " " + w.node(d.cathode) + " " + it->second;
      if (t != temperature) line += " temp=" + spice_number(t - kCelsiusToKelvin);
      w.card(std::move(line));
      if (!ideal && d.gmin != gmin) {
        // ngspice's junction gmin is global: the difference goes in parallel, exactly.
        w.card(w.claim('r', name + "_gmin", k) + " " + w.node(d.anode) + " " + w.node(d.cathode) +
               " " + spice_number(1.0 / (d.gmin - gmin)));
      }
      if (ideal) {
        // The current of the exported model at the simulator's node voltages.
        const double kq = o.boltzmann_over_charge;
        const int a = d.anode, c = d.cathode;
        w.unknown(unknown[k], {"", [is, n, t, gmin, kq, a, c](const Eigen::VectorXd& v) {
                                 const double va = a == kGround ? 0.0 : v(a);
                                 const double vc = c == kGround ? 0.0 : v(c);
                                 return ngspice_diode_current(is, n, t, gmin, kq, va - vc);
                               }});
      }
    }
  }
};

}  // namespace physlearn::circuits
