// What htmx attributes cannot say under our CSP (no inline script, no eval, so no hx-on):
// focus and announcements after a swap, busy buttons while a request runs, and failed requests
// made visible instead of a click that silently does nothing.
//
// The contract, used by templates:
// - data-autofocus on an element of a response: it gets the focus once that response is settled
//   (the first invalid field, an error summary, or the heading of a result).
// - data-announce on an element of a response: its text is read out by the page's live region,
//   which sits outside every swapped section so screen readers notice the change.
// - data-focus-field on a link to "#field-id" (an error summary, "Replace"): the click moves the
//   focus to that field, not only the scroll position.
// - A 4xx error card swapped in place of a section (the portal's error pages, id "error-body") is
//   focused and read out like any other result, since it carries no data-autofocus of its own.
// - 5xx answers are not swapped (see the htmx config in base.html): they and network failures
//   show the #request-error banner with the request id to quote.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    // Clearing first makes a repeated message ("Saved.") count as a change.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  var lastStatus = 0;

  function focusElement(target) {
    if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  function settle() {
    var errorCard = lastStatus >= 400 ? document.getElementById("error-body") : null;
    lastStatus = 0;
    if (errorCard && !document.querySelector("[data-autofocus]")) {
      focusElement(errorCard.querySelector("h1, h2") || errorCard);
      announce(errorCard.textContent.trim().replace(/\s+/g, " "));
      return;
    }
    var target = document.querySelector("[data-autofocus]");
    if (target) {
      target.removeAttribute("data-autofocus");
      focusElement(target);
    }
    document.querySelectorAll("[data-announce]").forEach(function (element) {
      element.removeAttribute("data-announce");
      announce(element.textContent.trim().replace(/\s+/g, " "));
    });
  }

  function requestForm(event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.closest) return null;
    return element.closest("form") || element;
  }

  function setBusy(event, busy) {
    var form = requestForm(event);
    if (!form) return;
    // Boosted links are left alone: the whole page is about to change anyway.
    if (form.tagName === "A") return;
    form.toggleAttribute("aria-busy", busy);
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
      if (busy && !button.disabled) {
        button.disabled = true;
        button.setAttribute("data-busy", "");
      } else if (!busy && button.hasAttribute("data-busy")) {
        button.disabled = false;
        button.removeAttribute("data-busy");
      }
    });
  }

  function showFailure(message) {
    var banner = document.getElementById("request-error");
    if (!banner) return;
    banner.querySelector("[data-message]").textContent = message;
    banner.hidden = false;
    banner.focus();
  }

  function hideFailure() {
    var banner = document.getElementById("request-error");
    if (banner) banner.hidden = true;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    hideFailure();
    setBusy(event, true);
  });
  document.addEventListener("htmx:afterRequest", function (event) { setBusy(event, false); });
  document.addEventListener("htmx:beforeSwap", function (event) { lastStatus = event.detail.xhr.status; });
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", settle);

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var reference = xhr.getResponseHeader("X-Request-Id");
    showFailure(
      "The portal could not complete that request (error " + xhr.status + "). Nothing was changed. " +
      "Try again in a moment" + (reference ? "; if it keeps happening, contact support and quote reference " + reference : "") + "."
    );
  });
  document.addEventListener("htmx:sendError", function () {
    showFailure("The portal could not be reached. Check your connection, then try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    showFailure("The portal took too long to answer. Nothing was lost; try again.");
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("[data-dismiss-error]")) hideFailure();
    var link = event.target.closest("a[data-focus-field]");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  });
})();
