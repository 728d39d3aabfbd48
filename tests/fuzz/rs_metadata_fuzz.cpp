// Fuzzes parseRsMetadata() (RFC 7865 metadata from the network). Properties checked on
// every accepted input: the JSON view can be built and dumped (all strings valid
// UTF-8), merging a document into itself (aliased) and into a copy changes nothing,
// and participantForLabel() can be asked about every stream label.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "siprec/rs_metadata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = siprecd::siprec::parseRsMetadata(input);
  if (!parsed) {
    if (parsed.error().code != 400 && parsed.error().code != 413) {
      std::abort();
    }
    return 0;
  }
  siprecd::siprec::RsMetadata& metadata = *parsed;
  (void)siprecd::siprec::rsMetadataToJson(metadata).dump();

  siprecd::siprec::RsMetadata copy = metadata;
  siprecd::siprec::mergeRsMetadata(copy, metadata);
  if (!(copy == metadata)) {
    std::abort();
  }
  siprecd::siprec::mergeRsMetadata(metadata, metadata);
  if (!(copy == metadata)) {
    std::abort();
  }
  for (const auto& stream : metadata.streams) {
    (void)siprecd::siprec::participantForLabel(metadata, stream.label);
  }
  return 0;
}
