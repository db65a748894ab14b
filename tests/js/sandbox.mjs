// The Kaltura sandbox as a real process for the chunk pump's protocol tests, and a small JSON
// client for it (sessions from the demo App Token, upload tokens, entries, the control surface).
// The sandbox runs from this checkout with the Python in $PYTHON (the pytest wrapper sets it),
// else .venv/bin/python, else python3.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PARTICIPANT = "pat@northwind.example";

function python() {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = join(ROOT, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

export class Sandbox {
  static async start() {
    const child = spawn(
      python(),
      ["-m", "kaltura_sandbox", "serve", "--host", "127.0.0.1", "--port", "0", "--seed", "demo", "--enable-control", "--conversion-delay", "0"],
      { cwd: ROOT, env: { ...process.env, PYTHONUNBUFFERED: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sandbox did not start:\n${output}`)), 120000);
      const read = (chunk) => {
        output += chunk;
        const match = output.match(/Kaltura sandbox listening on (http:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.setEncoding("utf8").on("data", read);
      child.stderr.setEncoding("utf8").on("data", read);
      child.on("exit", (code) => reject(new Error(`the sandbox exited (${code}):\n${output}`)));
    });
    // Keep draining its output so a chatty server never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    const sandbox = new Sandbox(url, child);
    sandbox.credentials = await sandbox.control("credentials");
    return sandbox;
  }

  constructor(url, child) {
    this.url = url;
    this.child = child;
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  /** POST /__control/<path> with a JSON body (GET for calls and credentials). */
  async control(path, body = {}) {
    const get = path === "calls" || path === "credentials";
    const response = await fetch(`${this.url}/__control/${path}`, {
      method: get ? "GET" : "POST",
      headers: get ? {} : { "Content-Type": "application/json" },
      body: get ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /** One API call in JSON (format=1); returns the decoded answer, errors included. */
  async call(service, action, params = {}) {
    const response = await fetch(`${this.url}/api_v3/service/${service}/action/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: 1, ...params }),
    });
    if (response.status !== 200) throw new Error(`${service}.${action}: HTTP ${response.status}`);
    return response.json();
  }

  async ok(service, action, params) {
    const answer = await this.call(service, action, params);
    if (answer && answer.objectType === "KalturaAPIException") {
      throw new Error(`${service}.${action}: ${answer.code} ${answer.message}`);
    }
    return answer;
  }

  /** A USER session for `userId` from the demo client App Token, minted the documented way. */
  async userKs(userId = PARTICIPANT) {
    const token = this.credentials.clientAppToken;
    const widget = await this.ok("session", "startWidgetSession", { widgetId: `_${this.credentials.partnerId}` });
    const hash = createHash(token.hashType.toLowerCase()).update(widget.ks + token.token).digest("hex");
    const session = await this.ok("appToken", "startSession", { ks: widget.ks, id: token.id, tokenHash: hash, userId });
    return session.ks;
  }

  async newToken(ks, fileName, fileSize) {
    return this.ok("uploadToken", "add", { ks, uploadToken: { objectType: "KalturaUploadToken", fileName, fileSize } });
  }

  async token(ks, uploadTokenId) {
    return this.ok("uploadToken", "get", { ks, uploadTokenId });
  }

  /** Attach the token to a new entry and download the entry's source: the bytes Kaltura stored. */
  async storedBytes(ks, uploadTokenId) {
    const entry = await this.ok("media", "add", { ks, entry: { objectType: "KalturaMediaEntry", name: "Pump check", mediaType: 1 } });
    const attached = await this.ok("media", "addContent", {
      ks,
      entryId: entry.id,
      resource: { objectType: "KalturaUploadedFileTokenResource", token: uploadTokenId },
    });
    const response = await fetch(`${attached.downloadUrl}/ks/${ks}`);
    if (response.status !== 200) throw new Error(`download: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
}
