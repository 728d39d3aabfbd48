#!/usr/bin/env node
// An independent S3 client for the tests: the AWS SDK for JavaScript v3 (@aws-sdk/client-s3),
// path-style, signing with the given key (so s3proxy.cjs checks its requests too).
//
// Usage: node s3client.cjs ENDPOINT KEY_ID SECRET create-bucket BUCKET
//        node s3client.cjs ENDPOINT KEY_ID SECRET get BUCKET KEY OUTFILE
//        node s3client.cjs ENDPOINT KEY_ID SECRET list BUCKET
// Prints one JSON object: get -> {"contentType", "contentLength", "sha256"} (hex of the bytes
// written to OUTFILE); list -> {"keys": [...]}; create-bucket -> {"ok": true}. On an S3 error
// prints {"error": code, "status": http status} and exits 1.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const {
  S3Client, CreateBucketCommand, GetObjectCommand, ListObjectsV2Command,
} = require("@aws-sdk/client-s3");

async function main() {
  const [endpoint, accessKeyId, secretAccessKey, command, bucket, key, outfile] =
    process.argv.slice(2);
  const client = new S3Client({
    endpoint, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  if (command === "create-bucket") {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return { ok: true };
  }
  if (command === "get") {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await answer.Body.transformToByteArray());
    fs.writeFileSync(outfile, bytes);
    return {
      contentType: answer.ContentType,
      contentLength: answer.ContentLength,
      sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
    };
  }
  if (command === "list") {
    const answer = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return { keys: (answer.Contents || []).map((c) => c.Key) };
  }
  throw new Error(`unknown command ${command}`);
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out) + "\n"),
  (e) => {
    process.stdout.write(JSON.stringify({
      error: e.name || String(e), status: e.$metadata ? e.$metadata.httpStatusCode : null,
      message: String(e.message || e),
    }) + "\n");
    process.exit(1);
  },
);
