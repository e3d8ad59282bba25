#include "learning/model.h"

#include <limits>
#include <type_traits>

#include "devices/device.h"
#include "learning/backprop.h"
#include "learning/controller.h"
#include "learning/experiment.h"
#include "learning/fused_model.h"
#include "learning/optimizer.h"
#include "learning/rules.h"

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
    if (config.has_chip) {
      // The devices hold the conductances: the network sees what they were programmed to.
      chip_ = std::make_unique<devices::Chip>(config.chip, net_.weights);
      controller_ = std::make_unique<LearningController>(config.controller, *chip_,
                                                         static_cast<std::uint64_t>(config.chip.seed));
      for (int l = 0; l < net_.num_weight_layers(); ++l) controller_->read(l, net_.weights[l]);
    }
    solver_ = solvers::make_solver(config.solver, net_);
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
    return "DRN " + circuits::sizes_text(net_.sizes) + ", rule " + rule_.name() + ", solver " + solver_->name();
  }

  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    read_chip();
    voltages_ = net_.input_voltages(inputs);
    rule_direction(rule_, net_, *solver_, voltages_, targets, free_, direction_);
    outputs = free_.outputs();
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

  void save(const std::string& out_dir) override {
    if (chip_) chip_->save(out_dir + "/chip.json");
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
