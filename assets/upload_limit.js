// dcc.Upload drops a file over its max_size without a word; say why in the page.
(function () {
  function explain(event) {
    const upload = event.target.closest && event.target.closest("#image-upload, #weights-upload");
    if (!upload) return;
    const files = (event.dataTransfer && event.dataTransfer.files) || event.target.files;
    const limits = document.getElementById("upload-limits");
    if (!files || !files.length || !limits) return;
    const isImage = upload.id === "image-upload";
    const max = Number(isImage ? limits.dataset.image : limits.dataset.weights);
    const status = document.getElementById(isImage ? "upload-status" : "weights-status");
    if (max && files[0].size > max && status) {
      const mb = max / 1048576;
      const text = limits.dataset.tooLarge || "The file is larger than the {mb} MB limit.";
      status.textContent = text.replace("{mb}", mb >= 1 ? Math.round(mb) : mb.toFixed(2));
    }
  }
  document.addEventListener("change", explain, true);
  document.addEventListener("drop", explain, true);
})();
