#include "orchestration/gradcheck.h"

#include "learning/executor.h"
#include "learning/rule.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

json gradcheck(const ExperimentConfig& config, const GradcheckOptions& options) {
  if (config.network.diode == "shockley")
    throw ConfigError("network.diode", "\"shockley\"",
                      "gradcheck's exact gradient needs ideal diodes or none");
  if (options.beta < 0.0)
    throw ConfigError("--beta", cat(options.beta), "must be > 0 (0: the experiment's learning.beta)");
  if (options.batch < 0)
    throw ConfigError("--batch", cat(options.batch), "must be > 0 (0: the experiment's batch size)");
  if (!(options.tolerance > 0.0))
    throw ConfigError("--tolerance", cat(options.tolerance),
                      "must be > 0 (every phase is relaxed until it changes less than this)");
  const double beta = options.beta > 0.0 ? options.beta : config.learning.beta;
  const std::string variant_name = options.variant.empty() ? config.learning.variant : options.variant;
  RuleSettings settings;
  settings.rule = "ep";
  settings.variant = variant_name;
  settings.beta = beta;
  // An unknown variant is named as the option it came from.
  signed_plan("ep", variant_name, beta, Phase::Drive::nudge, "nudge", "--variant");
  const PhasePlan plan = make_plan(settings);
  const int batch = options.batch > 0 ? options.batch : config.learning.batch_size;

  data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  circuits::LayeredNetwork net = circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  const int n = std::min(batch, split.train.num_samples());
  Eigen::MatrixXd inputs = split.train.inputs.topRows(n).cast<double>();
  Eigen::MatrixXd targets = Eigen::MatrixXd::Zero(n, split.train.num_classes);
  for (int r = 0; r < n; ++r) targets(r, split.train.labels[r]) = 1.0;
  const Eigen::MatrixXd voltages = net.input_voltages(inputs);

  solvers::CoordinateDescentSolver converged(1, options.tolerance, 1000000);
  solvers::LayeredState free;
  ParameterGradient estimate = ParameterGradient::zeros_like(net);
  layered_direction(plan, net, converged, voltages, targets, free, estimate);
  const ParameterGradient exact = exact_gradient(net, voltages, free, targets);

  auto experiment_solver = solvers::make_solver(config.solver, net);
  solvers::LayeredState free_experiment;
  ParameterGradient estimate_experiment = ParameterGradient::zeros_like(net);
  layered_direction(plan, net, *experiment_solver, voltages, targets, free_experiment,
                    estimate_experiment);

  const Eigen::VectorXd e = estimate.flatten(), x = exact.flatten();
  json out;
  out["cosine"] = cosine(e, x);
  out["relative_error"] = (e - x).norm() / x.norm();
  out["beta"] = beta;
  out["variant"] = variant_name;
  out["batch"] = n;
  out["parameters"] = e.size();
  out["exact_norm"] = x.norm();
  out["estimate_norm"] = e.norm();
  out["tolerance"] = options.tolerance;
  json layers = json::array();
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    const Eigen::VectorXd el = estimate.flatten_layer(l), xl = exact.flatten_layer(l);
    layers.push_back({{"layer", l},
                      {"cosine", cosine(el, xl)},
                      {"relative_error", (el - xl).norm() / xl.norm()},
                      {"norm_ratio", el.norm() / xl.norm()}});
  }
  out["layers"] = layers;
  const Eigen::VectorXd ee = estimate_experiment.flatten();
  out["experiment_solver"] = solvers::to_json(config.solver);  // type, precision, its options
  out["experiment_solver"]["cosine"] = cosine(ee, x);
  out["experiment_solver"]["relative_error"] = (ee - x).norm() / x.norm();
  return out;
}

}  // namespace physlearn::orchestration
