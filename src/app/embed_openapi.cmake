# Writes OUTPUT, a C++ source defining siprecd::app::openApiDocument() that returns the text
# of INPUT (docs/openapi.yaml), so the installed binary serves GET /openapi.yaml without the
# source tree. Run by src/app/CMakeLists.txt whenever INPUT changes.
file(READ "${INPUT}" content)
set(delimiter "siprecd_openapi")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by src/app/embed_openapi.cmake; do not edit.\n"
  "#include \"app/api_routes.hpp\"\n\n"
  "namespace siprecd::app {\n\n"
  "std::string_view openApiDocument() {\n"
  "  static constexpr std::string_view kDocument = R\"${delimiter}(${content})${delimiter}\";\n"
  "  return kDocument;\n"
  "}\n\n"
  "}  // namespace siprecd::app\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
