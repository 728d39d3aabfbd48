"""A real S3-compatible server for the S3 destination tests, with signature checking.

* fauxqs (npm `fauxqs@1.9.2`, an S3/SNS/SQS emulator) stores the objects; it accepts any
  signature, so
* `S3Proxy` (tests/integration/s3proxy/s3proxy.cjs) sits in front of it: it recomputes every
  request's Signature V4 with AWS's signer (npm `@smithy/signature-v4`), checks the payload
  hash and the SHA-256 checksums, answers S3 error documents (403 SignatureDoesNotMatch,
  InvalidAccessKeyId, 400 BadDigest, ...) for requests that fail, forwards the rest, and logs
  one JSON line per request (what the client sent) for the tests to inspect. It can be
  stopped and started again on the same port (S3 down, then back).
* `S3Peers.client(...)` reads objects back with the AWS SDK for JavaScript v3
  (`@aws-sdk/client-s3`, tests/integration/s3proxy/s3client.cjs): an independent client,
  itself checked by the proxy.

The npm packages (tests/integration/s3proxy/package.json) are installed on first use with
`npm install --prefix <repo>/.cache/s3-npm` (the directory is git-ignored); without node/npm,
or when the install fails (no registry), the tests using them are skipped with the reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .net import free_port

REPO = Path(__file__).resolve().parents[3]
PROXY_DIR = REPO / "tests" / "integration" / "s3proxy"
NPM_DIR = REPO / ".cache" / "s3-npm"
NODE_MODULES = NPM_DIR / "node_modules"


def _installed_versions() -> dict[str, str]:
    out = {}
    wanted = json.loads((PROXY_DIR / "package.json").read_text())["dependencies"]
    for name in wanted:
        manifest = NODE_MODULES / name / "package.json"
        if manifest.is_file():
            out[name] = json.loads(manifest.read_text()).get("version", "")
    return out


def ensure_node_modules() -> Path:
    """node_modules with the pinned test peers, installed once (guarded by a file lock)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not installed (apt-get install nodejs npm): no S3 test server")
    wanted = json.loads((PROXY_DIR / "package.json").read_text())["dependencies"]
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    with open(NPM_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_versions() != wanted:
            shutil.copyfile(PROXY_DIR / "package.json", NPM_DIR / "package.json")
            run = subprocess.run(
                ["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund",
                 "--loglevel=error"],
                capture_output=True, text=True, timeout=600)
            if run.returncode != 0 or _installed_versions() != wanted:
                pytest.skip(f"npm install of the S3 test peers failed (rc {run.returncode}): "
                            f"{(run.stderr or run.stdout)[-800:]}")
    return NODE_MODULES


def _node_env() -> dict[str, str]:
    env = dict(os.environ)
    env["NODE_PATH"] = str(NODE_MODULES)
    env["NODE_NO_WARNINGS"] = "1"
    return env


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path,
               timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} not listening on {port} within {timeout}s:\n"
                         f"{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class FauxS3:
    """fauxqs on a free loopback port (it binds 0.0.0.0; only loopback is used). `init` is
    its init document (queues, topics, subscriptions, buckets created at start)."""

    def __init__(self, workdir: Path, init: dict | None = None):
        self.port = free_port("tcp")
        self.log = workdir / "fauxqs.log"
        self.init_path = workdir / "fauxqs-init.json" if init else None
        if self.init_path:
            self.init_path.write_text(json.dumps(init))
        self.proc: subprocess.Popen | None = None

    def start(self) -> "FauxS3":
        env = _node_env()
        env.update({"FAUXQS_PORT": str(self.port), "FAUXQS_LOGGER": "false"})
        if self.init_path:
            env["FAUXQS_INIT"] = str(self.init_path)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["node", str(NODE_MODULES / "fauxqs" / "dist" / "cli.js")], env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, "fauxqs", self.log)
        return self

    def stop(self) -> None:
        _stop(self.proc)


class S3Proxy:
    """The verifying proxy on a fixed port (so it can come back where clients expect it)."""

    def __init__(self, workdir: Path, upstream_port: int, keys: dict[str, str], name: str = "proxy"):
        self.port = free_port("tcp")
        self.upstream_port = upstream_port
        self.keys_path = workdir / f"{name}-keys.json"
        self.keys_path.write_text(json.dumps(keys))
        self.log = workdir / f"{name}-requests.jsonl"
        self.out = workdir / f"{name}.out"
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3Proxy":
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(
                ["node", str(PROXY_DIR / "s3proxy.cjs"), "--port", str(self.port),
                 "--upstream", f"http://127.0.0.1:{self.upstream_port}",
                 "--keys", str(self.keys_path), "--log", str(self.log)],
                env=_node_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, "s3proxy", self.out)
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def entries(self) -> list[dict]:
        """The logged requests, oldest first."""
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


class S3Peers:
    """fauxqs + the verifying proxy + the SDK client, with one valid key pair."""

    KEY_ID = "AKIASIPRECDTEST0001"
    SECRET = "siprecd/test+Secret0123456789abcdefghijkl"

    def __init__(self, workdir: Path, init: dict | None = None):
        ensure_node_modules()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.fauxqs = FauxS3(self.workdir, init).start()
        self.proxies: list[S3Proxy] = []
        self.proxy = self.new_proxy()

    def new_proxy(self, name: str | None = None) -> S3Proxy:
        proxy = S3Proxy(self.workdir, self.fauxqs.port, {self.KEY_ID: self.SECRET},
                        name or f"proxy{len(self.proxies)}").start()
        self.proxies.append(proxy)
        return proxy

    def client(self, *args: str, proxy: S3Proxy | None = None, check: bool = True) -> dict:
        """Runs s3client.cjs (AWS SDK v3) against `proxy` (default: the first) and returns
        its JSON answer."""
        endpoint = (proxy or self.proxy).endpoint
        run = subprocess.run(
            ["node", str(PROXY_DIR / "s3client.cjs"), endpoint, self.KEY_ID, self.SECRET, *args],
            env=_node_env(), capture_output=True, text=True, timeout=60)
        lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
        answer = json.loads(lines[-1]) if lines else {"error": run.stderr[-800:]}
        if check:
            assert run.returncode == 0 and "error" not in answer, \
                f"s3client {' '.join(args)} failed: {answer}\n{run.stderr[-800:]}"
        return answer

    def create_bucket(self, bucket: str) -> None:
        self.client("create-bucket", bucket)

    def get_object(self, bucket: str, key: str, out: Path) -> dict:
        """Downloads s3://bucket/key to `out`; returns {contentType, contentLength, sha256}."""
        return self.client("get", bucket, key, str(out))

    def list_keys(self, bucket: str) -> list[str]:
        return self.client("list", bucket)["keys"]

    def stop(self) -> None:
        for proxy in self.proxies:
            proxy.stop()
        self.fauxqs.stop()


class FauxSqs:
    """Talks SQS (AWS JSON 1.0) to fauxqs directly, unsigned (fauxqs checks no signature):
    the tests' own side of the command and event queues."""

    ACCOUNT = "000000000000"

    def __init__(self, fauxqs: FauxS3, region: str = "us-east-1"):
        self.port = fauxqs.port
        self.region = region

    def queue_url(self, name: str) -> str:
        return f"http://sqs.{self.region}.localhost:{self.port}/{self.ACCOUNT}/{name}"

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.ACCOUNT}:{name}"

    def call(self, action: str, body: dict, timeout: float = 10.0) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/x-amz-json-1.0",
                     "X-Amz-Target": f"AmazonSQS.{action}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
        return json.loads(text) if text else {}

    def send(self, queue: str, body: str, attributes: dict[str, str] | None = None) -> str:
        request = {"QueueUrl": self.queue_url(queue), "MessageBody": body}
        if attributes:
            request["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        return self.call("SendMessage", request)["MessageId"]

    def receive(self, queue: str, wait: int = 1) -> list[dict]:
        """Takes and deletes up to 10 messages (Body, MessageAttributes, ...)."""
        answer = self.call("ReceiveMessage", {
            "QueueUrl": self.queue_url(queue), "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": wait, "MessageAttributeNames": ["All"]}, timeout=wait + 10)
        messages = answer.get("Messages") or []
        for message in messages:
            self.call("DeleteMessage", {"QueueUrl": self.queue_url(queue),
                                        "ReceiptHandle": message["ReceiptHandle"]})
        return messages

    def counts(self, queue: str) -> tuple[int, int]:
        """(visible, in flight) messages of `queue`."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_fauxqs/queues",
                                    timeout=5) as response:
            for item in json.loads(response.read()):
                if item["name"] == queue:
                    return item["approximateMessageCount"], item["approximateInflightCount"]
        raise AssertionError(f"no queue {queue}")
