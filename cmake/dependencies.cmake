# Every dependency comes from Debian 12 packages (see scripts/install-deps); nothing is downloaded.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(FAPIGATE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(FAPIGATE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Asio and Beast are compiled once, in src/http/boost_*.cpp; every user links this target.
add_library(fapigate_asio_config INTERFACE)
target_compile_definitions(fapigate_asio_config INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
target_link_libraries(fapigate_asio_config INTERFACE Boost::headers Threads::Threads)
