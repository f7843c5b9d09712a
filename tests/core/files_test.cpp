// core::read_file_bounded: the whole file up to the bound, a clear error past it or when absent.
#include "core/files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fapigate::core {
namespace {

std::string temp_with(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() /
           ("fapigate-files-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

TEST(ReadFileBounded, ReadsUpToTheBoundAndRefusesOneByteMore) {
  const std::string exact(100, 'k');
  auto ok = read_file_bounded(temp_with("exact", exact), 100);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, exact);
  auto over = read_file_bounded(temp_with("over", exact + "x"), 100);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), boost::system::errc::file_too_large);
}

TEST(ReadFileBounded, BinaryAndEmptyFilesComeBackAsTheyAre) {
  const std::string bytes("a\0b\r\n", 5);
  auto read = read_file_bounded(temp_with("binary", bytes), 64);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, bytes);
  auto empty = read_file_bounded(temp_with("empty", ""), 64);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(ReadFileBounded, MissingFileIsNoSuchFile) {
  auto r = read_file_bounded("/nonexistent/fapigate/key.pem", 64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), boost::system::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace fapigate::core
