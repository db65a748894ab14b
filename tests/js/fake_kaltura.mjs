// A fake of Kaltura's upload-token service for the chunk pump's unit tests: the semantics of
// kUploadTokenMgr (reference/kaltura-api.md §6.2) in memory, behind an injectable `fetch`.
// Positioned chunks are written when they touch the data and parked otherwise, parked chunks
// join when the gap fills, uploadedFileSize is the contiguous size, a final chunk checks
// resumeAt + its length (answering UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE at once instead of
// waiting), sessions can expire. Tests script faults per request with `fake.plan(fn)`.

export const TOKEN_ID = "0_0123456789abcdef0123456789abcdef";

function kalturaError(code, message = code, args = []) {
  return { code, message, objectType: "KalturaAPIException", args };
}

function abortError() {
  return new DOMException("This operation was aborted", "AbortError");
}

/** Wait `ms` (real time), rejecting when `signal` aborts. */
export function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(abortError());
    }, { once: true });
  });
}

/** `promise`, or an AbortError when `signal` aborts first (no timer keeps the process alive). */
function settledOrAborted(promise, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    signal?.addEventListener("abort", () => reject(abortError()), { once: true });
    promise.then(resolve, reject);
  });
}

export class FakeKaltura {
  constructor({ ks = "ks-1", fileName = "clip.mp4" } = {}) {
    this.sessions = new Set([ks]);
    this.token = { id: TOKEN_ID, status: 0, fileName, uploadedFileSize: null };
    this.data = null; // Uint8Array of the contiguous file
    this.parked = new Map(); // offset -> Uint8Array
    this.requests = []; // every request: {action, fields, size, sentAt}
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.completed = []; // offsets of answered chunks, in answer order
    this._script = () => undefined;
    this.onAnswer = () => {}; // called with each request whose upload was answered
    this.fetch = this.fetch.bind(this);
  }

  /** fn(request, index) returns what to do with a request: see `fetch`. */
  plan(fn) {
    this._script = fn;
  }

  expireSessions() {
    this.sessions.clear();
  }

  async fetch(url, init) {
    const parsed = new URL(url);
    const action = parsed.pathname.split("/").pop();
    const fields = {};
    let part = null;
    for (const [name, value] of init.body.entries()) {
      if (typeof value === "string") fields[name] = value;
      else part = value;
    }
    // Recorded before any await: the moment fetch is called is the moment the request is sent.
    const request = { action, fields, size: part ? part.size : 0, partName: part?.name, url, sentAt: this.requests.length };
    this.requests.push(request);
    const bytes = part ? new Uint8Array(await part.arrayBuffer()) : null;
    const plan = this._script(request, this.requests.length - 1) || {};
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (plan.hang) await wait(1e9, init.signal);
      if (plan.until) await settledOrAborted(plan.until, init.signal);
      await wait(plan.delay ?? 0, init.signal);
      if (plan.network) throw new TypeError("fetch failed");
      if (plan.http) {
        const headers = plan.retryAfter ? { "Retry-After": String(plan.retryAfter) } : {};
        return new Response("<html>busy</html>", { status: plan.http, headers });
      }
      if (plan.body !== undefined) return new Response(plan.body, { status: 200 });
      // `discard`: answer as if stored but keep nothing (a server that lost the chunk).
      const answer = plan.kaltura ? kalturaError(plan.kaltura) : plan.discard ? this.pretend() : this.handle(action, fields, bytes);
      if (plan.lostAck) throw new TypeError("fetch failed: other side closed");
      if (action === "upload" && !answer.code) {
        this.completed.push(Number(fields.resumeAt ?? 0));
        this.onAnswer(request);
      }
      return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
    } finally {
      this.inFlight -= 1;
    }
  }

  pretend() {
    this.token.status = 1;
    return { ...this.token, objectType: "KalturaUploadToken" };
  }

  handle(action, fields, bytes) {
    if (!this.sessions.has(fields.ks)) return kalturaError("INVALID_KS", 'Invalid KS "EXPIRED", Error "-1,INVALID_STR"');
    if (fields.uploadTokenId !== this.token.id) return kalturaError("UPLOAD_TOKEN_NOT_FOUND");
    if (action === "get") return { ...this.token, objectType: "KalturaUploadToken" };
    if (action !== "upload") return kalturaError("ACTION_DOES_NOT_EXISTS");
    if (![0, 1].includes(this.token.status)) return kalturaError("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD");
    const resume = !["0", "false", ""].includes(fields.resume ?? "0");
    const final = !["0", "false", ""].includes(fields.finalChunk ?? "1");
    const resumeAt = Number(fields.resumeAt ?? -1);
    if (!resume) {
      this.data = bytes;
    } else {
      if (this.data === null) return kalturaError("UPLOAD_TOKEN_CANNOT_RESUME");
      if (!(bytes.length === 0 && !final && resumeAt > 0)) this.parked.set(resumeAt < 0 ? this.data.length : resumeAt, bytes);
    }
    this.join();
    if (final && resume && resumeAt > 0 && this.data.length !== resumeAt + bytes.length) {
      return kalturaError("UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE");
    }
    this.token.status = final ? 2 : 1;
    this.token.uploadedFileSize = this.data.length;
    return { ...this.token, objectType: "KalturaUploadToken" };
  }

  /** Join parked chunks that start within or at the end of the data and extend it. */
  join() {
    let progress = true;
    while (progress) {
      progress = false;
      for (const [offset, chunk] of [...this.parked].sort((a, b) => a[0] - b[0])) {
        const size = this.data.length;
        if (offset <= size && offset + chunk.length > size) {
          const joined = new Uint8Array(offset + chunk.length);
          joined.set(this.data.subarray(0, offset));
          joined.set(chunk, offset);
          this.data = joined;
          this.parked.delete(offset);
          progress = true;
          break;
        }
        if (offset + chunk.length <= size) {
          this.data.set(chunk, offset); // a duplicate: same bytes at the same place
          this.parked.delete(offset);
        }
      }
    }
  }
}

/** A Blob of `size` bytes whose content is a function of the offset (so misplaced bytes show). */
export function patternBlob(size, name = "clip.mp4") {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8) * 7) & 0xff;
  return new File([bytes], name);
}

export async function blobBytes(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}
