// The host page: asks its backend for a launch token, posts it into the iframe, and accepts the
// picker's messages only from the portal's origin and from that iframe, with the documented shape.
(function () {
  "use strict";
  var host = document.getElementById("host");
  var portalOrigin = host.getAttribute("data-portal-origin");
  var frame = document.getElementById("kaltura-picker");
  var received = document.getElementById("received");

  function open() {
    var body = new URLSearchParams({ person: document.querySelector("[data-person]").value });
    fetch("/launch-token", { method: "POST", body: body })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        document.getElementById("launch-token").value = data.launch_token;
        document.getElementById("launch-form").submit();
        document.getElementById("launch-token").value = "";
      });
  }

  function valid(data) {
    return data && data.type === "kaltura-hub-portal:picked" && data.version === 1 &&
      typeof data.hub === "string" && Array.isArray(data.items) &&
      data.items.every(function (item) {
        return typeof item.entryId === "string" && typeof item.name === "string" &&
          ["video", "image", "audio"].indexOf(item.mediaType) >= 0 &&
          typeof item.is360 === "boolean" && typeof item.libraryItemId === "number";
      });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== portalOrigin || event.source !== frame.contentWindow) return;
    if (event.data && event.data.type === "kaltura-hub-portal:closed") {
      open();  // the picker session ended: relaunch with a fresh token
      return;
    }
    if (!valid(event.data)) return;
    document.getElementById("received-empty").hidden = true;
    event.data.items.forEach(function (item) {
      var li = document.createElement("li");
      li.setAttribute("data-entry-id", item.entryId);
      li.setAttribute("data-origin", event.origin);
      li.textContent = item.name + " (" + item.mediaType + (item.is360 ? ", 360°" : "") + ") · entry " +
        item.entryId + " · library item " + item.libraryItemId + " · from " + event.origin;
      received.appendChild(li);
    });
  });

  document.getElementById("open-picker").addEventListener("click", open);
  open();
})();
