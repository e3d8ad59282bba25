#pragma once
/// SPICE netlist import: a DC netlist in the dialect of ngspice (ngspice manual, chapter 2
/// "Circuit description", and chapter 3 for the element cards) read into a Circuit. The writer is
/// circuits/spice_export.h; what it writes reads back here.
///
/// Syntax:
/// - The first line is the title, always (whatever it holds). `.title TEXT` replaces it.
/// - A line whose first non-blank character is `*` is a comment. `;` starts an end-of-line
///   comment, and so does `$` at the start of a line or after a blank (ngspice). Blank lines are
///   skipped. A line starting with `+` continues the previous card (comment and blank lines in
///   between are allowed, as in ngspice).
/// - Case-insensitive: cards, element names, model names, parameter names and node names. A node
///   keeps the spelling of its first appearance (that is its Circuit name) and later spellings in
///   another case are the same node. Ground is `0` or `gnd`.
/// - Numbers: [sign] mantissa [e exponent] [scale factor] [unit letters], the scale factor being
///   SPICE's (any case): T 1e12, G 1e9, MEG 1e6, K 1e3, MIL 25.4e-6, M 1e-3, U 1e-6, N 1e-9,
///   P 1e-12, F 1e-15. Letters after the scale factor are units and are ignored: `10kOhm` is 1e4,
///   `5V` is 5, `1uF` is 1e-6, but `1F` is one femto (1e-15) and `1Mohm` one milli, as in SPICE.
///   Anything else after the number (`1k5`, `2.5.1`) is a malformed number.
/// - `.param name=value ...`: each value a plain arithmetic expression (+ - * / parentheses,
///   unary minus and plus, numbers as above, earlier parameters), bare or in `{}` or `''`;
///   parameters are defined in card order. Element values and option/model values may be written
///   `{expr}` or `'expr'`.
///
/// Element cards: every kind that has a SPICE card reads it itself (circuits/elements/*.h,
/// read_spice; the letters come from the registry, e.g. R, C, V, I, D, E, G). See each kind's
/// file for its fields.
///
/// Diode models: `.model NAME D(IS= N= RS= TNOM= EG= XTI= ...)` (parentheses and commas optional),
/// read by the diode kind (circuits/elements/diode.h): IS (alias JS, default 1e-14 A), N (default
/// 1), RS (ohms, default 0), TNOM (Celsius, default `.options tnom`, 27), EG (eV, default 1.11)
/// and XTI (default 3) are honoured; LEVEL must be 1. The diode at temperature T (its TEMP, else
/// the circuit's temperature plus DTEMP) gets ngspice's (diotemp.c) saturation current
///   Is(T) = IS * area * m * exp((T / TNOM - 1) EG / (N Vt) + (XTI / N) ln(T / TNOM)),
/// Vt = k T / q with ngspice's k/q (kNgspiceBoltzmannOverCharge, CODATA 2014); the emission
/// coefficient is stored as n = N * kNgspiceBoltzmannOverCharge / kBoltzmannOverCharge so that
/// physlearn's n Vt equals ngspice's N Vt (the inverse of the writer's conversion). gmin is
/// `.options gmin` (default 1e-12 S). RS > 0 inserts an internal node "<diode name>#internal"
/// (made unique if taken) on the anode side and a conductance "<diode name>#rs" of area * m / RS
/// from the anode to it, as ngspice does. Charge and noise parameters (CJO, VJ, M, TT, FC, KF,
/// AF, ...) mean nothing at DC and are accepted silently; DC parameters not modelled (BV, IBV,
/// IKF, ISR, ...) give a warning; any other parameter is an error.
///
/// `.tran tstep tstop [tstart [tmax]] [UIC]` (SPICE syntax) is recorded in SpiceOptions::tran for
/// `physlearn solve`'s transient (solvers/tran.h); a second .tran is an error. Voltage sources
/// take the transient functions SIN(...) and PULSE(...) (SpiceSourceFunction), recorded in
/// SpiceOptions::source_functions.
/// Control cards: `.op` (recorded), `.end` (the rest of the text is ignored; a missing `.end` is
/// fine), `.param`, `.model`, `.temp celsius`, `.title`, and `.options` (`.option`, `.opt`):
/// TEMP and TNOM (Celsius) and GMIN (S) are honoured; RELTOL, ABSTOL (A), VNTOL (V) and ITL1 are
/// recorded in SpiceOptions (the CLI's solve only ever tightens Newton's own, much tighter
/// tolerances with them); other options give a warning naming them. Output cards (.print, .plot,
/// .probe, .save, .width, .meas), .nodeset and .ic, and `.control` ... `.endc` blocks are
/// ignored with a warning.
///
/// Errors (physlearn::Error, message "<source>:<line>: <what> (card "<card text>")"): unknown
/// cards and element letters, analyses other than .op and .tran (.dc, .ac, ...), subcircuits (.subckt,
/// X), .include/.lib, model types no kind reads (only D), unknown or malformed model parameters, undefined
/// models or parameters, malformed numbers and expressions, wrong field counts, transient source
/// functions other than SIN and PULSE on V cards (EXP, PWL, SFFM, AM, ...) and any on I cards,
/// duplicate element names (case-insensitive), duplicate models and
/// parameters, out-of-range values (R = 0, C < 0, IS <= 0, N <= 0, RS < 0, temperatures at or
/// below 0 K), sources across one node, and a continuation line with no card before it.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "circuits/circuit.h"

namespace physlearn::circuits {

/// A `.tran` card: seconds.
struct SpiceTran {
  double step = 0.0;      ///< tstep: the output interval
  double stop = 0.0;      ///< tstop
  double start = 0.0;     ///< tstart: no output before it
  double max_step = 0.0;  ///< tmax: largest internal step (0: not given)
  bool uic = false;       ///< UIC: start from zero node voltages, not the DC operating point
};

/// A voltage source's transient function (ngspice manual 4.1.1, 4.1.2), for `.tran`:
///   SIN(VO VA [FREQ [TD [THETA [PHASE]]]]): VO + VA sin(2 pi PHASE/360) before TD, then
///     VO + VA exp(-(t - TD) THETA) sin(2 pi (FREQ (t - TD) + PHASE/360)); FREQ defaults to 1/tstop;
///   PULSE(V1 V2 [TD [TR [TF [PW [PER [NP]]]]]]): V1 until TD, then per period PER a ramp to V2
///     over TR, V2 for PW, a ramp back over TF, V1 for the rest; TR and TF default to tstep, PW
///     and PER to tstop, NP (number of pulses, 0: unlimited) to 0.
/// The source's DC value (the operating point's, and the value without .tran) is its DC field
/// when given, else the function's value at t = 0.
struct SpiceSourceFunction {
  std::string source;        ///< the V card's name
  std::string kind;          ///< "sin" or "pulse"
  std::vector<double> args;  ///< as written (the defaults are filled by waveform())
  int line = 0;

  /// v(t) with the defaults of a .tran of `tstep` and `tstop`.
  std::function<double(double)> waveform(double tstep, double tstop) const;
  /// The shortest stretch between the corners of a PULSE (rise, width, fall, the rest of the
  /// period) with those defaults; infinity for SIN.
  double shortest_segment(double tstep, double tstop) const;
  /// The times in (0, tstop) where v(t) has a corner (PULSE: each start, end of rise, end of
  /// width, end of fall; SIN: TD), for the transient's breakpoints.
  std::vector<double> corners(double tstep, double tstop) const;
};

/// What a netlist says besides its elements.
struct SpiceOptions {
  std::string title;            ///< the first line (or .title)
  double temperature = 300.15;  ///< K: circuit temperature (.options temp / .temp, in Celsius)
  double tnom = 300.15;         ///< K: default measurement temperature of model parameters
  double gmin = 1e-12;          ///< S: across every diode junction (.options gmin)
  double reltol = 0.0;          ///< .options reltol; 0: not given
  double abstol = 0.0;          ///< A, .options abstol; 0: not given
  double vntol = 0.0;           ///< V, .options vntol; 0: not given
  int itl1 = 0;                 ///< .options itl1 (DC iteration limit); 0: not given
  bool has_op = false;          ///< a .op card was present
  bool has_end = false;         ///< a .end card was present
  std::optional<SpiceTran> tran;  ///< the .tran card, if any
  std::vector<SpiceSourceFunction> source_functions;  ///< SIN and PULSE voltage sources
  std::map<std::string, double> params;  ///< .param values by lowercase name
  /// "<source>:<line>: <what>" for every card or option that was ignored.
  std::vector<std::string> warnings;
};

/// A field of a card: a word, "=", or an expression given in {} or ''.
struct SpiceToken {
  std::string text;
  bool expression = false;
};

/// One card: its text (comments removed, continuation lines joined), its first line, and (for an
/// element card) its fields split at blanks and '='.
struct SpiceCard {
  int line = 0;
  std::string text;
  std::vector<SpiceToken> tokens;
};

/// A `.model` card as read by the kind that owns its type: lowercase parameter name -> value.
struct SpiceModel {
  std::string type;  ///< lowercase, e.g. "d"
  int line = 0;
  std::map<std::string, double> values;
};

/// The netlist reader. The generic part (cards, numbers, expressions, parameters, options,
/// analyses) is here; each kind reads its own element and model cards through the public
/// members below (circuits/elements/*.h).
class SpiceReader {
 public:
  SpiceReader(std::string source, SpiceOptions& options);
  Circuit read(const std::string& text);

  /// Throws physlearn::Error "<source>:<line>: <what> (card "<text>")".
  [[noreturn]] void fail(const SpiceCard& card, const std::string& what) const;
  void warn(const SpiceCard& card, const std::string& what);
  /// A number or an expression ({...}, '...') of the card; `what` names it in errors.
  double number(const SpiceCard& card, const SpiceToken& token, const std::string& what) const;
  /// The `name = value` pairs and bare flags from token `first` on (names lowercase).
  std::vector<std::pair<std::string, const SpiceToken*>> assignments(
      const SpiceCard& card, const std::vector<SpiceToken>& tokens, std::size_t first) const;
  /// The card's fields; with `split_parentheses` '(', ')' and ',' separate fields too.
  std::vector<SpiceToken> tokenize(const SpiceCard& card, bool split_parentheses) const;
  /// The node of a name as written (case-insensitive; the first spelling names it).
  int node(const std::string& written);
  /// True when a node of this name (any case) was read.
  bool has_node(const std::string& written) const;
  /// The value of a V or I card (`letter` 'v' or 'i'): [DC] value [AC mag [phase]], and for V a
  /// SIN or PULSE function (recorded in options().source_functions; without a value the
  /// function's value at t = 0). No value: 0 (a warning).
  double source_value(const SpiceCard& card, char letter);
  /// The value of a two-terminal card "<name> n1 n2 value [IC=x]" (a capacitor's, ...): `noun`
  /// and `unit` name it in errors; IC is checked, not read.
  double value_with_ic(const SpiceCard& card, const std::string& noun, const std::string& unit);
  /// A SIN or PULSE function of a V card starting at tokens[i]; leaves i on its last token.
  SpiceSourceFunction source_function(const SpiceCard& card, std::size_t& i,
                                      const std::string& function);
  /// The .model card of this name (any case), or null.
  const SpiceModel* model(const std::string& name) const;
  /// Runs `action` after every element card was read (in the order deferred).
  void defer(std::function<void()> action) { deferred_.push_back(std::move(action)); }
  Circuit& circuit() { return circuit_; }
  SpiceOptions& options() { return options_; }

 private:
  void split_cards(const std::string& text);
  void param_card(const SpiceCard& card);
  void options_card(const SpiceCard& card);
  void tran_card(const SpiceCard& card);
  void model_card(const SpiceCard& card);
  void element_card(SpiceCard card);
  void claim_element_name(const SpiceCard& card, const std::string& name);

  std::string source_;
  SpiceOptions& options_;
  std::vector<SpiceCard> cards_;
  Circuit circuit_;
  std::map<std::string, int> nodes_;           // lowercase name -> index
  std::map<std::string, int> element_lines_;   // lowercase element name -> line
  std::map<std::string, int> param_lines_;     // lowercase parameter name -> line
  std::map<std::string, SpiceModel> models_;   // lowercase model name
  std::vector<std::function<void()>> deferred_;
};

/// Lowercase ASCII.
std::string spice_lower(std::string text);

/// ngspice's Celsius-to-kelvin offset (CONSTCtoK).
constexpr double kCelsiusToKelvin = 273.15;

/// Reads a netlist from `text`; `source_name` (a file name) starts every message. With
/// `options_out`, the netlist's options and warnings are stored there and nothing is printed;
/// without, each warning goes to stderr as "physlearn: warning: ...". Throws physlearn::Error
/// (see the file comment).
Circuit read_spice_netlist(const std::string& text, const std::string& source_name,
                           SpiceOptions* options_out = nullptr);

/// Reads the netlist file `path` (its name starts every message); physlearn::Error when it
/// cannot be read.
Circuit read_spice_file(const std::string& path, SpiceOptions* options_out = nullptr);

/// A SPICE number (see the file comment): "4.7k" -> 4700, "1MEG" -> 1e6, "10kOhm" -> 1e4.
/// The scale factor is applied to the decimal exponent before rounding, so "4.7u" is the double
/// nearest 4.7e-6. Throws physlearn::Error ("malformed number ...") for anything else.
double parse_spice_number(const std::string& text);

/// Evaluates a plain arithmetic expression (+ - * / parentheses, unary signs, SPICE numbers,
/// parameters looked up by lowercase name in `params`). Throws physlearn::Error naming the
/// problem (unknown parameter, division by zero, a result that is not finite, a syntax error
/// and where).
double evaluate_spice_expression(const std::string& text,
                                 const std::map<std::string, double>& params = {});

}  // namespace physlearn::circuits
