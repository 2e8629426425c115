// PhotoChanger admin UI: the few behaviours htmx does not cover. No tokens are kept here:
// the session lives in an HttpOnly cookie the script never sees.
(() => {
  "use strict";
  const body = document.body;
  const msg = (key, fallback) => body.dataset[key] || fallback;

  // ---- answers (toasts): every htmx action's answer is said beside the control that was used —
  // at the bottom of the screen on a phone — and read out through the aria-live region ----
  const narrow = () => window.matchMedia("(max-width: 600px)").matches;
  function toastBox() {
    let box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }
  /** `near`: a viewport rectangle to show the answer beside (none: the fixed corner). */
  function toast(text, kind, near) {
    const box = toastBox();
    const el = document.createElement("div");
    el.className = `alert toast ${kind || "info"}`;
    el.dataset.toast = kind || "info";
    el.textContent = text;
    for (const old of box.querySelectorAll(".toast.anchored")) old.remove();
    box.appendChild(el);
    if (near && !narrow()) {
      // CSSOM positioning (not a style attribute, which the CSP refuses)
      el.classList.add("anchored");
      const w = Math.min(360, window.innerWidth - 24);
      const below = near.bottom + 8;
      const top = below + 60 < window.innerHeight ? below : Math.max(8, near.top - 60);
      el.style.top = `${Math.round(top)}px`;
      el.style.left = `${Math.round(Math.max(12, Math.min(near.left, window.innerWidth - w - 12)))}px`;
      el.style.maxWidth = `${w}px`;
    }
    setTimeout(() => el.remove(), kind === "error" ? 9000 : 5000);
    return el;
  }
  window.pcToast = toast;

  // What the operator used for each htmx request (polls have no user event and are not answered).
  // htmx rewrites detail.elt to each element it settles: requests are told apart by their xhr.
  const USER_EVENTS = new Set(["submit", "click", "change"]);
  const asked = new WeakMap();
  document.addEventListener("htmx:beforeRequest", (ev) => {
    const trigger = ev.detail.requestConfig && ev.detail.requestConfig.triggeringEvent;
    if (!trigger || !USER_EVENTS.has(trigger.type)) return;
    const elt = ev.detail.elt;
    const control = (trigger.submitter && trigger.submitter.isConnected && trigger.submitter) || elt;
    const target = ev.detail.target;
    if (!ev.detail.xhr) return;
    asked.set(ev.detail.xhr, {
      control,
      targetId: target && target.id,
      inTarget: !!(target && target.contains && target.contains(control)),
      rect: control.getBoundingClientRect(),
      answered: false,
    });
  });
  const ANSWER = ".alert.success, .alert.error, [data-answer]";
  function visible(el) {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  }
  document.addEventListener("htmx:afterSettle", (ev) => {
    const req = ev.detail.xhr && asked.get(ev.detail.xhr);
    const root = ev.target;
    if (!req || !root || !root.querySelector) return;
    // what the action changed elsewhere on the page (a preset rewrites the form above): shown
    if (!req.inTarget && req.targetId && root.id === req.targetId && !req.revealed) {
      req.revealed = true;
      if (!visible(root) || root.getBoundingClientRect().top < 0) root.scrollIntoView({ block: "start" });
      root.classList.remove("changed");
      void root.offsetWidth;
      root.classList.add("changed");
      setTimeout(() => root.classList.remove("changed"), 2500);
    }
    if (req.answered) return;
    const answer = root.matches(ANSWER) ? root : root.querySelector(ANSWER);
    if (!answer) return;
    req.answered = true;
    const text = (answer.textContent || "").replace(/\s+/g, " ").trim();
    if (!text) return;
    const kind = answer.classList.contains("error") ? "error" : answer.classList.contains("info") ? "info" : "success";
    let near = req.control.isConnected ? req.control.getBoundingClientRect() : req.rect;
    if (req.revealed) near = null; // the page moved: the fixed corner is where the eye is
    toast(text, kind, near);
  });

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
  // a form's button that needs a file ("Запустить тест") is enabled only once one is chosen
  function needsFile(zone, has) {
    const form = zone.closest("form");
    const btn = form && form.querySelector("[data-needs-file]");
    if (btn) btn.disabled = !has;
  }
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
    needsFile(zone, false);
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
    needsFile(zone, true);
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

  // ---- the console's own confirmation dialog: it names the action (the title) and what it
  // destroys (the text); every destructive action asks through it (no browser confirm()) ----
  // The control whose dialog is open. A part of the page that refreshes itself (the live queue,
  // every 2 s) would otherwise replace it while the operator reads: htmx sends nothing for a
  // control no longer in the page, so the "yes" would be lost without a word.
  let asking = null;
  const holdsAsker = (ev) => {
    const target = ev.detail.target;
    return asking !== null && target && target.contains(asking) && ev.detail.elt !== asking;
  };
  // no refresh of the asker's part of the page is sent, or swapped in, until the dialog closes
  document.addEventListener("htmx:beforeRequest", (ev) => {
    if (holdsAsker(ev)) ev.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", (ev) => {
    if (holdsAsker(ev)) ev.detail.shouldSwap = false;
  });

  function ask(el) {
    const dlg = document.getElementById("confirm-dialog");
    if (!dlg || !dlg.showModal) return Promise.resolve(false);
    const title = dlg.querySelector("#confirm-title");
    const textEl = dlg.querySelector("#confirm-text");
    const ok = dlg.querySelector("[data-confirm-ok]");
    title.dataset.default = title.dataset.default || title.textContent;
    ok.dataset.default = ok.dataset.default || ok.textContent;
    title.textContent = el.dataset.confirmTitle || title.dataset.default;
    textEl.textContent = el.dataset.confirm || el.dataset.confirmOff || "";
    ok.textContent = el.dataset.confirmOk || el.dataset.confirmTitle || ok.dataset.default;
    dlg.returnValue = "";
    dlg.showModal();
    asking = el;
    const cancel = dlg.querySelector("[data-confirm-cancel]");
    if (cancel) cancel.focus();
    return new Promise((resolve) => {
      dlg.addEventListener(
        "close",
        () => {
          asking = null;
          resolve(dlg.returnValue === "ok");
        },
        { once: true },
      );
    });
  }
  window.pcAsk = ask;

  // switching a slot off asks first (the booth is refused from then on); capture phase, so the
  // change stops before htmx sees it and goes on only after "yes"
  document.addEventListener(
    "change",
    (ev) => {
      const input = ev.target;
      if (!input.matches || !input.matches("input[data-confirm-off]") || input.checked) return;
      if (input.dataset.confirmed === "1") {
        delete input.dataset.confirmed;
        return;
      }
      input.checked = true;
      ev.stopImmediatePropagation();
      ev.preventDefault();
      ask(input).then((yes) => {
        if (!yes) return input.focus();
        input.dataset.confirmed = "1";
        input.checked = false;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    },
    true,
  );

  // plain (non-htmx) forms that ask before they post
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest && ev.target.closest("form[data-confirm]");
    if (!form || ev.defaultPrevented || form.hasAttribute("hx-post")) return;
    if (form.dataset.confirmed === "1") {
      delete form.dataset.confirmed;
      return;
    }
    ev.preventDefault();
    const submitter = ev.submitter;
    ask(form).then((yes) => {
      if (!yes) return;
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    });
  });

  // htmx actions: a form may check its input first (a typo costs no dialog), then the dialog asks
  document.addEventListener("htmx:confirm", (ev) => {
    const elt = ev.detail.elt;
    const form = elt.closest && elt.closest("form[data-min-length]");
    if (form) {
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
        return;
      }
    }
    // the element that asks: the one making the request, or the button that submitted its form
    const trigger = ev.detail.triggeringEvent;
    const submitter = trigger && trigger.submitter;
    const asker =
      (submitter && submitter.matches && submitter.matches("[data-confirm]") && submitter) ||
      (elt.matches && elt.matches("[data-confirm]") && elt);
    if (!asker) return;
    ev.preventDefault();
    ask(asker).then((yes) => {
      if (yes) ev.detail.issueRequest(true);
    });
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

  // ---- long cards fold on a phone (the presets): closed on load, a tap opens them ----
  document.addEventListener("DOMContentLoaded", () => {
    if (wide()) return;
    for (const d of document.querySelectorAll("details[data-fold-on-phone]")) d.open = false;
  });
  document.addEventListener("htmx:afterSettle", syncAttention);

  document.addEventListener("DOMContentLoaded", () => showEnds(document));
  document.addEventListener("htmx:afterSwap", (ev) => showEnds(ev.detail.target || document));

  // ---- the theme: the system's until the switch is used, then remembered for a year ----
  const THEMES = ["auto", "dark", "light"];
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest && ev.target.closest("[data-theme-switch]");
    if (!btn) return;
    const next = THEMES[(THEMES.indexOf(btn.dataset.themeSwitch) + 1) % THEMES.length];
    btn.dataset.themeSwitch = next;
    if (next === "auto") {
      document.documentElement.removeAttribute("data-theme");
      document.cookie = "pc_theme=; path=/; max-age=0; samesite=lax";
    } else {
      document.documentElement.setAttribute("data-theme", next);
      document.cookie = `pc_theme=${next}; path=/; max-age=31536000; samesite=lax`;
    }
    const key = `msgTheme${next[0].toUpperCase()}${next.slice(1)}`;
    const label = msg(key, next);
    btn.setAttribute("aria-label", label);
    btn.title = label;
    toast(label, "success", btn.getBoundingClientRect());
  });

  // ---- keyboard: `?` lists the shortcuts; g + a letter goes to a page; Ctrl+S saves the slot ----
  const GO = { d: "/", g: "/gallery", j: "/jobs", s: "/stats", n: "/settings", y: "/system", a: "/audit" };
  let goPending = 0;
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && ev.key.toLowerCase() === "s") {
      const form = document.getElementById("slot-form");
      if (form && form.querySelector("button[type=submit]")) {
        ev.preventDefault();
        form.requestSubmit(form.querySelector("button[type=submit]"));
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (document.querySelector("dialog[open]")) return;
    if (ev.key === "?") {
      const dlg = document.getElementById("shortcuts-dialog");
      if (dlg && dlg.showModal) {
        ev.preventDefault();
        dlg.showModal();
      }
      return;
    }
    if (goPending && Date.now() - goPending < 1500 && GO[ev.key]) {
      goPending = 0;
      ev.preventDefault();
      window.location.href = GO[ev.key];
      return;
    }
    goPending = ev.key === "g" ? Date.now() : 0;
  });

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
