// The "From Kaltura" picker, inside a host application's iframe. What htmx attributes cannot say
// under a CSP without inline script or eval:
//
// - the picker-session token: read once from <meta name="kaltura-picker-session">, removed from the
//   page, and sent as "Authorization: Bearer" on every htmx request to the portal (never a cookie,
//   never a URL);
// - the listbox: arrow keys move between cards (roving tabindex), Enter or Space toggles the
//   selection, Escape clears it; a click toggles too; the preview follows the focused card;
// - the selection tray, kept across pages and searches, and the "Add N items to library" button;
// - after an import, the exact message for the host, posted to the launch origin only (never "*");
// - a session that ended (401): the picker says so and tells the host it may relaunch.
(function () {
  "use strict";

  var root = document.getElementById("picker");
  if (!root) return;
  var hostOrigin = root.getAttribute("data-host-origin");
  var hub = root.getAttribute("data-hub");
  var meta = document.querySelector('meta[name="kaltura-picker-session"]');
  var token = meta ? meta.getAttribute("content") : "";
  if (meta) meta.parentNode.removeChild(meta);

  var selected = new Map(); // entry id -> {name, type, is360}, in selection order
  var previewTimer = null;
  var focusAfterSwap = false;

  function $(id) { return document.getElementById(id); }

  function announce(text) {
    var region = $("picker-announcer");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function postToHost(message) {
    // Only to the origin the launch was verified for; the picker may also run top-level (no parent).
    if (window.parent && window.parent !== window && hostOrigin) {
      window.parent.postMessage(message, hostOrigin);
    }
  }

  // The upload panel (uploads.js, a module) sends its own requests with fetch: it gets the header
  // from here rather than the token itself.
  window.kalturaPicker = Object.freeze({
    authorize: function (headers) {
      headers = headers || {};
      headers["Authorization"] = "Bearer " + token;
      return headers;
    },
    announce: announce
  });

  // -- the bearer header -------------------------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    var path = event.detail.path || "";
    if (path.indexOf("/embed/picker") === 0 || path.indexOf(window.location.origin + "/embed/picker") === 0) {
      event.detail.headers["Authorization"] = "Bearer " + token;
    }
  });

  // -- the listbox ---------------------------------------------------------------------------------
  function options() {
    var box = $("picker-listbox");
    return box ? Array.prototype.slice.call(box.querySelectorAll('[role="option"]')) : [];
  }

  function columns(items) {
    if (items.length < 2) return 1;
    var top = items[0].offsetTop;
    var count = 0;
    for (var i = 0; i < items.length && items[i].offsetTop === top; i++) count++;
    return Math.max(1, count);
  }

  function focusOption(option) {
    options().forEach(function (item) { item.setAttribute("tabindex", item === option ? "0" : "-1"); });
    option.focus();
    option.scrollIntoView({ block: "nearest" });
    schedulePreview(option, 450);
  }

  var wide = window.matchMedia("(min-width: 720px)");

  function showPreview(id) {
    if (!window.htmx) return;
    window.htmx.ajax("GET", root.getAttribute("data-media-url") + "/" + encodeURIComponent(id), {
      target: "#picker-preview", swap: "outerHTML"
    });
  }

  function schedulePreview(option, delay) {
    // On a wide frame the preview panel sits beside the grid and follows the focus; on a narrow
    // one it is a sheet over the grid, opened from the selection tray only.
    if (!wide.matches) return;
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(function () {
      if (window.htmx) window.htmx.trigger(option, "picker:preview");
    }, delay);
  }

  function toggle(option) {
    var id = option.getAttribute("data-entry-id");
    if (selected.has(id)) {
      selected.delete(id);
    } else {
      selected.set(id, {
        name: option.getAttribute("data-name"),
        type: option.getAttribute("data-type"),
        is360: option.getAttribute("data-is360") === "true"
      });
    }
    render();
    announce((selected.has(id) ? "Selected " : "Removed ") + option.getAttribute("data-name") + ". " + countText() + " selected.");
  }

  function clearSelection(quiet) {
    if (!selected.size) return;
    selected.clear();
    render();
    if (!quiet) announce("Selection cleared.");
  }

  function countText() {
    return selected.size + (selected.size === 1 ? " item" : " items");
  }

  function render() {
    options().forEach(function (option) {
      option.setAttribute("aria-selected", selected.has(option.getAttribute("data-entry-id")) ? "true" : "false");
    });
    var list = $("tray-list");
    var ids = $("picker-import-ids");
    list.textContent = "";
    ids.textContent = "";
    selected.forEach(function (item, id) {
      var li = document.createElement("li");
      li.className = "tray-item";
      var name = document.createElement("button");
      name.type = "button";
      name.className = "tray-preview";
      name.setAttribute("data-preview", id);
      name.setAttribute("aria-label", "Preview " + item.name);
      name.textContent = item.name + (item.is360 ? " (360°)" : "");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "tray-remove";
      remove.setAttribute("data-remove", id);
      remove.setAttribute("aria-label", "Remove " + item.name + " from the selection");
      remove.textContent = "×";
      li.appendChild(name);
      li.appendChild(remove);
      list.appendChild(li);
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "entry_id";
      input.value = id;
      ids.appendChild(input);
    });
    $("tray-count").textContent = String(selected.size);
    $("tray-empty").hidden = selected.size > 0;
    var clear = root.querySelector("[data-clear-selection]");
    if (clear) clear.hidden = selected.size === 0;
    var add = $("picker-add");
    add.disabled = selected.size === 0;
    add.textContent = selected.size ? "Add " + countText() + " to library" : "Add to library";
  }

  root.addEventListener("keydown", function (event) {
    var option = event.target.closest && event.target.closest('[role="option"]');
    var inSelection = option || (event.target.closest && event.target.closest(".picker-tray"));
    if (event.key === "Escape" && selected.size && inSelection) {
      event.preventDefault();
      clearSelection(false);
      return;
    }
    if (!option) return;
    var items = options();
    var index = items.indexOf(option);
    var step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(items), ArrowUp: -columns(items) }[event.key];
    if (step !== undefined) {
      event.preventDefault();
      var next = items[Math.min(items.length - 1, Math.max(0, index + step))];
      if (next) focusOption(next);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      focusOption(event.key === "Home" ? items[0] : items[items.length - 1]);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      toggle(option);
    }
  });

  root.addEventListener("click", function (event) {
    var target = event.target;
    var option = target.closest && target.closest('[role="option"]');
    if (option) {
      toggle(option);
      focusOption(option);
      schedulePreview(option, 0);
      return;
    }
    var previewButton = target.closest && target.closest("[data-preview]");
    if (previewButton) {
      showPreview(previewButton.getAttribute("data-preview"));
      return;
    }
    if (target.closest && target.closest("[data-close-preview]")) {
      $("picker-preview-panel").classList.remove("is-open");
      return;
    }
    var remove = target.closest && target.closest("[data-remove]");
    if (remove) {
      selected.delete(remove.getAttribute("data-remove"));
      render();
      announce("Removed from the selection. " + countText() + " selected.");
      return;
    }
    if (target.closest && target.closest("[data-clear-selection]")) {
      clearSelection(false);
      return;
    }
    if (target.closest && target.closest("[data-clear-filters]")) {
      var form = $("picker-controls");
      $("picker-search").value = "";
      form.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      if (window.htmx) window.htmx.trigger(form, "submit");
      $("picker-search").focus();
      return;
    }
    if (target.closest && target.closest("[data-page-nav]")) focusAfterSwap = true;
  });

  // -- after every swap ----------------------------------------------------------------------------
  function thumbnailsFallBack(scope) {
    scope.querySelectorAll("img[data-thumb]:not([data-watched])").forEach(function (img) {
      img.setAttribute("data-watched", "");
      img.addEventListener("error", function () {
        img.hidden = true;
        var icon = img.parentNode.querySelector(".media-icon");
        if (icon) icon.hidden = false;
      }, { once: true });
    });
    scope.querySelectorAll("[data-player]:not([data-watched])").forEach(function (player) {
      player.setAttribute("data-watched", "");
      var source = player.querySelector("source");
      (source || player).addEventListener("error", function () {
        var note = player.parentNode.querySelector("[data-play-error]");
        if (note) note.hidden = false;
        player.hidden = true;
      }, { once: true });
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    thumbnailsFallBack(document);
    if (target.id === "picker-results" || (target.closest && target.closest("#picker-results")) || $("picker-results") === target) {
      render();
      var summary = document.querySelector("[data-summary]");
      if (summary) announce(summary.textContent.trim());
      if (focusAfterSwap) {
        focusAfterSwap = false;
        var first = options()[0];
        if (first) first.focus(); else if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
      }
    }
    if (target.id === "picker-preview") $("picker-preview-panel").classList.add("is-open");
    // A pick, or an upload that became ready in the library: the host gets the same message.
    document.querySelectorAll("[data-picked]").forEach(function (result) {
      var message = JSON.parse(result.getAttribute("data-picked"));
      result.removeAttribute("data-picked");
      if (message && message.type === "kaltura-hub-portal:picked" && message.hub === hub) {
        postToHost(message);
        if (result.id === "picker-import-result") {
          clearSelection(true);
          announce(result.textContent.trim());
        }
      }
    });
  });

  // -- a session that ended ------------------------------------------------------------------------
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 401) {
      var ended = $("picker-ended");
      ended.hidden = false;
      root.classList.add("is-ended");
      ended.setAttribute("tabindex", "-1");
      ended.focus();
      postToHost({ type: "kaltura-hub-portal:closed", version: 1, hub: hub, reason: "session-ended" });
    }
  });

  function ready() {
    render();
    thumbnailsFallBack(document);
    // htmx (loaded before this script) has processed the page by now: the controls are live.
    root.setAttribute("data-ready", "");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
