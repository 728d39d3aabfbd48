#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.hpp"

/// Output formats and channel layouts of a rendered recording by name (DESIGN.md §2
/// "Formats"). Pure functions, any thread; light (no codec library), so the REST command
/// parser and its fuzz target use them without the renderer.
namespace siprecd::recording {

enum class AudioFormat { Wav, Flac, Mp3, Opus };
enum class ChannelLayout { Stereo, Mono, Multitrack };

/// "wav" | "flac" | "mp3" | "opus" (case-insensitive); fails (code 400) naming the value.
Result<AudioFormat> parseAudioFormat(std::string_view text);
/// "stereo" | "mono" | "multitrack" (case-insensitive); fails (code 400) naming the value.
Result<ChannelLayout> parseChannelLayout(std::string_view text);
std::string_view toString(AudioFormat format);
std::string_view toString(ChannelLayout layout);
/// File extension without dot ("wav", "flac", "mp3", "opus") and MIME type ("audio/wav",
/// "audio/flac", "audio/mpeg", "audio/ogg").
std::string_view fileExtension(AudioFormat format);
std::string_view contentType(AudioFormat format);

/// Whether `format` can be written at `rate_hz`: WAV and FLAC 8000..192000 Hz; MP3 8000,
/// 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000 (MPEG-1/2/2.5 Layer III); Opus
/// 8000, 12000, 16000, 24000, 48000 (the rates the Opus encoder accepts).
bool sampleRateSupported(AudioFormat format, uint32_t rate_hz);
/// The output rate when the request names none: the highest decoded rate of the streams
/// (`highest_decoded_hz`; 8000 when 0), raised to the next rate the format supports (an
/// Opus file of a 44.1 kHz L16 stream is 48 kHz).
uint32_t defaultSampleRate(AudioFormat format, uint32_t highest_decoded_hz);

}  // namespace siprecd::recording
