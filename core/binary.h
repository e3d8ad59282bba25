#pragma once
/// Exact values in JSON files: arrays as the little-endian bytes of the values in base64 text, so
/// they come back bit for bit; matrices with their shape; random engines in the standard's text.
///   json j = encode_array(m.data(), m.size());           // any 1-, 2-, 4- or 8-byte values
///   std::vector<double> v = decode_array<double>(j, n, "layers[0].g");
///   json w = encode_matrix(weights);  decode_matrix(w, weights, true, "model.weights[0]");
/// Decoding checks the text, the count and the shape; errors are physlearn::Error naming `where`.
#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/schema.h"

namespace physlearn {

/// object[key]; an Error naming `where` when `object` is not an object or has no such key.
const json& member(const json& object, const char* key, const std::string& where);

/// Base64 (RFC 4648, with padding) of `size` bytes.
std::string base64_encode(const std::uint8_t* bytes, std::size_t size);
/// Decodes base64 `text` into exactly `size` bytes at `out` (`element`: bytes per value, for the
/// message when the count differs).
void base64_decode(const std::string& text, std::uint8_t* out, std::size_t size,
                   std::size_t element, const std::string& where);
bool little_endian();

/// Base64 of the little-endian bytes of n values.
template <class T>
std::string encode_array(const T* data, std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T>, "plain values only");
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "1-, 2-, 4- or 8-byte values");
  if (sizeof(T) == 1 || little_endian())
    return base64_encode(reinterpret_cast<const std::uint8_t*>(data), n * sizeof(T));
  std::vector<std::uint8_t> bytes(n * sizeof(T));
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &data[i], sizeof(T));  // the value's own bytes; big-endian: low bytes last
    if (sizeof(T) < 8) bits >>= 8 * (8 - sizeof(T));
    for (std::size_t b = 0; b < sizeof(T); ++b)
      bytes[i * sizeof(T) + b] = static_cast<std::uint8_t>(bits >> (8 * b));
  }
  return base64_encode(bytes.data(), bytes.size());
}

/// n values from a base64 string written by encode_array().
template <class T>
std::vector<T> decode_array(const json& value, std::size_t n, const std::string& where) {
  static_assert(std::is_trivially_copyable_v<T>, "plain values only");
  if (!value.is_string()) throw Error(cat(where, ": must be a base64 string"));
  const std::string& text = value.get_ref<const std::string&>();
  std::vector<T> out(n);
  if (sizeof(T) == 1 || little_endian()) {
    base64_decode(text, reinterpret_cast<std::uint8_t*>(out.data()), n * sizeof(T), sizeof(T),
                  where);
    return out;
  }
  std::vector<std::uint8_t> bytes(n * sizeof(T));
  base64_decode(text, bytes.data(), bytes.size(), sizeof(T), where);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < sizeof(T); ++b)
      bits |= static_cast<std::uint64_t>(bytes[i * sizeof(T) + b]) << (8 * b);
    if (sizeof(T) < 8) bits <<= 8 * (8 - sizeof(T));
    std::memcpy(&out[i], &bits, sizeof(T));
  }
  return out;
}

/// {"rows", "cols", "data": base64 of the column-major values} of a dense matrix or vector.
template <class Derived>
json encode_matrix(const Eigen::PlainObjectBase<Derived>& m) {
  return {{"rows", m.rows()},
          {"cols", m.cols()},
          {"data", encode_array(m.data(), static_cast<std::size_t>(m.size()))}};
}

/// Reads a matrix written by encode_matrix into `m`. With `same_shape` the stored shape must be
/// m's current shape (parameters of a network made from the same configuration); without, `m`
/// takes the stored shape.
template <class Derived>
void decode_matrix(const json& value, Eigen::PlainObjectBase<Derived>& m, bool same_shape,
                   const std::string& where) {
  using Scalar = typename Derived::Scalar;
  if (!value.is_object() || !value.contains("rows") || !value.contains("cols") ||
      !value.contains("data") || !value["rows"].is_number_integer() ||
      !value["cols"].is_number_integer())
    throw Error(cat(where, ": must be {\"rows\", \"cols\", \"data\"}"));
  const Eigen::Index rows = value["rows"].get<Eigen::Index>(),
                     cols = value["cols"].get<Eigen::Index>();
  if (rows < 0 || cols < 0) throw Error(cat(where, ": negative shape"));
  if (same_shape && (rows != m.rows() || cols != m.cols()))
    throw Error(cat(where, ": shape ", rows, "x", cols, ", expected ", m.rows(), "x", m.cols()));
  const auto values =
      decode_array<Scalar>(value["data"], static_cast<std::size_t>(rows * cols), where);
  m.resize(rows, cols);
  if (!values.empty()) std::memcpy(m.data(), values.data(), values.size() * sizeof(Scalar));
}

/// A list of matrices (the layers of a network) as a JSON array of encode_matrix objects, and
/// back: the stored list must have as many entries as `matrices`.
template <class Matrix>
json encode_matrices(const std::vector<Matrix>& matrices) {
  json out = json::array();
  for (const auto& m : matrices) out.push_back(encode_matrix(m));
  return out;
}

template <class Matrix>
void decode_matrices(const json& value, std::vector<Matrix>& matrices, bool same_shape,
                     const std::string& where) {
  if (!value.is_array() || value.size() != matrices.size())
    throw Error(cat(where, ": must hold ", matrices.size(), " matrices"));
  for (std::size_t l = 0; l < matrices.size(); ++l)
    decode_matrix(value[l], matrices[l], same_shape, cat(where, "[", l, "]"));
}

/// A random engine's state as text (the standard's operator<< format) and back.
std::string engine_state(const std::mt19937_64& engine);
void set_engine_state(std::mt19937_64& engine, const json& text, const std::string& where);

}  // namespace physlearn
