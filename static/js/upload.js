// Uploads the chosen files one at a time, each with its own progress bar; the server
// answers with the file's result row. Without this script the form posts them together.
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

  form.addEventListener("submit", async (event) => {
    if (!input.files.length) return;
    event.preventDefault();
    const files = Array.from(input.files);
    for (const file of files) await send(file);
    input.value = "";
  });
})();
