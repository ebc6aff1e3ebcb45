/* Upload page: send the chosen file straight to /upload (streamed, with progress), then hand the
   job id to Dash. No base64 through a callback, so a 100 MB file never freezes the tab. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  learning: {
    rememberKind: function (kind) {
      window.learningUploadKind = kind || "auto";
      return window.learningUploadKind;
    },
  },
});

(function () {
  function parts() {
    const zone = document.getElementById("data-dropzone");
    return zone && {
      zone: zone,
      bar: zone.querySelector("progress"),
      label: zone.querySelector(".upload-label"),
    };
  }

  function say(text) {
    const p = parts();
    if (p) p.label.textContent = text;
  }

  function startUpload(file) {
    const p = parts();
    if (!p) return;
    const url = "/upload?kind=" + encodeURIComponent(window.learningUploadKind || "auto") +
      "&name=" + encodeURIComponent(file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    p.bar.value = 0;
    say("Sending " + file.name + "…");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      p.bar.value = event.loaded / event.total;
      say("Sending " + file.name + ": " + Math.round((100 * event.loaded) / event.total) + "%");
    };
    xhr.onload = function () {
      if (xhr.status === 200) {
        p.bar.value = 1;
        say("Received " + file.name + ".");
        window.dash_clientside.set_props("data-job", { data: JSON.parse(xhr.responseText).job });
      } else if (xhr.status === 413) {
        say(file.name + " is larger than this server accepts.");
      } else if (xhr.status === 401 || xhr.status === 403) {
        say("You are signed out or may not upload. Sign in again.");
      } else {
        say("The upload of " + file.name + " failed (" + xhr.status + "). Nothing was written.");
      }
    };
    xhr.onerror = function () {
      say("The upload failed: the server could not be reached. Nothing was written.");
    };
    xhr.send(file);
  }

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input && input.id === "data-file" && input.files.length) {
      startUpload(input.files[0]);
      input.value = "";
    }
  });
  document.addEventListener("dragover", function (event) {
    if (event.target.closest && event.target.closest("#data-dropzone")) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    const zone = event.target.closest && event.target.closest("#data-dropzone");
    if (zone && event.dataTransfer.files.length) {
      event.preventDefault();
      startUpload(event.dataTransfer.files[0]);
    }
  });
  /* Dash cannot render a file input, so one is put into its slot whenever the page shows it. */
  new MutationObserver(function () {
    const slot = document.getElementById("data-file-slot");
    if (slot && !slot.querySelector("input")) {
      const input = document.createElement("input");
      input.type = "file";
      input.id = "data-file";
      input.accept = ".csv,.txt,.tsv,.xlsx";
      input.className = "form-control";
      input.setAttribute("aria-label", "File to upload");
      slot.appendChild(input);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
