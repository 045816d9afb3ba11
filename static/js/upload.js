// Uploads the chosen or dropped files one at a time, each with its own progress bar; the
// server answers with the file's result row. Without this script the form posts the
// chosen files together and the drop zone stays hidden.
(function () {
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData) return;
  const input = form.querySelector("input[type=file]");
  const tbody = document.querySelector("#upload-results tbody");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function rowFor(file) {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = file.name;
    const progress = document.createElement("td");
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    progress.appendChild(bar);
    const result = document.createElement("td");
    row.append(name, progress, result);
    tbody.prepend(row);
    return { row, bar, result };
  }

  function send(file) {
    return new Promise((resolve) => {
      const { row, bar, result } = rowFor(file);
      const data = new FormData();
      data.append("file", file);
      data.append("origin", origin());
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
      xhr.onload = () => {
        if (xhr.status === 200) {
          const template = document.createElement("template");
          template.innerHTML = xhr.responseText.trim();
          const answer = template.content.firstElementChild;
          row.replaceWith(answer);
          // A row still being read asks again by itself (htmx polling).
          if (window.htmx) window.htmx.process(answer);
        } else {
          result.textContent = form.dataset.failed || "Fejl";
          result.className = "flag";
        }
        resolve();
      };
      xhr.onerror = () => { result.textContent = form.dataset.failed || "Fejl"; resolve(); };
      xhr.send(data);
    });
  }

  // Where the files came from is stated once per upload, before any file is sent: it
  // decides whether a file may clear an order by itself.
  const missing = document.getElementById("origin-missing");
  const origin = () => (form.querySelector("input[name=origin]:checked") || {}).value || "";

  async function sendAll(files) {
    if (!origin()) {
      missing.hidden = false;
      form.querySelector("input[name=origin]").focus();
      return;
    }
    missing.hidden = true;
    for (const file of files) await send(file);
  }

  form.addEventListener("submit", async (event) => {
    if (!input.files.length) return;
    event.preventDefault();
    if (!origin()) { await sendAll([]); return; }
    const files = Array.from(input.files);
    input.value = "";
    await sendAll(files);
  });

  // Files dragged from the mail program or a folder onto the drop zone are uploaded at
  // once, one by one, with the same progress bars as the file picker's.
  const zone = document.getElementById("drop-zone");
  if (!zone) return;
  zone.hidden = false;
  const carriesFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("drop-zone-active");
    })
  );
  ["dragleave", "dragend"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("drop-zone-active"))
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-zone-active");
    const files = Array.from(event.dataTransfer.files || []);
    if (files.length) sendAll(files);
  });
  // A file dropped beside the zone must not replace the page with the file itself.
  ["dragover", "drop"].forEach((name) =>
    window.addEventListener(name, (event) => {
      if (carriesFiles(event) && !zone.contains(event.target)) event.preventDefault();
    })
  );
})();
