// The chunk pump against a fake of Kaltura's upload-token service (fake_kaltura.mjs): the exact
// requests it sends, parallelism, retries and backoff, sessions, the final chunk, pause, resume,
// cancel, resuming from an offset, the adapted chunk size. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChunkPump, ChunkPumpError, normalizePlan } from "../../static/js/chunk_pump.js";
import { FakeKaltura, TOKEN_ID, blobBytes, patternBlob, wait } from "./fake_kaltura.mjs";

const KiB = 1024;

function plan(overrides = {}) {
  return {
    serviceUrl: "https://kaltura.example",
    uploadTokenId: TOKEN_ID,
    ks: "ks-1",
    chunkSize: 64 * KiB,
    minChunkSize: 64 * KiB,
    maxChunkSize: 64 * KiB,
    parallelism: 3,
    ...overrides,
  };
}

/** A pump wired to a fake, with quick retries and a recorder of its events. */
function pumpFor(fake, file, planOverrides = {}, options = {}) {
  const pump = new ChunkPump(file, plan(planOverrides), {
    fetch: fake.fetch,
    baseDelayMs: 1,
    maxDelayMs: 20,
    random: () => 0.5,
    ...options,
  });
  const events = { progress: [], retry: [], states: [], sessions: 0 };
  pump.addEventListener("progress", (e) => events.progress.push(e.detail));
  pump.addEventListener("retry", (e) => events.retry.push(e.detail));
  pump.addEventListener("statechange", (e) => events.states.push(e.detail.state));
  pump.addEventListener("session", () => (events.sessions += 1));
  return { pump, events };
}

async function assertStored(fake, file) {
  assert.equal(fake.token.status, 2, "the token is FULL_UPLOAD");
  assert.equal(fake.token.uploadedFileSize, file.size);
  assert.deepEqual(fake.data, await blobBytes(file), "Kaltura holds exactly the file's bytes");
}

const uploads = (fake) => fake.requests.filter((r) => r.action === "upload");

test("the requests follow Kaltura's chunked protocol exactly", async () => {
  const fake = new FakeKaltura();
  const file = patternBlob(200 * KiB, "Beach day.mp4");
  const { pump, events } = pumpFor(fake, file);
  const token = await pump.start();
  assert.equal(token.status, 2);
  assert.equal(token.uploadedFileSize, file.size);
  await assertStored(fake, file);

  const sent = uploads(fake);
  // First chunk: alone, resume=0, finalChunk=0, no resumeAt.
  assert.deepEqual(
    { resume: sent[0].fields.resume, finalChunk: sent[0].fields.finalChunk, resumeAt: sent[0].fields.resumeAt, size: sent[0].size },
    { resume: "0", finalChunk: "0", resumeAt: undefined, size: 64 * KiB },
  );
  // Middle chunks: resume=1 at their offsets (the last one takes the 8 KiB sliver too).
  const middle = sent.slice(1, -1).map((r) => [r.fields.resume, r.fields.finalChunk, Number(r.fields.resumeAt), r.size]);
  assert.deepEqual(middle.sort((a, b) => a[2] - b[2]), [
    ["1", "0", 64 * KiB, 64 * KiB],
    ["1", "0", 128 * KiB, 64 * KiB],
    ["1", "0", 192 * KiB, 8 * KiB], // no chunk is longer than maxChunkSize
  ]);
  // The final chunk: empty, finalChunk=1, resumeAt = the size.
  const last = sent.at(-1);
  assert.deepEqual([last.fields.resume, last.fields.finalChunk, Number(last.fields.resumeAt), last.size], ["1", "1", file.size, 0]);
  for (const request of sent) {
    assert.equal(request.fields.ks, "ks-1");
    assert.equal(request.fields.uploadTokenId, TOKEN_ID);
    assert.equal(request.partName, "Beach day.mp4");
    assert.equal(request.url, "https://kaltura.example/api_v3/service/uploadToken/action/upload?format=1");
    assert.ok(!request.url.includes("ks-1"), "the session never goes into a URL");
  }
  assert.deepEqual(events.states, ["uploading", "finalizing", "done"]);
  const fractions = events.progress.map((p) => p.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), "progress only grows");
  assert.equal(fractions.at(-1), 1);
});

test("the first chunk goes alone, then up to `parallelism` chunks are in flight", async () => {
  const fake = new FakeKaltura();
  let concurrentWithFirst = 0;
  fake.plan((request) => {
    if (request.fields.resume === "0") concurrentWithFirst = fake.inFlight;
    return { delay: 5 };
  });
  const file = patternBlob(64 * KiB * 12);
  const { pump } = pumpFor(fake, file, { parallelism: 4 });
  await pump.start();
  await assertStored(fake, file);
  assert.equal(concurrentWithFirst, 0, "nothing else was in flight with the first chunk");
  assert.equal(fake.maxInFlight, 4);
});

test("chunks completing out of order still make the file", async () => {
  const fake = new FakeKaltura();
  // The second chunk answers only after a later one has been answered.
  let later;
  const laterAnswered = new Promise((resolve) => (later = resolve));
  fake.onAnswer = (request) => Number(request.fields.resumeAt) > 64 * KiB && later();
  fake.plan((request) => (request.fields.resumeAt === String(64 * KiB) ? { until: laterAnswered } : {}));
  const file = patternBlob(64 * KiB * 5);
  const { pump } = pumpFor(fake, file, { parallelism: 4 });
  await pump.start();
  await assertStored(fake, file);
  const middle = fake.completed.filter((offset) => offset > 0);
  assert.notDeepEqual(middle, [...middle].sort((a, b) => a - b), "answers arrived out of order");
});

test("a single-chunk file is one request: resume=0, finalChunk=1", async () => {
  const fake = new FakeKaltura();
  const file = patternBlob(10 * KiB, "photo.jpg");
  const { pump, events } = pumpFor(fake, file);
  await pump.start();
  await assertStored(fake, file);
  assert.equal(fake.requests.length, 1);
  assert.deepEqual([fake.requests[0].fields.resume, fake.requests[0].fields.finalChunk], ["0", "1"]);
  assert.deepEqual(events.states, ["uploading", "done"]);
});

test("a chunk that fails twice is sent again with growing, jittered delays", async () => {
  const fake = new FakeKaltura();
  const failures = { network: 0, http: 0 };
  fake.plan((request) => {
    if (request.fields.resumeAt === String(64 * KiB)) {
      if (failures.network++ === 0) return { network: true };
      if (failures.http++ === 0) return { http: 503 };
    }
    return {};
  });
  const file = patternBlob(64 * KiB * 3);
  const randoms = [0, 1];
  const { pump, events } = pumpFor(fake, file, {}, { baseDelayMs: 100, maxDelayMs: 1000, random: () => randoms.shift() ?? 0.5 });
  await pump.start();
  await assertStored(fake, file);
  assert.deepEqual(
    events.retry.map((r) => [r.offset, r.attempt, r.reason, r.delayMs]),
    [
      [64 * KiB, 1, "NETWORK", 50], // half of 100 ms fixed, random 0
      [64 * KiB, 2, "HTTP_503", 200], // 200 ms: half fixed + random 1 × half
    ],
  );
});

test("Retry-After from a 429 or 503 is honoured (within the cap)", async () => {
  const fake = new FakeKaltura();
  let once = true;
  fake.plan(() => (once ? ((once = false), { http: 429, retryAfter: 1 }) : {}));
  const { pump, events } = pumpFor(fake, patternBlob(10 * KiB), {}, { maxDelayMs: 5000 });
  await pump.start();
  assert.equal(events.retry[0].delayMs, 1000);
});

test("a definitive Kaltura refusal ends the upload at once, without retries", async () => {
  const fake = new FakeKaltura();
  fake.plan((request) => (request.fields.resumeAt === String(64 * KiB) ? { kaltura: "UPLOAD_TOKEN_NOT_FOUND" } : { delay: 20 }));
  const { pump, events } = pumpFor(fake, patternBlob(64 * KiB * 6));
  await assert.rejects(pump.start(), (error) => {
    assert.ok(error instanceof ChunkPumpError);
    assert.equal(error.code, "UPLOAD_TOKEN_NOT_FOUND");
    assert.equal(error.kaltura.objectType, "KalturaAPIException");
    assert.equal(error.retryable, false);
    return true;
  });
  assert.equal(events.retry.length, 0);
  assert.equal(pump.state, "failed");
  const count = fake.requests.length;
  await wait(60);
  assert.equal(fake.requests.length, count, "nothing is sent after the failure");
});

test("other HTTP refusals are definitive; transient Kaltura codes are retried", async () => {
  const forbidden = new FakeKaltura();
  forbidden.plan(() => ({ http: 403 }));
  await assert.rejects(pumpFor(forbidden, patternBlob(1000)).pump.start(), { code: "HTTP_403" });

  const busy = new FakeKaltura();
  let n = 0;
  busy.plan(() => (n++ < 2 ? { kaltura: n === 1 ? "INTERNAL_SERVERL_ERROR" : "LOCK_TIMED_OUT" } : {}));
  const { pump, events } = pumpFor(busy, patternBlob(1000));
  await pump.start();
  assert.deepEqual(events.retry.map((r) => r.reason), ["INTERNAL_SERVERL_ERROR", "LOCK_TIMED_OUT"]);

  const garbled = new FakeKaltura();
  let m = 0;
  garbled.plan(() => (m++ === 0 ? { body: "<html>proxy error</html>" } : {}));
  const second = pumpFor(garbled, patternBlob(1000));
  await second.pump.start();
  assert.deepEqual(second.events.retry.map((r) => r.reason), ["UNREADABLE_ANSWER"]);
});

test("a chunk gives up after maxAttempts and says a later resume may work", async () => {
  const fake = new FakeKaltura();
  fake.plan(() => ({ network: true }));
  const { pump, events } = pumpFor(fake, patternBlob(1000), {}, { maxAttempts: 4 });
  await assert.rejects(pump.start(), (error) => error.code === "NETWORK" && error.retryable && /after 4 attempts/.test(error.message));
  assert.equal(events.retry.length, 3);
  assert.equal(fake.requests.length, 4);
});

test("an expired session is replaced once for all the chunks that saw it", async () => {
  const fake = new FakeKaltura();
  let refreshes = 0;
  fake.plan((request, index) => {
    if (index === 3) fake.expireSessions(); // mid-upload, with chunks in flight
    return { delay: 10 };
  });
  const file = patternBlob(64 * KiB * 10);
  const { pump, events } = pumpFor(fake, file, { parallelism: 3 }, {
    refreshSession: async () => {
      refreshes += 1;
      await wait(15);
      fake.sessions.add("ks-2");
      return "ks-2";
    },
  });
  await pump.start();
  await assertStored(fake, file);
  assert.equal(refreshes, 1);
  assert.equal(events.sessions, 1);
  assert.equal(uploads(fake).at(-1).fields.ks, "ks-2");
});

test("without a way to refresh, or when fresh sessions keep failing, INVALID_KS ends the upload", async () => {
  const fake = new FakeKaltura();
  fake.expireSessions();
  await assert.rejects(pumpFor(fake, patternBlob(1000)).pump.start(), { code: "INVALID_KS", retryable: true });

  const stubborn = new FakeKaltura();
  stubborn.expireSessions();
  let calls = 0;
  const { pump } = pumpFor(stubborn, patternBlob(1000), {}, { refreshSession: async () => ({ ks: `ks-${++calls}` }) });
  await assert.rejects(pump.start(), { code: "INVALID_KS" });
  assert.equal(calls, 3, "maxSessionRefreshes in a row, then it stops");

  const broken = new FakeKaltura();
  broken.expireSessions();
  const third = pumpFor(broken, patternBlob(1000), {}, { refreshSession: async () => { throw new Error("portal down"); } });
  await assert.rejects(third.pump.start(), { code: "SESSION_REFRESH_FAILED" });
});

test("the final chunk is sent again while Kaltura cannot match the expected size", async () => {
  const fake = new FakeKaltura();
  let mismatches = 2;
  fake.plan((request) => (request.fields.finalChunk === "1" && mismatches-- > 0 ? { kaltura: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE" } : {}));
  const file = patternBlob(64 * KiB * 3);
  const { pump, events } = pumpFor(fake, file);
  await pump.start();
  await assertStored(fake, file);
  assert.deepEqual(events.retry.map((r) => [r.reason, r.offset]), [
    ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", file.size],
    ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", file.size],
  ]);
});

test("a final chunk that keeps mismatching fails at the deadline, not before", async () => {
  let clock = 0;
  const fake = new FakeKaltura();
  fake.plan((request) => {
    if (request.fields.finalChunk !== "1") return {};
    clock += 100; // each final attempt takes 100 ms of the (injected) clock
    return { kaltura: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE" };
  });
  const options = { finalChunkDeadlineMs: 1000, maxAttempts: 3, now: () => clock };
  const { pump, events } = pumpFor(fake, patternBlob(64 * KiB * 2), {}, options);
  await assert.rejects(pump.start(), { code: "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", retryable: true });
  const finals = uploads(fake).filter((r) => r.fields.finalChunk === "1").length;
  assert.equal(finals, 10, "sent until the deadline, beyond maxAttempts");
  assert.equal(events.retry.length, 9);
  assert.ok(fake.requests.some((r) => r.action === "get"), "it asked Kaltura what it has (it had every byte)");
});

test("a lost answer to a chunk: the chunk is sent again and the file is still exact", async () => {
  const fake = new FakeKaltura();
  let lost = false;
  fake.plan((request) => (request.fields.resumeAt === String(128 * KiB) && !lost ? ((lost = true), { lostAck: true }) : {}));
  const file = patternBlob(64 * KiB * 4);
  const { pump } = pumpFor(fake, file);
  await pump.start();
  await assertStored(fake, file);
  assert.equal(uploads(fake).filter((r) => r.fields.resumeAt === String(128 * KiB)).length, 2);
});

test("a lost answer to the final chunk: uploadToken.get confirms the upload finished", async () => {
  const fake = new FakeKaltura();
  let lost = false;
  fake.plan((request) => (request.fields.finalChunk === "1" && !lost ? ((lost = true), { lostAck: true }) : {}));
  const file = patternBlob(64 * KiB * 2);
  const { pump } = pumpFor(fake, file);
  const token = await pump.start();
  assert.equal(token.status, 2);
  await assertStored(fake, file);
  assert.deepEqual(fake.requests.slice(-2).map((r) => r.action), ["upload", "get"]);
});

test("a timed-out chunk is split in two and the chunk size halved", async () => {
  const fake = new FakeKaltura();
  let stalled = false;
  fake.plan((request) => (request.fields.resumeAt === String(256 * KiB) && !stalled ? ((stalled = true), { hang: true }) : {}));
  const file = patternBlob(1024 * KiB);
  const { pump, events } = pumpFor(fake, file, { chunkSize: 256 * KiB, minChunkSize: 64 * KiB, maxChunkSize: 256 * KiB }, { requestTimeoutMs: 80 });
  await pump.start();
  await assertStored(fake, file);
  assert.deepEqual(events.retry.map((r) => r.reason), ["TIMEOUT"]);
  const sizes = uploads(fake).filter((r) => Number(r.fields.resumeAt) >= 256 * KiB && r.size > 0).map((r) => [Number(r.fields.resumeAt) / KiB, r.size / KiB]);
  assert.deepEqual(sizes.find(([at]) => at === 384), [384, 128], "the other half of the stalled chunk went on its own");
});

test("the chunk size follows the measured speed, within its bounds", async () => {
  let clock = 0;
  const fake = new FakeKaltura();
  let bytesPerSecond = 4 * 1024 * KiB; // fast at first...
  fake.plan((request) => {
    clock += (request.size / bytesPerSecond) * 1000;
    if (Number(request.fields.resumeAt) >= 6 * 1024 * KiB) bytesPerSecond = 256 * KiB; // ...then slow
    return {};
  });
  const file = patternBlob(12 * 1024 * KiB);
  const bounds = { chunkSize: 1024 * KiB, minChunkSize: 512 * KiB, maxChunkSize: 8 * 1024 * KiB, parallelism: 1 };
  const { pump } = pumpFor(fake, file, bounds, { now: () => clock, targetChunkSeconds: 1 });
  await pump.start();
  await assertStored(fake, file);
  const sizes = uploads(fake).map((r) => r.size / KiB).filter((s) => s > 0);
  assert.equal(sizes[0], 1024);
  assert.equal(sizes[1], 2048, "at most doubling per step");
  assert.ok(Math.max(...sizes) <= 8 * 1024 * 1.25 && Math.max(...sizes) >= 4096, `grew towards 4 MiB/s × 1 s: ${sizes}`);
  assert.ok(sizes.at(-1) <= 1024 && Math.min(...sizes) >= 512, `shrank on the slow link, not below the minimum: ${sizes}`);
});

test("pause stops sending at once; resume goes on and finishes", async () => {
  const fake = new FakeKaltura();
  fake.plan(() => ({ delay: 15 }));
  const file = patternBlob(64 * KiB * 8);
  const { pump, events } = pumpFor(fake, file, { parallelism: 2 });
  const done = pump.start();
  await new Promise((resolve) => pump.addEventListener("progress", (e) => e.detail.bytesAcknowledged >= 128 * KiB && resolve(), { once: false }));
  pump.pause();
  assert.equal(pump.state, "paused");
  const sentWhenPaused = fake.requests.length;
  await wait(80);
  assert.equal(fake.requests.length, sentWhenPaused, "nothing is sent while paused");
  pump.resume();
  await done;
  await assertStored(fake, file);
  assert.deepEqual(events.states.slice(0, 3), ["uploading", "paused", "uploading"]);
});

test("cancel stops everything and rejects with CANCELLED; an AbortSignal does the same", async () => {
  const fake = new FakeKaltura();
  fake.plan(() => ({ delay: 20 }));
  const { pump } = pumpFor(fake, patternBlob(64 * KiB * 8));
  const done = pump.start();
  await wait(30);
  pump.cancel();
  await assert.rejects(done, { code: "CANCELLED" });
  const count = fake.requests.length;
  await wait(60);
  assert.equal(fake.requests.length, count);
  assert.equal(pump.state, "cancelled");
  assert.notEqual(fake.token.status, 2);

  const controller = new AbortController();
  const other = pumpFor(new FakeKaltura(), patternBlob(64 * KiB * 8), {}, { signal: controller.signal });
  const promise = other.pump.start();
  controller.abort();
  await assert.rejects(promise, { code: "CANCELLED" });
});

test("resuming from uploadedFileSize sends only the rest", async () => {
  const fake = new FakeKaltura();
  const file = patternBlob(64 * KiB * 5);
  const bytes = await blobBytes(file);
  fake.data = bytes.slice(0, 100 * KiB); // what a first, interrupted upload left at Kaltura
  fake.token.status = 1;
  fake.token.uploadedFileSize = String(100 * KiB);
  const { pump, events } = pumpFor(fake, file, { resumeAt: 100 * KiB });
  await pump.start();
  await assertStored(fake, file);
  assert.ok(uploads(fake).every((r) => r.fields.resume === "1" && Number(r.fields.resumeAt) >= 100 * KiB));
  assert.equal(uploads(fake).reduce((sum, r) => sum + r.size, 0), file.size - 100 * KiB);
  assert.equal(events.progress[0].bytesAcknowledged, 100 * KiB);
});

test("resuming a file whose bytes are all at Kaltura sends only the final chunk", async () => {
  const fake = new FakeKaltura();
  const file = patternBlob(3000);
  fake.data = await blobBytes(file);
  fake.token.status = 1;
  const { pump } = pumpFor(fake, file, { resumeAt: 3000 });
  await pump.start();
  assert.equal(fake.requests.length, 1);
  assert.deepEqual([fake.requests[0].fields.finalChunk, fake.requests[0].fields.resumeAt, fake.requests[0].size], ["1", "3000", 0]);
});

test("progress reports the rate and an estimate from the clock", async () => {
  let clock = 0;
  const fake = new FakeKaltura();
  fake.plan((request) => {
    clock += (request.size / (512 * KiB)) * 1000; // 512 KiB/s
    return {};
  });
  const { pump, events } = pumpFor(fake, patternBlob(64 * KiB * 8), { parallelism: 1 }, { now: () => clock });
  await pump.start();
  const middle = events.progress.find((p) => p.bytesAcknowledged === 64 * KiB * 4);
  assert.equal(Math.round(middle.bytesPerSecond / KiB), 512);
  assert.equal(middle.secondsLeft, 0.5);
  assert.equal(middle.totalBytes, 64 * KiB * 8);
});

test("a bad plan is refused with the field it is about", () => {
  const file = patternBlob(1000);
  const cases = [
    [{ serviceUrl: "" }, /serviceUrl is missing/],
    [{ serviceUrl: "javascript:alert(1)" }, /serviceUrl must be an http\(s\) origin/],
    [{ serviceUrl: "https://k.example/api_v3?x" }, /serviceUrl must be an http\(s\) origin/],
    [{ ks: undefined }, /ks is missing/],
    [{ uploadTokenId: " " }, /uploadTokenId is missing/],
    [{ chunkSize: 0 }, /chunkSize must be a positive/],
    [{ parallelism: 9 }, /parallelism must be 1 to 8/],
    [{ resumeAt: 1001 }, /resumeAt must be 0 to 1000/],
    [{ fileSize: 999 }, /it is for 999 bytes but the file has 1000/],
    [{ minChunkSize: 10, maxChunkSize: 5 }, /maxChunkSize is below minChunkSize/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(() => new ChunkPump(file, plan(overrides)), message);
  }
  assert.throws(() => new ChunkPump(new Blob([]), plan()), /the file is empty/);
  assert.equal(normalizePlan(plan({ serviceUrl: "https://k.example/" }), 1000).serviceUrl, "https://k.example");
  assert.equal(normalizePlan(plan({ chunkSize: 10 }), 1000).chunkSize, 64 * KiB, "clamped into its bounds");
});

test("a last sliver is sent with the chunk before it, when that stays within maxChunkSize", async () => {
  const fake = new FakeKaltura();
  const file = patternBlob(200 * KiB);
  const { pump } = pumpFor(fake, file, { maxChunkSize: 128 * KiB }, { now: () => 0 }); // a still clock: no adapting
  await pump.start();
  await assertStored(fake, file);
  assert.deepEqual(uploads(fake).map((r) => r.size / KiB), [64, 64, 72, 0]);
});

test("no more than 64 acknowledged chunks wait beyond a slow one (Kaltura fails a token at 1000)", async () => {
  const fake = new FakeKaltura();
  let release;
  const released = new Promise((resolve) => (release = resolve));
  let sentBeyond = 0;
  fake.plan((request) => {
    if (request.fields.resumeAt === String(64 * KiB)) return { until: released }; // the slow chunk
    if (Number(request.fields.resumeAt) > 64 * KiB && request.fields.finalChunk === "0") sentBeyond += 1;
    return {};
  });
  const file = patternBlob(64 * KiB * 120);
  const { pump } = pumpFor(fake, file, { parallelism: 4 });
  const done = pump.start();
  // Wait until the pump stops sending on its own (it is waiting for the slow chunk).
  let seen = -1;
  while (seen !== fake.requests.length) {
    seen = fake.requests.length;
    await wait(100);
  }
  const stalledAt = sentBeyond;
  release();
  await done;
  await assertStored(fake, file);
  assert.ok(stalledAt >= 64 && stalledAt <= 64 + 3, `it stopped sending after ${stalledAt} chunks beyond the slow one`);
});

test("bytes Kaltura lost: after two mismatches the pump re-syncs from uploadToken.get and sends them again", async () => {
  const fake = new FakeKaltura();
  let lost = false;
  fake.plan((request) => (request.fields.resumeAt === String(128 * KiB) && !lost ? ((lost = true), { discard: true }) : {}));
  const file = patternBlob(64 * KiB * 5);
  const { pump, events } = pumpFor(fake, file, { parallelism: 1 });
  const resyncs = [];
  pump.addEventListener("resync", (e) => resyncs.push(e.detail.uploadedFileSize));
  await pump.start();
  await assertStored(fake, file);
  assert.deepEqual(resyncs, [128 * KiB]);
  assert.deepEqual(events.retry.map((r) => r.reason), ["UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"], "one retry, then the re-sync");
  const resent = uploads(fake).filter((r) => r.fields.resumeAt === String(128 * KiB));
  assert.equal(resent.length, 2, "the lost chunk was sent again");
  assert.ok(events.progress.some((p, i) => i > 0 && p.bytesAcknowledged < events.progress[i - 1].bytesAcknowledged), "progress told the truth");
});
