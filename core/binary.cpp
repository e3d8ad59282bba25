#include "core/binary.h"

#include <array>
#include <cstdint>
#include <sstream>

namespace physlearn {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

const json& member(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw Error(cat(where, ": must be an object"));
  const auto found = object.find(key);
  if (found == object.end()) throw Error(cat(where, ": \"", key, "\" is missing"));
  return *found;
}

bool little_endian() {
  const std::uint16_t one = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

std::string base64_encode(const std::uint8_t* bytes, std::size_t size) {
  std::string out((size + 2) / 3 * 4, '=');
  char* o = out.data();
  const std::size_t whole = size / 3 * 3;
  for (std::size_t i = 0; i < whole; i += 3, o += 4) {
    const std::uint32_t v =
        (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
  }
  if (whole < size) {
    const bool two = whole + 1 < size;
    const std::uint32_t v =
        (std::uint32_t{bytes[whole]} << 16) | (two ? std::uint32_t{bytes[whole + 1]} << 8 : 0);
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    if (two) o[2] = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

void base64_decode(const std::string& text, std::uint8_t* out, std::size_t size,
                   std::size_t element, const std::string& where) {
  static const auto table = [] {
    std::array<std::int8_t, 256> t;
    t.fill(-1);
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  if (text.size() % 4 != 0) throw Error(cat(where, ": not base64 (length)"));
  std::size_t pad = 0;
  if (!text.empty() && text[text.size() - 1] == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  const std::size_t decoded = text.size() / 4 * 3 - pad;
  if (decoded != size)
    throw Error(cat(where, ": holds ", decoded / element, " values, expected ", size / element));
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      std::int8_t d = table[static_cast<unsigned char>(c)];
      if (c == '=' && i + 4 == text.size() && k >= 4 - pad) d = 0;
      if (d < 0) throw Error(cat(where, ": not base64"));
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    for (std::size_t k = 0; k < 3 && o < size; ++k)
      out[o++] = static_cast<std::uint8_t>(v >> (16 - 8 * k));
  }
}

std::string engine_state(const std::mt19937_64& engine) {
  std::ostringstream out;
  out << engine;
  return out.str();
}

void set_engine_state(std::mt19937_64& engine, const json& text, const std::string& where) {
  if (!text.is_string()) throw Error(cat(where, ": must be a random engine state (text)"));
  std::istringstream in(text.get<std::string>());
  std::mt19937_64 read;
  in >> read;
  if (in.fail()) throw Error(cat(where, ": malformed random engine state"));
  in >> std::ws;
  if (!in.eof()) throw Error(cat(where, ": malformed random engine state (trailing text)"));
  engine = read;
}

}  // namespace physlearn
