#include "core/files.hpp"

#include <fstream>

namespace fapigate::core {

Result<std::string> read_file_bounded(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error_code(boost::system::errc::no_such_file_or_directory);
  }
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    return make_error_code(boost::system::errc::file_too_large);
  }
  return text;
}

}  // namespace fapigate::core
