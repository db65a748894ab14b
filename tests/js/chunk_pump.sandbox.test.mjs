// The chunk pump against the real Kaltura sandbox over HTTP, under the faults of its control
// surface. Every upload must end with the token at FULL_UPLOAD (2), uploadedFileSize equal to the
// file's size, and the bytes Kaltura stored equal to the file. Run: node --test tests/js/
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ChunkPump } from "../../static/js/chunk_pump.js";
import { blobBytes, patternBlob, wait } from "./fake_kaltura.mjs";
import { Sandbox } from "./sandbox.mjs";

const KiB = 1024;
let sandbox;

before(async () => {
  sandbox = await Sandbox.start();
});

after(async () => {
  await sandbox?.stop();
});

/** A fresh token, a pump for it and a recorder; `hook(fields, index)` runs before each request. */
async function setUp(size, { planOverrides = {}, options = {}, hook = null, name = "clip.mp4", completed = [] } = {}) {
  const ks = await sandbox.userKs();
  const file = patternBlob(size, name);
  const token = await sandbox.newToken(ks, name, size);
  const sent = [];
  const realFetch = globalThis.fetch;
  const fetch = async (url, init) => {
    const fields = Object.fromEntries([...init.body.entries()].filter(([, v]) => typeof v === "string"));
    const part = init.body.get?.("fileData");
    const record = { action: new URL(url).pathname.split("/").pop(), fields, size: part ? part.size : 0 };
    sent.push(record);
    if (hook) await hook(record, sent.length - 1, { url, init });
    const response = await realFetch(url, init);
    if (record.action === "upload") completed.push(Number(fields.resumeAt ?? 0));
    return response;
  };
  const pump = new ChunkPump(
    file,
    {
      serviceUrl: sandbox.url,
      uploadTokenId: token.id,
      ks,
      fileName: name,
      fileSize: size,
      chunkSize: 128 * KiB,
      minChunkSize: 64 * KiB,
      maxChunkSize: 256 * KiB,
      parallelism: 4,
      ...planOverrides,
    },
    { fetch, baseDelayMs: 20, maxDelayMs: 200, refreshSession: async () => sandbox.userKs(), ...options },
  );
  const events = { retry: [], states: [], sessions: 0, progress: [] };
  pump.addEventListener("retry", (e) => events.retry.push(e.detail));
  pump.addEventListener("statechange", (e) => events.states.push(e.detail.state));
  pump.addEventListener("session", () => (events.sessions += 1));
  pump.addEventListener("progress", (e) => events.progress.push(e.detail));
  return { ks, file, token, pump, sent, completed, events };
}

async function assertUploaded(ks, tokenId, file) {
  const fresh = await sandbox.userKs(); // the upload's session may have been expired on purpose
  const token = await sandbox.token(fresh, tokenId);
  assert.equal(token.status, 2, "the token is FULL_UPLOAD");
  assert.equal(Number(token.uploadedFileSize), file.size, "uploadedFileSize is the file's size");
  const stored = await sandbox.storedBytes(fresh, tokenId);
  assert.equal(stored.length, file.size);
  assert.ok(Buffer.compare(Buffer.from(stored), Buffer.from(await blobBytes(file))) === 0, "Kaltura stored exactly the file");
}

const uploadsOf = (sent) => sent.filter((r) => r.action === "upload");

test("parallel chunks reach FULL_UPLOAD with exactly the file's bytes", async () => {
  const { ks, file, token, pump, sent } = await setUp(3 * 1024 * KiB + 12345);
  const answer = await pump.start();
  assert.equal(answer.status, 2);
  await assertUploaded(ks, token.id, file);
  const uploads = uploadsOf(sent);
  assert.deepEqual([uploads[0].fields.resume, uploads[0].fields.finalChunk], ["0", "0"]);
  assert.deepEqual([uploads.at(-1).fields.finalChunk, Number(uploads.at(-1).fields.resumeAt)], ["1", file.size]);
});

test("chunks that complete out of order", async () => {
  const completed = [];
  const { ks, file, token, pump } = await setUp(1024 * KiB, {
    completed,
    planOverrides: { minChunkSize: 128 * KiB, maxChunkSize: 128 * KiB },
    hook: async (record) => {
      // The second chunk leaves only once a later chunk has been answered.
      if (record.fields.resumeAt === String(128 * KiB)) {
        for (let i = 0; i < 200 && !completed.some((offset) => offset > 128 * KiB); i++) await wait(25);
      }
    },
  });
  await pump.start();
  await assertUploaded(ks, token.id, file);
  const middle = completed.filter((offset) => offset > 0 && offset < file.size);
  assert.notDeepEqual(middle, [...middle].sort((a, b) => a - b), `answers arrived out of order: ${middle}`);
});

test("a chunk failing twice, then succeeding", async () => {
  const { ks, file, token, pump, events } = await setUp(512 * KiB, { planOverrides: { parallelism: 1 } });
  await sandbox.control("fault", { action: "uploadToken.upload", count: 2, kind: "http_500" });
  await pump.start();
  await assertUploaded(ks, token.id, file);
  assert.deepEqual(events.retry.map((r) => [r.offset, r.attempt, r.reason]), [
    [0, 1, "HTTP_500"],
    [0, 2, "HTTP_500"],
  ]);
});

for (const [kind, reason, extra] of [
  ["http_500", "HTTP_500", {}],
  ["http_503", "HTTP_503", {}],
  ["drop", "NETWORK", {}],
  ["stall", "TIMEOUT", { seconds: 3 }],
]) {
  test(`mid-upload faults of kind ${kind} are retried`, async () => {
    const { ks, file, token, pump, events } = await setUp(2 * 1024 * KiB, {
      options: { requestTimeoutMs: 1500 },
      hook: async (record, index) => {
        if (index === 4) await sandbox.control("fault", { action: "uploadToken.upload", count: 2, kind, ...extra });
      },
    });
    await pump.start();
    await assertUploaded(ks, token.id, file);
    const reasons = events.retry.map((r) => r.reason);
    assert.ok(reasons.length >= 2 && reasons.every((r) => r === reason), `retried for ${reason}: ${reasons}`);
  });
}

test("an expired session mid-upload: a fresh one from the caller, and the upload goes on", async () => {
  let refreshes = 0;
  const { ks, file, token, pump, events, sent } = await setUp(2 * 1024 * KiB, {
    options: {
      refreshSession: async () => {
        refreshes += 1;
        return sandbox.userKs();
      },
    },
    hook: async (record, index) => {
      if (index === 5) await sandbox.control("expire_sessions");
    },
  });
  await pump.start();
  await assertUploaded(ks, token.id, file);
  assert.equal(refreshes, 1, "one fresh session for all the chunks in flight");
  assert.equal(events.sessions, 1);
  assert.notEqual(uploadsOf(sent).at(-1).fields.ks, ks);
});

test("the final chunk is retried while Kaltura cannot match the expected size", async () => {
  const { ks, file, token, pump, events } = await setUp(1024 * KiB, {
    hook: async (record) => {
      if (record.fields.finalChunk === "1" && record.fields.resume === "1" && !record.injected) {
        record.injected = true;
        if (!events.retry.length) {
          await sandbox.control("fault", { action: "uploadToken.upload", count: 2, kind: "api_error", code: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE" });
        }
      }
    },
  });
  await pump.start();
  await assertUploaded(ks, token.id, file);
  assert.deepEqual(events.retry.map((r) => [r.reason, r.offset]), [
    ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", file.size],
    ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", file.size],
  ]);
});

test("bytes really missing at Kaltura: the final chunk mismatches, the pump re-syncs from uploadedFileSize and completes", async () => {
  const size = 768 * KiB;
  const { ks, file, token, pump, events, sent } = await setUp(size, {
    // The plan claims Kaltura has 256 KiB, but it has only 100 KiB: every chunk is parked beyond
    // the gap and the final chunk cannot match (the sandbox waits 2 s for the gap each time).
    planOverrides: { resumeAt: 256 * KiB },
  });
  const head = new FormData();
  for (const [k, v] of Object.entries({ ks, uploadTokenId: token.id, resume: "0", finalChunk: "0", format: "1" })) head.append(k, v);
  head.append("fileData", file.slice(0, 100 * KiB), "clip.mp4");
  const first = await (await fetch(`${sandbox.url}/api_v3/service/uploadToken/action/upload`, { method: "POST", body: head })).json();
  assert.equal(first.uploadedFileSize, 100 * KiB);
  const resyncs = [];
  pump.addEventListener("resync", (e) => resyncs.push(e.detail.uploadedFileSize));

  await pump.start();
  await assertUploaded(ks, token.id, file);
  assert.deepEqual(resyncs, [100 * KiB], "it asked Kaltura what it had");
  assert.deepEqual(events.retry.map((r) => r.reason), ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"]);
  assert.ok(sent.some((r) => r.action === "get"));
  assert.ok(uploadsOf(sent).some((r) => Number(r.fields.resumeAt) === 100 * KiB), "the gap was sent");
});

test("a final chunk that can never match fails at its deadline, saying a resume may help", async () => {
  const { pump, events } = await setUp(256 * KiB, {
    options: { finalChunkDeadlineMs: 1500, maxResyncs: 0 },
    hook: async (record) => {
      if (record.fields.finalChunk === "1" && record.fields.resume === "1") {
        await sandbox.control("fault", { action: "uploadToken.upload", count: 1, kind: "api_error", code: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE" });
      }
    },
  });
  await assert.rejects(pump.start(), { code: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", retryable: true });
  assert.ok(events.retry.length >= 1 && events.retry.every((r) => r.reason === "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"));
});

test("pause, then resume", async () => {
  const { ks, file, token, pump, sent, events } = await setUp(2 * 1024 * KiB, { planOverrides: { parallelism: 2 } });
  const done = pump.start();
  await new Promise((resolve) => pump.addEventListener("progress", (e) => e.detail.bytesAcknowledged >= 512 * KiB && resolve()));
  pump.pause();
  const count = sent.length;
  await wait(300);
  assert.equal(sent.length, count, "nothing is sent while paused");
  const partial = await sandbox.token(ks, token.id);
  assert.equal(partial.status, 1);
  pump.resume();
  await done;
  await assertUploaded(ks, token.id, file);
  assert.deepEqual(events.states, ["uploading", "paused", "uploading", "finalizing", "done"]);
});

test("cancel, then resume later from uploadedFileSize with a new pump (the tab was closed)", async () => {
  const size = 2 * 1024 * KiB;
  const { ks, file, token, pump, sent } = await setUp(size);
  const done = pump.start();
  await new Promise((resolve) => pump.addEventListener("progress", (e) => e.detail.bytesAcknowledged >= size / 3 && resolve()));
  pump.cancel();
  await assert.rejects(done, { code: "CANCELLED" });
  const count = sent.length;
  await wait(300);
  assert.equal(sent.length, count, "nothing is sent after cancel");

  const state = await sandbox.token(ks, token.id);
  const uploaded = Number(state.uploadedFileSize);
  assert.equal(state.status, 1);
  assert.ok(uploaded >= size / 3 && uploaded < size, `Kaltura kept ${uploaded} bytes`);
  const resent = [];
  const resumed = new ChunkPump(file, { ...pump.plan, resumeAt: uploaded, fileSize: size }, {
    fetch: async (url, init) => {
      resent.push({ resumeAt: Number(init.body.get("resumeAt")), size: init.body.get("fileData").size });
      return fetch(url, init);
    },
  });
  await resumed.start();
  await assertUploaded(ks, token.id, file);
  assert.ok(resent.every((r) => r.resumeAt >= uploaded), "no byte before uploadedFileSize was sent again");
  assert.equal(resent.reduce((sum, r) => sum + r.size, 0), size - uploaded);
});

test("a duplicate chunk sent twice leaves the file exact", async () => {
  let replayed = false;
  const { ks, file, token, pump } = await setUp(1024 * KiB, {
    hook: async (record, index, { url, init }) => {
      if (!replayed && record.fields.resume === "1" && record.fields.finalChunk === "0") {
        replayed = true;
        const answer = await (await fetch(url, init)).json(); // the same chunk, once more
        assert.equal(answer.objectType, "KalturaUploadToken");
      }
    },
  });
  await pump.start();
  assert.ok(replayed);
  await assertUploaded(ks, token.id, file);
});

test("a definitive refusal (the token was deleted) stops the upload without retries", async () => {
  const { ks, token, pump, events } = await setUp(2 * 1024 * KiB, {
    hook: async (record, index) => {
      if (index === 3) await sandbox.ok("uploadToken", "delete", { ks, uploadTokenId: token.id });
    },
  });
  await assert.rejects(pump.start(), { code: "UPLOAD_TOKEN_NOT_FOUND", retryable: false });
  assert.equal(events.retry.length, 0);
});

test("a lost acknowledgement (chunk stored, answer dropped) is sent again and the file stays exact", async () => {
  const chunk = 128 * KiB;
  let lostAt = null;
  let storedWhenResent = null;
  const { ks, file, token, pump, events } = await setUp(8 * chunk, {
    planOverrides: { parallelism: 1, chunkSize: chunk, minChunkSize: chunk, maxChunkSize: chunk },
    hook: async (record) => {
      if (record.action !== "upload") return;
      const offset = Number(record.fields.resumeAt ?? 0);
      if (lostAt === null && record.fields.resume === "1" && record.fields.finalChunk === "0") {
        lostAt = offset;
        // The sandbox stores this chunk, then closes the connection before answering.
        await sandbox.control("fault", { action: "uploadToken.upload", count: 1, kind: "drop_after" });
      } else if (lostAt !== null && storedWhenResent === null && offset === lostAt) {
        storedWhenResent = Number((await sandbox.token(ks, token.id)).uploadedFileSize);
      }
    },
  });
  await pump.start();
  await assertUploaded(ks, token.id, file);
  assert.ok(storedWhenResent >= lostAt + chunk, `Kaltura had stored the chunk at ${lostAt} whose answer was lost`);
  assert.equal(events.retry.filter((r) => r.offset === lostAt).length, 1, "that chunk was sent exactly once more");
});
