// The first window: lists the stored tiles through the `list_tiles` command. Text is set with
// textContent only, so nothing from the database is ever interpreted as HTML.
"use strict";

const el = (tag, attrs = {}, text) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};

const ago = (iso) => {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
};

function render(accounts) {
  const root = document.getElementById("accounts");
  root.replaceChildren();
  if (accounts.length === 0) {
    root.append(el("p", { class: "placeholder", id: "empty" },
      "No accounts yet. Add one with `meta-monitor account add`, or try `meta-monitor demo`."));
    return;
  }
  for (const account of accounts) {
    const section = el("section", { class: "account", "data-account": account.account });
    const title = el("h2", {}, account.account);
    title.append(el("span", { class: "status overall", "data-status": account.overall }, account.overall));
    section.append(title);
    const grid = el("div", { class: "tiles" });
    for (const tile of account.tiles) {
      const card = el("article", { class: "tile", "data-service": tile.service, "data-status": tile.status });
      const head = el("h3", {}, tile.service);
      head.append(el("span", { class: "status" }, tile.status));
      card.append(head, el("p", { class: "message" }, tile.message));
      const latency = tile.latency_ms == null ? "–" : `${tile.latency_ms} ms`;
      card.append(el("p", { class: "meta" }, `${latency} · checked ${ago(tile.last_check)}`));
      grid.append(card);
    }
    section.append(grid);
    root.append(section);
  }
}

async function load() {
  try {
    render(await window.__TAURI__.core.invoke("list_tiles"));
  } catch (err) {
    const root = document.getElementById("accounts");
    const message = err && err.message ? err.message : String(err);
    root.replaceChildren(el("p", { class: "error" }, `Could not read the stored tiles: ${message}`));
  }
}

document.getElementById("refresh").addEventListener("click", load);
load();
