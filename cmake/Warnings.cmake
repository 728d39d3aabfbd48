# Warnings are errors for our own code; third-party headers come in as SYSTEM includes.
function(siprecd_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()

# siprecd_module(NAME SOURCES ... DEPS ...): a static library for one src/ module.
function(siprecd_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(siprecd_${name} STATIC ${ARG_SOURCES})
  target_include_directories(siprecd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src
                                                    ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(siprecd_${name} PUBLIC ${ARG_DEPS})
  siprecd_set_warnings(siprecd_${name})
endfunction()

# siprecd_unit_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(siprecd_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
  target_compile_definitions(${name} PRIVATE
    SIPRECD_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/unit/data")
  siprecd_set_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()
