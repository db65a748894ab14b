// The chunk pump: sends one file from the browser straight to Kaltura with uploadToken.upload,
// in parallel, resumable chunks (DESIGN §3.4). The portal never sees the bytes: it prepares the
// upload (checks the first bytes, creates the upload token and the entry) and hands the browser
// an upload plan; this module does the rest. Plain ES module, no dependencies, no build step;
// everything it touches (fetch, timers, clock, randomness) is injectable, so it runs the same in
// browsers and in Node 20's test runner.
//
// THE UPLOAD PLAN (the JSON the portal's prepare endpoint returns)
//   {
//     "serviceUrl":    "https://www.kaltura.com",  // Kaltura's API origin (no /api_v3)
//     "uploadTokenId": "0_0123abcd...",            // from uploadToken.add, owned by the session's user
//     "ks":            "djJ8...",                  // a short-lived USER session for this upload only
//     "fileName":      "clip.mp4",                 // optional: the part's name (Kaltura reads its extension)
//     "fileSize":      734003200,                  // optional: must equal the file's size when given
//     "chunkSize":     8388608,                    // the first chunk's size in bytes
//     "minChunkSize":  1048576,                    // optional bounds of the adapted size
//     "maxChunkSize":  67108864,                   //   (defaults: 1 MiB and 64 MiB, and chunkSize within)
//     "parallelism":   3,                          // chunks in flight, 1 to 8
//     "resumeAt":      0                           // optional: bytes Kaltura already has (uploadedFileSize)
//   }
//
// THE PROTOCOL (reference/kaltura-api.md §6.2, and Kaltura's kUploadTokenMgr)
//   POST {serviceUrl}/api_v3/service/uploadToken/action/upload?format=1, multipart: ks,
//   uploadTokenId, resume, finalChunk, resumeAt, then the fileData part. The session travels in the
//   body, never in a URL. Answers are JSON; Kaltura errors come in-band with HTTP 200.
//   - From offset 0, the first chunk goes alone with resume=0, finalChunk=0 (resume=1 before any
//     data exists is UPLOAD_TOKEN_CANNOT_RESUME). A file of one chunk is one request with
//     resume=0, finalChunk=1.
//   - Every other chunk: resume=1, finalChunk=0, resumeAt=<its offset>, several in flight. Kaltura
//     parks chunks that arrive ahead of the data and joins them when the gap fills, so they may
//     complete in any order; at most MAX_CHUNKS_AHEAD acknowledged chunks wait beyond the
//     contiguous data (Kaltura fails a token with more than 1000 waiting).
//   - Once every byte is acknowledged, an empty final chunk: resume=1, finalChunk=1,
//     resumeAt=<size> (Kaltura's docs allow it, and its code verifies size = resumeAt + 0). If
//     Kaltura answers UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE (parked chunks not joined yet) the
//     final chunk is sent again, with backoff, until finalChunkDeadlineMs. If it answers
//     UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD (an earlier final chunk did land and its answer was
//     lost, or the token finalized itself), uploadToken.get decides: FULL_UPLOAD (2) or CLOSED (3)
//     with every byte is success. After resyncAfterMismatches mismatches in a row, uploadToken.get
//     tells what Kaltura really holds, and everything from its uploadedFileSize is sent again
//     (re-sync first, never trust our own account over the server's).
//   - Retries, per chunk, with exponential backoff and jitter: network errors, timeouts, HTTP 5xx,
//     408 and 429 (Retry-After honoured), unreadable answers, and Kaltura's transient codes.
//     A chunk that times out is split in two and the chunk size halved, so a slow or stalled link
//     still gets through. Definitive refusals (another 4xx, any other Kaltura code) end the upload
//     at once. INVALID_KS asks the caller for a fresh session (options.refreshSession, which the
//     portal implements with its own endpoint), once for all chunks that saw the old one.
//   - The chunk size adapts to the measured speed: each new chunk should take about
//     targetChunkSeconds on one connection, within [minChunkSize, maxChunkSize], at most doubling
//     or halving per step.
//   - Progress counts bytes Kaltura acknowledged (resumeAt included), with the rate over the last
//     seconds and an estimate of the time left.
//
// USE
//   const pump = new ChunkPump(file, plan, { refreshSession: async () => newKs });
//   pump.addEventListener("progress", (e) => bar.value = e.detail.fraction);
//   const token = await pump.start();   // resolves with uploadToken (status 2); rejects with ChunkPumpError
//   pump.pause(); pump.resume(); pump.cancel();
//
// EVENTS (CustomEvent, detail as shown)
//   "progress"     {bytesAcknowledged, totalBytes, fraction, bytesPerSecond, secondsLeft, chunkSize, inFlight}
//   "statechange"  {state}: ready, uploading, paused, finalizing, done, failed, cancelled
//   "retry"        {offset, attempt, delayMs, reason}
//   "resync"       {uploadedFileSize}: Kaltura lacked bytes; sending again from there
//   "session"      {}: a fresh session is in use

export const KALTURA_TRANSIENT_CODES = Object.freeze([
  "INTERNAL_SERVERL_ERROR", // sic: Kaltura's spelling
  "INTERNAL_DATABASE_ERROR",
  "LOCK_TIMED_OUT",
  "ACTION_BLOCKED",
  "UPLOAD_ERROR", // a PHP upload error (partial body, temp space): sending the chunk again helps
]);
const CANNOT_MATCH = "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE";
const INVALID_STATUS = "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD";
const TOKEN_FULL_UPLOAD = 2;
const TOKEN_CLOSED = 3;
const MAX_CHUNKS_AHEAD = 64;
const ALIGN = 64 * 1024;
const MiB = 1024 * 1024;

export const DEFAULTS = Object.freeze({
  minChunkSize: 1 * MiB,
  maxChunkSize: 64 * MiB,
  maxParallelism: 8,
  targetChunkSeconds: 4,
  maxAttempts: 8, // per chunk; the counter restarts for every chunk
  baseDelayMs: 500,
  maxDelayMs: 30000,
  minTimeoutMs: 30000,
  maxTimeoutMs: 600000,
  assumedBytesPerSecond: 1 * MiB, // per connection, until the first chunk is measured
  timeoutFactor: 6, // a request may take this many times its expected duration
  finalChunkDeadlineMs: 5 * 60000,
  finalChunkTimeoutMs: 120000, // Kaltura may hold a final chunk ~45 s joining chunks
  resyncAfterMismatches: 2, // size mismatches of the final chunk before asking Kaltura what it has
  maxResyncs: 2,
  maxSessionRefreshes: 3, // fresh sessions in a row without an acknowledged chunk
  clientTag: "kaltura-hub-portal:chunk-pump",
});

/** Why an upload stopped: `code` is a Kaltura code, HTTP_<status>, NETWORK, TIMEOUT, CANCELLED, ... */
export class ChunkPumpError extends Error {
  constructor(code, message, { kaltura = null, retryable = false, offset = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ChunkPumpError";
    this.code = code;
    this.kaltura = kaltura; // Kaltura's error object ({code, message, args}) when it said no
    this.retryable = retryable; // resuming later (from uploadedFileSize) may succeed
    this.offset = offset;
  }
}

/** A failed attempt that the retry loop may repeat (internal). */
class Transient extends Error {
  constructor(code, message, { kaltura = null, retryAfterMs = null, timedOut = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.kaltura = kaltura;
    this.retryAfterMs = retryAfterMs;
    this.timedOut = timedOut;
  }
}

class Aborted extends Error {}

function positiveInteger(value, name) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`upload plan: ${name} must be a positive whole number of bytes, not ${value}`);
  }
  return value;
}

function nonEmptyString(value, name) {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`upload plan: ${name} is missing`);
  }
  return value;
}

/** The plan with defaults applied and every field checked; throws TypeError naming the field. */
export function normalizePlan(plan, fileSize) {
  if (!plan || typeof plan !== "object") throw new TypeError("upload plan: expected an object");
  const serviceUrl = nonEmptyString(plan.serviceUrl, "serviceUrl").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/?#\s]+$/.test(serviceUrl)) {
    throw new TypeError(`upload plan: serviceUrl must be an http(s) origin, not ${plan.serviceUrl}`);
  }
  const minChunkSize = positiveInteger(plan.minChunkSize ?? DEFAULTS.minChunkSize, "minChunkSize");
  const maxChunkSize = positiveInteger(plan.maxChunkSize ?? DEFAULTS.maxChunkSize, "maxChunkSize");
  if (maxChunkSize < minChunkSize) throw new TypeError("upload plan: maxChunkSize is below minChunkSize");
  const chunkSize = Math.min(maxChunkSize, Math.max(minChunkSize, positiveInteger(plan.chunkSize, "chunkSize")));
  const parallelism = plan.parallelism ?? 3;
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > DEFAULTS.maxParallelism) {
    throw new TypeError(`upload plan: parallelism must be 1 to ${DEFAULTS.maxParallelism}, not ${parallelism}`);
  }
  if (plan.fileSize !== undefined && plan.fileSize !== null && plan.fileSize !== fileSize) {
    throw new TypeError(`upload plan: it is for ${plan.fileSize} bytes but the file has ${fileSize}`);
  }
  const resumeAt = plan.resumeAt ?? 0;
  if (!Number.isSafeInteger(resumeAt) || resumeAt < 0 || resumeAt > fileSize) {
    throw new TypeError(`upload plan: resumeAt must be 0 to ${fileSize}, not ${resumeAt}`);
  }
  return {
    serviceUrl,
    uploadTokenId: nonEmptyString(plan.uploadTokenId, "uploadTokenId"),
    ks: nonEmptyString(plan.ks, "ks"),
    fileName: typeof plan.fileName === "string" && plan.fileName ? plan.fileName : null,
    chunkSize,
    minChunkSize,
    maxChunkSize,
    parallelism,
    resumeAt,
  };
}

function isKalturaError(body) {
  return (
    body !== null &&
    typeof body === "object" &&
    typeof body.code === "string" &&
    typeof body.message === "string" &&
    (body.objectType === "KalturaAPIException" || body.objectType === undefined)
  );
}

function detail(value) {
  return { detail: value };
}

export class ChunkPump extends EventTarget {
  /**
   * @param {Blob} file what to upload (a File or any Blob)
   * @param {object} plan the upload plan (see the top of this file)
   * @param {object} [options] refreshSession, signal, fetch, setTimeout, clearTimeout, now, random,
   *   and overrides of DEFAULTS (maxAttempts, baseDelayMs, maxDelayMs, requestTimeoutMs, ...)
   */
  constructor(file, plan, options = {}) {
    super();
    if (!file || typeof file.slice !== "function" || !Number.isSafeInteger(file.size)) {
      throw new TypeError("ChunkPump: expected a File or Blob");
    }
    if (file.size === 0) throw new TypeError("ChunkPump: the file is empty");
    this.file = file;
    this.plan = normalizePlan(plan, file.size);
    this.size = file.size;
    this.fileName = this.plan.fileName || file.name || "blob";
    this.ks = this.plan.ks;
    const root = typeof globalThis !== "undefined" ? globalThis : {};
    this._fetch = options.fetch || root.fetch.bind(root);
    this._setTimeout = options.setTimeout || root.setTimeout.bind(root);
    this._clearTimeout = options.clearTimeout || root.clearTimeout.bind(root);
    this._now = options.now || (() => (root.performance ? root.performance.now() : Date.now()));
    this._random = options.random || Math.random;
    this._refreshSession = options.refreshSession || null;
    this.settings = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS)) if (options[key] !== undefined) this.settings[key] = options[key];
    this.settings.requestTimeoutMs = options.requestTimeoutMs ?? null;

    this._state = "ready";
    this._chunkSize = this.plan.chunkSize;
    this._next = this.plan.resumeAt; // first byte never sent yet
    this._pending = []; // ranges to send again (after a pause or a split), lowest first
    this._inFlight = new Map(); // id -> {range, controller}
    this._ids = 0;
    this._acked = new Map(); // start -> end of acknowledged ranges beyond the frontier
    this._frontier = this.plan.resumeAt; // bytes [0, frontier) are acknowledged
    this._bytesAcknowledged = this.plan.resumeAt;
    this._hasData = this.plan.resumeAt > 0; // the token holds bytes: every chunk resumes
    this._streamRate = null; // bytes/s of one connection (EWMA)
    this._samples = []; // [time, bytesAcknowledged] for the overall rate
    this._refreshing = null;
    this._refreshesWithoutProgress = 0;
    this._finalizing = false;
    this._resyncs = 0;
    this._settle = null;
    this._done = new Promise((resolve, reject) => {
      this._settle = { resolve, reject };
    });
    this._done.catch(() => {}); // the caller's await sees it; no unhandled rejection otherwise
    this._signal = options.signal || null;
    if (this._signal) this._signal.addEventListener("abort", () => this.cancel(), { once: true });
  }

  /** ready, uploading, paused, finalizing, done, failed or cancelled. */
  get state() {
    return this._state;
  }

  /** The latest progress figures (the detail of the "progress" event). */
  get progress() {
    const rate = this._rate();
    const left = this.size - this._bytesAcknowledged;
    return {
      bytesAcknowledged: this._bytesAcknowledged,
      totalBytes: this.size,
      fraction: this._bytesAcknowledged / this.size,
      bytesPerSecond: rate,
      secondsLeft: rate ? left / rate : null,
      chunkSize: this._chunkSize,
      inFlight: this._inFlight.size,
    };
  }

  /** Start sending; resolves with Kaltura's upload token once it is FULL_UPLOAD. */
  start() {
    if (this._state !== "ready") return this._done;
    if (this._signal && this._signal.aborted) {
      this.cancel();
      return this._done;
    }
    this._samples.push([this._now(), this._bytesAcknowledged]);
    this._setState("uploading");
    this._emitProgress();
    this._pump();
    return this._done;
  }

  /** Stop sending now; chunks in flight are abandoned and sent again on resume(). */
  pause() {
    if (this._state !== "uploading" && this._state !== "finalizing") return;
    this._abandonInFlight();
    this._setState("paused");
  }

  /** Go on after pause(). */
  resume() {
    if (this._state !== "paused") return;
    this._setState(this._finalizing ? "finalizing" : "uploading");
    this._samples = [[this._now(), this._bytesAcknowledged]];
    this._pump();
  }

  /** Stop for good: start() rejects with code CANCELLED. Deleting the token is the portal's job. */
  cancel() {
    if (["done", "failed", "cancelled"].includes(this._state)) return;
    this._abandonInFlight();
    this._fail(new ChunkPumpError("CANCELLED", "The upload was cancelled.", { retryable: true }), "cancelled");
  }

  // -- scheduling --------------------------------------------------------------------------------

  _active() {
    return this._state === "uploading" || this._state === "finalizing";
  }

  _pump() {
    if (!this._active()) return;
    if (this._finalizing) {
      if (this._inFlight.size === 0) this._launchFinal();
      return;
    }
    while (this._inFlight.size < this.plan.parallelism) {
      if (!this._hasData && this._inFlight.size > 0) return; // the first chunk goes alone
      const range = this._pending.length ? this._pending.shift() : this._newRange();
      if (!range) break;
      this._launch(range);
    }
    if (this._inFlight.size === 0 && this._pending.length === 0 && this._frontier >= this.size) {
      this._finalizing = true;
      this._setState("finalizing");
      this._launchFinal();
    }
  }

  _newRange() {
    if (this._next >= this.size || this._acked.size >= MAX_CHUNKS_AHEAD) return null;
    const start = this._next;
    let end = Math.min(this.size, start + this._chunkSize);
    // Rather than a last sliver of a chunk, make this one a little longer (within the bound).
    if (this.size - end < this._chunkSize / 4 && this.size - start <= this.plan.maxChunkSize) end = this.size;
    this._next = end;
    return { start, end, attempts: 0 };
  }

  _abandonInFlight() {
    for (const { range, controller } of this._inFlight.values()) {
      controller.abort();
      if (range.final === undefined) this._pending.push(range);
    }
    this._inFlight.clear();
    this._pending.sort((a, b) => a.start - b.start);
  }

  _launch(range) {
    const id = ++this._ids;
    const entry = { range, controller: new AbortController() };
    this._inFlight.set(id, entry);
    this._sendChunk(id, entry).catch((error) => this._unexpected(error));
  }

  _launchFinal() {
    const id = ++this._ids;
    const entry = { range: { start: this.size, end: this.size, attempts: 0, final: true }, controller: new AbortController() };
    this._inFlight.set(id, entry);
    this._sendFinal(id, entry).catch((error) => this._unexpected(error));
  }

  _current(id, entry) {
    return this._inFlight.get(id) === entry && this._active();
  }

  // -- one chunk ---------------------------------------------------------------------------------

  async _sendChunk(id, entry) {
    const { range } = entry;
    for (;;) {
      const single = !this._hasData && range.start === 0 && range.end === this.size;
      const first = !this._hasData && range.start === 0;
      const fields = first
        ? { resume: "0", finalChunk: single ? "1" : "0" }
        : { resume: "1", finalChunk: "0", resumeAt: String(range.start) };
      const started = this._now();
      const ks = this.ks;
      try {
        const token = await this._upload(fields, this.file.slice(range.start, range.end), entry, range.end - range.start);
        if (!this._current(id, entry)) return;
        this._inFlight.delete(id);
        this._acknowledge(range, this._now() - started);
        if (single) return this._succeed(token);
        this._pump();
        return;
      } catch (error) {
        if (error instanceof Aborted || !this._current(id, entry)) return;
        const handled = await this._handleFailure(error, range, ks, entry);
        if (handled === "split") {
          if (!this._current(id, entry)) return;
          continue;
        }
        if (!handled || !this._current(id, entry)) return;
      }
    }
  }

  async _sendFinal(id, entry) {
    const { range } = entry;
    const deadline = this._now() + this.settings.finalChunkDeadlineMs;
    let mismatches = 0;
    for (;;) {
      const ks = this.ks;
      try {
        const token = await this._upload(
          { resume: "1", finalChunk: "1", resumeAt: String(this.size) },
          new Blob([]),
          entry,
          0,
          true,
        );
        if (!this._current(id, entry)) return;
        this._inFlight.delete(id);
        return this._succeed(token);
      } catch (error) {
        if (error instanceof Aborted || !this._current(id, entry)) return;
        if (error instanceof ChunkPumpError && error.code === INVALID_STATUS) {
          const token = await this._verifyFinished(entry).catch(() => null);
          if (!this._current(id, entry)) return;
          if (token) {
            this._inFlight.delete(id);
            return this._succeed(token);
          }
        }
        if (error instanceof ChunkPumpError && error.code === CANNOT_MATCH) {
          mismatches += 1;
          if (mismatches >= this.settings.resyncAfterMismatches && this._resyncs < this.settings.maxResyncs) {
            // Every chunk was acknowledged, yet Kaltura keeps missing bytes: ask it what it has
            // and send the rest again rather than trusting our own account (a late, stale
            // resume=0 request can truncate the file on the server).
            const resynced = await this._resync(entry).catch(() => false);
            if (!this._current(id, entry)) return;
            if (resynced) {
              this._inFlight.delete(id);
              this._pump();
              return;
            }
          }
          if (this._now() >= deadline) {
            return this._fail(
              new ChunkPumpError(CANNOT_MATCH, "Kaltura could not put the file together: some of its bytes did not arrive.", {
                kaltura: error.kaltura,
                retryable: true,
                offset: this.size,
              }),
            );
          }
          // Not a definitive refusal: Kaltura has not joined every chunk yet. Ask again.
          error = new Transient(CANNOT_MATCH, error.message, { kaltura: error.kaltura });
          range.attempts = Math.min(range.attempts, this.settings.maxAttempts - 2);
        }
        const handled = await this._handleFailure(error, range, ks, entry);
        if (!handled || !this._current(id, entry)) return;
      }
    }
  }

  /** What to do after a failed attempt: true to try again, "split" after a timeout split, false when the upload failed. */
  async _handleFailure(error, range, ks, entry) {
    if (error instanceof ChunkPumpError && error.code === "INVALID_KS") {
      return this._freshSession(ks, error);
    }
    if (!(error instanceof Transient)) {
      this._fail(error);
      return false;
    }
    range.attempts += 1;
    if (range.attempts >= this.settings.maxAttempts) {
      this._fail(
        new ChunkPumpError(error.code, `${error.message} (after ${range.attempts} attempts)`, {
          kaltura: error.kaltura,
          retryable: true,
          offset: range.start,
          cause: error,
        }),
      );
      return false;
    }
    let split = false;
    if (error.timedOut && !range.final) {
      // The link is slower than we thought (or stalled): smaller chunks from now on.
      this._chunkSize = Math.max(this.plan.minChunkSize, this._align(this._chunkSize / 2));
      const length = range.end - range.start;
      if (length > this._chunkSize && length >= 2 * this.plan.minChunkSize) {
        const middle = range.start + this._align(length / 2);
        if (middle > range.start && middle < range.end) {
          this._pending.push({ start: middle, end: range.end, attempts: 0 });
          this._pending.sort((a, b) => a.start - b.start);
          range.end = middle;
          split = true;
        }
      }
    }
    const delayMs = this._backoff(range.attempts, error.retryAfterMs);
    this.dispatchEvent(
      new CustomEvent("retry", detail({ offset: range.start, attempt: range.attempts, delayMs, reason: error.code })),
    );
    await this._sleep(delayMs, entry.controller.signal);
    if (split) this._pump(); // the other half may go out on a free connection
    return split ? "split" : true;
  }

  _backoff(attempt, retryAfterMs) {
    const { baseDelayMs, maxDelayMs } = this.settings;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // "Equal jitter": half the delay is fixed, half random, so retries spread out but never bunch at 0.
    const delay = ceiling / 2 + (this._random() * ceiling) / 2;
    return Math.round(Math.max(delay, Math.min(retryAfterMs ?? 0, maxDelayMs)));
  }

  _sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = this._setTimeout(() => {
        signal.removeEventListener("abort", wake);
        resolve();
      }, ms);
      const wake = () => {
        this._clearTimeout(timer);
        resolve();
      };
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  _align(bytes) {
    return Math.max(ALIGN, Math.round(bytes / ALIGN) * ALIGN);
  }

  // -- sessions ----------------------------------------------------------------------------------

  async _freshSession(usedKs, error) {
    if (this.ks !== usedKs) return true; // another chunk already brought a fresh one
    if (!this._refreshSession) {
      this._fail(new ChunkPumpError("INVALID_KS", "The upload session expired.", { kaltura: error.kaltura, retryable: true }));
      return false;
    }
    if (!this._refreshing) {
      if (this._refreshesWithoutProgress >= this.settings.maxSessionRefreshes) {
        this._fail(
          new ChunkPumpError("INVALID_KS", "Kaltura keeps refusing the upload session.", {
            kaltura: error.kaltura,
            retryable: true,
          }),
        );
        return false;
      }
      this._refreshesWithoutProgress += 1;
      this._refreshing = Promise.resolve()
        .then(() => this._refreshSession({ reason: error.kaltura }))
        .then((fresh) => {
          const ks = typeof fresh === "string" ? fresh : fresh && fresh.ks;
          if (typeof ks !== "string" || !ks) throw new Error("no session in the answer");
          this.ks = ks;
          this.dispatchEvent(new CustomEvent("session", detail({})));
        })
        .finally(() => {
          this._refreshing = null;
        });
    }
    try {
      await this._refreshing;
      return true;
    } catch (cause) {
      this._fail(
        new ChunkPumpError("SESSION_REFRESH_FAILED", "A fresh upload session could not be had.", {
          retryable: true,
          cause,
        }),
      );
      return false;
    }
  }

  // -- talking to Kaltura ------------------------------------------------------------------------

  _timeoutFor(bytes, final) {
    if (this.settings.requestTimeoutMs) return this.settings.requestTimeoutMs;
    const rate = this._streamRate || this.settings.assumedBytesPerSecond;
    const expected = (bytes / rate) * 1000 * this.settings.timeoutFactor;
    const timeout = Math.min(this.settings.maxTimeoutMs, Math.max(this.settings.minTimeoutMs, expected));
    return final ? Math.max(timeout, this.settings.finalChunkTimeoutMs) : timeout;
  }

  _apiUrl(action) {
    return `${this.plan.serviceUrl}/api_v3/service/uploadToken/action/${action}?format=1`;
  }

  /** One uploadToken.upload; resolves with the token, throws Transient, ChunkPumpError or Aborted. */
  async _upload(fields, blob, entry, bytes, final = false) {
    const form = new FormData();
    form.append("ks", this.ks);
    form.append("uploadTokenId", this.plan.uploadTokenId);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("clientTag", this.settings.clientTag);
    form.append("fileData", blob, this.fileName);
    return this._call("upload", form, entry.controller.signal, this._timeoutFor(bytes, final));
  }

  async _call(action, body, signal, timeoutMs) {
    const attempt = new AbortController();
    let timedOut = false;
    const onAbort = () => attempt.abort();
    if (signal.aborted) throw new Aborted();
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = this._setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, timeoutMs);
    let response;
    let text;
    try {
      response = await this._fetch(this._apiUrl(action), {
        method: "POST",
        body,
        signal: attempt.signal,
        credentials: "omit", // Kaltura needs no cookie: the session is in the body
      });
      text = await response.text();
    } catch (cause) {
      if (timedOut) throw new Transient("TIMEOUT", `Kaltura did not answer within ${Math.round(timeoutMs / 1000)} s`, { timedOut: true, cause });
      if (signal.aborted) throw new Aborted();
      throw new Transient("NETWORK", "The connection to Kaltura failed", { cause });
    } finally {
      this._clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      const retryAfter = Number(response.headers.get("Retry-After"));
      throw new Transient(`HTTP_${response.status}`, `Kaltura answered HTTP ${response.status}`, {
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      });
    }
    if (response.status !== 200) {
      throw new ChunkPumpError(`HTTP_${response.status}`, `Kaltura refused the upload (HTTP ${response.status}).`);
    }
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Transient("UNREADABLE_ANSWER", "Kaltura's answer could not be read");
    }
    if (isKalturaError(answer)) {
      if (KALTURA_TRANSIENT_CODES.includes(answer.code)) {
        throw new Transient(answer.code, answer.message, { kaltura: answer });
      }
      throw new ChunkPumpError(answer.code, answer.message, { kaltura: answer });
    }
    if (!answer || typeof answer !== "object" || answer.id !== this.plan.uploadTokenId) {
      throw new Transient("UNREADABLE_ANSWER", "Kaltura's answer is not the upload token");
    }
    return answer;
  }

  /** Go back to sending from Kaltura's uploadedFileSize; false when it has every byte already. */
  async _resync(entry) {
    const body = new URLSearchParams({ ks: this.ks, uploadTokenId: this.plan.uploadTokenId });
    const token = await this._call("get", body, entry.controller.signal, this.settings.requestTimeoutMs || this.settings.minTimeoutMs);
    const uploaded = Number(token.uploadedFileSize) || 0;
    if (uploaded >= this.size || ![0, 1].includes(token.status)) return false;
    this._resyncs += 1;
    this._finalizing = false;
    this._next = uploaded;
    this._frontier = uploaded;
    this._acked.clear();
    this._pending = [];
    this._hasData = uploaded > 0;
    this._bytesAcknowledged = uploaded; // the truth, even if the bar goes back
    this._samples = [[this._now(), uploaded]];
    this.dispatchEvent(new CustomEvent("resync", detail({ uploadedFileSize: uploaded })));
    this._setState("uploading");
    this._emitProgress();
    return true;
  }

  /** After INVALID_STATUS on the final chunk: the token, if it holds the whole file. */
  async _verifyFinished(entry) {
    const body = new URLSearchParams({ ks: this.ks, uploadTokenId: this.plan.uploadTokenId });
    const token = await this._call("get", body, entry.controller.signal, this.settings.requestTimeoutMs || this.settings.minTimeoutMs);
    const finished = token.status === TOKEN_FULL_UPLOAD || token.status === TOKEN_CLOSED;
    return finished && Number(token.uploadedFileSize) === this.size ? token : null;
  }

  // -- bookkeeping -------------------------------------------------------------------------------

  _acknowledge(range, elapsedMs) {
    const length = range.end - range.start;
    if (range.start === 0 && !this._hasData) this._hasData = true;
    this._bytesAcknowledged += length;
    this._refreshesWithoutProgress = 0;
    this._acked.set(range.start, range.end);
    while (this._acked.has(this._frontier)) {
      const end = this._acked.get(this._frontier);
      this._acked.delete(this._frontier);
      this._frontier = end;
    }
    this._measure(length, elapsedMs);
    this._emitProgress();
  }

  _measure(bytes, elapsedMs) {
    const now = this._now();
    this._samples.push([now, this._bytesAcknowledged]);
    while (this._samples.length > 2 && now - this._samples[1][0] > 20000) this._samples.shift();
    if (elapsedMs <= 0 || bytes < ALIGN) return;
    const rate = (bytes / elapsedMs) * 1000;
    this._streamRate = this._streamRate === null ? rate : 0.7 * this._streamRate + 0.3 * rate;
    const wanted = this._streamRate * this.settings.targetChunkSeconds;
    const bounded = Math.min(this._chunkSize * 2, Math.max(this._chunkSize / 2, wanted));
    this._chunkSize = Math.min(this.plan.maxChunkSize, Math.max(this.plan.minChunkSize, this._align(bounded)));
  }

  _rate() {
    if (this._samples.length < 2) return null;
    const [t0, b0] = this._samples[0];
    const [t1, b1] = this._samples[this._samples.length - 1];
    return t1 > t0 ? ((b1 - b0) / (t1 - t0)) * 1000 : null;
  }

  _emitProgress() {
    this.dispatchEvent(new CustomEvent("progress", detail(this.progress)));
  }

  _setState(state) {
    if (this._state === state) return;
    this._state = state;
    this.dispatchEvent(new CustomEvent("statechange", detail({ state })));
  }

  _succeed(token) {
    if (!this._active()) return;
    const uploaded = Number(token.uploadedFileSize);
    if (uploaded !== this.size || (token.status !== TOKEN_FULL_UPLOAD && token.status !== TOKEN_CLOSED)) {
      return this._fail(
        new ChunkPumpError("SIZE_MISMATCH", `Kaltura has ${uploaded} bytes of ${this.size}.`, { retryable: true }),
      );
    }
    this._bytesAcknowledged = this.size;
    this._emitProgress();
    this._setState("done");
    this._settle.resolve(token);
  }

  _fail(error, state = "failed") {
    if (["done", "failed", "cancelled"].includes(this._state)) return;
    this._abandonInFlight();
    this._setState(state);
    this._settle.reject(error);
  }

  _unexpected(error) {
    this._fail(new ChunkPumpError("INTERNAL", `The upload stopped: ${error && error.message}`, { cause: error }));
  }
}
