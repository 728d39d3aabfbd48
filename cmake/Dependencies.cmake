# All third-party libraries come from Debian 12 packages (see scripts/setup).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(pugixml REQUIRED)
find_package(tl-expected REQUIRED)
find_package(GTest REQUIRED)
include(GoogleTest)

# SRTP is network input (fuzzed), so it is found in every build, the fuzz build included.
pkg_check_modules(SRTP2 REQUIRED IMPORTED_TARGET libsrtp2)

# Standalone asio is header-only; Debian ships no CMake package for it.
add_library(asio_standalone INTERFACE)
target_compile_definitions(asio_standalone INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(asio_standalone INTERFACE Threads::Threads)

if(SIPRECD_BUILD_APP)
  find_package(yaml-cpp REQUIRED)
  find_package(SQLiteCpp REQUIRED)
  find_package(SQLite3 REQUIRED)
  pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
  pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)
  pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
  find_package(restinio REQUIRED)
endif()
