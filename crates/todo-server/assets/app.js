// todo web app: progressive enhancement of the server-rendered pages. Every flow works as a
// plain form without this file; with it, forms are sent with fetch and the server answers
// HTML fragments (header X-Fragment), so rows are rendered by the server only.
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const tasksList = () => $("#tasks");
  const returnTo = () => (tasksList() ? tasksList().dataset.returnTo : "/") || "/";
  const sameTab = "BroadcastChannel" in window ? new BroadcastChannel("todo-tasks") : null;

  // Every request of this script goes through here (it shadows the browser's fetch in this
  // file): a network failure becomes "Offline — retrying…" (never "Failed to fetch"), and a
  // session that ended (401, or a page answered by the sign-in page) says "Signed out".
  const OFFLINE_TEXT = "Offline — retrying…";
  const SIGNED_OUT_TEXT = "Signed out — sign in again";
  const nativeFetch = window.fetch.bind(window);
  async function fetch(url, options) {
    let response;
    try {
      response = await nativeFetch(url, options);
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      wentOffline();
      throw new Error(OFFLINE_TEXT);
    }
    cameBack();
    if (response.status === 401) signedOut();
    else if (response.redirected && new URL(response.url).pathname === "/login") {
      signedOut();
      throw new Error(SIGNED_OUT_TEXT);
    }
    return response;
  }

  // --- helpers -------------------------------------------------------------------------
  let toastTimer = null;
  function toast(message, action) {
    const box = $("#toast");
    if (!box) return;
    box.textContent = "";
    const text = document.createElement("span");
    text.textContent = message;
    box.append(text);
    if (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = action.label;
      button.addEventListener("click", () => { hideToast(); action.run(); });
      box.append(button);
    }
    box.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(hideToast, action ? action.ms || 5000 : 4000);
  }
  function hideToast() { const box = $("#toast"); if (box) box.classList.remove("show"); }

  // Seconds until a refused request may be sent again (429's Retry-After).
  function retryAfter(response) { return Math.max(1, parseInt(response.headers.get("Retry-After"), 10) || 5); }

  async function problemText(response) {
    if (response.status === 429) return `Slow down: too many requests in a minute. Try again in ${retryAfter(response)} s.`;
    try {
      const body = await response.json();
      return body.detail || body.title || `Error ${response.status}`;
    } catch (_) { return `Error ${response.status}`; }
  }

  // A form posted for a fragment. Resolves to the response, or throws with a message.
  async function postFragment(action, params) {
    params.set("_csrf", csrf());
    const response = await fetch(action, {
      method: "POST",
      headers: { "X-Fragment": "1", "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: params,
      credentials: "same-origin",
    });
    if (response.status === 401) throw new Error(SIGNED_OUT_TEXT);
    if (!response.ok) throw new Error(await problemText(response));
    return response;
  }

  function htmlToNodes(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return Array.from(template.content.childNodes);
  }

  function rowFromHtml(html) {
    return htmlToNodes(html).find((n) => n.nodeType === 1 && n.classList.contains("task"));
  }

  // A row rendered alone does not know its place in a project's tree: keep the old one's.
  function keepTreePlace(old, row) {
    if (!old.hasAttribute("data-depth") || row.hasAttribute("data-depth")) return;
    for (const name of ["data-depth", "data-index", "data-parent", "data-section", "draggable"]) {
      if (old.hasAttribute(name)) row.setAttribute(name, old.getAttribute(name));
    }
    row.classList.add(`depth-${old.dataset.depth}`);
    const slot = $(".twisty-slot", old);
    if (slot) row.prepend(slot);
    const actions = $(".tree-actions", old);
    const details = $(".details", row);
    if (actions && details) row.insertBefore(actions, details);
    row.hidden = old.hidden;
  }

  function replaceRow(row) {
    const old = document.getElementById(row.id);
    const wasSelected = old && old.classList.contains("selected");
    if (old) { keepTreePlace(old, row); old.replaceWith(row); } else return false;
    if (wasSelected) select(row);
    return true;
  }

  function setCount(delta) {
    const count = $("#count");
    if (!count) return;
    const n = Math.max(0, (parseInt(count.textContent, 10) || 0) + delta);
    count.textContent = `${n} task${n === 1 ? "" : "s"}`;
  }

  function addRow(row) {
    const list = tasksList();
    if (!list || document.getElementById(row.id)) return;
    const more = $(".more", list);
    list.insertBefore(row, more);
    const empty = $("#empty");
    if (empty) empty.remove();
    setCount(1);
  }

  function announce(kind, id) { if (sameTab) sameTab.postMessage({ kind, id }); }

  // --- forms on rows: complete, save -----------------------------------------------------
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.matches("[data-row-form], #quick-add")) {
      event.preventDefault();
      const params = new URLSearchParams(new FormData(form));
      // The quick-add box empties at once, so the next task can be typed while this one is
      // on its way; a failure puts the text back if the box is still empty.
      const quick = form.id === "quick-add" ? $("#quick") : null;
      const typed = quick ? quick.value : "";
      if (quick) quick.value = "";
      const before = form.closest(".task");
      if (before) noteLocal(before.dataset.id);
      const wasDone = before ? before.classList.contains("done") : false;
      // Adds and check-offs may wait in the offline queue: an add carries its own key (sent
      // again, it is saved once) and a check-off says the state it wants (not "toggle").
      const queued = queueable(form, before, wasDone, params, typed);
      if (queued && readQueue().length) { enqueue(queued); return; }
      try {
        const response = await postFragment(form.action, params);
        keepPage();
        const row = rowFromHtml(await response.text());
        if (!row) { if (quick) scheduleRefresh(); return; }
        if (quick) {
          noteLocal(row.dataset.id);
          // The whole open list shows every new task; a view with a filter (Today, a tag, a
          // search, a project) is read again, so the task shows only where it matches.
          if (location.pathname === "/" && !location.search) addRow(row);
          else scheduleRefresh();
          quick.focus();
          toast(`Added “${$(".title", row).textContent}”`);
          announce("created", row.dataset.id);
        } else {
          replaceRow(row);
          const done = row.classList.contains("done");
          announce("updated", row.dataset.id);
          if (!wasDone && !done && row.hasAttribute("data-recurring")) {
            // A recurring task is one task: checked, it moved to its next due. Undo moves it back.
            const due = $("time.due", row);
            toast(`Done · next ${due ? due.textContent : "occurrence"}`, {
              label: "Undo",
              ms: 8000,
              run: () => undoOccurrence(form.action, row.dataset.id),
            });
          } else if (!wasDone && done) {
            // Checked off by mistake? Undo reopens it (the same route, completed=false).
            toast(`Done: “${$(".title", row).textContent}”`, {
              label: "Undo",
              ms: 6000,
              run: () => undoOccurrence(form.action, row.dataset.id),
            });
          } else {
            toast(done ? "Marked done" : "Marked not done");
          }
        }
      } catch (e) {
        if (queued && e.message === OFFLINE_TEXT) { enqueue(queued); return; }
        if (quick && !quick.value) quick.value = typed;
        if (quick) saveDraftIfSignedOut();
        toast(e.message);
      }
    } else if (form.matches("[data-delete]")) {
      event.preventDefault();
      deleteWithUndo(form.closest(".task"), form);
    } else if (form.id === "import-form") {
      event.preventDefault();
      importFile(form);
    }
  });

  // Undoes a check-off: a recurring task moves back to the due it had, another reopens.
  async function undoOccurrence(action, id) {
    noteLocal(id);
    try {
      const response = await postFragment(action, new URLSearchParams({ completed: "false", return_to: returnTo() }));
      const row = rowFromHtml(await response.text());
      if (row) replaceRow(row);
      announce("updated", id);
      toast("Undone");
    } catch (e) { toast(e.message); }
  }

  // --- delete with undo: the row goes at once, the request after 5 s (or when the page is
  // left), so undo needs no re-creation and nothing is lost. -------------------------------
  const pendingDeletes = new Map();
  function deleteWithUndo(row, form) {
    if (!row) return;
    const id = row.dataset.id;
    const title = $(".title", row).textContent;
    const next = row.nextElementSibling;
    const home = row.parentNode;
    // A live refresh may have replaced the list meanwhile: put the row back in the one shown.
    const place = () => {
      const parent = home.isConnected ? home : (home.id && document.getElementById(home.id)) || tasksList();
      const before = next && next.parentNode === parent ? next : $(".more", parent);
      return [parent, before];
    };
    const params = new URLSearchParams(new FormData(form));
    const send = () => {
      pendingDeletes.delete(id);
      postFragment(form.action, params).then(() => announce("deleted", id)).catch((e) => {
        toast(`Could not delete “${title}”: ${e.message}`);
        const [parent, before] = place();
        if (parent) parent.insertBefore(row, before);
      });
    };
    const timer = setTimeout(send, 5000);
    pendingDeletes.set(id, { timer, action: form.action, params });
    row.remove();
    setCount(-1);
    toast(`Deleted “${title}”`, {
      label: "Undo",
      ms: 5000,
      run: () => {
        clearTimeout(timer);
        pendingDeletes.delete(id);
        const [parent, before] = place();
        noteLocal(id);
        if (parent) parent.insertBefore(row, before);
        setCount(1);
        select(row);
        toast(`Restored “${title}”`);
      },
    });
  }
  window.addEventListener("pagehide", () => {
    for (const [id, pending] of pendingDeletes) {
      clearTimeout(pending.timer);
      pending.params.set("_csrf", csrf());
      navigator.sendBeacon(pending.action, pending.params);
      pendingDeletes.delete(id);
    }
  });

  // --- load more (keyset pages) ---------------------------------------------------------
  document.addEventListener("click", async (event) => {
    const more = event.target.closest("[data-more]");
    if (more) {
      event.preventDefault();
      more.textContent = "Loading…";
      try {
        const response = await fetch(more.href, { headers: { "X-Fragment": "1" } });
        if (!response.ok) { more.textContent = "Load more"; toast(await problemText(response)); return; }
        more.closest(".more").replaceWith(...htmlToNodes(await response.text()));
      } catch (e) {
        // Offline or refused on the way: the link is offered again, with the reason.
        more.textContent = "Load more";
        toast(e.message);
      }
      return;
    }
    const title = event.target.closest(".task .title[data-edit]");
    if (title && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault();
      inlineEdit(title.closest(".task"));
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const text = document.getElementById(copy.dataset.copy).textContent.trim();
      navigator.clipboard.writeText(text).then(() => toast("Copied"), () => toast("Select the key and copy it"));
    }
  });

  // --- inline edit of the title (Enter saves, Escape cancels; the full form is one click away) --
  function inlineEdit(row) {
    if (!row || $(".inline-edit", row)) return;
    const link = $(".title", row);
    const input = document.createElement("input");
    input.className = "inline-edit";
    input.value = link.textContent;
    input.setAttribute("aria-label", "Title");
    input.maxLength = 500;
    link.replaceWith(input);
    const preview = attachPreview(input, () => ({ project_id: null }));
    input.focus();
    input.select();
    let done = false;
    const cancel = () => { if (done) return; done = true; preview.remove(); input.replaceWith(link); row.focus(); };
    const save = async () => {
      if (done) return;
      const title = input.value.trim();
      if (!title || title === link.textContent) return cancel();
      done = true;
      noteLocal(row.dataset.id);
      try {
        // Read as quick add reads a line: "Call mum tomorrow #Home p1" sets those too.
        const params = new URLSearchParams({ text: title, return_to: returnTo() });
        const response = await postFragment(`/tasks/${row.dataset.id}`, params);
        const fresh = rowFromHtml(await response.text());
        preview.remove();
        if (fresh) { replaceRow(fresh); select(fresh); announce("updated", fresh.dataset.id); }
        toast("Saved");
      } catch (e) { done = false; toast(e.message); input.focus(); }
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); save(); }
      if (e.key === "Escape") { e.preventDefault(); cancel(); }
    });
    input.addEventListener("blur", () => save());
  }

  // --- keyboard: n new, / search, j/k move, x done, e edit ----------------------------------
  function select(row) {
    $$(".task.selected").forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    row.focus({ preventScroll: false });
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const rows = $$(".tasks .task").filter((r) => !r.hidden);
    const current = $(".task.selected");
    const index = rows.indexOf(current);
    switch (event.key) {
      case "n": if ($("#quick")) { event.preventDefault(); $("#quick").focus(); } break;
      case "/": if ($("#q")) { event.preventDefault(); $("#q").focus(); } break;
      case "j": if (rows.length) { event.preventDefault(); select(rows[Math.min(index + 1, rows.length - 1)]); } break;
      case "k": if (rows.length) { event.preventDefault(); select(rows[Math.max(index - 1, 0)]); } break;
      // A viewer's rows are read-only: nothing to check off, select for bulk actions or edit.
      case "c": if (current && !current.hasAttribute("data-readonly")) { event.preventDefault(); $(".check", current).requestSubmit(); } break;
      case "x": if (current && !current.hasAttribute("data-readonly")) { event.preventDefault(); togglePick(current, event.shiftKey); } break;
      case "Escape": if (picked.size) { event.preventDefault(); clearPicks(); } break;
      case "e": if (current && !current.hasAttribute("data-readonly")) { event.preventDefault(); inlineEdit(current); } break;
      case "m": if (current && $(".move-link", current)) { event.preventDefault(); location.href = $(".move-link", current).href; } break;
      case "ArrowUp": case "ArrowDown": {
        // Shift+arrows reorder the selected task among its siblings (its move up/down buttons).
        const form = current && event.shiftKey && $(event.key === "ArrowUp" ? "[data-move-up]" : "[data-move-down]", current);
        if (form) { event.preventDefault(); sessionStorage.setItem("todo-select", current.id); form.requestSubmit(); }
        break;
      }
      case "Delete": case "#": if (current && $("[data-delete]", current)) { event.preventDefault(); deleteWithUndo(current, $("[data-delete]", current)); } break;
      default:
    }
  });

  // --- the project tree: collapse subtasks, drag and drop ---------------------------------
  const tree = () => $("#tree");
  function applyCollapse(list) {
    let hideBelow = Infinity;
    for (const row of $$(".task[data-depth]", list)) {
      const depth = Number(row.dataset.depth);
      if (depth > hideBelow) { row.hidden = true; continue; }
      hideBelow = Infinity;
      row.hidden = false;
      const twisty = $(".twisty", row);
      if (twisty && twisty.getAttribute("aria-expanded") === "false") hideBelow = depth;
    }
  }
  function setupTree() {
    if (!tree()) return;
    const collapsed = new Set(JSON.parse(sessionStorage.getItem("todo-collapsed") || "[]"));
    for (const twisty of $$(".twisty", tree())) {
      twisty.hidden = false;
      const id = twisty.closest(".task").dataset.id;
      if (collapsed.has(id)) twisty.setAttribute("aria-expanded", "false");
    }
    $$(".tasks", tree()).forEach(applyCollapse);
    const selected = sessionStorage.getItem("todo-select");
    if (selected) { sessionStorage.removeItem("todo-select"); select(document.getElementById(selected)); }
  }
  document.addEventListener("click", (event) => {
    const twisty = event.target.closest(".twisty");
    if (!twisty) return;
    const open = twisty.getAttribute("aria-expanded") !== "false";
    twisty.setAttribute("aria-expanded", String(!open));
    const id = twisty.closest(".task").dataset.id;
    const collapsed = new Set(JSON.parse(sessionStorage.getItem("todo-collapsed") || "[]"));
    if (open) collapsed.add(id); else collapsed.delete(id);
    sessionStorage.setItem("todo-collapsed", JSON.stringify([...collapsed]));
    applyCollapse(twisty.closest(".tasks"));
  });

  let dragged = null;
  function clearDrop() { $$(".drop-before, .drop-into, .drop-here").forEach((n) => n.classList.remove("drop-before", "drop-into", "drop-here")); }
  function dropTarget(event) {
    const target = event.target.closest && event.target.closest(".task[data-depth], [data-drop-section], [data-drop-project], [data-drop-top]");
    return target && target !== dragged ? target : null;
  }
  // On a row: its right third makes a subtask of it, the rest puts the task just before it.
  function dropKind(target, event) {
    if (!target.classList.contains("task")) return "here";
    const box = target.getBoundingClientRect();
    return event.clientX - box.left > box.width * 0.66 ? "into" : "before";
  }
  document.addEventListener("dragstart", (event) => {
    const row = event.target.closest && event.target.closest(".task[draggable='true']");
    if (!row) return;
    dragged = row;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.id);
    row.classList.add("dragging");
  });
  document.addEventListener("dragend", () => { if (dragged) dragged.classList.remove("dragging"); dragged = null; clearDrop(); });
  document.addEventListener("dragover", (event) => {
    if (!dragged) return;
    const target = dropTarget(event);
    clearDrop();
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    target.classList.add(`drop-${dropKind(target, event)}`);
  });
  document.addEventListener("drop", async (event) => {
    if (!dragged) return;
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    const kind = dropKind(target, event);
    const moving = dragged;
    clearDrop();
    const params = new URLSearchParams({ return_to: returnTo() });
    if (target.dataset.dropProject) params.set("to", `project:${target.dataset.dropProject}`);
    else if (target.dataset.dropSection) { params.set("to", `section:${target.dataset.dropSection}`); params.set("position", "0"); }
    else if (target.hasAttribute("data-drop-top")) params.set("to", `project:${tree().dataset.project}`);
    else if (kind === "into") params.set("to", `parent:${target.dataset.id}`);
    else {
      const where = target.dataset.parent ? `parent:${target.dataset.parent}`
        : target.dataset.section ? `section:${target.dataset.section}` : `project:${tree().dataset.project}`;
      params.set("to", where);
      // The index counts the siblings without the moving task.
      const sameSiblings = (moving.dataset.parent || "") === (target.dataset.parent || "")
        && (moving.dataset.parent || (moving.dataset.section || "") === (target.dataset.section || ""));
      let position = Number(target.dataset.index);
      if (sameSiblings && Number(moving.dataset.index) < position) position -= 1;
      params.set("position", String(position));
    }
    try {
      await postFragment(`/tasks/${moving.dataset.id}/move`, params);
      announce("updated", moving.dataset.id);
      sessionStorage.setItem("todo-select", moving.id);
      location.reload();
    } catch (e) { toast(e.message); }
  });

  // --- live updates -----------------------------------------------------------------------
  let limitedToastUntil = 0;
  // One row fetched again, rendered by the server as the list renders it.
  async function refreshRow(id, created) {
    if (!tasksList() || pendingDeletes.has(String(id))) return;
    const existing = document.getElementById(`task-${id}`);
    if (existing && $(".inline-edit", existing)) return;
    const query = returnTo().split("?")[1] || "";
    const response = await fetch(`/tasks/${id}/row?${query}`, { headers: { "X-Fragment": "1" } });
    if (response.status === 404) { if (existing) { existing.remove(); setCount(-1); } return; }
    if (response.status === 429) {
      // Over the limit: say so once, and fetch the row again when allowed (never stay stale).
      const seconds = retryAfter(response);
      if (Date.now() > limitedToastUntil) {
        limitedToastUntil = Date.now() + seconds * 1000;
        toast(`Many changes at once: the list catches up in ${seconds} s.`);
      }
      setTimeout(() => refreshRow(id, created), seconds * 1000 + Math.random() * 500);
      return;
    }
    if (!response.ok) return;
    const row = rowFromHtml(await response.text());
    if (!row) return;
    if (!replaceRow(row) && created) addRow(row);
  }
  function removeRow(id) {
    const row = document.getElementById(`task-${id}`);
    if (row) { row.remove(); setCount(-1); }
  }
  // A change from elsewhere re-reads the view as the server renders it with its filter (rows
  // that stopped matching leave, new matching ones come, counters follow). A burst of events
  // is one read: the refresh waits for 250 ms of quiet (at most 1 s), and one is in flight at
  // a time, with at most one more after it.
  const QUIET_MS = 250;
  const MAX_WAIT_MS = 1000;
  let refreshTimer = null;
  let firstPending = 0;
  let refreshing = false;
  let refreshAgain = false;
  // Rows this tab changed itself in the last seconds: their events do not pull them away
  // under the user's hand (a checked-off row stays, struck through, with its Undo).
  const LOCAL_MS = 8000;
  const localChanges = new Map();
  function noteLocal(id) { if (id) localChanges.set(String(id), Date.now()); }
  function isLocal(id) {
    const at = localChanges.get(String(id));
    return at !== undefined && Date.now() - at < LOCAL_MS;
  }
  function scheduleRefresh() {
    if (!liveRegion() || isSignedOut) return;
    if (refreshing) { refreshAgain = true; return; }
    const now = Date.now();
    if (!refreshTimer) firstPending = now;
    clearTimeout(refreshTimer);
    const wait = Math.max(0, Math.min(QUIET_MS, firstPending + MAX_WAIT_MS - now));
    refreshTimer = setTimeout(refreshView, wait);
  }
  // The page read again by a refresh: a list lengthened by "Load more" asks for as many rows
  // as it shows (`shown`), so a live change does not take them away.
  function liveUrl() {
    const list = $("#tasks");
    const shown = list ? $$(":scope > .task", list).length : 0;
    if (!list || !$("#view-body") || shown <= 50) return location.pathname + location.search;
    const params = new URLSearchParams(location.search);
    params.set("shown", String(Math.min(shown, 500)));
    return `${location.pathname}?${params}`;
  }
  // What a refresh swaps: the list page's body (overdue, count, rows) or a project's tree.
  function liveRegion() { return $("#view-body") || $("#tree"); }
  // Busy: typing or an open disclosure inside the region waits for the user to finish.
  function regionBusy(region) {
    return $(".inline-edit", region) || region.contains(document.activeElement) && document.activeElement.matches("textarea, select, input:not([type]), input[type=text], input[type=search]")
      || $("details[open]:not(#overdue)", region);
  }
  async function refreshView() {
    refreshTimer = null;
    const region = liveRegion();
    if (!region) return;
    if (regionBusy(region)) { refreshTimer = setTimeout(refreshView, 1000); return; }
    refreshing = true;
    refreshAgain = false;
    let retry = 0;
    try {
      const response = await fetch(liveUrl(), { headers: { "X-Live": "1" } });
      if (response.status === 429) {
        // Over the limit: say so once, and read again when allowed (never stay stale).
        retry = retryAfter(response);
        if (Date.now() > limitedToastUntil) {
          limitedToastUntil = Date.now() + retry * 1000;
          toast(`Many changes at once: the list catches up in ${retry} s.`);
        }
        return;
      }
      if (response.status === 401) { markStale("Signed out: sign in again to see changes."); return; }
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const now = liveRegion();
      const next = fresh.getElementById(now.id);
      if (!next || regionBusy(now)) { refreshAgain = true; return; }
      const selected = $(".task.selected", now);
      // Rows changed here a moment ago keep their local state until their events settle.
      for (const row of $$(".task", next)) {
        const mine = isLocal(row.dataset.id) && document.getElementById(row.id);
        if (mine) row.replaceWith(mine.cloneNode(true));
      }
      // …and one that left the view (checked off in a pending list) stays in its place until
      // its Undo has gone; a later refresh lets it go.
      const find = (id) => id && next.querySelector(`#${CSS.escape(id)}`);
      for (const row of $$(".task", now)) {
        if (!isLocal(row.dataset.id) || find(row.id)) continue;
        let prev = row.previousElementSibling;
        while (prev && !find(prev.id)) prev = prev.previousElementSibling;
        const clone = row.cloneNode(true);
        if (prev) find(prev.id).after(clone);
        else (find(row.parentElement.id) || find("tasks") || next).prepend(clone);
        setTimeout(scheduleRefresh, LOCAL_MS + 500);
      }
      now.replaceWith(next);
      // A project's count sits in its heading, outside the tree.
      const count = $("#count");
      const freshCount = fresh.getElementById("count");
      if (count && freshCount) count.replaceWith(freshCount);
      for (const id of pendingDeletes.keys()) {
        const row = document.getElementById(`task-${id}`);
        if (row) { row.remove(); setCount(-1); }
      }
      // The sidebar's lists (counts, projects) carry no form: swapped as they are.
      const sideNow = $$("#sidebar ul.side-list");
      const sideNext = $$("#sidebar ul.side-list", fresh);
      if (sideNow.length === sideNext.length) sideNow.forEach((ul, i) => ul.replaceWith(sideNext[i]));
      if (selected) { const again = document.getElementById(selected.id); if (again) again.classList.add("selected"); }
      setupTree();
      setupOverdue();
      clearStale();
      document.dispatchEvent(new CustomEvent("todo:refreshed"));
    } catch (_) {
      retry = 2;
    } finally {
      refreshing = false;
      if (retry) setTimeout(scheduleRefresh, retry * 1000 + Math.random() * 500);
      else if (refreshAgain) scheduleRefresh();
    }
  }
  function applyChange(kind, id, task) {
    if (kind === "reminder") { notify(task); return; }
    if (kind === "deleted" && !isLocal(id)) removeRow(id);
    if (isLocal(id) && kind !== "created") {
      // Our own change: the row is already right here; only the counters need reading again.
      setTimeout(scheduleRefresh, LOCAL_MS + 500);
      return;
    }
    scheduleRefresh();
  }
  if (sameTab) sameTab.onmessage = (e) => applyChange(e.data.kind, e.data.id);

  // The stream dropped: events may have been missed. The view says so, offers a refresh,
  // and refreshes itself when the stream is back.
  let stale = false;
  function markStale(message) {
    stale = true;
    const region = liveRegion();
    if (!region) return;
    let note = $("#stale");
    if (!note) {
      note = document.createElement("p");
      note.id = "stale";
      note.className = "notice stale";
      note.setAttribute("role", "status");
      region.before(note);
    }
    note.textContent = "";
    const text = document.createElement("span");
    text.textContent = `${message} `;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "linkish";
    button.textContent = "Refresh";
    button.addEventListener("click", () => { if (liveRegion()) scheduleRefresh(); else location.reload(); });
    note.append(text, button);
  }
  function clearStale() {
    stale = false;
    const note = $("#stale");
    if (note) note.remove();
  }

  // The user's channels, read once per page when a reminder first arrives: with "in this app"
  // turned off in Settings, reminders reach them by the other channels only.
  let inApp = null;
  async function notify(task) {
    if (inApp === null) {
      try {
        const response = await fetch("/api/v1/me/notifications", { headers: { Accept: "application/json" } });
        inApp = response.ok ? (await response.json()).in_app !== false : true;
      } catch (_) { inApp = true; }
    }
    if (!inApp) return;
    const title = (task && task.title) || "Reminder";
    toast(`Reminder: ${title}`);
    if ("Notification" in window && Notification.permission === "granted") {
      // The push notification of the same reminder carries the same tag: one replaces the other.
      new Notification("todo reminder", { body: title, tag: `task-${task && task.id}` });
    }
  }

  let liveStream = null;
  function startLive() {
    if (!tasksList() || !("EventSource" in window)) return;
    const source = new EventSource("/api/v1/events");
    liveStream = source;
    const handle = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (!event || !event.task_id) return;
      applyChange(event.event_type || message.type, event.task_id, event.task_data);
    };
    source.onmessage = handle;
    for (const type of ["created", "updated", "completed", "deleted", "reminder"]) source.addEventListener(type, handle);
    let opened = false;
    source.onopen = () => {
      document.documentElement.dataset.live = "open";
      // Back after a drop: what happened meanwhile is read at once.
      if (opened && stale) scheduleRefresh();
      opened = true;
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) { liveStream = null; if (opened) markStale("Live updates stopped: this list may be out of date."); return; }
      if (opened) { document.documentElement.dataset.live = "retrying"; markStale("Live updates paused, reconnecting: this list may be out of date."); probeServer(); }
    };
  }
  // Without the event stream, a tab brought back to the front shows the list as it is now.
  document.addEventListener("visibilitychange", async () => {
    if (document.visibilityState !== "visible" || liveStream || !tasksList() || pendingDeletes.size) return;
    if ($(".inline-edit")) return;
    const response = await fetch(returnTo(), { headers: { "X-Fragment": "1" } });
    if (response.ok) tasksList().replaceChildren(...htmlToNodes(await response.text()));
  });
  // Asked once, from a click (browsers ignore permission prompts that no gesture started).
  document.addEventListener("click", () => {
    if ("Notification" in window && Notification.permission === "default" && tasksList()) Notification.requestPermission();
  }, { once: true });

  // --- settings: import, feature sections (LLM key, webhooks) ------------------------------
  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: { "X-CSRF-Token": csrf(), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(await problemText(response));
    return response.status === 204 ? null : response.json();
  }
  async function importFile(form) {
    const file = $("#import-file", form).files[0];
    if (!file) return;
    const type = file.name.toLowerCase().endsWith(".csv") ? "text/csv" : "application/json";
    try {
      const response = await fetch("/api/v1/import", { method: "POST", headers: { "Content-Type": type, "X-CSRF-Token": csrf() }, body: file });
      if (!response.ok) throw new Error(await problemText(response));
      const report = await response.json();
      toast(`Imported ${report.imported ?? report.created ?? 0} tasks${report.skipped ? `, skipped ${report.skipped}` : ""}`);
    } catch (e) { toast(`Import failed: ${e.message}`); }
  }

  async function featureAvailable(url) {
    try { const r = await fetch(url, { headers: { Accept: "application/json" } }); return r.ok ? r : null; } catch (_) { return null; }
  }

  // --- Web Push on this device (Settings → Notifications) ---------------------------------
  // The browser subscribes with the server's VAPID key and the subscription is sent to the
  // server; its id is kept here so signing out can remove it (the device would otherwise
  // keep receiving this account's reminders).
  const PUSH_ID = "todo-push-subscription";
  function vapidKeyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  async function pushRegistration() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return null;
    return navigator.serviceWorker.ready;
  }
  async function setupPushDevice() {
    const box = $("#push-device");
    if (!box) return;
    box.hidden = false;
    const state = $("#push-state");
    const toggle = $("#push-toggle");
    const registration = await pushRegistration();
    if (!registration) { state.textContent = "This browser cannot receive push notifications."; return; }
    const show = (subscription) => {
      toggle.hidden = false;
      if (subscription && localStorage.getItem(PUSH_ID)) {
        state.textContent = "Push is on for this device.";
        toggle.textContent = "Turn off push on this device";
      } else if (Notification.permission === "denied") {
        state.textContent = "This browser blocks notifications from this site: allow them in the browser's site settings to turn push on.";
        toggle.hidden = true;
      } else {
        state.textContent = "Push is off for this device.";
        toggle.textContent = "Turn on push on this device";
      }
    };
    show(await registration.pushManager.getSubscription());
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        const current = await registration.pushManager.getSubscription();
        if (current && localStorage.getItem(PUSH_ID)) {
          await forgetPush(registration);
          show(null);
          toast("Push turned off for this device");
          return;
        }
        if ((await Notification.requestPermission()) !== "granted") { show(null); return; }
        const { public_key } = await api("GET", "/api/v1/push/vapid-public-key");
        let subscription;
        try {
          subscription = current || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: vapidKeyBytes(public_key) });
        } catch (e) {
          state.textContent = `This browser could not subscribe to its push service (${e.message || e.name}). Try again later, or use email.`;
          return;
        }
        const keys = subscription.toJSON().keys || {};
        const saved = await api("POST", "/api/v1/push/subscriptions", { endpoint: subscription.endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
        localStorage.setItem(PUSH_ID, String(saved.id));
        show(subscription);
        toast("Push turned on for this device");
      } catch (e) {
        state.textContent = `Push could not be changed: ${e.message}`;
      } finally {
        toggle.disabled = false;
      }
    });
  }
  // Removes this device's subscription from the server and from the browser.
  async function forgetPush(registration) {
    const id = localStorage.getItem(PUSH_ID);
    localStorage.removeItem(PUSH_ID);
    if (id) await fetch(`/api/v1/push/subscriptions/${encodeURIComponent(id)}`, { method: "DELETE", headers: { "X-CSRF-Token": csrf() } }).catch(() => {});
    const subscription = registration && await registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe().catch(() => {});
  }

  async function setupWebhooks() {
    const section = $("#webhooks-section");
    if (!section) return;
    const response = await featureAvailable(section.dataset.feature);
    if (!response) return;
    section.hidden = false;
    const list = $("#webhook-list");
    const render = (hooks) => {
      list.replaceChildren();
      for (const hook of hooks) {
        const li = document.createElement("li");
        const url = document.createElement("code");
        url.textContent = hook.url;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", `Remove webhook ${hook.url}`);
        remove.addEventListener("click", async () => {
          try { await api("DELETE", `/api/v1/webhooks/${hook.id}`); li.remove(); toast("Webhook removed"); } catch (e) { toast(e.message); }
        });
        li.append(url, remove);
        if (hook.secret) { const s = document.createElement("span"); s.className = "hint"; s.textContent = `secret: ${hook.secret} (shown once)`; li.append(s); }
        list.append(li);
      }
    };
    let hooks = await response.json();
    if (!Array.isArray(hooks)) hooks = hooks.items || [];
    render(hooks);
    $("#webhook-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const hook = await api("POST", "/api/v1/webhooks", { url: $("#hook-url").value });
        hooks.push(hook); render(hooks); e.target.reset(); toast("Webhook added");
      } catch (err) { toast(err.message); }
    });
  }

  async function setupLlmKey() {
    const section = $("#llm-section");
    // Without a model or a way to keep keys, the server renders a sentence instead of the form.
    if (!section || !$("#llm-form")) return;
    const response = await fetch(section.dataset.feature, { headers: { Accept: "application/json" } }).catch(() => null);
    // 404 with a problem body means "no key stored"; a route that does not exist says "no such route".
    if (!response) return;
    if (response.status === 404) {
      const body = await response.json().catch(() => ({}));
      if ((body.type || "").endsWith(":not-found") && /route/.test(body.detail || "")) return;
    } else if (!response.ok) return;
    section.hidden = false;
    const current = $("#llm-current");
    const show = (cred) => { current.textContent = cred ? `Stored: ${cred.api_key}${cred.model ? ` · ${cred.model}` : ""}` : "No key stored: the server's key is used."; };
    show(response.ok ? await response.json() : null);
    $("#llm-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { api_key: $("#llm-key").value };
      if ($("#llm-model").value) body.model = $("#llm-model").value;
      try { show(await api("PUT", "/api/v1/llm-credentials", body)); e.target.reset(); toast("Key saved"); } catch (err) { toast(err.message); }
    });
    $("#llm-delete").addEventListener("click", async () => {
      try { await api("DELETE", "/api/v1/llm-credentials"); show(null); toast("Key removed"); } catch (err) { toast(err.message); }
    });
  }

  // --- chat panel (shown only when the server has the chat API) -----------------------------
  let conversationId = null;
  async function setupChat() {
    const toggle = $("#chat-toggle");
    if (!toggle) return;
    // A server without a language model has no chat to offer: the button stays hidden.
    const offer = await featureAvailable("/assistant");
    if (!offer || !(await offer.json().catch(() => ({}))).chat) return;
    const panel = $("#chat");
    toggle.hidden = false;
    const open = (yes) => {
      panel.hidden = !yes;
      toggle.setAttribute("aria-expanded", String(yes));
      if (yes) $("#chat-input").focus();
      sessionStorage.setItem("todo-chat-open", yes ? "1" : "");
    };
    toggle.addEventListener("click", () => open(panel.hidden));
    $("#chat-close").addEventListener("click", () => { open(false); toggle.focus(); });
    // Below 1200 px the panel is a drawer over the page: Escape closes it too.
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && getComputedStyle(panel).position === "fixed") { open(false); toggle.focus(); }
    });
    if (sessionStorage.getItem("todo-chat-open")) open(true);
    $("#chat-form").addEventListener("submit", (e) => { e.preventDefault(); sendChat(); });
    $("#chat-new").addEventListener("click", () => {
      conversationId = null;
      sessionStorage.removeItem("todo-chat-conversation");
      $("#chat-log").replaceChildren();
      $("#chat-input").focus();
    });
    // The conversation goes on across pages: the server keeps it, the tab remembers its id.
    const saved = sessionStorage.getItem("todo-chat-conversation");
    if (saved) {
      const response = await fetch(`/api/v1/conversations/${encodeURIComponent(saved)}`).catch(() => null);
      if (!response || !response.ok) { sessionStorage.removeItem("todo-chat-conversation"); return; }
      conversationId = Number(saved);
      const conversation = await response.json();
      for (const message of conversation.messages || []) {
        if (message.role === "user") chatLine("user", message.content);
        if (message.role !== "assistant") continue;
        for (const call of message.tool_calls || []) chatLine("tool", `ran ${call.tool}(${JSON.stringify(call.arguments ?? {})})`);
        if (message.content) chatLine("assistant", message.content);
      }
    }
  }

  function chatLine(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    $("#chat-log").append(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  async function sendChat() {
    const input = $("#chat-input");
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    chatLine("user", message);
    const answer = chatLine("assistant", "…");
    let text = "";
    try {
      const response = await fetch("/api/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrf() },
        body: JSON.stringify(conversationId ? { conversation_id: conversationId, message } : { message }),
      });
      if (!response.ok) throw new Error(await chatProblem(response));
      const onEvent = (type, data) => {
        let payload = data;
        try { payload = JSON.parse(data); } catch (_) { /* plain text */ }
        if (type === "delta") {
          text += typeof payload === "string" ? payload : payload.content ?? payload.text ?? payload.delta ?? "";
          answer.textContent = text;
        } else if (type === "tool_call") {
          const line = chatLine("tool", `ran ${payload.tool}(${JSON.stringify(payload.arguments ?? {})})`);
          answer.before(line);
          if (payload.result && payload.result.task_id) refreshRow(payload.result.task_id, payload.result.status === "created");
        } else if (type === "done") {
          if (payload.conversation_id) {
            conversationId = payload.conversation_id;
            sessionStorage.setItem("todo-chat-conversation", conversationId);
          }
          if (!text && payload.response) answer.textContent = payload.response;
        } else if (type === "error") {
          const problem = payload.problem || payload;
          answer.textContent = /llm-not-configured$/.test(problem.type || "") ? notConfiguredText(problem.detail)
            : `Error: ${problem.detail || problem.title || problem.message || "the assistant failed"}`;
        }
      };
      if ((response.headers.get("content-type") || "").startsWith("text/event-stream")) {
        await readEvents(response, onEvent);
      } else {
        const body = await response.json();
        for (const call of body.tool_calls || []) onEvent("tool_call", JSON.stringify(call));
        onEvent("done", JSON.stringify(body));
      }
    } catch (e) { answer.textContent = e.plain ? e.message : `Error: ${e.message}`; }
  }

  // The API's "not configured" problem speaks to the operator; the user gets plain words.
  const NO_MODEL_TEXT = "The assistant cannot answer yet: this server has no language model for your account. If you have your own key, add it with a model in Settings.";
  const KEY_UNREADABLE_TEXT = "Your stored key can no longer be read by this server: add it again in Settings, or remove it there to use the server's model.";
  const notConfiguredText = (detail) => (/stored LLM key/.test(detail || "") ? KEY_UNREADABLE_TEXT : NO_MODEL_TEXT);
  async function chatProblem(response) {
    if (response.status === 503) {
      const body = await response.clone().json().catch(() => ({}));
      if (/llm-not-configured$/.test(body.type || "")) { const e = new Error(notConfiguredText(body.detail)); e.plain = true; throw e; }
    }
    return problemText(response);
  }

  // Server-Sent Events from a fetch body (EventSource cannot POST).
  async function readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(type, data.join("\n"));
      }
    }
  }

  // --- reminders on the edit page (shown when the server's tasks carry reminders) ----------
  async function setupReminders() {
    const select = $("#remind");
    const form = $("#edit-form");
    if (!select || !form) return;
    const id = select.dataset.task;
    const response = await fetch(`/api/v1/tasks/${id}`).catch(() => null);
    if (!response || !response.ok) return;
    const task = await response.json();
    if (!Array.isArray(task.reminders)) return;
    $("#reminder-field").hidden = false;
    const relative = task.reminders.find((r) => r.minutes_before !== null && r.minutes_before !== undefined);
    if (relative) {
      const value = String(relative.minutes_before);
      if (!$(`option[value="${value}"]`, select)) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = `${value} minutes before`;
        select.append(option);
      }
      select.value = value;
    } else if (task.reminders.length) {
      const option = document.createElement("option");
      option.value = "keep";
      option.textContent = `At ${select.dataset.at || task.reminders[0].remind_at}`;
      select.append(option);
      select.value = "keep";
    }
    const initial = select.value;
    // Save the form first (it may set the due the reminder counts from), then the reminder.
    form.addEventListener("submit", async (event) => {
      if (select.value === initial) return;
      event.preventDefault();
      try {
        await postFragment(form.action, new URLSearchParams(new FormData(form)));
        const reminders = select.value === "" ? [] : [{ minutes_before: Number(select.value) }];
        await api("PATCH", `/api/v1/tasks/${id}`, { reminders });
        location.href = $("input[name=return_to]", form).value || "/";
      } catch (e) { toast(e.message); }
    });
  }

  // --- comments on a task's page: another member's comment shows up live ------------------
  function setupComments() {
    const section = $("#comments[data-task]");
    if (!section || !("EventSource" in window)) return;
    const source = new EventSource("/api/v1/events");
    const refresh = async () => {
      const response = await fetch(location.pathname + location.search);
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      // The thread and its heading only: what is being typed in the forms stays.
      for (const id of ["comments-head", "comment-list"]) {
        const now = document.getElementById(id);
        const next = fresh.getElementById(id);
        if (now && next && !now.querySelector("details[open]")) now.replaceWith(next);
      }
      const none = $("#no-comments");
      if (none && fresh.getElementById("comment-list").children.length) none.remove();
    };
    source.onopen = () => { section.dataset.live = "open"; };
    source.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (event && String(event.task_id) === section.dataset.task && event.action === "commented") refresh();
    };
  }

  // --- Today's Overdue section: collapsed stays collapsed (this browser) ---------------------
  function setupOverdue() {
    const section = $("#overdue");
    if (!section) return;
    const key = "todo-overdue-collapsed";
    try { if (localStorage.getItem(key) === "1") section.open = false; } catch (_) { /* storage off */ }
    section.addEventListener("toggle", () => {
      try { localStorage.setItem(key, section.open ? "0" : "1"); } catch (_) { /* storage off */ }
    });
  }

  // --- quick add: a live preview of what the line says (POST /api/v1/tasks/parse) ----------
  // Debounced (150 ms), sent only when the text changed, a stale answer dropped (aborted);
  // never in the way of submitting. The preview counts as a read (web_reads), and a 429 or any
  // failure just hides it.
  const PRIORITY_WORDS = { urgent: "p1", high: "p2", medium: "p3", low: "p4" };
  const WEEKDAYS = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };
  function dayText(isoDay) {
    const [y, m, d] = isoDay.split("-").map(Number);
    const day = new Date(y, m - 1, d);
    const today = new Date(); today.setHours(0, 0, 0, 0);
    const diff = Math.round((day - today) / 86400000);
    if (diff === 0) return "Today";
    if (diff === 1) return "Tomorrow";
    if (diff === -1) return "Yesterday";
    const options = { weekday: "short", day: "numeric", month: "short" };
    if (y !== today.getFullYear()) options.year = "numeric";
    return day.toLocaleDateString("en-GB", options).replace(",", "");
  }
  function ordinalText(n) {
    const s = ["th", "st", "nd", "rd"], v = Math.abs(n) % 100;
    return n === -1 ? "last day" : n + (s[(v - 20) % 10] || s[v] || s[0]);
  }
  // An RRULE in words, for the common rules quick add makes; anything else "repeats".
  function ruleText(rule) {
    const parts = Object.fromEntries(rule.split(";").map((p) => p.split("=")));
    const n = Number(parts.INTERVAL || 1);
    const unit = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year", HOURLY: "hour" }[parts.FREQ];
    if (!unit) return "repeats";
    if (parts.FREQ === "WEEKLY" && parts.BYDAY === "MO,TU,WE,TH,FR" && n === 1) return "every weekday";
    let text = n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
    if (parts.BYDAY) text += ` on ${parts.BYDAY.split(",").map((d) => d.replace(/^([-+]?\d+)?(\w\w)$/, (_, nth, wd) => (nth ? `${ordinalText(Number(nth))} ` : "") + (WEEKDAYS[wd] || wd))).join(", ")}`;
    if (parts.BYMONTHDAY) text += ` on the ${parts.BYMONTHDAY.split(",").map((d) => ordinalText(Number(d))).join(", ")}`;
    return text;
  }
  // A chip's glyph (↻, ▸) is decoration; its words are what a screen reader reads.
  function chip(kind, text, glyph) {
    const span = document.createElement("span");
    span.className = `chip chip-${kind}`;
    if (glyph) {
      const mark = document.createElement("span");
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = `${glyph} `;
      span.append(mark);
    }
    span.append(text);
    return span;
  }
  function previewChips(p, text) {
    const chips = [];
    if (p.due_local) {
      const [day, time] = p.due_local.split("T");
      chips.push(chip("due", `${dayText(day)} ${time.slice(0, 5)}`));
    } else if (p.due_date) chips.push(chip("due", dayText(p.due_date)));
    if (p.recurrence) chips.push(chip("recur", ruleText(p.recurrence), "↻"));
    // The project only when the text names it (every line has one: the Inbox by default).
    const lower = text.toLowerCase();
    if (p.project && lower.includes(`#${p.project.name.toLowerCase().split(" ")[0]}`)) {
      chips.push(chip("project", `${p.project.name}${p.section ? ` / ${p.section.name}` : ""}`, "▸"));
    }
    for (const tag of p.tags || []) chips.push(chip("tag", `#${tag}`));
    if (p.priority && p.priority !== "none") {
      const c = chip("priority", `${PRIORITY_WORDS[p.priority] || ""} ${p.priority}`.trim());
      c.classList.add(`prio-${p.priority}`);
      chips.push(c);
    }
    for (const r of p.reminders || []) {
      if (r.minutes_before !== undefined && r.minutes_before !== null) chips.push(chip("remind", `reminder ${r.minutes_before} min before`));
      else if (r.remind_at) chips.push(chip("remind", "reminder"));
    }
    for (const problem of p.problems || []) chips.push(chip("problem", problem));
    return chips;
  }
  function attachPreview(input, extra = () => ({})) {
    const box = document.createElement("div");
    box.className = "quick-preview";
    box.setAttribute("aria-live", "polite");
    box.hidden = true;
    (input.closest("form") || input).after(box);
    let timer = null;
    let last = "";
    let controller = null;
    const clear = () => { box.replaceChildren(); box.hidden = true; };
    const run = async () => {
      const text = input.value.trim();
      if (text === last) return;
      last = text;
      if (controller) controller.abort();
      controller = null;
      if (!text || isSignedOut) { clear(); return; }
      const mine = new AbortController();
      controller = mine;
      try {
        const response = await fetch("/api/v1/tasks/parse", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: JSON.stringify({ text, ...extra() }),
          signal: mine.signal,
        });
        if (controller !== mine) return;
        if (!response.ok) { clear(); if (response.status === 429) last = ""; return; }
        const preview = await response.json();
        if (controller !== mine) return;
        const chips = previewChips(preview, text);
        if (!chips.length) { clear(); return; }
        const lead = document.createElement("span");
        lead.className = "visually-hidden";
        lead.textContent = "Understood: ";
        const title = document.createElement("span");
        title.className = "preview-title";
        title.textContent = preview.title ? `“${preview.title}”` : "";
        box.replaceChildren(lead, title, ...chips);
        box.hidden = false;
      } catch (_) { if (controller === mine) clear(); }
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 150); });
    const reset = () => { clearTimeout(timer); if (controller) controller.abort(); controller = null; last = ""; clear(); };
    return { box, reset, remove: () => { reset(); box.remove(); } };
  }
  function setupQuickPreviews() {
    for (const input of $$('form[action="/tasks"] input[name="text"]')) {
      const form = input.closest("form");
      const place = () => {
        const out = {};
        for (const name of ["project_id", "section_id", "parent_id"]) {
          const field = form.elements[name];
          if (field && field.value) out[name] = Number(field.value);
        }
        return out;
      };
      const preview = attachPreview(input, place);
      // Sent: the box empties at once, and so does its preview.
      form.addEventListener("submit", () => preview.reset());
    }
  }

  // --- the edit page: a refused save keeps every field as typed ---------------------------
  // (Without the script the server renders the form again from what was posted.)
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.id !== "edit-form" || event.defaultPrevented) return;
    event.preventDefault();
    const button = $("button[type=submit]", form);
    if (button) button.disabled = true;
    try {
      await postFragment(form.action, new URLSearchParams(new FormData(form)));
      location.href = $("input[name=return_to]", form).value || "/";
    } catch (e) {
      showFormError(form, `Not saved: ${e.message}`);
      if (form.closest("body")) saveDraftIfSignedOut();
    } finally { if (button) button.disabled = false; }
  });
  function showFormError(form, message) {
    let error = form.previousElementSibling;
    if (!error || !error.matches("p.error")) {
      error = document.createElement("p");
      error.className = "error";
      error.setAttribute("role", "alert");
      form.before(error);
    }
    error.textContent = message;
  }

  // --- when things go wrong: signed out, offline ------------------------------------------
  // A bar at the top of the page, in the app's style (`.netbar`), for as long as it holds.
  function netbar(id, build) {
    let bar = document.getElementById(id);
    if (!bar) {
      bar = document.createElement("p");
      bar.id = id;
      bar.className = "netbar";
      bar.setAttribute("role", id === "signed-out" ? "alert" : "status");
      build(bar);
      document.body.prepend(bar);
    }
    return bar;
  }

  // The session ended (expired, or signed out elsewhere): what was typed in quick add is kept
  // in this tab (sessionStorage) and put back after signing in, on the same page (`next`).
  let isSignedOut = false;
  const DRAFT_KEY = "todo-quick-draft";
  function saveDraftIfSignedOut() {
    if (!isSignedOut) return;
    const quick = $("#quick");
    try {
      if (quick && quick.value.trim()) sessionStorage.setItem(DRAFT_KEY, quick.value);
    } catch (_) { /* storage off */ }
  }
  function signedOut() {
    if (isSignedOut) return;
    isSignedOut = true;
    netbar("signed-out", (bar) => {
      const text = document.createElement("span");
      text.textContent = `${SIGNED_OUT_TEXT}. What you typed is kept. `;
      const link = document.createElement("a");
      link.href = `/login?${new URLSearchParams({ next: location.pathname + location.search })}`;
      link.textContent = "Sign in";
      link.addEventListener("click", saveDraftIfSignedOut);
      bar.append(text, link);
    });
    saveDraftIfSignedOut();
  }
  window.addEventListener("pagehide", saveDraftIfSignedOut);
  function restoreDraft() {
    const quick = $("#quick");
    let draft = null;
    try { draft = sessionStorage.getItem(DRAFT_KEY); } catch (_) { return; }
    if (!quick || !draft) return;
    sessionStorage.removeItem(DRAFT_KEY);
    if (!quick.value) quick.value = draft;
    quick.focus();
    quick.dispatchEvent(new Event("input"));
    toast("What you typed before signing in is back: press Enter to add it.");
  }

  // The server cannot be reached: say so, try again with backoff (1 s, 2 s, 4 s … 30 s), and
  // clear the bar when it answers. `/health` is never rate limited.
  let offlineTimer = null;
  let offlineDelay = 1000;
  function wentOffline() {
    netbar("offline", (bar) => { bar.textContent = OFFLINE_TEXT; });
    if (!offlineTimer) offlineTimer = setTimeout(retryServer, offlineDelay);
  }
  async function retryServer() {
    offlineTimer = null;
    if (await serverAnswers()) { cameBack(); return; }
    offlineDelay = Math.min(offlineDelay * 2, 30000);
    wentOffline();
  }
  async function serverAnswers() {
    try { await nativeFetch("/health", { cache: "no-store" }); return true; } catch (_) { return false; }
  }
  async function probeServer() { if (!(await serverAnswers())) wentOffline(); }
  function cameBack() {
    const bar = $("#offline");
    clearTimeout(offlineTimer);
    offlineTimer = null;
    offlineDelay = 1000;
    if (!flushing && readQueue().length) flushQueue();
    if (!bar) return;
    bar.remove();
    toast("Back online");
    if (stale) scheduleRefresh();
  }
  window.addEventListener("offline", wentOffline);
  window.addEventListener("online", () => { clearTimeout(offlineTimer); offlineTimer = null; retryServer(); });

  // --- installable and offline (docs/web.md) -----------------------------------------------
  // The service worker (/sw.js) keeps the app shell and the last copy of each page. After a
  // change here, the page shown is kept again, so offline the last list seen is the one shown.
  // One page read for a burst of changes: kept 2 s after the last one (each keep is a page
  // read under the web app's rate limit).
  const KEEP_QUIET_MS = 2000;
  let keepTimer = null;
  function keepPage() {
    const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!worker) return;
    clearTimeout(keepTimer);
    keepTimer = setTimeout(() => {
      keepTimer = null;
      worker.postMessage({ kind: "keep", url: location.pathname + location.search });
    }, KEEP_QUIET_MS);
  }
  function setupServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => { /* no worker: pages work as before */ });
  }

  // The offline queue: quick adds and check-offs made while the server cannot be reached
  // wait in localStorage (one small list, read and written whole, for this signed-in user
  // only: `meta[name=todo-user]`), shown as pending, and are sent in order, one at a time,
  // when the server answers again. An add carries its own `client_key`, so an add whose
  // answer was lost and is sent again is saved once; a check-off says `completed=true|false`.
  const QUEUE_KEY = "todo-offline-queue";
  const PENDING_TEXT = "Pending — will be saved when back online";
  const me = () => ($('meta[name="todo-user"]') || {}).content || "";
  function readQueue() {
    try {
      const queue = JSON.parse(localStorage.getItem(QUEUE_KEY) || "null");
      return queue && queue.user === me() && Array.isArray(queue.items) ? queue.items : [];
    } catch (_) { return []; }
  }
  function writeQueue(items) {
    try {
      if (items.length) localStorage.setItem(QUEUE_KEY, JSON.stringify({ user: me(), items }));
      else localStorage.removeItem(QUEUE_KEY);
    } catch (_) { /* storage off: nothing is queued */ }
  }
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // What a form would queue if it could not be sent: quick adds and check-offs only.
  function queueable(form, row, wasDone, params, typed) {
    const path = new URL(form.action, location.href).pathname;
    if (form.id === "quick-add" && path === "/tasks") {
      const key = newKey();
      params.set("client_key", key);
      return { key, kind: "add", action: path, params: withoutCsrf(params), title: typed };
    }
    if (row && /^\/tasks\/\d+\/complete$/.test(path)) {
      params.set("completed", String(!wasDone));
      const title = ($(".title", row) || row).textContent;
      return { key: newKey(), kind: "complete", action: path, params: withoutCsrf(params), id: row.dataset.id, done: !wasDone, title };
    }
    return null;
  }
  function withoutCsrf(params) {
    const copy = new URLSearchParams(params);
    copy.delete("_csrf");
    return copy.toString();
  }
  function enqueue(item) {
    if (item.kind === "add" && !item.title.trim()) return;
    writeQueue([...readQueue(), item]);
    showPending(item);
    if (item.kind === "add") { const quick = $("#quick"); if (quick) quick.focus(); }
    toast(item.kind === "add" ? `Saved here: “${item.title}” is added when back online` : `Saved here: “${item.title}” is updated when back online`);
    flushQueue();
  }
  function pendingBadge() {
    const badge = document.createElement("span");
    badge.className = "pending-badge";
    badge.textContent = "Pending";
    badge.title = PENDING_TEXT;
    return badge;
  }
  function showPending(item) {
    if (item.kind === "add") {
      const list = tasksList();
      if (!list || document.getElementById(`pending-${item.key}`)) return;
      const row = document.createElement("li");
      row.className = "task pending";
      row.id = `pending-${item.key}`;
      row.setAttribute("data-readonly", "");
      row.setAttribute("data-pending", item.key);
      const check = document.createElement("span");
      check.className = "check";
      check.innerHTML = '<span class="checkbox readonly" aria-hidden="true"></span>';
      const body = document.createElement("div");
      body.className = "body";
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = item.title;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.append(pendingBadge());
      body.append(title, meta);
      row.append(check, body);
      list.insertBefore(row, $(".more", list));
      const empty = $("#empty");
      if (empty) empty.hidden = true;
    } else {
      const row = document.getElementById(`task-${item.id}`);
      if (!row) return;
      row.classList.toggle("done", item.done);
      row.classList.add("pending");
      row.setAttribute("data-pending", item.key);
      const box = $(".checkbox", row);
      if (box) box.setAttribute("aria-checked", String(item.done));
      const meta = $(".meta", row);
      if (meta && !$(".pending-badge", meta)) meta.append(pendingBadge());
    }
  }
  function clearPending(item) {
    if (item.kind === "add") {
      const row = document.getElementById(`pending-${item.key}`);
      if (row) row.remove();
      return;
    }
    const row = document.getElementById(`task-${item.id}`);
    if (!row || row.dataset.pending !== item.key) return;
    row.classList.remove("pending");
    row.removeAttribute("data-pending");
    const badge = $(".pending-badge", row);
    if (badge) badge.remove();
  }
  function showQueue() { readQueue().forEach(showPending); }
  document.addEventListener("todo:refreshed", showQueue);

  let flushing = false;
  async function flushQueue() {
    if (flushing || isSignedOut) return;
    flushing = true;
    let sent = 0;
    try {
      for (;;) {
        const item = readQueue()[0];
        if (!item) break;
        const params = new URLSearchParams(item.params);
        if (item.kind === "add") params.set("client_key", item.key);
        params.set("_csrf", csrf());
        let response;
        try {
          response = await fetch(item.action, {
            method: "POST",
            headers: { "X-Fragment": "1", "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
            body: params,
            credentials: "same-origin",
          });
        } catch (_) { break; } // still offline (the bar says so): kept for the next try
        // Signed out, over the limit or the server failing: kept, sent again later.
        if (response.status === 401 || response.status === 429 || response.status >= 500) break;
        writeQueue(readQueue().filter((i) => i.key !== item.key));
        clearPending(item);
        if (response.ok) {
          sent += 1;
          const row = rowFromHtml(await response.text());
          if (item.kind === "add") {
            if (row && location.pathname === "/" && !location.search) { noteLocal(row.dataset.id); addRow(row); } else scheduleRefresh();
          } else if (row) replaceRow(row);
        } else {
          queuedFailed(item, await problemText(response));
        }
      }
    } finally {
      flushing = false;
    }
    if (sent) {
      keepPage();
      toast(`Saved ${sent} change${sent === 1 ? "" : "s"} made offline`);
    }
  }
  // A queued change the server refused: said plainly, and an add's text is kept.
  function queuedFailed(item, message) {
    if (item.kind === "add") {
      const quick = $("#quick");
      const form = $("#quick-add");
      let kept = false;
      if (quick && !quick.value) { quick.value = item.title; kept = true; quick.dispatchEvent(new Event("input")); }
      const text = `Not saved: “${item.title}” — ${message}.${kept ? " The text is back in the box." : ""}`;
      if (form) showFormError(form, text);
      else netbar("queue-failed", (bar) => { bar.setAttribute("role", "alert"); bar.textContent = text; });
      toast(text);
    } else {
      refreshRow(item.id).catch(() => {});
      toast(`Not saved: checking “${item.title}” — ${message}.`);
    }
  }

  // --- multi-select and bulk actions (POST /api/v1/tasks/bulk) -----------------------------
  // Each row a reader may change gets a select button (shown on hover and focus, always on
  // touch screens); click, shift-click for a range, `x` on the focused row. A bar says how
  // many are selected and acts on them all in one request; the view then refreshes once.
  const picked = new Set();
  let pickAnchor = null;
  function pickableRows() { return $$(".tasks .task").filter((r) => !r.hidden && !r.hasAttribute("data-readonly")); }
  function decorateRow(row) {
    if (row.hasAttribute("data-readonly") || $(".pick", row)) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pick";
    button.setAttribute("aria-pressed", String(picked.has(row.dataset.id)));
    button.setAttribute("aria-label", `Select: ${($(".title", row) || row).textContent}`);
    button.innerHTML = '<span aria-hidden="true"></span>';
    row.prepend(button);
    row.classList.toggle("picked", picked.has(row.dataset.id));
  }
  function decorateRows(root = document) { $$(".tasks .task", root).forEach(decorateRow); }
  function setPick(row, on) {
    if (!row || row.hasAttribute("data-readonly")) return;
    if (on) picked.add(row.dataset.id); else picked.delete(row.dataset.id);
    row.classList.toggle("picked", on);
    const button = $(".pick", row);
    if (button) button.setAttribute("aria-pressed", String(on));
  }
  function togglePick(row, range) {
    if (range && pickAnchor && document.getElementById(pickAnchor) && pickAnchor !== row.id) {
      const rows = pickableRows();
      const [a, b] = [rows.indexOf(document.getElementById(pickAnchor)), rows.indexOf(row)].sort((x, y) => x - y);
      if (a >= 0) rows.slice(a, b + 1).forEach((r) => setPick(r, true));
    } else {
      setPick(row, !picked.has(row.dataset.id));
    }
    pickAnchor = row.id;
    showBulkBar();
  }
  function clearPicks() {
    for (const id of [...picked]) setPick(document.getElementById(`task-${id}`), false);
    picked.clear();
    pickAnchor = null;
    showBulkBar();
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".task .pick");
    if (!button) return;
    event.preventDefault();
    togglePick(button.closest(".task"), event.shiftKey);
  });

  // Days counted from today in the account's zone (the page's data-today), as the server's
  // Today and Upcoming count them; the browser's calendar only when a page lacks it.
  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  }
  function accountToday() {
    const region = $("#view-body") || $("#tree");
    const raw = region && region.dataset.today;
    if (raw && /^\d{4}-\d{2}-\d{2}$/.test(raw)) return new Date(`${raw}T00:00:00Z`);
    const now = new Date();
    return new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
  }
  function dayFromNow(days) { const d = accountToday(); d.setUTCDate(d.getUTCDate() + days); return isoDay(d); }
  function nextMonday() { const d = accountToday(); d.setUTCDate(d.getUTCDate() + (((8 - d.getUTCDay()) % 7) || 7)); return isoDay(d); }

  function bulkBar() {
    let bar = $("#bulk-bar");
    if (bar) return bar;
    bar = document.createElement("div");
    bar.id = "bulk-bar";
    bar.className = "bulk-bar";
    bar.setAttribute("role", "region");
    bar.setAttribute("aria-label", "Selected tasks");
    bar.hidden = true;
    bar.innerHTML = `<span class="bulk-count" aria-live="polite"></span>
      <button type="button" data-bulk="complete">Complete</button>
      <label class="visually-hidden" for="bulk-move">Move to project</label>
      <select id="bulk-move"><option value="">Move to…</option></select>
      <label class="visually-hidden" for="bulk-when">Reschedule</label>
      <select id="bulk-when"><option value="">Reschedule…</option><option value="today">Today</option>
        <option value="tomorrow">Tomorrow</option><option value="next-week">Next week (Monday)</option>
        <option value="pick">Pick a date…</option><option value="none">No date</option></select>
      <label class="visually-hidden" for="bulk-date">Date</label>
      <input type="date" id="bulk-date" hidden>
      <button type="button" data-bulk="delete">Delete</button>
      <button type="button" data-bulk="clear" class="linkish">Clear</button>`;
    const anchor = $("#view-body") || $("#tree");
    (anchor ? anchor.parentNode : document.body).insertBefore(bar, anchor);
    bar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-bulk]");
      if (!button) return;
      const action = button.dataset.bulk;
      if (action === "clear") clearPicks();
      else if (action === "complete") runBulk("complete", {});
      else if (action === "delete") bulkDelete();
    });
    $("#bulk-move", bar).addEventListener("change", (event) => {
      const project = event.target.value;
      const name = event.target.selectedOptions[0] ? event.target.selectedOptions[0].textContent : "";
      event.target.value = "";
      if (project) runBulk("move", { project_id: Number(project) }, name);
    });
    $("#bulk-when", bar).addEventListener("change", (event) => {
      const choice = event.target.value;
      event.target.value = "";
      const date = $("#bulk-date", bar);
      if (choice === "pick") { date.hidden = false; date.focus(); if (date.showPicker) { try { date.showPicker(); } catch (_) { /* needs a gesture */ } } return; }
      const day = { today: dayFromNow(0), tomorrow: dayFromNow(1), "next-week": nextMonday(), none: null }[choice];
      if (day !== undefined) runBulk("reschedule", { due_date: day });
    });
    $("#bulk-date", bar).addEventListener("change", (event) => {
      if (!event.target.value) return;
      runBulk("reschedule", { due_date: event.target.value });
      event.target.value = "";
      event.target.hidden = true;
    });
    return bar;
  }
  // The projects a task may be moved to: the sidebar's, without those the reader only views.
  function fillProjects(select) {
    const current = select.value;
    select.replaceChildren(new Option("Move to…", ""));
    for (const link of $$("#sidebar .side-link[data-drop-project]:not([data-viewer])")) {
      select.append(new Option(($(".side-name", link) || link).textContent.trim(), link.dataset.dropProject));
    }
    select.value = current;
  }
  function showBulkBar() {
    if (!picked.size && !$("#bulk-bar")) return;
    const bar = bulkBar();
    bar.hidden = picked.size === 0;
    $(".bulk-count", bar).textContent = `${picked.size} selected`;
    if (!bar.hidden) fillProjects($("#bulk-move", bar));
  }
  function titleOf(id) {
    const row = document.getElementById(`task-${id}`);
    return row && $(".title", row) ? `“${$(".title", row).textContent}”` : `#${id}`;
  }
  const BULK_DONE = { complete: "Completed", reopen: "Reopened", move: "Moved", reschedule: "Rescheduled", delete: "Deleted" };
  // Sends one bulk request; says what was done and which tasks it could not reach.
  async function sendBulk(action, ids, extra) {
    const results = await api("POST", "/api/v1/tasks/bulk", { action, ids: ids.map(Number), ...extra });
    const missed = (results || []).filter((r) => r.status === "not_found").map((r) => r.id);
    return { done: ids.length - missed.length, missed };
  }
  function bulkMessage(action, done, missed, where) {
    const n = `${done} task${done === 1 ? "" : "s"}`;
    let text = `${BULK_DONE[action]} ${n}${where ? ` to ${where}` : ""}`;
    if (missed.length) text += `; ${missed.length} failed (no longer there): ${missed.slice(0, 3).map(titleOf).join(", ")}${missed.length > 3 ? "…" : ""}`;
    return text;
  }
  async function runBulk(action, extra, where) {
    const ids = [...picked];
    if (!ids.length) return;
    const bar = bulkBar();
    bar.setAttribute("aria-busy", "true");
    try {
      const { done, missed } = await sendBulk(action, ids, extra);
      const message = bulkMessage(action, done, missed, where);
      clearPicks();
      if (action === "complete") {
        ids.forEach((id) => { const row = document.getElementById(`task-${id}`); if (row) row.classList.add("done"); });
        toast(message, { label: "Undo", ms: 6000, run: () => undoBulkComplete(ids) });
      } else {
        toast(message);
      }
      scheduleRefresh();
    } catch (e) {
      // The whole request was refused (a role, a limit): nothing is unselected.
      toast(`Could not ${action === "move" ? "move" : action} the selected tasks: ${e.message}`);
    } finally {
      bar.removeAttribute("aria-busy");
    }
  }
  async function undoBulkComplete(ids) {
    try {
      await sendBulk("reopen", ids, {});
      toast("Undone");
      scheduleRefresh();
    } catch (e) { toast(e.message); }
  }
  // Delete as a single delete does: the rows go at once, the request after 5 s (or when the
  // page is left: each row's own delete form, as a beacon), and Undo puts them back.
  function bulkDelete() {
    const rows = [...picked].map((id) => document.getElementById(`task-${id}`)).filter(Boolean);
    if (!rows.length) return;
    const ids = rows.map((r) => r.dataset.id);
    const places = rows.map((row) => ({ row, parent: row.parentNode, next: row.nextElementSibling }));
    const timer = setTimeout(async () => {
      ids.forEach((id) => pendingDeletes.delete(id));
      try {
        const { missed } = await sendBulk("delete", ids, {});
        if (missed.length) toast(bulkMessage("delete", ids.length - missed.length, missed));
        ids.forEach((id) => announce("deleted", id));
      } catch (e) {
        toast(`Could not delete ${ids.length} tasks: ${e.message}`);
        scheduleRefresh();
      }
    }, 5000);
    for (const row of rows) {
      const form = $("[data-delete]", row);
      const params = form ? new URLSearchParams(new FormData(form)) : new URLSearchParams();
      pendingDeletes.set(row.dataset.id, { timer, action: `/tasks/${row.dataset.id}/delete`, params });
    }
    clearPicks();
    rows.forEach((row) => row.remove());
    setCount(-rows.length);
    toast(`Deleted ${rows.length} task${rows.length === 1 ? "" : "s"}`, {
      label: "Undo",
      ms: 5000,
      run: () => {
        clearTimeout(timer);
        ids.forEach((id) => pendingDeletes.delete(id));
        for (const { row, parent, next } of places.reverse()) {
          const home = parent.isConnected ? parent : (parent.id && document.getElementById(parent.id)) || tasksList();
          if (!home || document.getElementById(row.id)) continue;
          home.insertBefore(row, next && next.parentNode === home ? next : $(".more", home));
          noteLocal(row.dataset.id);
        }
        setCount(rows.length);
        toast(`Restored ${rows.length} task${rows.length === 1 ? "" : "s"}`);
      },
    });
  }
  // Rows come and go (a refresh, "Load more", a new task): each gets its select button, and
  // what is selected stays selected while its row is shown.
  function setupBulk() {
    if (!tasksList() && !tree()) return;
    decorateRows();
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.nodeType !== 1) continue;
          if (node.matches(".task")) decorateRow(node);
          else decorateRows(node);
        }
      }
    }).observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
    document.addEventListener("todo:refreshed", () => {
      for (const id of [...picked]) if (!document.getElementById(`task-${id}`)) picked.delete(id);
      showBulkBar();
    });
  }

  // --- start ------------------------------------------------------------------------------
  const zone = $("#signup #timezone, form[action='/signup'] #timezone");
  if (zone) { try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_) { /* keep UTC */ } }
  if ($("meta[name='csrf-token']")) {
    startLive();
    setupChat();
    setupWebhooks();
    setupPushDevice();
    setupLlmKey();
    setupReminders();
    setupTree();
    setupComments();
    setupOverdue();
    setupQuickPreviews();
    restoreDraft();
    setupBulk();
    setupServiceWorker();
    showQueue();
    if (!navigator.onLine) wentOffline();
    else if (readQueue().length) flushQueue();
    // Signing out forgets this browser's copies of the pages and anything still queued.
    const logout = $("form.logout");
    if (logout) logout.addEventListener("submit", (event) => {
      writeQueue([]);
      const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
      if (worker) worker.postMessage({ kind: "forget" });
      // This device stops receiving the account's pushes: removed while still signed in.
      if (localStorage.getItem(PUSH_ID) && !logout.dataset.pushForgotten) {
        event.preventDefault();
        logout.dataset.pushForgotten = "1";
        const done = () => logout.submit();
        const timeout = new Promise((resolve) => setTimeout(resolve, 3000));
        Promise.race([pushRegistration().then(forgetPush), timeout]).then(done, done);
      }
    });
  }
})();
