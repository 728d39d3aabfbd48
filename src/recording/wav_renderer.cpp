#include "recording/wav_renderer.hpp"

#include "recording/renderer.hpp"

namespace siprecd::recording {

Result<RenderResult> renderWav(const RenderRequest& request) {
  if (request.streams.empty()) {
    return fail("render request has no streams");
  }
  RecordingRenderRequest full;
  full.streams.reserve(request.streams.size());
  for (const RenderStream& stream : request.streams) {
    full.streams.push_back(LayoutStream{stream.spool_path, StreamSide::Unknown});
  }
  full.output = request.output_wav;
  full.format = AudioFormat::Wav;
  full.layout = ChannelLayout::Multitrack;
  full.session_start_epoch_ms = request.session_start_epoch_ms;
  full.session_end_epoch_ms = request.session_end_epoch_ms;
  full.sync_to_disk = request.sync_to_disk;
  auto rendered = renderRecording(full);
  if (!rendered) {
    return tl::unexpected(rendered.error());
  }
  return std::move(rendered->timeline);
}

}  // namespace siprecd::recording
