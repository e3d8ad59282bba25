#include "data/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace physlearn::data {

void describe(Schema& schema, DataParams& params) {
  schema.field("type", params.type, "dataset").one_of({"xor", "two-moons", "fashion-mnist"});
  schema.field("path", params.path, "fashion-mnist: folder holding the IDX .gz files");
  schema.field("train_size", params.train_size, "fashion-mnist: first N training samples (0: all)")
      .min(0);
  schema.field("test_size", params.test_size, "fashion-mnist: first N test samples (0: all)")
      .min(0);
  schema.field("pool", params.pool,
               "fashion-mnist: average-pool k x k pixel blocks, giving (28 / k)^2 inputs")
      .min(1).max(28);
  schema.field("samples", params.samples, "two-moons: samples in each of train and test").min(2);
  schema.field("noise", params.noise, "two-moons: standard deviation of the jitter").min(0.0);
  schema.field("seed", params.seed, "seed of synthetic sets (0: the experiment's seed)").min(0);
}

namespace {

constexpr std::uint32_t kIdxImagesMagic = 2051;  ///< 0x00000803: unsigned bytes, 3 dimensions
constexpr std::uint32_t kIdxLabelsMagic = 2049;  ///< 0x00000801: unsigned bytes, 1 dimension
constexpr double kPi = 3.14159265358979323846;
constexpr int kFashionClasses = 10;
constexpr int kFashionSide = 28;
constexpr int kFashionPixels = kFashionSide * kFashionSide;

/// Reads an IDX file through zlib, which passes plain (uncompressed) files through unchanged.
/// Every failure throws physlearn::Error whose message starts with the file name.
class IdxReader {
 public:
  explicit IdxReader(const std::string& filename) : filename_(filename) {
    std::error_code ec;
    if (!std::filesystem::exists(filename_, ec))
      fail(
          "no such file. Fashion-MNIST is provided by Debian's dataset-fashion-mnist package "
          "(apt install dataset-fashion-mnist); the folder is the config key data.path");
    if (std::filesystem::is_directory(filename_, ec)) fail("is a folder, not an IDX file");
    file_ = gzopen(filename_.c_str(), "rb");
    if (file_ == nullptr) fail("cannot be opened for reading");
  }
  ~IdxReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  const std::string& filename() const { return filename_; }

  [[noreturn]] void fail(const std::string& what) const { throw Error(filename_ + ": " + what); }

  /// Reads one big-endian 32-bit unsigned integer of the header; `what` names it in errors.
  std::uint32_t read_u32(const char* what) {
    std::array<unsigned char, 4> bytes{};
    std::size_t got = read_bytes(bytes.data(), bytes.size());
    if (got != bytes.size()) fail(cat("truncated: the file ends inside the header (", what, ")"));
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
           (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
  }

  /// Reads a header dimension, which must fit a positive (or, for counts, non-negative) int.
  int read_dimension(const char* what, bool allow_zero) {
    std::uint32_t value = read_u32(what);
    if (value > static_cast<std::uint32_t>(std::numeric_limits<int>::max()) ||
        (value == 0 && !allow_zero))
      fail(cat("corrupt header: ", what, " is ", value));
    return static_cast<int>(value);
  }

  /// Checks the magic number; names the other IDX kind when the files were swapped.
  void expect_magic(std::uint32_t expected) {
    std::uint32_t magic = read_u32("magic number");
    if (magic == expected) return;
    std::string hint;
    if (magic == kIdxImagesMagic) hint = " (this is an IDX image file)";
    if (magic == kIdxLabelsMagic) hint = " (this is an IDX label file)";
    fail(cat("bad magic number ", magic, ", expected ", expected,
             expected == kIdxImagesMagic ? " (IDX images)" : " (IDX labels)", hint));
  }

  /// Reads exactly `count` bytes of payload or throws, saying how many were found.
  void read_payload(unsigned char* dest, std::size_t count, const std::string& what) {
    std::size_t got = read_bytes(dest, count);
    if (got != count) fail(cat("truncated: expected ", count, " bytes of ", what, ", found ", got));
  }

 private:
  /// Reads up to `count` bytes; returns how many were read (fewer at the end of the data).
  std::size_t read_bytes(unsigned char* dest, std::size_t count) {
    constexpr std::size_t kChunk = std::size_t{1} << 24;
    std::size_t done = 0;
    while (done < count) {
      auto want = static_cast<unsigned>(std::min(kChunk, count - done));
      int got = gzread(file_, dest + done, want);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file_, &code);
        fail(cat("corrupt data: ", message != nullptr ? message : "zlib read error"));
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  std::string filename_;
  gzFile file_ = nullptr;
};

/// The samples to keep out of `available`: the first max_samples (0: all).
int kept_count(const IdxReader& reader, int available, int max_samples) {
  if (max_samples < 0) reader.fail(cat("max_samples must be >= 0, got ", max_samples));
  return max_samples == 0 ? available : std::min(available, max_samples);
}

struct ImageFile {
  int count = 0;  ///< images the header announces
  InputMatrix pixels;
};

struct LabelFile {
  int count = 0;  ///< labels the header announces
  std::vector<int> labels;
};

ImageFile read_images(const std::string& filename, int max_samples) {
  IdxReader reader(filename);
  reader.expect_magic(kIdxImagesMagic);
  ImageFile out;
  out.count = reader.read_dimension("image count", true);
  int rows = reader.read_dimension("rows", false);
  int cols = reader.read_dimension("columns", false);
  if (static_cast<long long>(rows) * cols > std::numeric_limits<int>::max())
    reader.fail(cat("corrupt header: images of ", rows, " x ", cols, " pixels"));
  int features = rows * cols;
  int kept = kept_count(reader, out.count, max_samples);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(kept) * features);
  reader.read_payload(bytes.data(), bytes.size(),
                      cat("pixels for ", kept, " images of ", rows, " x ", cols));
  out.pixels.resize(kept, features);
  float* dest = out.pixels.data();  // RowMajor: sample after sample, as in the file
  for (std::size_t i = 0; i < bytes.size(); ++i) dest[i] = static_cast<float>(bytes[i]) / 255.0f;
  return out;
}

LabelFile read_labels(const std::string& filename, int max_samples) {
  IdxReader reader(filename);
  reader.expect_magic(kIdxLabelsMagic);
  LabelFile out;
  out.count = reader.read_dimension("label count", true);
  int kept = kept_count(reader, out.count, max_samples);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(kept));
  reader.read_payload(bytes.data(), bytes.size(), cat(kept, " labels"));
  out.labels.assign(bytes.begin(), bytes.end());
  return out;
}

/// Uniform double in [0, 1) from the top 53 bits of one draw (the same on every platform).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Standard normal N(0, 1) by the Box-Muller transform, z = sqrt(-2 ln u1) cos(2 pi u2), with
/// u1 in (0, 1]. One pair of uniforms per value keeps the stream free of hidden state.
double standard_normal(std::mt19937_64& rng) {
  double u1 = 1.0 - uniform01(rng);
  double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

Dataset make_xor() {
  Dataset out;
  out.name = "xor";
  out.num_classes = 2;
  out.inputs.resize(4, 2);
  out.inputs << 0, 0, 0, 1, 1, 0, 1, 1;
  out.labels = {0, 1, 1, 0};
  return out;
}

/// Two moons: sample i has label i mod 2 (balanced) and angle t ~ U[0, pi]:
///   class 0: (cos t, sin t),  class 1: (1 - cos t, 0.5 - sin t),
/// each coordinate plus noise * N(0, 1).
Dataset make_two_moons(int samples, double noise, std::mt19937_64& rng) {
  Dataset out;
  out.name = "two-moons";
  out.num_classes = 2;
  out.inputs.resize(samples, 2);
  out.labels.resize(static_cast<std::size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    int label = i % 2;
    double t = kPi * uniform01(rng);
    double x = label == 0 ? std::cos(t) : 1.0 - std::cos(t);
    double y = label == 0 ? std::sin(t) : 0.5 - std::sin(t);
    x += noise * standard_normal(rng);
    y += noise * standard_normal(rng);
    out.inputs(i, 0) = static_cast<float>(x);
    out.inputs(i, 1) = static_cast<float>(y);
    out.labels[static_cast<std::size_t>(i)] = label;
  }
  return out;
}

/// One Fashion-MNIST part (train or t10k): images and labels with matching counts.
Dataset load_fashion_part(const std::filesystem::path& folder, const std::string& prefix,
                          int max_samples) {
  std::string images_name = (folder / (prefix + "-images-idx3-ubyte.gz")).string();
  std::string labels_name = (folder / (prefix + "-labels-idx1-ubyte.gz")).string();
  ImageFile images = read_images(images_name, max_samples);
  LabelFile labels = read_labels(labels_name, max_samples);
  if (images.count != labels.count)
    throw Error(cat(images_name, " holds ", images.count, " images but ", labels_name, " holds ",
                    labels.count, " labels"));
  if (images.pixels.cols() != kFashionPixels)
    throw Error(cat(images_name, ": images have ", images.pixels.cols(), " pixels, expected ",
                    kFashionPixels, " (28 x 28)"));
  for (std::size_t i = 0; i < labels.labels.size(); ++i)
    if (labels.labels[i] < 0 || labels.labels[i] >= kFashionClasses)
      throw Error(cat(labels_name, ": label ", labels.labels[i], " of sample ", i,
                      " is out of range [0, ", kFashionClasses, ")"));
  Dataset out;
  out.name = "fashion-mnist";
  out.num_classes = kFashionClasses;
  out.inputs = std::move(images.pixels);
  out.labels = std::move(labels.labels);
  return out;
}

}  // namespace

InputMatrix read_idx_images(const std::string& filename, int max_samples) {
  return read_images(filename, max_samples).pixels;
}

std::vector<int> read_idx_labels(const std::string& filename, int max_samples) {
  return read_labels(filename, max_samples).labels;
}

InputMatrix average_pool(const InputMatrix& images, int side, int k) {
  if (k < 1 || side % k != 0 || images.cols() != static_cast<Eigen::Index>(side) * side)
    throw Error(cat("average_pool: ", images.cols(), " pixels cannot be pooled over ", k, " x ", k,
                    " blocks of a ", side, " x ", side, " image"));
  const int out_side = side / k;
  InputMatrix out = InputMatrix::Zero(images.rows(), static_cast<Eigen::Index>(out_side) * out_side);
  const float scale = 1.0f / static_cast<float>(k * k);
  for (Eigen::Index s = 0; s < images.rows(); ++s)
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c)
        out(s, (r / k) * out_side + c / k) += images(s, r * side + c) * scale;
  return out;
}

Shape shape(const DataParams& params) {
  if (params.type == "xor" || params.type == "two-moons") return {2, 2};
  if (params.type == "fashion-mnist") {
    if (params.pool < 1 || kFashionSide % params.pool != 0)
      throw ConfigError("data.pool", std::to_string(params.pool),
                        "must divide 28 (1, 2, 4, 7, 14 or 28)");
    const int side = kFashionSide / params.pool;
    return {side * side, kFashionClasses};
  }
  throw ConfigError("data.type", params.type, "must be one of: xor, two-moons, fashion-mnist");
}

Split load(const DataParams& params, unsigned experiment_seed) {
  if (params.type == "xor") return {make_xor(), make_xor()};
  if (params.type == "two-moons") {
    if (params.samples < 1)
      throw ConfigError("data.samples", std::to_string(params.samples), "must be >= 1");
    if (!(params.noise >= 0.0)) throw ConfigError("data.noise", cat(params.noise), "must be >= 0");
    std::uint64_t seed = params.seed != 0 ? static_cast<std::uint64_t>(params.seed)
                                          : static_cast<std::uint64_t>(experiment_seed);
    std::mt19937_64 rng(seed);
    Split split;
    split.train = make_two_moons(params.samples, params.noise, rng);
    split.test = make_two_moons(params.samples, params.noise, rng);
    return split;
  }
  if (params.type == "fashion-mnist") {
    Split split;
    split.train = load_fashion_part(params.path, "train", params.train_size);
    split.test = load_fashion_part(params.path, "t10k", params.test_size);
    if (params.pool != 1) {
      shape(params);  // checks the pool
      split.train.inputs = average_pool(split.train.inputs, kFashionSide, params.pool);
      split.test.inputs = average_pool(split.test.inputs, kFashionSide, params.pool);
    }
    return split;
  }
  throw ConfigError("data.type", params.type, "must be one of: xor, two-moons, fashion-mnist");
}

}  // namespace physlearn::data
