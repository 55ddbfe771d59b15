// The catalogue upload form and import page: send the files in the background and show the
// import's progress, read from the import's JSON while it runs. The form works without it.
(() => {
  "use strict";
  const phases = { reading: "Checking lines…", checking: "Checking across lines…", images: "Storing pictures…", writing: "Writing products…", done: "Done" };

  function show(bar, label, count, imp) {
    bar.value = Math.round((imp.progress || 0) * 100);
    label.textContent = phases[imp.phase] || imp.phase;
    count.textContent = imp.lines + " lines read" + (imp.rejected ? ", " + imp.rejected + " bad" : "");
  }

  function poll(url, onData, isDone) {
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : null))
        .then((imp) => {
          if (imp) onData(imp);
          if (!imp || !isDone(imp)) setTimeout(tick, 400);
        })
        .catch(() => setTimeout(tick, 1000));
    };
    tick();
    return () => { stopped = true; };
  }

  const form = document.querySelector("form[data-import]");
  if (form) {
    form.addEventListener("submit", (e) => {
      if (!window.FormData || !window.XMLHttpRequest) return;
      e.preventDefault();
      const box = document.getElementById("import-progress");
      const bar = document.getElementById("import-bar");
      const label = document.getElementById("import-phase");
      const count = document.getElementById("import-count");
      const button = document.getElementById("import-submit");
      box.hidden = false;
      button.disabled = true;
      const data = new FormData(form);
      const ref = data.get("client_ref");
      let stop = null;
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) {
          bar.value = Math.round((ev.loaded / ev.total) * 20);
          label.textContent = "Uploading… " + Math.round((ev.loaded / ev.total) * 100) + "%";
        }
      });
      xhr.upload.addEventListener("load", () => {
        // The files are up: follow the import itself.
        stop = poll("/api/v1/catalog/imports?ref=" + encodeURIComponent(ref), (imp) => show(bar, label, count, imp), (imp) => imp.status !== "running");
      });
      xhr.addEventListener("load", () => {
        if (stop) stop();
        let imp = null;
        try { imp = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (imp && imp.url) {
          window.location.assign(imp.url);
          return;
        }
        button.disabled = false;
        label.textContent = (imp && imp.detail) || "The upload failed (" + xhr.status + ").";
        if (imp && imp.errors) count.textContent = imp.errors.map((f) => f.field + ": " + f.message).join("; ");
      });
      xhr.addEventListener("error", () => {
        if (stop) stop();
        button.disabled = false;
        label.textContent = "The upload failed: check your connection and try again.";
      });
      xhr.send(data);
    });
  }

  // An import page whose import is still running follows it and reloads when it ends.
  const page = document.querySelector("[data-import-id][data-status=running]");
  if (page) {
    const bar = document.getElementById("import-bar");
    const label = document.getElementById("import-phase");
    const lines = document.getElementById("import-lines");
    poll("/api/v1/catalog/imports/" + page.dataset.importId, (imp) => {
      bar.value = Math.round((imp.progress || 0) * 100);
      label.textContent = phases[imp.phase] || imp.phase;
      lines.textContent = imp.lines;
      if (imp.status !== "running") window.location.reload();
    }, (imp) => imp.status !== "running");
  }
})();
