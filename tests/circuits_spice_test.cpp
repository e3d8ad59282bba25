// SPICE netlist import (circuits/spice.h): numbers and scale factors, expressions and .param,
// card syntax, SPICE sign conventions, options, every error naming its line and card, and round
// trips through the writer (circuits/spice_export.h). (Diode cards and models:
// tests/circuits_elements_diode_test.cpp.)
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <cmath>
#include <string>

#include "circuits/spice.h"
#include "circuits/spice_export.h"
#include "core/error.h"

using physlearn::Error;
using physlearn::circuits::Capacitor;
using physlearn::circuits::Circuit;
using physlearn::circuits::Conductance;
using physlearn::circuits::CurrentSource;
using physlearn::circuits::Diode;
using physlearn::circuits::DiodeModel;
using physlearn::circuits::evaluate_spice_expression;
using physlearn::circuits::kGround;
using physlearn::circuits::parse_spice_number;
using physlearn::circuits::read_spice_netlist;
using physlearn::circuits::SpiceOptions;
using physlearn::circuits::Vccs;
using physlearn::circuits::Vcvs;
using physlearn::circuits::VoltageSource;
using physlearn::circuits::write_spice_netlist;

using circuits_test::contains;
using circuits_test::read;

namespace {

/// The message of the Error that reading `text` throws ("" if none).
std::string read_error(const std::string& text) {
  try {
    read(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Expects reading `text` to fail with a message naming the source, `line`, the card text
/// `card` and `words`.
void expect_error(const std::string& text, int line, const std::string& card,
                  const std::string& words) {
  const std::string message = read_error(text);
  CAPTURE(text);
  CHECK_MESSAGE(contains(message, "test.cir:" + std::to_string(line) + ":"), message);
  CHECK_MESSAGE(contains(message, "(card \"" + card + "\")"), message);
  CHECK_MESSAGE(contains(message, words), message);
}

double expression_error_free(const std::string& text) {
  return evaluate_spice_expression(text, {{"r", 1e3}, {"gain_2", 2.0}});
}

std::string expression_error(const std::string& text) {
  try {
    expression_error_free(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("spice: numbers with SPICE scale factors and units") {
  CHECK(parse_spice_number("1") == 1.0);
  CHECK(parse_spice_number("1.5") == 1.5);
  CHECK(parse_spice_number("-2e-3") == -2e-3);
  CHECK(parse_spice_number("+3") == 3.0);
  CHECK(parse_spice_number(".5") == 0.5);
  CHECK(parse_spice_number("5.") == 5.0);
  CHECK(parse_spice_number("1E+3") == 1e3);
  // Scale factors: the decimal exponent is adjusted before rounding, so these are exact.
  CHECK(parse_spice_number("4.7k") == 4.7e3);
  CHECK(parse_spice_number("4.7u") == 4.7e-6);
  CHECK(parse_spice_number("10n") == 1e-8);
  CHECK(parse_spice_number("100p") == 1e-10);
  CHECK(parse_spice_number("3G") == 3e9);
  CHECK(parse_spice_number("2t") == 2e12);
  CHECK(parse_spice_number("1e3k") == 1e6);
  CHECK(parse_spice_number("33f") == 33e-15);
  // MEG versus m: the classic trap, in every case.
  CHECK(parse_spice_number("1MEG") == 1e6);
  CHECK(parse_spice_number("1meg") == 1e6);
  CHECK(parse_spice_number("2.2Meg") == 2.2e6);
  CHECK(parse_spice_number("1m") == 1e-3);
  CHECK(parse_spice_number("1M") == 1e-3);
  CHECK(parse_spice_number("1Mohm") == 1e-3);
  CHECK(parse_spice_number("2mil") == 2 * 25.4e-6);
  // Units after the scale factor are ignored; a unit alone is no scale factor ...
  CHECK(parse_spice_number("10kOhm") == 1e4);
  CHECK(parse_spice_number("5V") == 5.0);
  CHECK(parse_spice_number("1uF") == 1e-6);
  CHECK(parse_spice_number("3A") == 3.0);
  CHECK(parse_spice_number("47Ohm") == 47.0);
  // ... except F, which is femto, as in SPICE.
  CHECK(parse_spice_number("1F") == 1e-15);
  for (const char* bad : {"", "abc", "k1", "1k5", "1.2.3", "1,5", "--1", "1e400", "0x10", "{1}"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_spice_number(bad), doctest::Contains("number"), Error);
  }
}

TEST_CASE("spice: plain arithmetic expressions") {
  CHECK(expression_error_free("1+2*3") == 7.0);
  CHECK(expression_error_free("(1+2)*3") == 9.0);
  CHECK(expression_error_free(" -2 * -3 ") == 6.0);
  CHECK(expression_error_free("10k/4") == 2500.0);
  CHECK(expression_error_free("2*R") == 2000.0);  // parameters are case-insensitive
  CHECK(expression_error_free("r/gain_2 - -1") == 501.0);
  CHECK(expression_error_free("1MEG-1m") == 1e6 - 1e-3);
  CHECK(expression_error_free("8/2/2") == 2.0);  // left to right
  CHECK(expression_error_free("2-3-4") == -5.0);
  CHECK(contains(expression_error("1/0"), "division by zero"));
  CHECK(contains(expression_error("1/(r-1k)"), "division by zero"));
  CHECK(contains(expression_error("2*unknown"), "unknown parameter 'unknown'"));
  CHECK(contains(expression_error("sqrt(4)"), "function 'sqrt' is not supported"));
  CHECK(contains(expression_error("1+"), "ends where a number"));
  CHECK(contains(expression_error("1 2"), "unexpected '2'"));
  CHECK(contains(expression_error("(1+2"), "missing ')'"));
  CHECK(contains(expression_error("2^3"), "unexpected '^'"));
  CHECK(contains(expression_error("1k5"), "malformed number"));
}

TEST_CASE("spice: cards, comments, continuation lines, case and SPICE sign conventions") {
  SpiceOptions options;
  const Circuit c = read(R"(R1 is the title line, not a resistor
* a comment line
  * an indented comment line
V1 In 0 DC 5V ; the supply
I1 mid GND 2mA $ a current drawn out of mid
Rload IN mid
* a comment between a card and its continuation
+ 1k
E1 out 0 MID in 2
G1 0 out2 mid 0 1m
r2 out2 gnd 1k
c1 OUT 0 1uF

.op
.end
R9 after the end is ignored
)",
                         &options);
  CHECK(options.title == "R1 is the title line, not a resistor");
  CHECK(options.has_op);
  CHECK(options.has_end);
  CHECK(options.warnings.empty());
  // Nodes: first spelling kept, later spellings in another case are the same node.
  REQUIRE(c.num_nodes() == 4);
  CHECK(c.node_name(0) == "In");
  CHECK(c.node_name(1) == "mid");
  CHECK(c.node_name(2) == "out");
  CHECK(c.node_name(3) == "out2");

  REQUIRE(c.list<VoltageSource>().size() == 1);
  const VoltageSource& v = c.list<VoltageSource>()[0];
  CHECK(v.name == "V1");
  CHECK(v.plus == c.node("In"));  // v(n+) - v(n-) = value
  CHECK(v.minus == kGround);
  CHECK(v.volts == 5.0);

  REQUIRE(c.list<CurrentSource>().size() == 1);
  const CurrentSource& i = c.list<CurrentSource>()[0];
  CHECK(i.from == c.node("mid"));  // I n+ n- value: from n+ through the source to n-
  CHECK(i.to == kGround);
  CHECK(i.amps == 2e-3);

  REQUIRE(c.list<Conductance>().size() == 2);
  CHECK(c.list<Conductance>()[0].name == "Rload");
  CHECK(c.list<Conductance>()[0].a == c.node("In"));
  CHECK(c.list<Conductance>()[0].b == c.node("mid"));
  CHECK(c.list<Conductance>()[0].g == 1e-3);
  CHECK_FALSE(c.list<Conductance>()[0].trainable);
  CHECK(c.list<Conductance>()[1].name == "r2");

  REQUIRE(c.list<Vcvs>().size() == 1);
  const Vcvs& e = c.list<Vcvs>()[0];
  CHECK(e.out_plus == c.node("out"));
  CHECK(e.out_minus == kGround);
  CHECK(e.ctrl_plus == c.node("mid"));
  CHECK(e.ctrl_minus == c.node("In"));
  CHECK(e.gain == 2.0);

  REQUIRE(c.list<Vccs>().size() == 1);
  const Vccs& g = c.list<Vccs>()[0];
  CHECK(g.out_plus == kGround);
  CHECK(g.out_minus == c.node("out2"));
  CHECK(g.ctrl_plus == c.node("mid"));
  CHECK(g.ctrl_minus == kGround);
  CHECK(g.gain == 1e-3);

  REQUIRE(c.list<Capacitor>().size() == 1);
  CHECK(c.list<Capacitor>()[0].farads == 1e-6);
  CHECK(c.list<Capacitor>()[0].a == c.node("out"));
}

TEST_CASE("spice: source forms, negative resistors, capacitors' initial conditions") {
  SpiceOptions options;
  const Circuit c = read(R"(sources
V1 a 0 3
V2 b 0 DC -1.5 AC 1 0
V3 c 0 ac 1 dc 2
Vsense d a
I1 0 a dc {2*1m}
R1 a b -2k
R2 b c 1k
C1 c 0 1n IC=0.5
R3 d 0 1k
.end
)",
                         &options);
  REQUIRE(c.list<VoltageSource>().size() == 4);
  CHECK(c.list<VoltageSource>()[0].volts == 3.0);
  CHECK(c.list<VoltageSource>()[1].volts == -1.5);
  CHECK(c.list<VoltageSource>()[2].volts == 2.0);
  CHECK(c.list<VoltageSource>()[3].volts == 0.0);  // no value: 0 V, with a warning
  REQUIRE(options.warnings.size() == 1);
  CHECK(contains(options.warnings[0], "test.cir:5:"));
  CHECK(contains(options.warnings[0], "Vsense has no value"));
  CHECK(c.list<CurrentSource>()[0].amps == 2e-3);
  // A negative resistor: a VCCS sensing its own terminals, gain 1/R.
  REQUIRE(c.list<Vccs>().size() == 1);
  CHECK(c.list<Vccs>()[0].name == "R1");
  CHECK(c.list<Vccs>()[0].out_plus == c.node("a"));
  CHECK(c.list<Vccs>()[0].out_minus == c.node("b"));
  CHECK(c.list<Vccs>()[0].ctrl_plus == c.node("a"));
  CHECK(c.list<Vccs>()[0].ctrl_minus == c.node("b"));
  CHECK(c.list<Vccs>()[0].gain == -1.0 / 2e3);
  CHECK(c.list<Conductance>().size() == 2);
  CHECK(c.list<Capacitor>()[0].farads == 1e-9);
}

TEST_CASE("spice: .param expressions, {} and '' values") {
  SpiceOptions options;
  const Circuit c = read(R"(params
.param rbase=1k ratio = 2, rtop={rbase*ratio}
+ vdd='3.3'
.PARAM half = -(vdd / 2) + 0.5*vdd*2 shift=1m
V1 top 0 {vdd}
R1 top mid {rtop}
R2 mid 0 {RBASE + 2*(RTOP-rbase)}
I1 mid 0 'shift*2'
.end
)",
                         &options);
  CHECK(options.params.at("rbase") == 1e3);
  CHECK(options.params.at("ratio") == 2.0);
  CHECK(options.params.at("rtop") == 2e3);
  CHECK(options.params.at("vdd") == 3.3);
  CHECK(options.params.at("half") == doctest::Approx(1.65).epsilon(1e-15));
  CHECK(options.params.at("shift") == 1e-3);
  CHECK(c.list<VoltageSource>()[0].volts == 3.3);
  CHECK(c.list<Conductance>()[0].g == 1.0 / 2e3);
  CHECK(c.list<Conductance>()[1].g == 1.0 / 3e3);
  CHECK(c.list<CurrentSource>()[0].amps == 2e-3);
}

TEST_CASE("spice: options are honoured, recorded or warned about by name") {
  SpiceOptions options;
  read(R"(options
.options temp=50 tnom=25 gmin=0 reltol=1e-9 abstol=1e-15 vntol=1u itl1=300
.option noacct method=gear foo=3
.opt bar
R1 a 0 1k
V1 a 0 1
.control
op
print all
.endc
.print dc v(a)
.end
)",
       &options);
  CHECK(options.temperature == 50.0 + 273.15);
  CHECK(options.tnom == 25.0 + 273.15);
  CHECK(options.gmin == 0.0);
  CHECK(options.reltol == 1e-9);
  CHECK(options.abstol == 1e-15);
  CHECK(options.vntol == 1e-6);
  CHECK(options.itl1 == 300);
  CHECK_FALSE(options.has_op);
  REQUIRE(options.warnings.size() == 6);
  CHECK(contains(options.warnings[0], "test.cir:7: .control"));
  CHECK(contains(options.warnings[1], "test.cir:3: .options: noacct ignored"));
  CHECK(contains(options.warnings[2], "method ignored"));
  CHECK(contains(options.warnings[3], "unknown option 'foo' ignored"));
  CHECK(contains(options.warnings[4], "test.cir:4: .options: unknown option 'bar'"));
  CHECK(contains(options.warnings[5], "test.cir:11: .print ignored"));
}

TEST_CASE("spice: every error names the line and the card") {
  // Unknown cards and elements, unsupported features.
  expect_error("t\nR1 a 0 1k\n.foo 1 2\n", 3, ".foo 1 2", "unknown card '.foo'");
  expect_error("t\nR1 a 0 1k\n.ac dec 10 1 1k\n", 3, ".ac dec 10 1 1k", "analysis .ac is not supported");
  expect_error("t\n.subckt amp in out\nR1 in out 1k\n.ends\n", 2, ".subckt amp in out",
               "subcircuits");
  expect_error("t\nX1 a b amp\n", 2, "X1 a b amp", "subcircuit instances");
  expect_error("t\nL1 a b 0\n", 2, "L1 a b 0", "must be > 0 (henries)");
  expect_error("t\nF1 a b V1 2\n", 2, "F1 a b V1 2", "current-controlled sources");
  expect_error("t\nQ1 c b e npn\n", 2, "Q1 c b e npn", "transistors");
  expect_error("t\nW1 a b\n", 2, "W1 a b", "unknown element type 'W'");
  expect_error("t\n.include other.cir\n", 2, ".include other.cir", ".include is not supported");
  expect_error("t\nV1 a 0 EXP(0 1)\n", 2, "V1 a 0 EXP(0 1)", "transient source function EXP");
  expect_error("t\nI1 a 0 SIN(0 1 1k)\n", 2, "I1 a 0 SIN(0 1 1k)", "transient source function SIN");
  expect_error("t\nV1 a 0 pulse 0 1\n", 2, "V1 a 0 pulse 0 1", "PULSE needs its fields in parentheses");
  // Models.
  expect_error("t\n.model q1 NPN(BF=100)\n", 2, ".model q1 NPN(BF=100)",
               "unknown model type 'NPN'");
  expect_error("t\n.model d1 D(IS=1e-14 XYZ=3)\n", 2, ".model d1 D(IS=1e-14 XYZ=3)",
               "unknown diode parameter 'xyz'");
  expect_error("t\n.model d1 D(IS=-1)\n", 2, ".model d1 D(IS=-1)", "must be > 0");
  expect_error("t\n.model d1 D(N=0)\n", 2, ".model d1 D(N=0)", "must be > 0");
  expect_error("t\n.model d1 D(RS=-1)\n", 2, ".model d1 D(RS=-1)", "must be >= 0");
  expect_error("t\n.model d1 D(LEVEL=3)\n", 2, ".model d1 D(LEVEL=3)", "only level 1");
  expect_error("t\n.model d1 D(IS)\n", 2, ".model d1 D(IS)", "has no value");
  expect_error("t\n.model d1 D\n.model D1 D\n", 3, ".model D1 D", "already defined at line 2");
  expect_error("t\nD1 a 0 nomodel\n", 2, "D1 a 0 nomodel", "model 'nomodel' is not defined");
  expect_error("t\n.model m D\nD1 a 0 m 0\n", 3, "D1 a 0 m 0", "area = 0");
  expect_error("t\n.model m D\nD1 a 0 m foo=1\n", 3, "D1 a 0 m foo=1", "unexpected field 'foo'");
  // Numbers, expressions, parameters.
  expect_error("t\nR1 a 0 1k5\n", 2, "R1 a 0 1k5", "malformed number \"1k5\"");
  expect_error("t\nR1 a 0 abc\n", 2, "R1 a 0 abc", "malformed number");
  expect_error("t\n.param r=1k\nR1 a 0 r\n", 3, "R1 a 0 r", "write {r} to use the parameter");
  expect_error("t\nR1 a 0 {2*rr}\n", 2, "R1 a 0 {2*rr}", "unknown parameter 'rr'");
  expect_error("t\nR1 a 0 {2*(3}\n", 2, "R1 a 0 {2*(3}", "missing ')'");
  expect_error("t\nR1 a 0 {2*3\n", 2, "R1 a 0 {2*3", "unterminated expression");
  expect_error("t\n.param a=b*2 b=1\n", 2, ".param a=b*2 b=1", "unknown parameter 'b'");
  expect_error("t\n.param a=1\n.param A=2\n", 3, ".param A=2", "already defined at line 2");
  expect_error("t\n.param a=1/0\n", 2, ".param a=1/0", "division by zero");
  expect_error("t\n.param a\n", 2, ".param a", "expected '='");
  expect_error("t\n.param a=\n", 2, ".param a=", "no value");
  expect_error("t\n.param a=1 ) \n", 2, ".param a=1 )", "unexpected ')'");
  expect_error("t\n.options temp\n", 2, ".options temp", "temp needs a value");
  expect_error("t\n.options reltol=0\n", 2, ".options reltol=0", "must be > 0");
  expect_error("t\n.options temp=-300\n", 2, ".options temp=-300", "below 0 K");
  // Field counts and values.
  expect_error("t\nR1 a b\n", 2, "R1 a b", "needs R1 n1 n2 value");
  expect_error("t\nR1 a b 1k 2k\n", 2, "R1 a b 1k 2k", "unexpected field \"2k\"");
  expect_error("t\nR1 a b 0\n", 2, "R1 a b 0", "0 ohms");
  expect_error("t\nC1 a b -1p\n", 2, "C1 a b -1p", "must be >= 0");
  expect_error("t\nE1 a 0 b 0\n", 2, "E1 a 0 b 0", "5 fields given, 6 needed");
  expect_error("t\nG1 a 0 b 0 1 2\n", 2, "G1 a 0 b 0 1 2", "7 fields given");
  expect_error("t\nE1 a 0 poly(1) b 0 0 1\n", 2, "E1 a 0 poly(1) b 0 0 1", "only the linear form");
  expect_error("t\nV1 a 0 1 2\n", 2, "V1 a 0 1 2", "unexpected field \"2\"");
  expect_error("t\nV1 a a 1\n", 2, "V1 a a 1", "same node");
  expect_error("t\nE1 a A b 0 1\n", 2, "E1 a A b 0 1", "same node");
  expect_error("t\nV1 a\n", 2, "V1 a", "needs V1 n+ n-");
  expect_error("t\nV1 a 0 DC\n", 2, "V1 a 0 DC", "DC needs one value");
  // Names and structure.
  expect_error("t\nR1 a 0 1k\nV1 a 0 1\nr1 a 0 2k\n", 4, "r1 a 0 2k",
               "duplicate element name 'r1'");
  expect_error("t\nR1 a 0 1k\nV1 a 0 1\nr1 a 0 2k\n", 4, "r1 a 0 2k", "first defined at line 2");
  expect_error("t\n.control\nop\n", 2, ".control", "without .endc");
  expect_error("t\n.op 3\n", 2, ".op 3", ".op takes no fields");
  // A continuation line with no card before it: line 2, just after the title.
  const std::string message = read_error("t\n+ 1k\n");
  CHECK(contains(message, "test.cir:2:"));
  CHECK(contains(message, "continuation line"));
  // Continued cards report their first line and the joined text.
  expect_error("t\nR1 a\n+ 0 1k\n+ 2k\n", 2, "R1 a 0 1k 2k", "unexpected field");
}

TEST_CASE("spice: read_spice_file names the file") {
  CHECK_THROWS_WITH_AS(physlearn::circuits::read_spice_file("/nonexistent/x.cir"),
                       doctest::Contains("/nonexistent/x.cir"), Error);
  const std::string path = std::string(PHYSLEARN_SOURCE_DIR) + "/tests/netlists/wheatstone.cir";
  SpiceOptions options;
  const Circuit c = physlearn::circuits::read_spice_file(path, &options);
  CHECK(c.list<VoltageSource>().size() == 1);
  CHECK(contains(options.title, "Wheatstone"));
}

TEST_CASE("spice: what the writer writes reads back to the same circuit") {
  Circuit c;
  const int in = c.add_node("In"), mid = c.add_node("mid"), out = c.add_node("out");
  const int hot = c.add_node("hot"), amp = c.add_node("amp");
  c.list<VoltageSource>().push_back(VoltageSource{"Vin", in, kGround, 1.25});
  c.list<Conductance>().push_back(Conductance{"G1", in, mid, 1.0 / 3.0, true});
  c.list<Conductance>().push_back(Conductance{"G2", mid, kGround, 2e-3, false});
  c.list<Conductance>().push_back(Conductance{"Gopen", mid, out, 0.0, true});  // left out by the writer
  c.list<Conductance>().push_back(Conductance{"G3", mid, out, 7.5e-4, true});
  c.list<Conductance>().push_back(Conductance{"G4", out, kGround, 1e-3, true});
  c.list<Conductance>().push_back(Conductance{"G5", hot, kGround, 1e-3, true});
  c.list<CurrentSource>().push_back(CurrentSource{"B0", kGround, out, -1.5e-4, true});
  Diode d;
  d.name = "D1";
  d.anode = mid;
  d.cathode = kGround;
  d.model = DiodeModel::Shockley;
  d.saturation_current = 2e-14;
  d.emission = 1.3;
  d.temperature = 300.15;
  d.gmin = 1e-12;
  c.list<Diode>().push_back(d);
  d.name = "D2";  // hotter, with its own gmin: a temp= card and a trimming resistor
  d.anode = out;
  d.cathode = hot;
  d.temperature = 350.0;
  d.gmin = 1e-9;
  c.list<Diode>().push_back(d);
  d.name = "D3";  // smaller gmin: a negative trimming resistor
  d.anode = hot;
  d.cathode = kGround;
  d.temperature = 300.15;
  d.gmin = 0.0;
  c.list<Diode>().push_back(d);
  Diode ideal;
  ideal.name = "Dh";
  ideal.anode = kGround;
  ideal.cathode = out;
  c.list<Diode>().push_back(ideal);
  c.list<Vcvs>().push_back(Vcvs{"E1", amp, kGround, mid, out, -12.5});
  c.list<Vccs>().push_back(Vccs{"Gm", kGround, amp, in, mid, 3e-3});
  c.list<Capacitor>().push_back(Capacitor{"C1", amp, mid, 4.7e-9});

  const std::string text = write_spice_netlist(c);
  CAPTURE(text);
  SpiceOptions options;
  const Circuit back = read_spice_netlist(text, "written.cir", &options);
  CHECK(options.warnings.empty());
  CHECK(options.has_op);
  CHECK(options.title == "physlearn circuit");
  // Node names are lowercased by the writer, the order is kept.
  REQUIRE(back.num_nodes() == c.num_nodes());
  CHECK(back.node_name(0) == "in");
  for (int k = 1; k < c.num_nodes(); ++k) CHECK(back.node_name(k) == c.node_name(k));

  REQUIRE(back.list<VoltageSource>().size() == 1);
  CHECK(back.list<VoltageSource>()[0].volts == 1.25);
  CHECK(back.list<VoltageSource>()[0].plus == in);
  // Conductances: 1 / (1 / g) is g to an ulp; the zero one is left out; then the trimming
  // resistor of D2 (1 / (1e-9 - 1e-12)).
  REQUIRE(back.list<Conductance>().size() == 6);
  const int kept[] = {0, 1, 3, 4, 5};
  for (int k = 0; k < 5; ++k) {
    CAPTURE(k);
    const auto& a = c.list<Conductance>()[static_cast<std::size_t>(kept[k])];
    const auto& b = back.list<Conductance>()[static_cast<std::size_t>(k)];
    CHECK(b.g == doctest::Approx(a.g).epsilon(1e-15));
    CHECK(b.a == a.a);
    CHECK(b.b == a.b);
  }
  CHECK(back.list<Conductance>()[5].g == doctest::Approx(1e-9 - 1e-12).epsilon(1e-12));
  CHECK(back.list<Conductance>()[5].a == out);
  CHECK(back.list<Conductance>()[5].b == hot);
  REQUIRE(back.list<CurrentSource>().size() == 1);
  CHECK(back.list<CurrentSource>()[0].amps == -1.5e-4);
  CHECK(back.list<CurrentSource>()[0].from == kGround);
  CHECK(back.list<CurrentSource>()[0].to == out);

  REQUIRE(back.list<Diode>().size() == 4);
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    const Diode& a = c.list<Diode>()[k];
    const Diode& b = back.list<Diode>()[k];
    CHECK(b.model == DiodeModel::Shockley);
    CHECK(b.anode == a.anode);
    CHECK(b.cathode == a.cathode);
    CHECK(b.emission == doctest::Approx(a.emission).epsilon(1e-15));
    CHECK(b.temperature == doctest::Approx(a.temperature).epsilon(1e-15));
    CHECK(b.saturation_current == doctest::Approx(a.saturation_current).epsilon(1e-13));
    CHECK(b.gmin == 1e-12);  // the global gmin; the difference is in the trimming resistors
  }
  // The ideal diode comes back as the writer's steep Shockley diode.
  CHECK(back.list<Diode>()[3].model == DiodeModel::Shockley);
  CHECK(back.list<Diode>()[3].emission == doctest::Approx(1e-8).epsilon(1e-15));
  CHECK(back.list<Diode>()[3].cathode == out);
  // D3's negative trimming resistor (written after the diode, before the G cards) is a VCCS
  // across its own terminals.
  REQUIRE(back.list<Vccs>().size() == 2);
  CHECK(back.list<Vccs>()[0].out_plus == hot);
  CHECK(back.list<Vccs>()[0].ctrl_plus == hot);
  CHECK(back.list<Vccs>()[0].out_minus == kGround);
  CHECK(back.list<Vccs>()[0].ctrl_minus == kGround);
  CHECK(back.list<Vccs>()[0].gain == doctest::Approx(-1e-12).epsilon(1e-12));
  CHECK(back.list<Vccs>()[1].out_plus == kGround);
  CHECK(back.list<Vccs>()[1].out_minus == amp);
  CHECK(back.list<Vccs>()[1].ctrl_plus == in);
  CHECK(back.list<Vccs>()[1].ctrl_minus == mid);
  CHECK(back.list<Vccs>()[1].gain == 3e-3);
  REQUIRE(back.list<Vcvs>().size() == 1);
  CHECK(back.list<Vcvs>()[0].gain == -12.5);
  CHECK(back.list<Vcvs>()[0].ctrl_minus == out);
  REQUIRE(back.list<Capacitor>().size() == 1);
  CHECK(back.list<Capacitor>()[0].farads == 4.7e-9);
}
