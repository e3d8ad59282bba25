// The SPICE netlist writer (circuits/spice_export.h): the cards it writes, the name mapping, the
// diode model matching, and stand-alone `ngspice -b` runs of its output against closed forms.
#include <doctest/doctest.h>

#include "skip.h"

#include "circuits_support.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "circuits/spice_export.h"
#include "core/error.h"

namespace fs = std::filesystem;
using namespace physlearn::circuits;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Diode diode(const std::string& name, int anode, int cathode, DiodeModel model) {
  Diode d;
  d.name = name;
  d.anode = anode;
  d.cathode = cathode;
  d.model = model;
  return d;
}

/// A linear circuit with every linear element kind and a closed-form operating point:
/// V1 = 2 V at a; a -0.5 S- b -0.25 S- ground; 0.1 A from ground into b; c = 3 v(b) (VCVS);
/// 0.02 v(b) A from ground into d through a VCCS, d -0.1 S- ground; a capacitor c-d (open);
/// a zero conductance a-d (open, left out).
/// v(b) = (0.5 * 2 + 0.1) / 0.75, v(c) = 3 v(b), v(d) = 0.02 v(b) / 0.1.
Circuit linear_circuit() {
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("B"), cc = c.add_node("c"), d = c.add_node("d");
  c.list<physlearn::circuits::VoltageSource>().push_back({"V1", a, kGround, 2.0});
  c.list<physlearn::circuits::Conductance>().push_back({"G1", a, b, 0.5, true});
  c.list<physlearn::circuits::Conductance>().push_back({"G2", b, kGround, 0.25, false});
  c.list<physlearn::circuits::Conductance>().push_back({"G3", cc, kGround, 1e-3, false});
  c.list<physlearn::circuits::Conductance>().push_back({"G4", d, kGround, 0.1, false});
  c.list<physlearn::circuits::Conductance>().push_back({"Gzero", a, d, 0.0, true});
  c.list<physlearn::circuits::CurrentSource>().push_back({"I1", kGround, b, 0.1, false});
  c.list<physlearn::circuits::Vcvs>().push_back({"E1", cc, kGround, b, kGround, 3.0});
  c.list<physlearn::circuits::Vccs>().push_back({"G5", kGround, d, b, kGround, 0.02});
  c.list<physlearn::circuits::Capacitor>().push_back({"C1", cc, d, 1e-9});
  return c;
}

/// Runs `netlist` through stand-alone ngspice in batch mode with an ASCII raw file; returns the
/// values by lowercase name ("v(a)", "i(v1)"), or an empty map when ngspice is not installed.
std::map<std::string, double> run_ngspice(const std::string& netlist, const std::string& tag) {
  std::map<std::string, double> values;
  if (std::system("command -v ngspice > /dev/null 2>&1") != 0) return values;
  const fs::path dir = fs::temp_directory_path() / ("physlearn_spice_export_" + tag);
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "circuit.cir");
    out << netlist;
  }
  const std::string command = "cd '" + dir.string() +
                              "' && SPICE_ASCIIRAWFILE=1 ngspice -b -r out.raw circuit.cir "
                              "> log.txt 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream log(dir / "log.txt");
  std::stringstream text;
  text << log.rdbuf();
  INFO(text.str());
  CHECK(!contains(text.str(), "Error"));
  CHECK(!contains(text.str(), "singular"));
  std::ifstream raw(dir / "out.raw");
  REQUIRE(raw.good());
  std::string line;
  std::vector<std::string> names;
  while (std::getline(raw, line) && line.rfind("Values:", 0) != 0) {
    std::istringstream in(line);
    int index;
    std::string name;
    if (line.size() > 1 && line[0] == '\t' && (in >> index >> name)) names.push_back(name);
  }
  std::string token;
  raw >> token;  // the point index "0"
  for (const auto& name : names) {
    double v;
    raw >> v;
    values[name] = v;
  }
  REQUIRE(values.size() == names.size());
  return values;
}

}  // namespace

TEST_CASE("spice export: cards, numbers and the name mapping") {
  Circuit c = linear_circuit();
  const int weird = c.add_node("Out+"), clash = c.add_node("out_"), digit = c.add_node("1st");
  c.list<physlearn::circuits::Conductance>().push_back({"R7", weird, clash, 1.0 / 3.0, false});
  c.list<physlearn::circuits::Conductance>().push_back({"X", digit, kGround, 1e-300 * 1e-10, false});  // 1/g overflows: open
  c.list<physlearn::circuits::Conductance>().push_back({"Y", weird, kGround, 1.0, false});
  c.list<physlearn::circuits::Conductance>().push_back({"Z", clash, kGround, 1.0, false});
  SpiceExportOptions o;
  o.title = "two\nlines";
  o.reltol = 1e-9;
  const SpiceNetlist net = export_spice(c, o);
  const std::string text = net.text();
  CAPTURE(text);
  CHECK(text.rfind("two lines\n", 0) == 0);
  CHECK(contains(text, "\n.op\n.end\n"));
  CHECK(text.size() >= 9);
  CHECK(text.substr(text.size() - 9) == ".op\n.end\n");
  CHECK(contains(text, ".options temp=27 tnom=27 reltol=1.0000000000000001e-09\n"));
  CHECK(!contains(text, "gmin"));  // no diodes
  CHECK(contains(text, "\nr_g1 a b 2\n"));
  CHECK(contains(text, "\nr7 out_ out__5 " + spice_number(1.0 / (1.0 / 3.0)) + "\n"));
  CHECK(contains(text, "\nv1 a 0 DC 2\n"));
  CHECK(contains(text, "\ni1 0 b DC 0.10000000000000001\n"));
  CHECK(contains(text, "\ne1 c 0 b 0 3\n"));
  CHECK(contains(text, "\ng5 0 d b 0 0.02\n"));
  CHECK(contains(text, "\nc1 c d 1.0000000000000001e-09\n"));
  CHECK(!contains(text, "r_gzero"));
  CHECK(!contains(text, "r_x "));
  CHECK(contains(text, "* 2 conductances of 0 S left out"));
  CHECK(net.node_names == std::vector<std::string>{"a", "b", "c", "d", "out_", "out__5", "n1st"});
  CHECK(contains(text, "* node b = B\n"));
  CHECK(contains(text, "* node out__5 = out_\n"));
  CHECK(net.names<physlearn::circuits::VoltageSource>() == std::vector<std::string>{"v1"});
  CHECK(net.names<physlearn::circuits::Vcvs>() == std::vector<std::string>{"e1"});
  CHECK(spice_safe_name("GND") == "ngnd");
  CHECK(spice_safe_name("") == "n");
  CHECK(spice_safe_name("h1_3") == "h1_3");
  CHECK(spice_number(0.1) == "0.10000000000000001");
  CHECK(write_spice_netlist(c, o) == text);

  Circuit bad;
  bad.list<physlearn::circuits::Conductance>().push_back({"Gneg", bad.add_node("a"), kGround, -1.0, false});
  CHECK_THROWS_AS(export_spice(bad), physlearn::Error);
}

TEST_CASE("spice export: diodes, their models, temperatures and gmin") {
  Circuit c;
  const int a = c.add_node("a"), b = c.add_node("b"), h = c.add_node("h");
  c.list<physlearn::circuits::VoltageSource>().push_back({"V1", a, kGround, 1.0});
  c.list<physlearn::circuits::Conductance>().push_back({"G1", a, b, 1e-3, false});
  c.list<physlearn::circuits::Diode>().push_back(diode("D1", b, kGround, DiodeModel::Shockley));
  c.list<physlearn::circuits::Diode>().push_back(diode("D2", b, kGround, DiodeModel::Shockley));
  c.list<physlearn::circuits::Diode>().back().temperature = 350.0;
  c.list<physlearn::circuits::Diode>().back().gmin = 1e-9;
  c.list<physlearn::circuits::Diode>().push_back(diode("D3", kGround, h, DiodeModel::Ideal));
  c.list<physlearn::circuits::Conductance>().push_back({"G2", a, h, 1.0, false});
  const SpiceNetlist net = export_spice(c);
  const std::string text = net.text();
  CAPTURE(text);
  CHECK(contains(text, " gmin=9.9999999999999998e-13"));
  const double n_exported = kBoltzmannOverCharge / kNgspiceBoltzmannOverCharge;
  CHECK(std::abs(n_exported - 1.0 - 3.394e-7) < 1e-9);
  CHECK(contains(text, ".model dmod1 D(IS=1e-14 N=" + spice_number(n_exported) + " TNOM=27)"));
  CHECK(contains(
      text, ".model dmod2 D(IS=1e-14 N=" + spice_number(n_exported) + " TNOM=76.850000000000023)"));
  CHECK(contains(text, ".model dideal D(IS=1e-14 N=" + spice_number(1e-8 * n_exported)));
  CHECK(contains(text, "\nd1 b 0 dmod1\n"));
  CHECK(contains(text, "\nd2 b 0 dmod2 temp=76.850000000000023\n"));
  CHECK(contains(text, "\nr_d2_gmin b 0 " + spice_number(1.0 / (1e-9 - 1e-12)) + "\n"));
  CHECK(contains(text, "\nd3 0 h dideal\n"));
  CHECK(net.names<physlearn::circuits::Diode>() == std::vector<std::string>{"d1", "d2", "d3"});

  SpiceExportOptions plain;
  plain.boltzmann_over_charge = kBoltzmannOverCharge;
  CHECK(contains(write_spice_netlist(c, plain), ".model dmod1 D(IS=1e-14 N=1 TNOM="));
}

TEST_CASE("spice export: stand-alone ngspice -b runs the netlist unchanged") {
  SUBCASE("linear elements against the closed form") {
    SpiceExportOptions o;
    o.reltol = 1e-12;
    o.vntol = 1e-12;
    o.abstol = 1e-15;
    const auto values = run_ngspice(write_spice_netlist(linear_circuit(), o), "linear");
    if (values.empty()) PHYSLEARN_SKIP("ngspice not installed (Debian package ngspice)");
    const double vb = (0.5 * 2.0 + 0.1) / 0.75;
    CHECK(std::abs(values.at("v(a)") - 2.0) < 1e-12);
    CHECK(std::abs(values.at("v(b)") - vb) < 1e-12);
    CHECK(std::abs(values.at("v(c)") - 3.0 * vb) < 1e-12);
    CHECK(std::abs(values.at("v(d)") - 0.02 * vb / 0.1) < 1e-12);
    CHECK(std::abs(values.at("i(v1)") + 0.5 * (2.0 - vb)) < 1e-12);
  }
  SUBCASE("Shockley diodes against bisection of our model") {
    Circuit c;
    const int in = c.add_node("in"), x = c.add_node("x"), y = c.add_node("y");
    c.list<physlearn::circuits::VoltageSource>().push_back({"V1", in, kGround, 3.0});
    c.list<physlearn::circuits::Conductance>().push_back({"G1", in, x, 1e-3, false});
    c.list<physlearn::circuits::Conductance>().push_back({"G2", in, y, 1e-2, false});
    c.list<physlearn::circuits::Diode>().push_back(diode("D1", x, kGround, DiodeModel::Shockley));
    c.list<physlearn::circuits::Diode>().back().emission = 1.7;
    c.list<physlearn::circuits::Diode>().push_back(diode("D2", y, kGround, DiodeModel::Shockley));
    c.list<physlearn::circuits::Diode>().back().temperature = 330.0;
    c.list<physlearn::circuits::Diode>().back().saturation_current = 3e-13;
    c.list<physlearn::circuits::Diode>().back().gmin = 1e-6;
    SpiceExportOptions o;
    o.reltol = 1e-12;
    o.vntol = 1e-12;
    o.abstol = 1e-15;
    const auto values = run_ngspice(write_spice_netlist(c, o), "diodes");
    if (values.empty()) PHYSLEARN_SKIP("ngspice not installed (Debian package ngspice)");
    for (int k = 0; k < 2; ++k) {
      const Diode& d = c.list<physlearn::circuits::Diode>()[static_cast<std::size_t>(k)];
      const double g = c.list<physlearn::circuits::Conductance>()[static_cast<std::size_t>(k)].g;
      const double nvt = d.emission * kBoltzmannOverCharge * d.temperature;
      // KCL at the diode's node: g (3 - v) = Is (exp(v / n Vt) - 1) + gmin v; decreasing in v.
      double lo = 0.0, hi = 3.0;
      for (int i = 0; i < 200; ++i) {
        const double mid = 0.5 * (lo + hi);
        (g * (3.0 - mid) - d.saturation_current * std::expm1(mid / nvt) - d.gmin * mid > 0.0 ? lo
                                                                                             : hi) =
            mid;
      }
      const std::string name = k == 0 ? "v(x)" : "v(y)";
      CAPTURE(name);
      CHECK(std::abs(values.at(name) - lo) < 1e-10);
    }
  }
}
