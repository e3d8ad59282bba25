#include "learning/model.h"

#include <limits>
#include <type_traits>

#include "core/binary.h"
#include "devices/device.h"
#include "learning/backprop.h"
#include "learning/controller.h"
#include "learning/crossbar.h"
#include "learning/experiment.h"
#include "learning/fused_model.h"
#include "learning/optimizer.h"
#include "learning/physics.h"
#include "learning/rules.h"
#include "learning/transfer.h"

namespace physlearn::learning {
namespace {

/// A resistive network trained by a local rule through its devices.
class CircuitModel final : public Model {
 public:
  explicit CircuitModel(const ExperimentConfig& config)
      : lp_(config.learning),
        net_(circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed))),
        rule_(make_rule(lp_.rule, lp_.variant, lp_.beta, lp_.eta, "learning.rule")),
        optimizer_(lp_.momentum, lp_.lr_weights, lp_.lr_biases, lp_.lr_decay),
        direction_(ParameterGradient::zeros_like(net_)) {
    for (auto& w : net_.weights) w = w.cwiseMax(lp_.g_min).cwiseMin(lp_.g_max);
    circuits::LayeredNetwork start;
    if (!config.initial_network.empty()) {
      start = net_;
      load_network(config.initial_network, start);
      for (auto& w : start.weights) w = w.cwiseMax(lp_.g_min).cwiseMin(lp_.g_max);
      net_.biases = start.biases;  // sources: set exactly
    }
    if (config.has_chip) {
      // The devices hold the conductances: the network sees what they were programmed to.
      chip_ = std::make_unique<devices::Chip>(config.chip, net_.weights);
      controller_ = std::make_unique<LearningController>(config.controller, *chip_,
                                                         static_cast<std::uint64_t>(config.chip.seed));
      // A network from elsewhere goes through this chip's own devices, from their fresh state.
      if (!config.initial_network.empty())
        for (int l = 0; l < net_.num_weight_layers(); ++l)
          controller_->program(l, net_.weights[l], start.weights[l] - chip_->conductances(l));
      for (int l = 0; l < net_.num_weight_layers(); ++l) controller_->read(l, net_.weights[l]);
    } else if (!config.initial_network.empty()) {
      net_.weights = start.weights;
    }
    solver_ = solvers::make_solver(config.solver, net_);
    recorder_ = std::make_unique<PhysicsRecorder>(*solver_);
    digital_sizes_ = net_.sizes;
    digital_sizes_.front() = config.network.inputs;  // the digital network needs no inverted copies
    if (config.has_crossbar)
      crossbar_ = std::make_unique<CrossbarPhases>(net_, config.crossbar, crossbar_g_unit(config),
                                                   config.solver, rule_);
    if (lp_.alignment_every > 0) {
      if (!net_.ideal_diodes && config.network.diode != "none")
        throw ConfigError("learning.alignment_every", std::to_string(lp_.alignment_every),
                          "needs network.diode \"ideal\" or \"none\" (the exact gradient)");
      reference_ = std::make_unique<solvers::CoordinateDescentSolver>(1, 1e-10, 100000);
    }
    sums_.assign(net_.num_weight_layers(), {});
  }

  long num_parameters() const override { return net_.num_parameters(); }
  std::string description() const override {
    return "DRN " + circuits::sizes_text(net_.sizes) + (crossbar_ ? " on crossbars" : "") + ", rule " +
           rule_.name() + ", solver " + solver_->name();
  }

  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    read_chip();
    voltages_ = net_.input_voltages(inputs);
    if (crossbar_) {
      crossbar_->direction(net_, voltages_, targets, outputs, direction_);
    } else {
      rule_direction(rule_, net_, *recorder_, voltages_, targets, free_, direction_);
      outputs = free_.outputs();
    }
    if (reference_ && batch_++ % lp_.alignment_every == 0) measure_alignment(targets);
    constexpr double kUnbounded = std::numeric_limits<double>::infinity();
    for (int l = 0; l < net_.num_weight_layers(); ++l) {
      if (controller_)
        controller_->program(l, net_.weights[l], optimizer_.step(l, false, direction_.weights[l]));
      else  // Ideal devices: the exact update clipped to [g_min, g_max], fused with the step.
        optimizer_.apply(l, false, direction_.weights[l], net_.weights[l], lp_.g_min, lp_.g_max);
      if (net_.has_biases)  // bias currents are sources, set exactly
        optimizer_.apply(l, true, direction_.biases[l], net_.biases[l], -kUnbounded, kUnbounded);
    }
  }

  void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) override {
    read_chip();
    voltages_ = net_.input_voltages(inputs);
    if (crossbar_) {
      crossbar_->predict(net_, voltages_, outputs);
      return;
    }
    auto state = solvers::LayeredState::zeros(net_, inputs.rows());
    solver_->set_inputs(net_, voltages_);
    solver_->relax(net_, solvers::PhaseNudge::free(), state);
    outputs = state.outputs();
  }

  void end_epoch() override {
    optimizer_.end_epoch();
    if (controller_) controller_->end_epoch(net_.weights);
  }

  json take_device_figures() override {
    if (!controller_) return nullptr;
    const devices::ProgramStats s = controller_->take_stats();
    return {{"pulses", s.pulses},
            {"devices_pulsed", s.devices_pulsed},
            {"capped", s.capped},
            {"programming_energy", s.energy}};
  }

  json take_physics() override {
    return recorder_->take(digital_sizes_, lp_.digital_energy_per_mac);
  }

  void save(const std::string& out_dir) override {
    if (chip_) chip_->save(out_dir + "/chip.json");
    // The trained network (noise-free device conductances with a chip), for initial_network.
    circuits::LayeredNetwork trained = net_;
    if (chip_)
      for (int l = 0; l < trained.num_weight_layers(); ++l) trained.weights[l] = chip_->conductances(l);
    save_network(trained, out_dir + "/network.json");
  }

  std::vector<LayerAlignment> take_alignment() override {
    std::vector<LayerAlignment> out;
    if (measured_ == 0) return out;
    for (auto& s : sums_) {
      out.push_back({s.cosine / measured_, s.norm_ratio / measured_});
      s = {};
    }
    measured_ = 0;
    return out;
  }

  std::vector<const Eigen::MatrixXd*> conductances() const override {
    std::vector<const Eigen::MatrixXd*> out;
    for (const auto& w : net_.weights) out.push_back(&w);
    return out;
  }

  json save_state() const override {
    std::vector<double> sums;
    for (const auto& a : sums_) sums.insert(sums.end(), {a.cosine, a.norm_ratio});
    json state = {{"kind", "circuit"},
                  {"weights", encode_matrices(net_.weights)},
                  {"biases", encode_matrices(net_.biases)},
                  {"optimizer", optimizer_.state()},
                  {"batch", batch_},
                  {"measured", measured_},
                  {"alignment_sums", encode_array(sums.data(), sums.size())}};
    if (chip_) {
      state["chip"] = chip_->to_json();
      state["controller"] = controller_->state();
    }
    return state;
  }

  void load_state(const json& state, const std::string& where) override {
    expect_state_kind(state, "circuit", where);
    decode_matrices(member(state, "weights", where), net_.weights, true, where + ".weights");
    decode_matrices(member(state, "biases", where), net_.biases, true, where + ".biases");
    optimizer_.set_state(member(state, "optimizer", where), where + ".optimizer");
    batch_ = member(state, "batch", where).get<long>();
    measured_ = member(state, "measured", where).get<int>();
    const auto sums = decode_array<double>(member(state, "alignment_sums", where), 2 * sums_.size(),
                                           where + ".alignment_sums");
    for (std::size_t l = 0; l < sums_.size(); ++l) sums_[l] = {sums[2 * l], sums[2 * l + 1]};
    if (chip_ && !state.contains("chip")) throw Error(where + ": no chip state (the run has a chip)");
    if (!chip_ && state.contains("chip")) throw Error(where + ": a chip state (the run has no chip)");
    if (chip_) {
      *chip_ = devices::Chip::from_json(state["chip"], where + ".chip");
      controller_->set_state(member(state, "controller", where), where + ".controller");
    }
  }

 private:
  /// With read noise, every batch's phases see a fresh read of the devices.
  void read_chip() {
    if (controller_ && controller_->noisy_reads())
      for (int l = 0; l < net_.num_weight_layers(); ++l) controller_->read(l, net_.weights[l]);
  }

  /// The exact gradient at the converged free state, against the rule's direction, per layer.
  void measure_alignment(const Eigen::MatrixXd& targets) {
    auto converged = solvers::LayeredState::zeros(net_, voltages_.rows());
    reference_->set_inputs(net_, voltages_);
    reference_->relax(net_, solvers::PhaseNudge::free(), converged);
    const ParameterGradient exact = exact_gradient(net_, voltages_, converged, targets);
    for (int l = 0; l < net_.num_weight_layers(); ++l) {
      const Eigen::VectorXd r = direction_.flatten_layer(l), x = exact.flatten_layer(l);
      sums_[l].cosine += cosine(r, x);
      sums_[l].norm_ratio += x.norm() > 0.0 ? r.norm() / x.norm() : 0.0;
    }
    ++measured_;
  }

  LearningParams lp_;
  circuits::LayeredNetwork net_;
  Rule rule_;
  SgdMomentum optimizer_;
  std::unique_ptr<devices::Chip> chip_;
  std::unique_ptr<LearningController> controller_;
  std::unique_ptr<solvers::EquilibriumSolver> solver_;
  std::unique_ptr<PhysicsRecorder> recorder_;  ///< the training steps' relax calls go through it
  std::vector<int> digital_sizes_;
  std::unique_ptr<CrossbarPhases> crossbar_;  ///< phases on the full crossbar circuit, if any
  std::unique_ptr<solvers::CoordinateDescentSolver> reference_;
  ParameterGradient direction_;
  solvers::LayeredState free_;
  Eigen::MatrixXd voltages_;
  std::vector<LayerAlignment> sums_;
  long batch_ = 0;
  int measured_ = 0;
};

/// The digital baseline: a ReLU network of the same layer sizes trained by backprop, in the
/// experiment's precision (model_precision).
template <typename Scalar>
class BaselineModel final : public Model {
 public:
  BaselineModel(const ExperimentConfig& config, int num_inputs, int num_classes)
      : network_(layer_sizes(config, num_inputs, num_classes), static_cast<std::uint64_t>(config.seed)),
        optimizer_(config.learning.momentum, rates(config.learning.backprop_lr_weights, config.learning.lr_weights),
                   rates(config.learning.backprop_lr_biases, config.learning.lr_biases),
                   config.learning.lr_decay) {}

  long num_parameters() const override { return network_.num_parameters(); }
  std::string description() const override {
    std::vector<int> sizes{static_cast<int>(network_.weights[0].rows())};
    for (const auto& w : network_.weights) sizes.push_back(static_cast<int>(w.cols()));
    return "ReLU network " + circuits::sizes_text(sizes) + ", backprop (" +
           (std::is_same_v<Scalar, float> ? "float32" : "float64") + ")";
  }
  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    inputs_ = inputs.cast<Scalar>();
    targets_ = targets.cast<Scalar>();
    outputs = network_.forward(inputs_).template cast<double>();
    network_.backward(targets_);
    constexpr double kUnbounded = std::numeric_limits<double>::infinity();
    for (int l = 0; l < network_.num_layers(); ++l) {  // one pass per array: w <- w - lr v
      optimizer_.apply(l, false, network_.weight_gradients[l], network_.weights[l], -kUnbounded,
                       kUnbounded);
      optimizer_.apply(l, true, network_.bias_gradients[l], network_.biases[l], -kUnbounded,
                       kUnbounded);
    }
  }
  void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) override {
    inputs_ = inputs.cast<Scalar>();
    outputs = network_.forward(inputs_).template cast<double>();
  }
  void end_epoch() override { optimizer_.end_epoch(); }

  json save_state() const override {
    return {{"kind", "relu-baseline"},
            {"weights", encode_matrices(network_.weights)},
            {"biases", encode_matrices(network_.biases)},
            {"optimizer", optimizer_.state()}};
  }

  void load_state(const json& state, const std::string& where) override {
    expect_state_kind(state, "relu-baseline", where);
    decode_matrices(member(state, "weights", where), network_.weights, true, where + ".weights");
    decode_matrices(member(state, "biases", where), network_.biases, true, where + ".biases");
    optimizer_.set_state(member(state, "optimizer", where), where + ".optimizer");
  }

 private:
  static std::vector<int> layer_sizes(const ExperimentConfig& config, int num_inputs, int num_classes) {
    std::vector<int> sizes{num_inputs};
    for (int h : config.network.hidden) sizes.push_back(h);
    sizes.push_back(num_classes);
    return sizes;
  }
  static std::vector<double> rates(const std::vector<double>& own, const std::vector<double>& fallback) {
    return own.empty() ? fallback : own;
  }
  BasicReluNetwork<Scalar> network_;
  BasicSgdMomentum<Scalar> optimizer_;
  typename BasicReluNetwork<Scalar>::Matrix inputs_, targets_;
};

}  // namespace

void expect_state_kind(const json& state, const std::string& kind, const std::string& where) {
  if (member(state, "kind", where) != kind)
    throw Error(where + ": the state of another model (kind " + state["kind"].dump() +
                ", expected \"" + kind + "\")");
}

std::string model_precision(const ExperimentConfig& config) {
  const std::string& asked = config.solver.precision;
  if (asked != "auto") return asked;
  return config.learning.rule == "backprop" || fused_model_applies(config) ? "float32" : "float64";
}

std::unique_ptr<Model> make_model(const ExperimentConfig& config, int num_inputs, int num_classes) {
  const bool float32 = model_precision(config) == "float32";
  if (config.learning.rule == "backprop") {
    if (float32) return std::make_unique<BaselineModel<float>>(config, num_inputs, num_classes);
    return std::make_unique<BaselineModel<double>>(config, num_inputs, num_classes);
  }
  std::string reason;
  if (fused_model_applies(config, &reason)) return make_fused_model(config);
  if (float32) throw ConfigError("solver.precision", "\"float32\"", reason);
  return std::make_unique<CircuitModel>(config);
}

}  // namespace physlearn::learning
