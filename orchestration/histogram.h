#pragma once
/// Histograms of the trainable conductances, written at the start and the end of a run
/// (DIR/conductances_start.csv, DIR/conductances_end.csv) for `physlearn plot`.
#include <string>

namespace physlearn::learning {
class Model;
}  // namespace physlearn::learning

namespace physlearn::orchestration {

using learning::Model;

/// Writes "layer,bin_low,bin_high,count": `bins` equal bins over each layer's [min, max] of
/// conductances (network units; one bin when they are all equal). Writes nothing for a model
/// without conductances (the digital baseline).
void write_conductance_histograms(const Model& model, const std::string& filename, int bins = 50);

}  // namespace physlearn::orchestration
