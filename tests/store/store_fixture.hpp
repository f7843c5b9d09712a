// A real SQLite file in a fresh temporary directory, with one tls_client_auth client
// ("partner") that rows referencing clients can point at. Shared by the store suites.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"

namespace fapigate::store::testing {

class SqliteStoreFixture : public ::testing::Test {
protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "fapigate-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "fapigate.db").string();
    store_ = open();
    ASSERT_TRUE(store_);
    ClientRecord c;
    c.client_id = "partner";
    c.token_endpoint_auth_method = "tls_client_auth";
    ASSERT_TRUE(store_->put_client(c));
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<Store> open() {
    auto s = open_sqlite_store(path_);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

}  // namespace fapigate::store::testing
