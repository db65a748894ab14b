// The hub's Media Library page is a host of the "From Kaltura" picker, like any other application:
// it opens the picker in its frame (the "From Kaltura" form posts into it), and accepts the picker's
// messages only from the portal's own origin and from that frame, with the documented shape. Then
// it refreshes its list of items and says what was added.
(function () {
  "use strict";
  var panel = document.getElementById("library-picker");
  var frame = document.getElementById("kaltura-picker");
  if (!panel || !frame) return;

  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form[data-open-picker]")) {
      panel.hidden = false;
      panel.scrollIntoView({ block: "start" });
      frame.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-close-picker]")) {
      panel.hidden = true;
      frame.src = "about:blank";
    }
  });

  function isPicked(data) {
    return data && data.type === "kaltura-hub-portal:picked" && data.version === 1 &&
      typeof data.hub === "string" && Array.isArray(data.items) &&
      data.items.every(function (item) {
        return item && typeof item.entryId === "string" && typeof item.name === "string" &&
          typeof item.libraryItemId === "number";
      });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.type === "kaltura-hub-portal:closed") {
      panel.hidden = true;
      return;
    }
    if (!isPicked(data)) return;
    var count = data.items.length;
    var region = document.getElementById("announcer");
    if (region) region.textContent = "Added " + count + (count === 1 ? " item" : " items") + " to the library.";
    if (window.htmx) {
      window.htmx.ajax("GET", window.location.pathname, { target: "#library-items", swap: "outerHTML" });
    }
  });
})();
