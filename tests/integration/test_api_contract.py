"""docs/openapi.yaml is a true description of the API (DESIGN.md §2).

* the document lints clean with Redocly's recommended rules (`npx @redocly/cli lint`;
  skipped only when npx is not installed);
* its request examples satisfy their own schemas;
* the binary serves exactly this document at GET /openapi.yaml (embedded at build time);
* real replies of a running siprecd (after a real SIPp call: list, detail, metadata,
  audio with Range, dead events, STORE, DELETE and the errors 400/401/404/409/416) use
  a status the document lists for the operation, carry its documented headers, and their
  JSON bodies validate against the documented schema; every event body delivered to the
  callback receiver validates against its `webhooks` schema.

Validation uses python3-jsonschema (Draft 2020-12, as OpenAPI 3.1) when installed, else a
small built-in validator covering the keywords the document uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from support.control import config_yaml, domain_yaml, receiver, start_control_plane  # noqa: F401

yaml = pytest.importorskip("yaml", reason="PyYAML missing (apt-get install python3-yaml)")

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "openapi.yaml"
# Pinned: `@redocly/cli@1` resolves to 1.34.21, whose @redocly/respect-core@1.34.21 is not
# published on every registry mirror; 1.34.20 is the same rule set.
REDOCLY = "@redocly/cli@1.34.20"
API_KEY = "contract-key-5e1d2c"

WEBHOOK_OF_METHOD = {
    "NEWCALL": "newCall",
    "RECORDINGSTARTED": "recordingStarted",
    "METADATAUPDATED": "metadataUpdated",
    "RECORDINGREADY": "recordingReady",
    "RECORDINGSTORED": "recordingStored",
    "RECORDINGDELETED": "recordingDeleted",
    "RECORDINGFAILED": "recordingFailed",
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


# --- schema validation ------------------------------------------------------------------------


class MiniValidator:
    """JSON Schema 2020-12, the subset docs/openapi.yaml uses: $ref (local), allOf, oneOf,
    anyOf, const, enum, type (also lists), required, properties, additionalProperties:
    false, minProperties, items, minimum, maximum, minLength, maxLength."""

    def __init__(self, root: dict):
        self.root = root

    def resolve(self, ref: str) -> dict:
        assert ref.startswith("#/"), f"only local $ref supported: {ref}"
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    @staticmethod
    def is_type(value, name: str) -> bool:
        return {
            "null": value is None,
            "boolean": isinstance(value, bool),
            "object": isinstance(value, dict),
            "array": isinstance(value, list),
            "string": isinstance(value, str),
            "integer": (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer()),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        }[name]

    def errors(self, value, schema, path: str = "$") -> list[str]:
        if schema is True or not isinstance(schema, dict):
            return []
        out: list[str] = []
        if "$ref" in schema:
            out += self.errors(value, self.resolve(schema["$ref"]), path)
        for sub in schema.get("allOf", []):
            out += self.errors(value, sub, path)
        if "oneOf" in schema:
            n = sum(1 for sub in schema["oneOf"] if not self.errors(value, sub, path))
            if n != 1:
                out.append(f"{path}: matches {n} of the oneOf schemas (expected 1)")
        if "anyOf" in schema and not any(not self.errors(value, s, path) for s in schema["anyOf"]):
            out.append(f"{path}: matches none of the anyOf schemas")
        if "const" in schema and value != schema["const"]:
            out.append(f"{path}: {value!r} is not {schema['const']!r}")
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{path}: {value!r} not in {schema['enum']}")
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(self.is_type(value, t) for t in types):
                return out + [f"{path}: {type(value).__name__} {str(value)[:80]!r} is not {types}"]
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    out.append(f"{path}: required property {name!r} missing")
            props = schema.get("properties", {})
            for key, item in value.items():
                if key in props:
                    out += self.errors(item, props[key], f"{path}.{key}")
                elif schema.get("additionalProperties") is False:
                    out.append(f"{path}: unexpected property {key!r}")
            if len(value) < schema.get("minProperties", 0):
                out.append(f"{path}: fewer than {schema['minProperties']} properties")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                out += self.errors(item, schema["items"], f"{path}[{i}]")
        if self.is_type(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(f"{path}: {value} < minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                out.append(f"{path}: {value} > maximum {schema['maximum']}")
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                out.append(f"{path}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(f"{path}: longer than {schema['maxLength']}")
        return out


def schema_errors(spec: dict, value, schema: dict) -> list[str]:
    """Errors of `value` against `schema` (a schema object of `spec`, $refs resolved against
    the whole document)."""
    try:
        import jsonschema  # Debian python3-jsonschema
    except ImportError:
        return MiniValidator(spec).errors(value, schema)
    # The whole document as the root (so "#/components/..." resolves); its OpenAPI keys are
    # unknown keywords to JSON Schema and ignored.
    validator = jsonschema.Draft202012Validator({**spec, "allOf": [schema]})
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(value)]


def assert_valid(spec: dict, value, schema: dict, what: str) -> None:
    errors = schema_errors(spec, value, schema)
    assert not errors, f"{what} does not match its schema:\n  " + "\n  ".join(errors[:20]) + \
        f"\n{json.dumps(value, indent=1)[:3000]}"


def resolve(spec: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = MiniValidator(spec).resolve(node["$ref"])
    return node


def check_reply(spec: dict, path: str, method: str, resp) -> None:
    """The reply's status is documented for the operation, its documented headers are
    present, its content type is documented and a JSON body matches the schema."""
    op = spec["paths"][path][method.lower()]
    responses = op["responses"]
    key = str(resp.status) if str(resp.status) in responses else f"{str(resp.status)[0]}XX"
    assert key in responses, \
        f"{method} {path} answered {resp.status}, not documented ({sorted(responses)}): {resp}"
    documented = resolve(spec, responses[key])
    for header in documented.get("headers", {}):
        assert header.lower() in resp.headers, f"{method} {path} {resp.status}: no {header}: {resp}"
    content = documented.get("content")
    if not content:
        return
    ctype = resp.headers.get("content-type", "").split(";")[0].strip()
    assert ctype in content, f"{method} {path} {resp.status}: Content-Type {ctype!r} not in " \
                             f"{sorted(content)}"
    if ctype == "application/json":
        assert_valid(spec, json.loads(resp.body), content[ctype]["schema"],
                     f"{method} {path} {resp.status}")


# --- the document itself -------------------------------------------------------------------------


def test_openapi_lints_clean():
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx not installed (apt-get install npm): cannot run Redocly lint")
    run = subprocess.run([npx, "--yes", REDOCLY, "lint", str(OPENAPI), "--format=stylish"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"redocly lint failed:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    assert "warning" not in run.stdout.lower(), f"redocly lint warnings:\n{run.stdout[-6000:]}"


def test_request_examples_match_their_schemas(spec):
    checked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            body = resolve(spec, op.get("requestBody", {}))
            media = body.get("content", {}).get("application/json", {})
            for name, example in media.get("examples", {}).items():
                assert_valid(spec, example["value"], media["schema"],
                             f"example {name} of {method.upper()} {path}")
                checked += 1
    assert checked >= 1


def test_every_api_operation_documents_its_errors(spec):
    for path, item in spec["paths"].items():
        if not path.startswith("/callrecording/"):
            continue
        for method, op in item.items():
            codes = set(op["responses"])
            missing = {"401", "403", "404", "429"} - codes
            assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
            if method == "post":
                assert {"400", "409", "413"} <= codes, f"POST {path}: {sorted(codes)}"


def test_served_document_is_the_repository_one(siprecd):
    srv = siprecd()
    r = srv.http("/openapi.yaml")
    assert r.status == 200
    assert r.headers.get("content-type", "").startswith("application/yaml")
    assert r.body == OPENAPI.read_bytes(), "the binary serves another openapi.yaml (rebuild?)"


# --- real replies and events ------------------------------------------------------------------------

LIST = "/callrecording/{domain}/recordings"
ONE = "/callrecording/{domain}/recordings/{recordingId}"
AUDIO = ONE + "/audio"
METADATA = ONE + "/metadata"
DEAD = "/callrecording/{domain}/events/dead"
STORE = "/callrecording/{domain}/storerecording"
DELETE = "/callrecording/{domain}/deleterecording"
STOP = "/callrecording/{domain}/stoprecording"


def test_real_replies_and_events_match_the_document(spec, siprecd, receiver, tones, tmp_path):
    archive = tmp_path / "archive"
    config = config_yaml(domain_yaml(
        "default", receiver, destinations={"archive": {"type": "file", "path": str(archive)}},
        extra=f"    api:\n      keys: [{API_KEY}]"))
    cp = start_control_plane(siprecd, receiver, config, api_key=API_KEY)
    api = cp.api
    rid, started, ready = cp.recorded_call(tones, tmp_path / "sipp", seconds=1.5)
    base = api.recordings_path()

    check_reply(spec, LIST, "GET", api.list(limit=1))
    check_reply(spec, LIST, "GET", api.list(state="ready", participant="a"))
    check_reply(spec, LIST, "GET", api.list(state="bogus"))
    check_reply(spec, LIST, "GET", api.get(base, api_key=None))
    check_reply(spec, LIST, "GET", api.get(base, api_key="wrong-key"))
    check_reply(spec, ONE, "GET", api.recording(rid))
    check_reply(spec, ONE, "GET", api.recording("no-such-recording"))
    check_reply(spec, METADATA, "GET", api.metadata(rid))
    xml = api.metadata(rid, headers={"Accept": "application/xml"})
    check_reply(spec, METADATA, "GET", xml)
    assert xml.body.lstrip().startswith(b"<"), xml
    whole = api.audio(rid)
    check_reply(spec, AUDIO, "GET", whole)
    assert whole.status == 200 and whole.body[:4] == b"RIFF", whole
    part = api.audio(rid, "bytes=0-99")
    check_reply(spec, AUDIO, "GET", part)
    assert part.status == 206 and part.body == whole.body[:100], part
    beyond = api.audio(rid, f"bytes={len(whole.body)}-")
    check_reply(spec, AUDIO, "GET", beyond)
    assert beyond.status == 416, beyond
    check_reply(spec, AUDIO, "GET", api.get(f"{base}/{rid}/audio?format=aiff"))
    check_reply(spec, DEAD, "GET", api.get("/callrecording/default/events/dead"))

    check_reply(spec, STOP, "POST", api.command("STOPRECORDING", rid, ready["replyId"]))
    check_reply(spec, STORE, "POST", api.store(rid, ready["replyId"], format="wavy"))
    check_reply(spec, STORE, "POST", api.store(rid, "forged.reply.id"))
    stored = api.store(rid, ready["replyId"], destination="archive", format="flac",
                       idempotency_key="contract-1",
                       modificationParams={"trim": {"from": 200}, "mask": [{"from": 300, "to": 600}]})
    check_reply(spec, STORE, "POST", stored)
    assert stored.status == 200, stored
    receiver.wait_event("RECORDINGSTORED", rid, timeout=20, diag=cp.diag)
    check_reply(spec, ONE, "GET", api.recording(rid))
    deleted = api.delete(rid, ready["replyId"])
    check_reply(spec, DELETE, "POST", deleted)
    assert deleted.status == 200, deleted
    receiver.wait_event("RECORDINGDELETED", rid, timeout=10, diag=cp.diag)
    check_reply(spec, ONE, "GET", api.recording(rid))
    check_reply(spec, AUDIO, "GET", api.audio(rid))

    events = receiver.events(rid)
    methods = [e.get("method") for e in events]
    for needed in ("NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY", "RECORDINGSTORED",
                   "RECORDINGDELETED"):
        assert needed in methods, f"no {needed} delivered: {methods}"
    for event in events:
        hook = spec["webhooks"][WEBHOOK_OF_METHOD[event["method"]]]["post"]
        schema = hook["requestBody"]["content"]["application/json"]["schema"]
        assert_valid(spec, event, schema, f"event {event['method']}")
