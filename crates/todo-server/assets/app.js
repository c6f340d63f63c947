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
    if (response.status === 401) { location.href = "/login"; throw new Error("Logged out"); }
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
      try {
        const response = await postFragment(form.action, params);
        const row = rowFromHtml(await response.text());
        if (!row) return;
        if (quick) {
          noteLocal(row.dataset.id);
          addRow(row);
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
        if (quick && !quick.value) quick.value = typed;
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
      const response = await fetch(more.href, { headers: { "X-Fragment": "1" } });
      if (!response.ok) { more.textContent = "Load more"; toast(await problemText(response)); return; }
      more.closest(".more").replaceWith(...htmlToNodes(await response.text()));
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
    input.maxLength = 200;
    link.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const cancel = () => { if (done) return; done = true; input.replaceWith(link); row.focus(); };
    const save = async () => {
      if (done) return;
      const title = input.value.trim();
      if (!title || title === link.textContent) return cancel();
      done = true;
      noteLocal(row.dataset.id);
      try {
        const params = new URLSearchParams({ title, return_to: returnTo() });
        const response = await postFragment(`/tasks/${row.dataset.id}`, params);
        const fresh = rowFromHtml(await response.text());
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
      // A viewer's rows are read-only: nothing to check off or edit.
      case "x": if (current && !current.hasAttribute("data-readonly")) { event.preventDefault(); $(".check", current).requestSubmit(); } break;
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
    if (!liveRegion()) return;
    if (refreshing) { refreshAgain = true; return; }
    const now = Date.now();
    if (!refreshTimer) firstPending = now;
    clearTimeout(refreshTimer);
    const wait = Math.max(0, Math.min(QUIET_MS, firstPending + MAX_WAIT_MS - now));
    refreshTimer = setTimeout(refreshView, wait);
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
      const response = await fetch(location.pathname + location.search, { headers: { "X-Live": "1" } });
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

  function notify(task) {
    const title = (task && task.title) || "Reminder";
    toast(`Reminder: ${title}`);
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("todo reminder", { body: title, tag: `todo-${task && task.id}` });
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
      if (opened) { document.documentElement.dataset.live = "retrying"; markStale("Live updates paused, reconnecting: this list may be out of date."); }
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
    if (!section) return;
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
    if (!(await featureAvailable("/api/v1/conversations"))) return;
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
      if (!response.ok) throw new Error(await problemText(response));
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
          answer.textContent = `Error: ${problem.detail || problem.title || problem.message || "the assistant failed"}`;
        }
      };
      if ((response.headers.get("content-type") || "").startsWith("text/event-stream")) {
        await readEvents(response, onEvent);
      } else {
        const body = await response.json();
        for (const call of body.tool_calls || []) onEvent("tool_call", JSON.stringify(call));
        onEvent("done", JSON.stringify(body));
      }
    } catch (e) { answer.textContent = `Error: ${e.message}`; }
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

  // --- start ------------------------------------------------------------------------------
  const zone = $("#signup #timezone, form[action='/signup'] #timezone");
  if (zone) { try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_) { /* keep UTC */ } }
  if ($("meta[name='csrf-token']")) {
    startLive();
    setupChat();
    setupWebhooks();
    setupLlmKey();
    setupReminders();
    setupTree();
    setupComments();
    setupOverdue();
  }
})();
