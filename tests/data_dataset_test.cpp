#include "data/dataset.h"

#include <doctest/doctest.h>

#include "skip.h"
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace fs = std::filesystem;
using physlearn::Error;
using physlearn::data::average_pool;
using physlearn::data::DataParams;
using physlearn::data::InputMatrix;
using physlearn::data::load;
using physlearn::data::read_idx_images;
using physlearn::data::read_idx_labels;
using physlearn::data::Split;

namespace {

/// A fresh temporary folder, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("physlearn-data-test-" + std::to_string(::getpid()) + "-" + std::to_string(next_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int next_ = 0;
  fs::path path_;
};

void append_u32(std::vector<unsigned char>& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<unsigned char>((value >> shift) & 0xff));
}

std::vector<unsigned char> idx_images(std::uint32_t magic, std::uint32_t count, std::uint32_t rows,
                                      std::uint32_t cols,
                                      const std::vector<unsigned char>& pixels) {
  std::vector<unsigned char> bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count);
  append_u32(bytes, rows);
  append_u32(bytes, cols);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

std::vector<unsigned char> idx_labels(std::uint32_t magic, std::uint32_t count,
                                      const std::vector<unsigned char>& labels) {
  std::vector<unsigned char> bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

void write_gz(const std::string& filename, const std::vector<unsigned char>& bytes) {
  gzFile file = gzopen(filename.c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty())
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

void write_plain(const std::string& filename, const std::vector<unsigned char>& bytes) {
  std::ofstream out(filename, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

/// The message of the physlearn::Error that `body` throws (fails the test if none is thrown).
template <class Body>
std::string error_message(Body body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  FAIL("no physlearn::Error was thrown");
  return {};
}

/// Smallest and largest entry, by std::minmax_element: Eigen's vectorised minCoeff()/maxCoeff() on
/// floats trips GCC 12's -Wmaybe-uninitialized inside the AVX-512 intrinsics.
std::pair<float, float> value_range(const InputMatrix& values) {
  const float* data = values.data();
  auto [low, high] = std::minmax_element(data, data + values.size());
  return {*low, *high};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// 3 images of 2 x 3 pixels covering 0, 255 and values between.
const std::vector<unsigned char> kPixels = {0,  1,  2, 3, 4, 5, 255, 128, 64,
                                            32, 16, 8, 7, 6, 9, 10,  200, 100};
const std::vector<unsigned char> kLabels = {3, 0, 9};

}  // namespace

TEST_CASE("xor holds the 4 corners of the unit square labelled x1 xor x2") {
  DataParams params;
  params.type = "xor";
  Split split = load(params, 1);
  for (const auto* set : {&split.train, &split.test}) {
    CHECK(set->name == "xor");
    CHECK(set->num_classes == 2);
    REQUIRE(set->num_samples() == 4);
    REQUIRE(set->num_features() == 2);
    REQUIRE(set->labels.size() == 4);
    std::set<std::pair<int, int>> corners;
    for (int i = 0; i < 4; ++i) {
      float x1 = set->inputs(i, 0);
      float x2 = set->inputs(i, 1);
      CHECK((x1 == 0.0f || x1 == 1.0f));
      CHECK((x2 == 0.0f || x2 == 1.0f));
      corners.insert({static_cast<int>(x1), static_cast<int>(x2)});
      CHECK(set->labels[static_cast<std::size_t>(i)] ==
            (static_cast<int>(x1) ^ static_cast<int>(x2)));
    }
    CHECK(corners.size() == 4);
  }
}

TEST_CASE("two moons is deterministic in its seed") {
  DataParams params;
  params.type = "two-moons";
  params.samples = 101;
  params.noise = 0.1;

  Split a = load(params, 7);
  Split b = load(params, 7);
  REQUIRE(a.train.inputs.rows() == b.train.inputs.rows());
  CHECK(std::memcmp(a.train.inputs.data(), b.train.inputs.data(),
                    sizeof(float) * static_cast<std::size_t>(a.train.inputs.size())) == 0);
  CHECK(std::memcmp(a.test.inputs.data(), b.test.inputs.data(),
                    sizeof(float) * static_cast<std::size_t>(a.test.inputs.size())) == 0);
  CHECK(a.train.labels == b.train.labels);
  CHECK(a.test.labels == b.test.labels);

  SUBCASE("another experiment seed gives other data") {
    Split c = load(params, 8);
    CHECK(c.train.inputs != a.train.inputs);
    CHECK(c.test.inputs != a.test.inputs);
  }
  SUBCASE("data.seed overrides the experiment seed") {
    params.seed = 7;
    Split c = load(params, 12345);
    CHECK(c.train.inputs == a.train.inputs);
    params.seed = 99;
    Split d = load(params, 7);
    CHECK(d.train.inputs != a.train.inputs);
  }
  SUBCASE("train and test are drawn independently") { CHECK(a.train.inputs != a.test.inputs); }
}

TEST_CASE("two moons is balanced and lies on its two half circles") {
  DataParams params;
  params.type = "two-moons";
  params.samples = 400;
  params.noise = 0.0;
  Split split = load(params, 3);
  for (const auto* set : {&split.train, &split.test}) {
    CHECK(set->name == "two-moons");
    CHECK(set->num_classes == 2);
    REQUIRE(set->num_samples() == 400);
    REQUIRE(set->num_features() == 2);
    REQUIRE(set->labels.size() == 400);
    int ones = 0;
    for (int i = 0; i < set->num_samples(); ++i) {
      int label = set->labels[static_cast<std::size_t>(i)];
      REQUIRE((label == 0 || label == 1));
      ones += label;
      double x = set->inputs(i, 0);
      double y = set->inputs(i, 1);
      // Noise-free: class 0 on the upper unit half circle around (0, 0), class 1 on the lower one
      // around (1, 0.5).
      double cx = label == 0 ? 0.0 : 1.0;
      double cy = label == 0 ? 0.0 : 0.5;
      CHECK(std::hypot(x - cx, y - cy) == doctest::Approx(1.0).epsilon(1e-5));
      if (label == 0)
        CHECK(y >= -1e-6);
      else
        CHECK(y <= 0.5 + 1e-6);
    }
    CHECK(ones == 200);
  }

  SUBCASE("noise jitters the points by about its standard deviation") {
    params.noise = 0.2;
    params.samples = 2000;
    Split noisy = load(params, 3);
    double sum_sq = 0.0;
    for (int i = 0; i < noisy.train.num_samples(); ++i) {
      int label = noisy.train.labels[static_cast<std::size_t>(i)];
      double cx = label == 0 ? 0.0 : 1.0;
      double cy = label == 0 ? 0.0 : 0.5;
      double r = std::hypot(noisy.train.inputs(i, 0) - cx, noisy.train.inputs(i, 1) - cy);
      sum_sq += (r - 1.0) * (r - 1.0);
    }
    double rms = std::sqrt(sum_sq / noisy.train.num_samples());
    CHECK(rms > 0.12);
    CHECK(rms < 0.3);
  }
  SUBCASE("an odd count splits the classes within one") {
    params.samples = 7;
    Split odd = load(params, 3);
    int ones = 0;
    for (int label : odd.train.labels) ones += label;
    CHECK((ones == 3 || ones == 4));
  }
}

TEST_CASE("IDX files round-trip exactly, gzip-compressed or plain") {
  TempDir dir;
  std::string images_gz = dir.file("images.gz");
  std::string labels_gz = dir.file("labels.gz");
  write_gz(images_gz, idx_images(2051, 3, 2, 3, kPixels));
  write_gz(labels_gz, idx_labels(2049, 3, kLabels));

  InputMatrix images = read_idx_images(images_gz, 0);
  REQUIRE(images.rows() == 3);
  REQUIRE(images.cols() == 6);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j)
      CHECK(images(i, j) ==
            static_cast<float>(kPixels[static_cast<std::size_t>(i * 6 + j)]) / 255.0f);
  CHECK(value_range(images) == std::pair<float, float>{0.0f, 1.0f});
  CHECK(read_idx_labels(labels_gz, 0) == std::vector<int>{3, 0, 9});

  SUBCASE("max_samples keeps the first samples") {
    InputMatrix first = read_idx_images(images_gz, 2);
    REQUIRE(first.rows() == 2);
    CHECK(first == images.topRows(2));
    CHECK(read_idx_labels(labels_gz, 2) == std::vector<int>{3, 0});
    CHECK(read_idx_images(images_gz, 10).rows() == 3);
  }
  SUBCASE("plain files read the same") {
    std::string images_raw = dir.file("images.raw");
    std::string labels_raw = dir.file("labels.raw");
    write_plain(images_raw, idx_images(2051, 3, 2, 3, kPixels));
    write_plain(labels_raw, idx_labels(2049, 3, kLabels));
    CHECK(read_idx_images(images_raw, 0) == images);
    CHECK(read_idx_labels(labels_raw, 0) == std::vector<int>{3, 0, 9});
  }
}

TEST_CASE("corrupt or missing IDX files throw physlearn::Error naming the file") {
  TempDir dir;

  SUBCASE("missing file names the package and the config key") {
    std::string missing = dir.file("nowhere-images-idx3-ubyte.gz");
    std::string message = error_message([&] { read_idx_images(missing, 0); });
    CHECK(contains(message, missing));
    CHECK(contains(message, "dataset-fashion-mnist"));
    CHECK(contains(message, "data.path"));
    CHECK(contains(error_message([&] { read_idx_labels(missing, 0); }), missing));
  }
  SUBCASE("bad magic") {
    std::string bad = dir.file("bad-magic.gz");
    write_gz(bad, idx_images(1234, 3, 2, 3, kPixels));
    std::string message = error_message([&] { read_idx_images(bad, 0); });
    CHECK(contains(message, bad));
    CHECK(contains(message, "magic"));
    CHECK(contains(message, "1234"));
    CHECK_THROWS_AS(read_idx_labels(bad, 0), Error);
  }
  SUBCASE("labels read as images and images read as labels") {
    std::string images = dir.file("images.gz");
    std::string labels = dir.file("labels.gz");
    write_gz(images, idx_images(2051, 3, 2, 3, kPixels));
    write_gz(labels, idx_labels(2049, 3, kLabels));
    std::string message = error_message([&] { read_idx_images(labels, 0); });
    CHECK(contains(message, labels));
    CHECK(contains(message, "label file"));
    CHECK(contains(error_message([&] { read_idx_labels(images, 0); }), images));
  }
  SUBCASE("truncated pixels") {
    std::string cut = dir.file("cut-images.gz");
    std::vector<unsigned char> pixels(kPixels.begin(), kPixels.end() - 1);
    write_gz(cut, idx_images(2051, 3, 2, 3, pixels));
    std::string message = error_message([&] { read_idx_images(cut, 0); });
    CHECK(contains(message, cut));
    CHECK(contains(message, "truncated"));
    // The first two images are complete.
    CHECK(read_idx_images(cut, 2).rows() == 2);
  }
  SUBCASE("truncated labels") {
    std::string cut = dir.file("cut-labels.gz");
    write_gz(cut, idx_labels(2049, 4, kLabels));
    std::string message = error_message([&] { read_idx_labels(cut, 0); });
    CHECK(contains(message, cut));
    CHECK(contains(message, "truncated"));
  }
  SUBCASE("truncated header") {
    std::string cut = dir.file("cut-header.gz");
    std::vector<unsigned char> bytes = idx_images(2051, 3, 2, 3, {});
    bytes.resize(10);
    write_gz(cut, bytes);
    CHECK_THROWS_WITH_AS(read_idx_images(cut, 0), doctest::Contains("cut-header.gz: truncated"),
                         Error);
    std::string empty = dir.file("empty.gz");
    write_gz(empty, {});
    CHECK_THROWS_WITH_AS(read_idx_labels(empty, 0), doctest::Contains("empty.gz"), Error);
  }
  SUBCASE("a cut gzip stream") {
    std::string whole = dir.file("whole.gz");
    std::vector<unsigned char> pixels(4000);
    for (std::size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<unsigned char>(i * 7919);
    write_gz(whole, idx_images(2051, 10, 20, 20, pixels));
    std::ifstream in(whole, std::ios::binary);
    std::vector<char> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string cut = dir.file("cut-stream.gz");
    std::ofstream out(cut, std::ios::binary);
    out.write(gz.data(), static_cast<std::streamsize>(gz.size() / 2));
    out.close();
    CHECK_THROWS_WITH_AS(read_idx_images(cut, 0), doctest::Contains("cut-stream.gz"), Error);
  }
}

TEST_CASE("fashion-mnist checks its files") {
  TempDir dir;
  DataParams params;
  params.type = "fashion-mnist";
  params.path = dir.file("");

  SUBCASE("missing files name the expected path") {
    std::string message = error_message([&] { load(params, 1); });
    CHECK(contains(message, "train-images-idx3-ubyte.gz"));
    CHECK(contains(message, "dataset-fashion-mnist"));
  }
  SUBCASE("mismatched counts and out-of-range labels") {
    std::vector<unsigned char> pixels(3 * 784, 17);
    for (const char* prefix : {"train", "t10k"}) {
      write_gz(dir.file(std::string(prefix) + "-images-idx3-ubyte.gz"),
               idx_images(2051, 3, 28, 28, pixels));
      write_gz(dir.file(std::string(prefix) + "-labels-idx1-ubyte.gz"),
               idx_labels(2049, 3, {1, 2, 3}));
    }
    Split split = load(params, 1);
    CHECK(split.train.name == "fashion-mnist");
    CHECK(split.train.num_classes == 10);
    CHECK(split.train.num_samples() == 3);
    CHECK(split.test.num_features() == 784);

    write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels(2049, 2, {1, 2}));
    CHECK_THROWS_WITH_AS(load(params, 1), doctest::Contains("t10k-labels-idx1-ubyte.gz"), Error);

    write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels(2049, 3, {1, 12, 3}));
    std::string message = error_message([&] { load(params, 1); });
    CHECK(contains(message, "t10k-labels-idx1-ubyte.gz"));
    CHECK(contains(message, "12"));
    CHECK(contains(message, "out of range"));
  }
}

TEST_CASE("fashion-mnist from Debian's dataset-fashion-mnist package") {
  const std::string folder = "/usr/share/datasets/fashion-mnist";
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  DataParams params;
  params.type = "fashion-mnist";
  params.path = folder;
  params.train_size = 1000;
  params.test_size = 500;
  Split split = load(params, 1);
  CHECK(split.train.name == "fashion-mnist");
  CHECK(split.train.num_classes == 10);
  CHECK(split.test.num_classes == 10);
  CHECK(split.train.num_samples() == 1000);
  CHECK(split.test.num_samples() == 500);
  CHECK(split.train.num_features() == 784);
  CHECK(split.test.num_features() == 784);
  CHECK(split.train.labels.size() == 1000);
  CHECK(split.test.labels.size() == 500);
  for (const auto* set : {&split.train, &split.test}) {
    auto [low, high] = value_range(set->inputs);
    CHECK(low >= 0.0f);
    CHECK(high <= 1.0f);
    CHECK(high > 0.5f);  // not all black
    std::set<int> classes;
    for (int label : set->labels) {
      CHECK(label >= 0);
      CHECK(label < 10);
      classes.insert(label);
    }
    CHECK(classes.size() == 10);
  }
}

TEST_CASE("average pooling replaces each k x k block by its mean") {
  // A 4 x 4 image with pixel (r, c) = r * 4 + c, pooled over 2 x 2 blocks.
  InputMatrix image(1, 16);
  for (int i = 0; i < 16; ++i) image(0, i) = static_cast<float>(i);
  const InputMatrix pooled = average_pool(image, 4, 2);
  REQUIRE(pooled.cols() == 4);
  CHECK(pooled(0, 0) == doctest::Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(pooled(0, 1) == doctest::Approx((2 + 3 + 6 + 7) / 4.0));
  CHECK(pooled(0, 2) == doctest::Approx((8 + 9 + 12 + 13) / 4.0));
  CHECK(pooled(0, 3) == doctest::Approx((10 + 11 + 14 + 15) / 4.0));
  CHECK(average_pool(image, 4, 1) == image);
  CHECK_THROWS_AS(average_pool(image, 4, 3), physlearn::Error);

  const std::string folder = "/usr/share/datasets/fashion-mnist";
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist): the pooled images are not checked");
  DataParams params;
  params.type = "fashion-mnist";
  params.train_size = 10;
  params.test_size = 10;
  params.pool = 4;
  Split split = load(params, 1);
  CHECK(split.train.num_features() == 49);
  CHECK(split.test.num_features() == 49);
  params.pool = 3;
  try {
    load(params, 1);
    FAIL("pool 3 accepted");
  } catch (const physlearn::ConfigError& e) {
    CHECK(std::string(e.what()).find("data.pool") != std::string::npos);
  }
}

TEST_CASE("shape gives what load gives, without loading") {
  DataParams params;
  params.type = "xor";
  Split xor_split = load(params, 1);
  CHECK(shape(params).features == xor_split.train.num_features());
  CHECK(shape(params).classes == xor_split.train.num_classes);
  params.type = "two-moons";
  Split moons = load(params, 1);
  CHECK(shape(params).features == moons.train.num_features());
  CHECK(shape(params).classes == moons.train.num_classes);
  // Fashion-MNIST's shape needs no file: a folder that does not exist still has a shape.
  params.type = "fashion-mnist";
  params.path = "/nonexistent";
  for (int pool : {1, 2, 4, 7, 14, 28}) {
    params.pool = pool;
    CHECK(shape(params).features == (28 / pool) * (28 / pool));
    CHECK(shape(params).classes == 10);
  }
  params.pool = 3;
  CHECK_THROWS_WITH_AS(shape(params), doctest::Contains("data.pool"), physlearn::ConfigError);
  params.pool = 0;
  CHECK_THROWS_AS(shape(params), physlearn::ConfigError);
  params.type = "mnist";
  CHECK_THROWS_WITH_AS(shape(params), doctest::Contains("data.type"), physlearn::ConfigError);
}
