#pragma once
/// `physlearn plot DIR [--out FOLDER]`: PNG figures, drawn by gnuplot, of what DIR holds:
///   a run (history.csv):
///     learning-curves.png  train and test error (%) per epoch, and the losses below;
///     conductances.png     histograms of each layer's conductances at the start and at the end
///                          (conductances_start.csv, conductances_end.csv);
///   a sweep (summary.json):
///     sweep-<key>.png      for every swept key with numbers (or names) as values: the final test
///                          error (mean across seeds, error bars one standard deviation) against
///                          the key, over the points that set it, one line per value of the other
///                          keys those points set; points that set no such key as dashed lines;
///     sweep-points.png     every point's final test error, bars with the same error bars;
///   `physlearn simulate` output (waveforms.csv):
///     waveforms.png        node potentials against time, phase boundaries as labelled lines.
/// Each figure's gnuplot script is written beside it (<figure>.gp), to be edited and rerun.
/// gnuplot is found on PATH (Debian package gnuplot-nox), or the environment variable
/// PHYSLEARN_GNUPLOT names it; without it the command fails saying so.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace physlearn::cli {

struct PlotArgs {
  std::string dir;
  std::string out;  ///< default: DIR
};

CLI::App* add_plot_subcommand(CLI::App& app, PlotArgs& args);

/// Makes every figure DIR allows; prints the files made. Throws physlearn::Error when DIR holds
/// nothing to plot, gnuplot is missing or fails.
int plot_command(const PlotArgs& args);

/// The figures made, for tests and callers: PNG files (written under `out`).
std::vector<std::string> plot_folder(const std::string& dir, const std::string& out);

}  // namespace physlearn::cli
