#include "orchestration/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <numeric>

#include "core/error.h"
#include "data/dataset.h"
#include "learning/fused_model.h"
#include "learning/model.h"
#include "orchestration/models.h"
#include "orchestration/runner.h"
#include "solvers/equilibrium.h"

namespace physlearn::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

/// Wall-clock and processor seconds (every thread of the process) of a stretch of work. On a
/// machine shared with other work the processor time is the steadier of the two.
struct Timing {
  double wall = std::numeric_limits<double>::infinity();
  double cpu = std::numeric_limits<double>::infinity();
  void keep_best(const Timing& t) {
    wall = std::min(wall, t.wall);
    cpu = std::min(cpu, t.cpu);
  }
  Timing operator/(double n) const { return {wall / n, cpu / n}; }
};

struct Stopwatch {
  Clock::time_point wall = Clock::now();
  std::clock_t cpu = std::clock();
  Timing elapsed() const {
    return {std::chrono::duration<double>(Clock::now() - wall).count(),
            static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC};
  }
};


/// Time to train `model` over the first `samples` samples of `d` in mini-batches, in file order,
/// by the runner's epoch loop.
Timing train_time(learning::Model& model, const data::Dataset& d, Eigen::Index samples,
                  int batch_size) {
  std::vector<int> order(static_cast<std::size_t>(samples));
  std::iota(order.begin(), order.end(), 0);
  const Stopwatch watch;
  train_epoch(model, d, order, batch_size);
  return watch.elapsed();
}

struct TestPass {
  Timing time;
  double error = 0.0;
};

/// The runner's evaluation (the free phase over the whole of `d`), timed.
TestPass test_pass(learning::Model& model, const data::Dataset& d, int batch_size) {
  const Stopwatch watch;
  const Evaluation e = evaluate(model, d, batch_size);
  return {watch.elapsed(), e.error};
}

/// Epochs of the model a configuration asks for, timed one at a time (training and test apart),
/// so that two models' epochs can alternate.
class EpochTimer {
 public:
  EpochTimer(const ExperimentConfig& config, const data::Split& split)
      : config_(config),
        split_(split),
        model_(make_model(config, split.train.num_features(), split.train.num_classes)) {}

  void epoch() {
    const Timing train = train_time(*model_, split_.train, split_.train.num_samples(),
                                    config_.learning.batch_size);
    model_->end_epoch();
    test_ = test_pass(*model_, split_.test, std::max(config_.learning.batch_size, 256));
    per_epoch_.push_back({{"train_seconds", train.wall}, {"train_cpu_seconds", train.cpu},
                          {"test_seconds", test_.time.wall}, {"test_error", test_.error}});
    best_.keep_best(train);
  }

  /// The best epoch's training time, the last test pass and every epoch.
  json result() const {
    const double scale = 60000.0 / static_cast<double>(split_.train.num_samples());
    json out = {{"model", model_->description()},
                {"train_seconds_per_epoch", best_.wall},
                {"train_cpu_seconds_per_epoch", best_.cpu},
                {"test_seconds", test_.time.wall},
                {"test_cpu_seconds", test_.time.cpu},
                {"test_error", test_.error},
                {"epochs", per_epoch_}};
    const std::string per_60000 = split_.train.num_samples() == 60000 ? "" : "_extrapolated";
    out["train_seconds_per_60000_samples" + per_60000] = best_.wall * scale;
    out["train_cpu_seconds_per_60000_samples" + per_60000] = best_.cpu * scale;
    return out;
  }

 private:
  const ExperimentConfig& config_;
  const data::Split& split_;
  std::unique_ptr<learning::Model> model_;
  json per_epoch_ = json::array();
  Timing best_;
  TestPass test_;
};

/// The layered solver's options (the fused path these benches time needs solver.type "layered").
const solvers::LayeredSolverOptions& layered_options(const ExperimentConfig& config) {
  return config.solver.options<solvers::LayeredSolverOptions>("layered");
}

std::vector<int> network_sizes(const ExperimentConfig& config) {
  std::vector<int> sizes{config.network.inputs * (config.network.inverted_inputs ? 2 : 1)};
  for (int h : config.network.hidden) sizes.push_back(h);
  sizes.push_back(config.network.outputs);
  return sizes;
}

/// Matrix-product flops of one EP training step of `batch` samples as the fused path computes it:
/// the inputs' drive (half depth with inverted copies), every sweep of every phase, and the
/// update's cross terms. Element-wise work (projections, momentum) is not counted.
struct StepFlops {
  double drive = 0.0, sweeps = 0.0, update = 0.0;
  double total() const { return drive + sweeps + update; }
};

StepFlops ep_step_flops(const ExperimentConfig& config, double batch) {
  const std::vector<int> s = network_sizes(config);
  const int layers = static_cast<int>(s.size()) - 1;
  const double depth = config.network.inverted_inputs ? s[0] / 2 : s[0];
  const int phases = config.learning.variant == "centered" ? 3 : 2;
  StepFlops f;
  f.drive = 2.0 * batch * depth * s[1];
  double sweep = 0.0;
  for (int l = 0; l < layers; ++l) {  // state layer l has s[l + 1] units
    if (l > 0) sweep += 2.0 * batch * s[l] * s[l + 1];
    if (l + 1 < layers) sweep += 2.0 * batch * s[l + 2] * s[l + 1];
  }
  f.sweeps = phases * layered_options(config).sweeps * sweep;
  f.update = 2.0 * batch * depth * s[1];
  for (int l = 1; l < layers; ++l) f.update += 2.0 * 2.0 * batch * s[l] * s[l + 1];
  return f;
}

/// Best time of one product C = A B (A: m x k, or its transpose stored k x m, B: k x n) in
/// Scalar, repeated for about 0.2 s per try.
template <typename Scalar>
Timing product_time(Eigen::Index m, Eigen::Index k, Eigen::Index n, bool transposed_lhs,
                    int repeats) {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Matrix a = transposed_lhs ? Matrix::Random(k, m) : Matrix::Random(m, k);
  const Matrix b = Matrix::Random(k, n);
  Matrix c(m, n);
  auto once = [&] {
    if (transposed_lhs) c.noalias() = a.transpose() * b;
    else c.noalias() = a * b;
  };
  once();
  const Stopwatch trial;
  once();
  const int count = std::max(3, static_cast<int>(0.2 / std::max(trial.elapsed().wall, 1e-6)));
  Timing best;
  for (int r = 0; r < repeats; ++r) {
    const Stopwatch watch;
    for (int i = 0; i < count; ++i) once();
    best.keep_best(watch.elapsed() / count);
  }
  return best;
}

Timing product_time(const std::string& precision, Eigen::Index m, Eigen::Index k, Eigen::Index n,
                    bool transposed_lhs, int repeats) {
  return precision == "float32" ? product_time<float>(m, k, n, transposed_lhs, repeats)
                                : product_time<double>(m, k, n, transposed_lhs, repeats);
}

/// Best time per mini-batch of EP training steps over the first `samples` training samples
/// (after a few untimed steps).
Timing step_time(const ExperimentConfig& config, const data::Dataset& train,
                 Eigen::Index samples, int repeats) {
  auto model = make_model(config, train.num_features(), train.num_classes);
  const int batch = config.learning.batch_size;
  train_time(*model, train, std::min<Eigen::Index>(samples, 3 * batch), batch);
  Timing best;
  for (int r = 0; r < repeats; ++r) best.keep_best(train_time(*model, train, samples, batch));
  return best / std::ceil(static_cast<double>(samples) / batch);
}

/// What the step benchmarks (roofline, scaling) time on: the first `samples` training samples
/// (default: `default_batches` mini-batches), stepped by the fused EP model.
struct StepData {
  int batch = 0;
  Eigen::Index samples = 0;
  data::Split split;
};

StepData step_data(ExperimentConfig& config, const BenchOptions& options,
                   const std::string& bench_case, int default_batches) {
  std::string reason;
  if (!fused_model_applies(config, &reason))
    throw ConfigError("bench " + bench_case, config.name, reason);
  if (layered_options(config).tolerance > 0.0)
    throw ConfigError("solver.tolerance", std::to_string(layered_options(config).tolerance),
                      "bench " + bench_case + " counts fixed sweeps: needs solver.tolerance 0");
  StepData d;
  d.batch = config.learning.batch_size;
  config.data.train_size = options.samples > 0 ? options.samples : default_batches * d.batch;
  d.split = data::load(config.data, static_cast<unsigned>(config.seed));
  d.samples = std::min<Eigen::Index>(config.data.train_size, d.split.train.num_samples());
  return d;
}

json common_fields(const std::string& bench_case, const ExperimentConfig& config) {
  return {{"case", bench_case},
          {"experiment", config.name},
          {"network", circuits::sizes_text(network_sizes(config))},
          {"batch_size", config.learning.batch_size},
          {"precision", model_precision(config)},
          {"sweeps", layered_options(config).sweeps},
          {"tolerance", layered_options(config).tolerance},
          {"threads", Eigen::nbThreads()}};
}

}  // namespace

json bench_epoch(ExperimentConfig config, const BenchOptions& options) {
  if (options.samples > 0) config.data.train_size = options.samples;
  const data::Split split = data::load(config.data, static_cast<unsigned>(config.seed));
  if (split.train.num_samples() == 0) throw Error("bench epoch: the training set is empty");
  json out = common_fields("epoch", config);
  out["rule"] = config.learning.rule + "-" + config.learning.variant;
  out["samples"] = split.train.num_samples();
  out["test_samples"] = split.test.num_samples();
  // The two models' epochs alternate, so that both see the same load of the machine; each
  // side's best epoch counts.
  EpochTimer circuit(config, split);
  circuit.epoch();
  // Peak memory now: the data set and the circuit model, before the baseline exists.
  out["peak_resident_mib"] = peak_resident_mib();
  ExperimentConfig baseline = config;
  baseline.learning.rule = "backprop";
  EpochTimer digital(baseline, split);
  digital.epoch();
  for (int e = 1; e < options.epochs; ++e) {
    circuit.epoch();
    digital.epoch();
  }
  out["circuit"] = circuit.result();
  out["backprop"] = digital.result();
  auto ratio = [&](const char* key) {
    return out["circuit"][key].get<double>() / out["backprop"][key].get<double>();
  };
  out["ratio"] = ratio("train_seconds_per_epoch");
  out["ratio_cpu"] = ratio("train_cpu_seconds_per_epoch");
  return out;
}

json bench_roofline(ExperimentConfig config, const BenchOptions& options) {
  const StepData data = step_data(config, options, "roofline", 100);
  const int batch = data.batch;
  const std::vector<int> sizes = network_sizes(config);
  const Eigen::Index depth = config.network.inverted_inputs ? sizes[0] / 2 : sizes[0];
  const std::string precision = model_precision(config);
  // The attainable: Eigen products of the step's two largest shapes, timed just before.
  const Timing drive = product_time(precision, batch, depth, sizes[1], false, options.repeats);
  const Timing update = product_time(precision, depth, batch, sizes[1], true, options.repeats);
  const Timing step = step_time(config, data.split.train, data.samples, options.repeats);
  const StepFlops flops = ep_step_flops(config, batch);
  // Every product at the rate of its shape, the small products of the sweeps at the drive's.
  auto attainable = [&](double drive_seconds, double update_seconds) {
    return (flops.drive + flops.sweeps) / flops.drive * drive_seconds + update_seconds;
  };
  const double attainable_wall = attainable(drive.wall, update.wall);
  const double attainable_cpu = attainable(drive.cpu, update.cpu);
  auto product = [&](int m, int k, int n, const Timing& t, double f) {
    return json{{"shape", circuits::sizes_text({m, k, n})},
                {"seconds", t.wall},
                {"cpu_seconds", t.cpu},
                {"flops_per_second", f / t.wall}};
  };
  json out = common_fields("roofline", config);
  out["samples"] = data.samples;
  out["flops_per_step"] = {{"drive", flops.drive}, {"sweeps", flops.sweeps},
                           {"update", flops.update}, {"total", flops.total()}};
  const int d = static_cast<int>(depth);
  out["reference_products"] = {{"drive", product(batch, d, sizes[1], drive, flops.drive)},
                               {"update", product(d, batch, sizes[1], update, flops.update)}};
  out["step_seconds"] = step.wall;
  out["step_cpu_seconds"] = step.cpu;
  out["achieved_flops_per_second"] = flops.total() / step.wall;
  out["attainable_flops_per_second"] = flops.total() / attainable_wall;
  out["fraction_of_attainable"] = attainable_wall / step.wall;
  out["fraction_of_attainable_cpu"] = attainable_cpu / step.cpu;
  return out;
}

json bench_scaling(ExperimentConfig config, const BenchOptions& options) {
  const StepData data = step_data(config, options, "scaling", 20);
  std::vector<int> hidden = options.hidden;
  if (hidden.empty())
    for (int h = 128; h <= 8192; h *= 2) hidden.push_back(h);
  // One hidden layer of each size; the experiment's first rates for both layers.
  config.learning.lr_weights.assign(2, config.learning.lr_weights.front());
  config.learning.lr_biases.assign(2, config.learning.lr_biases.front());
  json points = json::array();
  std::vector<double> x, wall, cpu;
  for (int h : hidden) {
    config.network.hidden = {h};
    const std::vector<int> sizes = network_sizes(config);
    const double conductances = static_cast<double>(sizes[0] + sizes[2]) * h;
    const Timing per_sample =
        step_time(config, data.split.train, data.samples, options.repeats) / data.batch;
    points.push_back({{"hidden", h},
                      {"conductances", conductances},
                      {"seconds_per_sample", per_sample.wall},
                      {"cpu_seconds_per_sample", per_sample.cpu}});
    x.push_back(std::log(conductances));
    wall.push_back(std::log(per_sample.wall));
    cpu.push_back(std::log(per_sample.cpu));
  }
  json out = common_fields("scaling", config);
  out.erase("network");
  out["samples"] = data.samples;
  out["points"] = points;
  out["exponent"] = least_squares_slope(x, wall);
  out["exponent_cpu"] = least_squares_slope(x, cpu);
  return out;
}

double peak_resident_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

double least_squares_slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double denominator = n * sxx - sx * sx;
  return denominator > 0.0 ? (n * sxy - sx * sy) / denominator : 0.0;
}

json bench(const std::string& name, const ExperimentConfig& config, const BenchOptions& options) {
  if (name == "spice") return bench_spice(config, std::max(1, options.repeats));
  if (name == "epoch") return bench_epoch(config, options);
  if (name == "roofline") return bench_roofline(config, options);
  if (name == "scaling") return bench_scaling(config, options);
  if (name == "crossbar") return bench_crossbar(config, options);
  throw ConfigError("bench", "\"" + name + "\"",
                    "unknown case (known: spice, epoch, roofline, scaling, crossbar)");
}

}  // namespace physlearn::orchestration
