#include "cli/bench.h"

#include <algorithm>
#include <iostream>

#include "orchestration/bench.h"
#include "orchestration/experiment.h"

namespace physlearn::cli {

CLI::App* add_bench_command(CLI::App& app, BenchOptions& options) {
  auto* bench = app.add_subcommand("bench", "time solvers against each other; prints JSON");
  bench
      ->add_option("case", options.case_name,
                   "what to time: spice (ngspice against the native solvers on one steady "
                   "state), epoch (seconds per epoch, the rule against backprop), roofline "
                   "(FLOP/s of EP steps against matrix products), scaling (time per sample "
                   "against hidden size), crossbar (the crossbar solvers on one rows x cols "
                   "array, against Newton and ngspice)")
      ->required();
  bench->add_option("experiment", options.experiment, "experiment JSON file")->required();
  bench->add_option("--repeats", options.repeats, "repeats; the fastest is reported")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_option("--samples", options.samples,
                    "epoch, roofline, scaling: use the first N training samples (0: all for "
                    "epoch, 100 batches for roofline, 20 batches for scaling)")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--epochs", options.epochs, "epoch: epochs timed per model")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_option("--hidden", options.hidden, "scaling: hidden sizes (default 128,...,8192)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  bench->add_option("--rows", options.rows,
                    "crossbar: rows (input sources; default: --cols, else network.inputs)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--cols", options.cols,
                    "crossbar: columns (outputs; default: --rows, else network.outputs)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--batch", options.batch, "crossbar: samples per batch (default: "
                    "learning.batch_size)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--wire", options.wire,
                    "crossbar: ohm per wire segment (default: crossbar.wire_resistance)")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--sizes", options.sizes, "crossbar: square sizes to run in turn, e.g. "
                    "64,128,256 (adds the log-log exponent)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  bench->add_option("--memory-limit-gib", options.memory_limit_gib,
                    "crossbar: skip the dense solver (crossbar.solver dense) above this memory "
                    "estimate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_option("--newton-max-devices", options.newton_max_devices,
                    "crossbar: no Newton reference on the full circuit above this many devices")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--ngspice-max-devices", options.ngspice_max_devices,
                    "crossbar: skip ngspice above this many devices")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--set", options.sets, "override a config key")->allow_extra_args(false);
  return bench;
}

int bench_command(const BenchOptions& options) {
  orchestration::ExperimentConfig config =
      orchestration::load_experiment(options.experiment, options.sets);
  orchestration::BenchOptions bench;
  bench.repeats = std::max(1, options.repeats);
  bench.samples = options.samples;
  bench.epochs = options.epochs;
  bench.hidden = options.hidden;
  bench.rows = options.rows;
  bench.cols = options.cols;
  bench.batch = options.batch;
  bench.wire = options.wire;
  bench.sizes = options.sizes;
  bench.memory_limit_gib = options.memory_limit_gib;
  bench.ngspice_max_devices = options.ngspice_max_devices;
  bench.newton_max_devices = options.newton_max_devices;
  std::cout << orchestration::bench(options.case_name, config, bench).dump(2) << "\n";
  return 0;
}

}  // namespace physlearn::cli
