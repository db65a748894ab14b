// The picker's upload panel: glue between the page and the chunk pump (chunk_pump.js).
//
// For each chosen or dropped file: read its first bytes (and, for MP4/MOV, its last bytes, where
// cameras put the moov box) and ask the portal what it is (/uploads/check): allowed or not, 360°
// or not, and whether an earlier upload of the same file can go on. Then, on "Upload": the portal
// prepares the upload (token, entry, a short-lived Kaltura session) and the chunk pump sends the
// bytes straight to Kaltura. The portal never sees them. Each file has its own progress bar named
// by the file name; a refusal is a message on that file and the others go on. The Uploads list
// below (HTMX, polled by the portal while something is active) shows Kaltura's truth.
import { ChunkPump } from "./chunk_pump.js";

const panel = document.getElementById("picker-upload");
if (panel) setUp(panel);

function setUp(panel) {
  const input = document.getElementById("upload-files");
  const drop = document.getElementById("upload-drop");
  const queue = document.getElementById("upload-queue");
  const start = document.getElementById("upload-start");
  const announcer = document.getElementById("upload-announcer");
  const headBytes = Number(panel.dataset.headBytes);
  const tailBytes = Number(panel.dataset.tailBytes);
  const isoFirstBoxes = ["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"];
  const items = [];
  let running = false;

  function say(text) {
    announcer.textContent = "";
    window.setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function headers() {
    return window.kalturaPicker ? window.kalturaPicker.authorize({}) : {};
  }

  async function post(url, body) {
    const response = await fetch(url, { method: "POST", body, headers: headers(), credentials: "omit" });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = { ok: false, message: `The portal answered ${response.status}; try again.` };
    }
    if (response.status === 401) answer.closed = true;
    return { status: response.status, answer };
  }

  function refreshList() {
    document.body.dispatchEvent(new CustomEvent("uploads:refresh"));
  }

  // -- the queue ---------------------------------------------------------------------------------

  function field(item, label, name, value, kind = "input") {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const id = `upload-${item.id}-${name}`;
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label;
    const control = document.createElement(kind);
    control.id = id;
    control.name = name;
    if (kind === "input") control.type = "text";
    control.value = value;
    wrap.append(lab, control);
    item.fields[name] = control;
    return wrap;
  }

  function addFile(file) {
    const item = { id: items.length + 1, file, state: "checking", fields: {}, pump: null, uploadId: null };
    const li = document.createElement("li");
    li.className = "upload-item";
    li.dataset.state = "checking";
    const title = document.createElement("p");
    title.className = "upload-item-title";
    title.textContent = file.name;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name);
    const status = document.createElement("p");
    status.className = "upload-status";
    status.setAttribute("role", "status");
    status.textContent = "Checking the file…";
    const fields = document.createElement("div");
    fields.className = "upload-fields";
    fields.append(
      field(item, "Name", "name", file.name),
      field(item, "Description", "description", "", "textarea"),
      field(item, "Tags (comma-separated)", "tags", ""),
    );
    const box = document.createElement("div");
    box.className = "field field-check";
    const check = document.createElement("input");
    check.type = "checkbox";
    check.id = `upload-${item.id}-is360`;
    check.name = "is_360";
    const checkLabel = document.createElement("label");
    checkLabel.htmlFor = check.id;
    checkLabel.textContent = "360° media";
    const warning = document.createElement("p");
    warning.className = "upload-warning";
    warning.hidden = true;
    box.append(check, checkLabel, warning);
    fields.append(box);
    item.fields.is_360 = check;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${file.name} from the queue`);
    li.append(title, fields, progress, status, remove);
    queue.append(li);
    Object.assign(item, { li, progress, status, warning, remove });
    items.push(item);
    check.addEventListener("change", () => showWarning(item));
    remove.addEventListener("click", () => removeItem(item));
    inspect(item);
  }

  function setState(item, state, text) {
    item.state = state;
    item.li.dataset.state = state;
    if (text !== undefined) item.status.textContent = text;
    updateStart();
  }

  function showWarning(item) {
    const text = item.checked && item.checked.not360Warning;
    item.warning.hidden = !(text && item.fields.is_360.checked);
    item.warning.textContent = text || "";
  }

  async function removeItem(item) {
    if (item.pump && ["uploading", "paused"].includes(item.state)) {
      item.pump.cancel();
      if (item.uploadId) {
        await fetch(`${panel.dataset.uploadsUrl}/${encodeURIComponent(item.uploadId)}/cancel`, {
          method: "POST", headers: headers(), credentials: "omit",
        });
        refreshList();
      }
    }
    item.li.remove();
    items.splice(items.indexOf(item), 1);
    updateStart();
  }

  function updateStart() {
    const ready = items.filter((i) => i.state === "ready").length;
    start.hidden = ready === 0 && !running;
    start.disabled = running || ready === 0;
    start.textContent = ready > 1 ? `Upload ${ready} files` : "Upload";
  }

  // -- check -------------------------------------------------------------------------------------

  async function sample(file) {
    const head = file.slice(0, Math.min(file.size, headBytes));
    const first = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    const box = String.fromCharCode(...first.slice(4, 8));
    const tail = isoFirstBoxes.includes(box) && file.size > headBytes
      ? file.slice(Math.max(headBytes, file.size - tailBytes))
      : null;
    const form = new FormData();
    form.append("file_name", file.name);
    form.append("file_size", String(file.size));
    form.append("head", head, "head");
    if (tail) form.append("tail", tail, "tail");
    return form;
  }

  async function inspect(item) {
    let result;
    try {
      result = await post(panel.dataset.checkUrl, await sample(item.file));
    } catch {
      setState(item, "refused", `${item.file.name} could not be read or checked: choose it again.`);
      return;
    }
    const answer = result.answer;
    if (!answer.ok) {
      item.li.querySelector(".upload-fields").hidden = true;
      item.progress.hidden = true;
      setState(item, "refused", answer.message);
      say(answer.message);
      return;
    }
    item.checked = answer;
    item.fields.is_360.checked = Boolean(answer.is360);
    let text = `${answer.format}, ready to upload.`;
    if (answer.is360) text = `${answer.format} with 360° metadata: it will be tagged 360.`;
    else if (answer.maybe360) text = `${answer.format}. It is 2:1 and may be 360°: tick 360° if it is.`;
    if (answer.resume) {
      item.progress.value = answer.resume.percent;
      text += ` ${answer.resume.percent} % of it was uploaded earlier: it goes on from there.`;
    }
    setState(item, "ready", text);
    showWarning(item);
  }

  // -- upload ------------------------------------------------------------------------------------

  async function upload(item) {
    setState(item, "preparing", "Preparing the upload…");
    const form = await sample(item.file);
    for (const name of ["name", "description", "tags"]) form.append(name, item.fields[name].value);
    form.append("is_360", item.fields.is_360.checked ? "1" : "0");
    let result;
    try {
      result = await post(panel.dataset.prepareUrl, form);
    } catch {
      setState(item, "failed", `${item.file.name} was not uploaded: the portal could not be reached. Try again.`);
      return;
    }
    const answer = result.answer;
    if (!answer.ok) {
      setState(item, answer.field && answer.field !== "file" && result.status === 422 ? "ready" : "failed", answer.message);
      return;
    }
    item.uploadId = answer.uploadId;
    if (answer.done) return finished(item);
    for (const control of Object.values(item.fields)) control.disabled = true;
    const plan = answer.plan;
    const pump = new ChunkPump(item.file, plan, {
      refreshSession: async () => {
        const fresh = await post(`${panel.dataset.uploadsUrl}/${encodeURIComponent(item.uploadId)}/session`, new FormData());
        if (!fresh.answer.ks) throw new Error(fresh.answer.message || "no session");
        return fresh.answer.ks;
      },
    });
    item.pump = pump;
    pump.addEventListener("progress", (event) => {
      const d = event.detail;
      item.progress.value = Math.floor(d.fraction * 100);
      const left = d.secondsLeft ? `, about ${Math.ceil(d.secondsLeft)} s left` : "";
      item.status.textContent = `Uploading ${Math.floor(d.fraction * 100)} %${left}`;
    });
    item.remove.textContent = "Cancel";
    item.remove.setAttribute("aria-label", `Cancel the upload of ${item.file.name}`);
    const pause = document.createElement("button");
    pause.type = "button";
    pause.className = "link-button";
    const label = () => {
      const paused = pump.state === "paused";
      pause.textContent = paused ? "Resume" : "Pause";
      pause.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} the upload of ${item.file.name}`);
    };
    label();
    pause.addEventListener("click", () => {
      if (pump.state === "paused") pump.resume();
      else pump.pause();
    });
    pump.addEventListener("statechange", (event) => {
      label();
      if (event.detail.state === "paused") item.status.textContent = `Paused at ${item.progress.value} %`;
      if (["done", "failed", "cancelled"].includes(event.detail.state)) pause.remove();
    });
    item.li.insertBefore(pause, item.remove);
    setState(item, "uploading", plan.resumeAt ? `Going on from ${Math.floor((plan.resumeAt * 100) / item.file.size)} %…` : "Uploading…");
    refreshList();
    try {
      await pump.start();
    } catch (error) {
      if (error && error.code === "CANCELLED") return;
      if (error && error.retryable === false) {
        // Kaltura said no for good (a file type the account refuses, ...): going on later cannot
        // help, so the upload token and the empty entry go now and nothing is left behind.
        await fetch(`${panel.dataset.uploadsUrl}/${encodeURIComponent(item.uploadId)}/cancel`, {
          method: "POST", headers: headers(), credentials: "omit",
        }).catch(() => null);
        const why = error.code === "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD"
          ? "this Kaltura account does not accept files of this type. Convert it to another format or ask a hub admin."
          : `${error.message} (${error.code}).`;
        setState(item, "failed", `Kaltura refused ${item.file.name}: ${why} Nothing of it was left in Kaltura.`);
      } else {
        setState(item, "failed", `${item.file.name} stopped: ${error.message} Choose the same file again to go on from where it stopped.`);
      }
      item.remove.textContent = "Remove";
      item.remove.setAttribute("aria-label", `Remove ${item.file.name} from the queue`);
      refreshList();
      return;
    }
    return finished(item);
  }

  async function finished(item) {
    item.progress.value = 100;
    item.remove.hidden = true;
    setState(item, "done", "Uploaded. Kaltura is transcoding it; its progress is in the Uploads list.");
    // Through htmx, swapped into the Uploads list: when Kaltura already has it READY (an image),
    // this answer is the one carrying the "ready" notice and the message for the host.
    const url = `${panel.dataset.uploadsUrl}/${encodeURIComponent(item.uploadId)}/finish`;
    const target = document.getElementById("picker-uploads") ? "#picker-uploads" : "#picker-uploads-slot";
    if (window.htmx) {
      await Promise.resolve(window.htmx.ajax("POST", url, { target, swap: "outerHTML" })).catch(() => null);
    } else {
      refreshList();
    }
    say(`${item.file.name} is uploaded.`);
  }

  async function uploadAll() {
    if (running) return;
    running = true;
    updateStart();
    try {
      // One file at a time: each already uses several connections.
      let next;
      while ((next = items.find((i) => i.state === "ready"))) await upload(next);
    } finally {
      running = false;
      updateStart();
    }
  }

  // -- wiring ------------------------------------------------------------------------------------

  input.addEventListener("change", () => {
    for (const file of input.files) addFile(file);
    input.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("is-over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("is-over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("is-over");
    for (const file of event.dataTransfer.files) addFile(file);
  });
  start.addEventListener("click", uploadAll);
  panel.dataset.ready = "";
}
