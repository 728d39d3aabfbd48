"""SIP message model for the tests: parse what siprecd sends, build what we send.

Deliberately small and lenient on parsing (we are the client observing a server) and
exact on building (we control every byte, including deliberately broken ones).
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

CRLF = "\r\n"

# RFC 3261 section 7.3.3 compact forms (plus RFC 3515/3891... the ones we might see).
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "e": "content-encoding",
    "k": "supported",
    "s": "subject",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
}


def random_token(n: int = 10) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(n))


def new_branch() -> str:
    return "z9hG4bK" + random_token(16)


def new_call_id(prefix: str = "it") -> str:
    return f"{prefix}-{random_token(20)}@127.0.0.1"


@dataclass
class SipMessage:
    """A parsed SIP request or response."""

    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case full name, value)
    body: bytes = b""
    raw: bytes = b""

    # --- start line -------------------------------------------------------------
    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        if not self.is_response:
            return 0
        return int(self.first_line.split(" ", 2)[1])

    @property
    def reason(self) -> str:
        parts = self.first_line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def method(self) -> str:
        """Request method, or for a response the method of its CSeq."""
        if self.is_response:
            return self.cseq[1]
        return self.first_line.split(" ", 1)[0]

    @property
    def request_uri(self) -> str:
        return "" if self.is_response else self.first_line.split(" ")[1]

    # --- headers ----------------------------------------------------------------
    def header(self, name: str, default: str | None = None) -> str | None:
        name = COMPACT.get(name.lower(), name.lower())
        for n, v in self.headers:
            if n == name:
                return v
        return default

    def header_all(self, name: str) -> list[str]:
        """All values of a header, comma-separated lists split (not for Date-like headers)."""
        name = COMPACT.get(name.lower(), name.lower())
        out: list[str] = []
        for n, v in self.headers:
            if n == name:
                out.extend(split_header_list(v))
        return out

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    @property
    def call_id(self) -> str:
        return (self.header("call-id") or "").strip()

    @property
    def cseq(self) -> tuple[int, str]:
        v = (self.header("cseq") or "0 ?").split()
        try:
            return int(v[0]), v[1].upper() if len(v) > 1 else ""
        except ValueError:
            return -1, v[-1].upper()

    @property
    def top_branch(self) -> str:
        via = self.header_all("via")
        if not via:
            return ""
        m = re.search(r";\s*branch=([^;,\s]+)", via[0], re.I)
        return m.group(1) if m else ""

    @property
    def to_tag(self) -> str:
        return header_param(self.header("to") or "", "tag")

    @property
    def from_tag(self) -> str:
        return header_param(self.header("from") or "", "tag")

    @property
    def contact_uri(self) -> str:
        c = self.header("contact") or ""
        m = re.search(r"<([^>]+)>", c)
        if m:
            return m.group(1)
        return c.split(";")[0].strip()

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def text_body(self) -> str:
        return self.body.decode("utf-8", "replace")

    def sdp(self) -> str:
        """The SDP of this message: the body, or the application/sdp part of a multipart."""
        if self.content_type == "application/sdp":
            return self.text_body
        if self.content_type.startswith("multipart/"):
            for headers, part in parse_multipart(self.header("content-type") or "", self.body):
                if headers.get("content-type", "").split(";")[0].strip().lower() == "application/sdp":
                    return part.decode("utf-8", "replace")
        return ""

    def __str__(self) -> str:  # for assertion messages
        return self.raw.decode("utf-8", "replace") if self.raw else self.first_line


def header_param(value: str, param: str) -> str:
    m = re.search(r";\s*" + re.escape(param) + r"=([^;,>\s]+)", value, re.I)
    return m.group(1) if m else ""


def split_header_list(v: str) -> list[str]:
    """Splits a comma-separated header value, respecting quotes and <...>."""
    out, cur, depth, quoted = [], [], 0, False
    for ch in v:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        if ch == "," and not quoted and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def parse_message(data: bytes) -> SipMessage:
    """Parses one complete SIP message (headers + body as framed by the caller)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # folded continuation
            n, v = headers[-1]
            headers[-1] = (n, v + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers.append((COMPACT.get(name, name), value.strip()))
    msg = SipMessage(first, headers, body, data)
    cl = msg.header("content-length")
    if cl is not None and cl.strip().isdigit():
        msg.body = body[: int(cl)]
    return msg


def parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not m:
        return []
    delim = b"--" + m.group(1).encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        if content.endswith(b"\r\n"):
            content = content[:-2]
        parts.append((headers, content))
    return parts


def sdp_media_ports(sdp: str) -> list[int]:
    return [int(p) for p in re.findall(r"^m=audio (\d+)", sdp, re.M)]


def sdp_media_sections(sdp: str) -> list[str]:
    """The m= sections of an SDP (each starting with its m= line)."""
    sections = re.split(r"(?m)^(?=m=)", sdp.replace("\r\n", "\n"))
    return [s for s in sections if s.startswith("m=")]


def sdp_connection_ip(sdp: str, section: str | None = None) -> str:
    for text in ([section] if section else []) + [sdp]:
        m = re.search(r"^c=IN IP[46] (\S+)", text, re.M)
        if m:
            return m.group(1)
    return ""


# --- building ---------------------------------------------------------------------


def build_message(first_line: str, headers: list[tuple[str, str]], body: bytes | str = b"",
                  content_length: bool = True) -> bytes:
    if isinstance(body, str):
        body = body.encode()
    lines = [first_line]
    lines += [f"{n}: {v}" for n, v in headers]
    if content_length and not any(n.lower() in ("content-length", "l") for n, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return (CRLF.join(lines) + CRLF + CRLF).encode() + body


def offer_sdp(ports: list[int], ip: str = "127.0.0.1", labels: list[str] | None = None,
              codecs: str = "pcmu_pcma_te", direction: str = "sendonly", version: int = 1,
              session_id: int = 1000) -> str:
    """An SDP offer with one audio m-line per port.

    codecs: "pcmu_pcma_te" (0 8 101), "pcma_te" (8 101), "g723" (4 only),
    "pcmu" (0 only).
    """
    fmt = {
        "pcmu_pcma_te": ("0 8 101", ["a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
                                      "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"]),
        "pcma_te": ("8 101", ["a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000",
                              "a=fmtp:101 0-15"]),
        "pcmu": ("0", ["a=rtpmap:0 PCMU/8000"]),
        "g723": ("4", ["a=rtpmap:4 G723/8000"]),
    }[codecs]
    lines = [
        "v=0",
        f"o=src {session_id} {version} IN IP4 {ip}",
        "s=SIPREC integration test",
        f"c=IN IP4 {ip}",
        "t=0 0",
    ]
    for i, port in enumerate(ports):
        lines.append(f"m=audio {port} RTP/AVP {fmt[0]}")
        lines += fmt[1]
        lines.append("a=ptime:20")
        if direction:
            lines.append(f"a={direction}")
        if labels is not None:
            lines.append(f"a=label:{labels[i]}")
    return CRLF.join(lines) + CRLF


# Participant and stream ids of the reference metadata (base64 of UUIDs, as SRCs send).
ALICE_ID = "srfBElmCRp2QB23b7Mpk0w=="
BOB_ID = "zSfPoSvdSDCmU3A3TRDxAw=="
STREAM1_ID = "UAAMm5GRQKSCMVvLyl4rFw=="
STREAM2_ID = "i1Pz3to5hGk8fuXl+PbwCw=="
SESSION_ID = "hVpd7YQgRW2nD22h7q60JQ=="
ALICE_AOR = "sip:alice@example.com"
BOB_AOR = "sip:bob@example.com"


def rs_metadata(labels: tuple[str, str] = ("1", "2")) -> str:
    """RFC 7865 metadata: two participants (Alice, Bob), each sending one stream."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <session session_id="{SESSION_ID}">
    <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2</sipSessionID>
    <start-time>2024-01-02T03:04:05Z</start-time>
  </session>
  <participant participant_id="{ALICE_ID}">
    <nameID aor="{ALICE_AOR}"><name xml:lang="en">Alice</name></nameID>
  </participant>
  <participant participant_id="{BOB_ID}">
    <nameID aor="{BOB_AOR}"><name xml:lang="en">Bob</name></nameID>
  </participant>
  <stream stream_id="{STREAM1_ID}" session_id="{SESSION_ID}"><label>{labels[0]}</label></stream>
  <stream stream_id="{STREAM2_ID}" session_id="{SESSION_ID}"><label>{labels[1]}</label></stream>
  <sessionrecordingassoc session_id="{SESSION_ID}">
    <associate-time>2024-01-02T03:04:05Z</associate-time>
  </sessionrecordingassoc>
  <participantsessionassoc participant_id="{ALICE_ID}" session_id="{SESSION_ID}">
    <associate-time>2024-01-02T03:04:05Z</associate-time>
  </participantsessionassoc>
  <participantsessionassoc participant_id="{BOB_ID}" session_id="{SESSION_ID}">
    <associate-time>2024-01-02T03:04:05Z</associate-time>
  </participantsessionassoc>
  <participantstreamassoc participant_id="{ALICE_ID}">
    <send>{STREAM1_ID}</send>
    <recv>{STREAM2_ID}</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="{BOB_ID}">
    <send>{STREAM2_ID}</send>
    <recv>{STREAM1_ID}</recv>
  </participantstreamassoc>
</recording>
""".replace("\n", CRLF)


BOUNDARY = "siprec-boundary-7f3a"


def siprec_body(sdp: str, metadata: str) -> str:
    return (
        f"--{BOUNDARY}{CRLF}"
        f"Content-Type: application/sdp{CRLF}{CRLF}"
        f"{sdp}"
        f"--{BOUNDARY}{CRLF}"
        f"Content-Type: application/rs-metadata+xml{CRLF}"
        f"Content-Disposition: recording-session{CRLF}{CRLF}"
        f"{metadata}"
        f"--{BOUNDARY}--{CRLF}"
    )
