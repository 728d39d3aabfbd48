#!/usr/bin/env node
// A verifying front for an S3/SNS/SQS emulator that accepts any signature (fauxqs): every request's
// AWS Signature V4 is recomputed with AWS's own signer (@smithy/signature-v4, the one the AWS
// SDK for JavaScript v3 uses) from the headers the client says it signed, and compared with
// the client's. What S3 checks beyond the signature is checked here too:
//   * x-amz-date within 15 minutes of now (RequestTimeTooSkewed);
//   * x-amz-content-sha256 equal to the SHA-256 of the body (XAmzContentSHA256Mismatch),
//     unless UNSIGNED-PAYLOAD;
//   * x-amz-checksum-sha256 equal to the base64 SHA-256 of the body (BadDigest);
//   * CompleteMultipartUpload's <ChecksumSHA256> per part equal to what UploadPart sent
//     (InvalidPart); the elements are removed before forwarding (the emulator parses
//     <Part><PartNumber/><ETag/></Part> only).
// SNS (Query protocol: form-encoded POST with Action=...) and SQS (AWS JSON 1.0: POST with
// X-Amz-Target: AmazonSQS.<Action>) requests are verified the same way, with the credential
// scope's service required to be "sns" or "sqs" to match the request, and
// x-amz-content-sha256 optional (checked against the body when present).
// A request that passes is forwarded to the upstream emulator and its answer relayed; one
// that fails gets the service's error (S3's <Error> document, SNS's <ErrorResponse>, SQS's
// JSON error with x-amzn-query-error) with 403 or 400 and never reaches the emulator.
// One JSON line per request goes to --log: method, path, query, the signed header names,
// the x-amz-* and content-type headers (not the token), body size and SHA-256, status and
// the rejection code, so tests can assert what the client sent.
//
// Usage: node s3proxy.cjs --port P --upstream http://127.0.0.1:U --keys keys.json --log f
//   keys.json: {"ACCESS_KEY_ID": "secret", ...}. Prints "listening P" when ready.
// Needs NODE_PATH pointing at a node_modules with @smithy/signature-v4 and
// @aws-crypto/sha256-js.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

function args() {
  const out = { port: 0, upstream: "", keys: "", log: "", region: "us-east-1" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    out[argv[i].replace(/^--/, "")] = argv[i + 1];
  }
  return out;
}

const options = args();
const keys = JSON.parse(fs.readFileSync(options.keys, "utf8"));
const upstream = new URL(options.upstream);
const partChecksums = new Map(); // uploadId + "/" + partNumber -> base64 sha256

function s3Error(status, code, message) {
  return {
    status,
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>${message}</Message>` +
      `<RequestId>s3proxy</RequestId></Error>`,
    code,
  };
}

/** Which service a request is for: "sqs" (X-Amz-Target), "sns" (form POST) or "s3". */
function serviceOf(req) {
  const target = String(req.headers["x-amz-target"] || "");
  if (target.startsWith("AmazonSQS.")) return "sqs";
  if (req.method === "POST" &&
      String(req.headers["content-type"] || "").startsWith("application/x-www-form-urlencoded")) {
    return "sns";
  }
  return "s3";
}

/** The error document of `service` (S3 <Error>, SNS <ErrorResponse>, SQS JSON). */
function serviceError(service, status, code, message) {
  if (service === "sns") {
    return {
      status, code, headers: { "content-type": "text/xml" },
      body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>` +
        `<Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
        `<RequestId>s3proxy</RequestId></ErrorResponse>`,
    };
  }
  if (service === "sqs") {
    return {
      status, code,
      headers: { "content-type": "application/x-amz-json-1.0",
                 "x-amzn-query-error": `${code};Sender` },
      body: JSON.stringify({ __type: `com.amazon.coral.service#${code}`, message }),
    };
  }
  return s3Error(status, code, message);
}

function sha256(body, encoding) {
  return crypto.createHash("sha256").update(body).digest(encoding);
}

/** The raw query split into decoded name -> value (or array of values); '+' stays '+'. */
function parseQuery(raw) {
  const query = {};
  for (const pair of raw.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    if (name in query) {
      query[name] = [].concat(query[name], value);
    } else {
      query[name] = value;
    }
  }
  return query;
}

function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || "");
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const AUTHORIZATION = new RegExp(
  "^AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, ?" +
  "SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$");

/** null when the request is authentic, else the error to answer. */
async function verify(req, rawPath, rawQuery, body) {
  const expectedService = serviceOf(req);
  const s3Error = (status, code, message) => serviceError(expectedService, status, code, message);
  const authorization = req.headers["authorization"];
  const m = AUTHORIZATION.exec(authorization || "");
  if (!m) {
    return s3Error(403, "AccessDenied", "Missing or malformed Authorization header");
  }
  const [, keyId, shortDate, region, service, signedList, signature] = m;
  if (!(keyId in keys)) {
    return s3Error(403, "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.");
  }
  const date = parseAmzDate(req.headers["x-amz-date"]);
  if (!date || req.headers["x-amz-date"].slice(0, 8) !== shortDate) {
    return s3Error(403, "AccessDenied", "x-amz-date missing or not matching the credential scope");
  }
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) {
    return s3Error(403, "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.");
  }
  if (region !== options.region) {
    return s3Error(400, "AuthorizationHeaderMalformed", `the region '${region}' is wrong`);
  }
  if (service !== expectedService) {
    return s3Error(403, "SignatureDoesNotMatch",
      `Credential should be scoped to correct service: '${expectedService}', not '${service}'`);
  }
  const signedHeaders = signedList.split(";");
  const requiredHeaders = service === "s3" ? ["host", "x-amz-date", "x-amz-content-sha256"]
                                           : ["host", "x-amz-date"];
  for (const required of requiredHeaders) {
    if (!signedHeaders.includes(required)) {
      return s3Error(403, "AccessDenied", `${required} must be signed`);
    }
  }
  if (req.headers["x-amz-security-token"] !== undefined &&
      !signedHeaders.includes("x-amz-security-token")) {
    return s3Error(403, "AccessDenied", "x-amz-security-token must be signed");
  }
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith("x-amz-") && !signedHeaders.includes(name)) {
      return s3Error(403, "AccessDenied",
        `There were headers present in the request which were not signed: ${name}`);
    }
  }
  const headers = {};
  for (const name of signedHeaders) {
    if (req.headers[name] === undefined) {
      return s3Error(403, "SignatureDoesNotMatch", `signed header ${name} is missing`);
    }
    headers[name] = String(req.headers[name]);
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: keyId, secretAccessKey: keys[keyId] },
    region,
    service,
    sha256: Sha256,
    uriEscapePath: service !== "s3", // S3: the path is signed as sent
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: req.method, protocol: "http:", hostname: upstream.hostname, path: rawPath,
      query: parseQuery(rawQuery), headers, body },
    { signingDate: date, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers["authorization"])[1];
  if (expected !== signature) {
    return s3Error(403, "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. " +
      "Check your key and signing method.");
  }
  const payloadHash = req.headers["x-amz-content-sha256"];
  if (payloadHash !== undefined && payloadHash !== "UNSIGNED-PAYLOAD" &&
      payloadHash !== sha256(body, "hex")) {
    return s3Error(400, "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const checksum = req.headers["x-amz-checksum-sha256"];
  if (checksum !== undefined && checksum !== sha256(body, "base64")) {
    return s3Error(400, "BadDigest",
      "The SHA256 you specified did not match the calculated checksum.");
  }
  return null;
}

/** Checks and strips <ChecksumSHA256> of a CompleteMultipartUpload body. */
function completeBody(uploadId, body) {
  const text = body.toString("utf8");
  let bad = null;
  const stripped = text.replace(/<Part>([\s\S]*?)<\/Part>/g, (whole, inner) => {
    const number = /<PartNumber>(\d+)<\/PartNumber>/.exec(inner);
    const sum = /<ChecksumSHA256>([^<]*)<\/ChecksumSHA256>/.exec(inner);
    const sent = number && partChecksums.get(`${uploadId}/${number[1]}`);
    if (sent !== undefined && (!sum || sum[1] !== sent)) {
      bad = s3Error(400, "InvalidPart", `part ${number[1]}: ChecksumSHA256 differs from UploadPart's`);
    }
    return whole.replace(/<ChecksumSHA256>[^<]*<\/ChecksumSHA256>/, "");
  });
  return { bad, body: Buffer.from(stripped, "utf8") };
}

function forward(req, rawTarget, body) {
  return new Promise((resolve) => {
    const headers = { ...req.headers, host: upstream.host, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: rawTarget, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({
          status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
        }));
      },
    );
    out.on("error", (e) => resolve(s3Error(502, "UpstreamUnavailable", String(e))));
    out.end(body);
  });
}

function logLine(entry) {
  if (options.log) {
    fs.appendFileSync(options.log, JSON.stringify(entry) + "\n");
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let body = Buffer.concat(chunks);
    const rawTarget = req.url;
    const q = rawTarget.indexOf("?");
    const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
    const rawQuery = q < 0 ? "" : rawTarget.slice(q + 1);
    const query = parseQuery(rawQuery);
    const service = serviceOf(req);
    let action = "";
    if (service === "sqs") {
      action = String(req.headers["x-amz-target"]).slice("AmazonSQS.".length);
    } else if (service === "sns") {
      action = new URLSearchParams(body.toString("utf8")).get("Action") || "";
    }
    const entry = {
      service, action, method: req.method, path: rawPath, query: rawQuery,
      signedHeaders: (/SignedHeaders=([^,]+)/.exec(req.headers["authorization"] || "") || [])[1] || "",
      headers: {}, bodySize: body.length, bodySha256: sha256(body, "hex"),
    };
    for (const [name, value] of Object.entries(req.headers)) {
      if ((name.startsWith("x-amz-") && name !== "x-amz-security-token") || name === "content-type") {
        entry.headers[name] = value;
      }
    }
    entry.hasSecurityToken = req.headers["x-amz-security-token"] !== undefined;
    let answer;
    try {
      answer = await verify(req, rawPath, rawQuery, body);
    } catch (e) {
      answer = s3Error(500, "ProxyError", String(e));
    }
    if (!answer && req.method === "POST" && query.uploadId !== undefined) {
      const checked = completeBody(query.uploadId, body);
      answer = checked.bad;
      body = checked.body;
    }
    if (!answer) {
      answer = await forward(req, rawTarget, body);
      if (req.method === "PUT" && query.uploadId !== undefined && answer.status === 200 &&
          req.headers["x-amz-checksum-sha256"] !== undefined) {
        partChecksums.set(`${query.uploadId}/${query.partNumber}`, req.headers["x-amz-checksum-sha256"]);
      }
    } else {
      entry.rejected = answer.code;
    }
    entry.status = answer.status;
    logLine(entry);
    const headers = { ...(answer.headers || { "content-type": "application/xml" }) };
    delete headers["transfer-encoding"];
    delete headers["connection"];
    headers["content-length"] = String(Buffer.byteLength(answer.body));
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  });
});

server.listen(Number(options.port), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
