// PhotoChanger admin UI: the few behaviours htmx does not cover. No tokens are kept here:
// the session lives in an HttpOnly cookie the script never sees.
(() => {
  "use strict";
  const body = document.body;
  const msg = (key, fallback) => body.dataset[key] || fallback;

  // ---- toasts ----
  function toast(text, kind) {
    let box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    const el = document.createElement("div");
    el.className = `alert toast ${kind || "info"}`;
    el.textContent = text;
    box.appendChild(el);
    setTimeout(() => el.remove(), 5000);
  }
  window.pcToast = toast;

  // ---- copy to clipboard (works on plain-HTTP LAN addresses too) ----
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "offscreen";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    if (!ok) throw new Error("copy refused");
  }

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("[data-copy-target],[data-copy]");
    if (btn) {
      ev.preventDefault();
      const target = btn.dataset.copyTarget ? document.getElementById(btn.dataset.copyTarget) : null;
      const text = target ? target.value || target.textContent : btn.dataset.copy;
      const label = btn.querySelector("[data-label]") || btn;
      const original = btn.dataset.originalLabel || label.textContent;
      btn.dataset.originalLabel = original;
      try {
        await copyText(text);
        btn.classList.add("copied");
        label.textContent = msg("msgCopied", "Copied");
      } catch {
        btn.classList.add("copy-failed");
        label.textContent = msg("msgCopyFailed", "Copy failed");
        if (target && target.select) target.select();
      }
      setTimeout(() => {
        btn.classList.remove("copied", "copy-failed");
        label.textContent = original;
      }, 1600);
      return;
    }

    const toggle = ev.target.closest("[data-toggle-password]");
    if (toggle) {
      const input = document.getElementById(toggle.dataset.togglePassword);
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(show));
      toggle.setAttribute("aria-label", show ? toggle.dataset.labelHide : toggle.dataset.labelShow);
      toggle.title = toggle.getAttribute("aria-label");
      toggle.querySelector(".eye-open").toggleAttribute("hidden", show);
      toggle.querySelector(".eye-closed").toggleAttribute("hidden", !show);
      return;
    }

    const opener = ev.target.closest("[data-dialog]");
    if (opener) {
      const dlg = document.getElementById(opener.dataset.dialog);
      if (dlg && dlg.showModal) dlg.showModal();
      return;
    }

    const clear = ev.target.closest("[data-clear-drop]");
    if (clear) {
      ev.preventDefault();
      const zone = document.getElementById(clear.dataset.clearDrop);
      resetDrop(zone);
    }
  });

  // ---- drag-and-drop image fields with preview ----
  function resetDrop(zone) {
    if (!zone) return;
    const input = zone.querySelector("input[type=file]");
    const img = zone.querySelector(".preview");
    input.value = "";
    if (img) {
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.removeAttribute("src");
      img.hidden = true;
    }
    zone.classList.remove("has-file");
    const name = zone.querySelector("[data-file-name]");
    if (name) name.textContent = "";
    const controls = zone.parentElement.querySelector("[data-when-file]");
    if (controls) controls.hidden = true;
  }

  function showPreview(input) {
    const zone = input.closest(".dropzone");
    const file = input.files && input.files[0];
    if (!zone) return;
    if (!file) return resetDrop(zone);
    const img = zone.querySelector(".preview");
    if (img) {
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(file);
      img.hidden = false;
    }
    zone.classList.add("has-file");
    const name = zone.querySelector("[data-file-name]");
    if (name) name.textContent = file.name;
    const controls = zone.parentElement.querySelector("[data-when-file]");
    if (controls) controls.hidden = false;
  }

  document.addEventListener("change", (ev) => {
    if (ev.target.matches(".dropzone input[type=file]")) showPreview(ev.target);
  });
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (ev) => {
      const zone = ev.target.closest && ev.target.closest(".dropzone");
      if (!zone) return;
      ev.preventDefault();
      zone.classList.add("dragover");
    });
  }
  document.addEventListener("dragleave", (ev) => {
    const zone = ev.target.closest && ev.target.closest(".dropzone");
    if (zone) zone.classList.remove("dragover");
  });
  document.addEventListener("drop", (ev) => {
    const zone = ev.target.closest && ev.target.closest(".dropzone");
    if (!zone) return;
    ev.preventDefault();
    zone.classList.remove("dragover");
    const input = zone.querySelector("input[type=file]");
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // ---- elapsed-time counter while a long request (test run) is in flight ----
  const timers = new WeakMap();
  document.addEventListener("htmx:beforeRequest", (ev) => {
    const form = ev.detail.elt.closest && ev.detail.elt.closest("[data-timer]");
    if (!form) return;
    const out = form.querySelector("[data-elapsed]");
    const start = Date.now();
    if (out) out.textContent = "0.0";
    timers.set(
      form,
      setInterval(() => {
        if (out) out.textContent = ((Date.now() - start) / 1000).toFixed(1);
      }, 100),
    );
  });
  document.addEventListener("htmx:afterRequest", (ev) => {
    const form = ev.detail.elt.closest && ev.detail.elt.closest("[data-timer]");
    if (form && timers.has(form)) {
      clearInterval(timers.get(form));
      timers.delete(form);
    }
  });

  // ---- the slot form: an "unsaved" marker while it differs from the saved slot, and a warning
  // before leaving the page with changes (saving re-renders the form clean) ----
  const markDirty = (ev) => {
    const form = ev.target.closest && ev.target.closest("#slot-form");
    if (form) form.dataset.dirty = "true";
  };
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  window.addEventListener("beforeunload", (ev) => {
    const form = document.getElementById("slot-form");
    if (form && form.dataset.dirty === "true") {
      ev.preventDefault();
      ev.returnValue = form.dataset.unsavedWarning || "";
    }
  });

  // ---- switching a slot off asks first (the booth is refused from then on); capture phase, so
  // a refusal stops the change before htmx sees it ----
  document.addEventListener(
    "change",
    (ev) => {
      const input = ev.target;
      if (!input.matches || !input.matches("input[data-confirm-off]") || input.checked) return;
      if (!window.confirm(input.dataset.confirmOff)) {
        input.checked = true;
        ev.stopImmediatePropagation();
        ev.preventDefault();
      }
    },
    true,
  );

  // ---- plain (non-htmx) forms that ask before they post ----
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest && ev.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) ev.preventDefault();
  });

  // ---- forms that check their input before asking for confirmation (a typo costs no dialog) ----
  document.addEventListener("htmx:confirm", (ev) => {
    const form = ev.detail.elt.closest && ev.detail.elt.closest("form[data-min-length]");
    if (!form) return;
    const input = form.querySelector("input[name=value]");
    const out = form.querySelector("[data-form-error]");
    const short = !input || input.value.length < Number(form.dataset.minLength);
    if (out) {
      out.textContent = short ? form.dataset.tooShort || "" : "";
      out.hidden = !short;
    }
    if (short) {
      ev.preventDefault();
      if (input) input.focus();
    }
  });

  // ---- long links in copy fields show their end (the slot id) rather than the host ----
  function showEnds(root) {
    for (const input of root.querySelectorAll(".copy-field input")) input.scrollLeft = input.scrollWidth;
  }
  // ---- the attention banner: open on wide screens, as the operator left it across the polls ----
  let attentionOpen = null; // null: the operator has not toggled it on this page
  const wide = () => window.matchMedia("(min-width: 601px)").matches;
  function syncAttention() {
    const box = document.querySelector("#attention details[data-attention]:not([data-synced])");
    if (!box) return;
    box.dataset.synced = "1";
    box.open = attentionOpen === null ? wide() : attentionOpen;
    box.addEventListener("toggle", () => {
      attentionOpen = box.open;
    });
  }
  document.addEventListener("DOMContentLoaded", syncAttention);
  document.addEventListener("htmx:afterSettle", syncAttention);

  document.addEventListener("DOMContentLoaded", () => showEnds(document));
  document.addEventListener("htmx:afterSwap", (ev) => showEnds(ev.detail.target || document));

  // ---- readable errors for what the server could not render (never raw JSON) ----
  document.addEventListener("htmx:beforeSwap", (ev) => {
    const xhr = ev.detail.xhr;
    const type = (xhr && xhr.getResponseHeader("content-type")) || "";
    if (!type.includes("json")) return;
    ev.detail.shouldSwap = false;
    ev.detail.isError = false;
    let text = `${msg("msgServerError", "Server error")} (${xhr.status})`;
    try {
      const env = JSON.parse(xhr.responseText);
      if (env && env.error && env.error.message) text = env.error.message;
    } catch {}
    toast(text, "error");
  });
  document.addEventListener("htmx:responseError", (ev) => {
    const status = ev.detail.xhr ? ev.detail.xhr.status : 0;
    toast(`${msg("msgServerError", "Server error")} (${status})`, "error");
  });
  document.addEventListener("htmx:sendError", () => {
    toast(msg("msgNetworkError", "No connection to the server"), "error");
  });
})();
