// scopeguard graph page: pan/zoom, click a node for its import and coupling sites, search, filter by edge kind.
// Written for this page only; no library, nothing fetched. The layout comes precomputed in the SVG.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const svg = document.querySelector("#canvas > svg");
  const panel = document.getElementById("details");
  const nodesById = new Map(data.nodes.map((n) => [n.id, n]));
  const nodeEls = new Map();
  svg.querySelectorAll(".node").forEach((el) => nodeEls.set(el.dataset.id, el));
  const edgeEls = Array.from(svg.querySelectorAll(".edge"));
  const kindsById = new Map(data.edge_kinds.map((k) => [k.id, k]));
  const isCoupling = (e) => kindsById.get(e.kind).group === "coupling";
  const anyCoupling = data.edges.some(isCoupling);
  // What a coupling site does with the name it shows, by edge kind.
  const verbs = { "registry-lookup": "looks up", "registry-registration": "registers", "monkeypatch": "patches" };

  // ---- pan and zoom, on the viewBox ----
  const full = svg.viewBox.baseVal;
  let box = { x: full.x, y: full.y, w: full.width, h: full.height };
  const home = Object.assign({}, box);
  function apply() { svg.setAttribute("viewBox", `${box.x} ${box.y} ${box.w} ${box.h}`); }
  function toGraph(clientX, clientY) {
    const r = svg.getBoundingClientRect();
    const scale = Math.max(box.w / r.width, box.h / r.height);
    const offX = (r.width * scale - box.w) / 2, offY = (r.height * scale - box.h) / 2;
    return { x: box.x - offX + (clientX - r.left) * scale, y: box.y - offY + (clientY - r.top) * scale, scale };
  }
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const p = toGraph(ev.clientX, ev.clientY);
    const f = Math.exp(ev.deltaY * 0.0015);
    box = { x: p.x - (p.x - box.x) * f, y: p.y - (p.y - box.y) * f, w: box.w * f, h: box.h * f };
    apply();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, moved: false, start: Object.assign({}, box), scale: toGraph(0, 0).scale };
  });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; svg.parentElement.classList.add("dragging"); }
    if (drag.moved) { box = Object.assign({}, drag.start, { x: drag.start.x - dx * drag.scale, y: drag.start.y - dy * drag.scale }); apply(); }
  });
  window.addEventListener("pointerup", (ev) => {
    const was = drag; drag = null; svg.parentElement.classList.remove("dragging");
    if (!was || was.moved) return;
    const target = ev.target.closest && ev.target.closest(".node");
    if (target) select(target.dataset.id); else clear();
  });
  document.getElementById("fit").addEventListener("click", () => { box = Object.assign({}, home); apply(); });

  // First view: a big graph fitted whole would shrink 12 px labels below legibility. Start at a
  // scale where labels stay at least 8 px, centred on the first scope (the point of the picture);
  // "Fit" shows everything.
  const READABLE = 1.5;  // graph units per screen pixel: 12 px labels drawn at 8 px
  (function firstView() {
    const r = svg.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0) || Math.max(box.w / r.width, box.h / r.height) <= READABLE) return;
    const w = r.width * READABLE, h = r.height * READABLE;
    const focus = svg.querySelector(".cluster rect") || svg.querySelector(".node rect");
    let cx = box.x + w / 2, cy = box.y + h / 2;
    if (focus) {
      const fw = focus.width.baseVal.value, fh = focus.height.baseVal.value;
      cx = focus.x.baseVal.value + Math.min(fw, w) / 2;
      cy = focus.y.baseVal.value + Math.min(fh, h) / 2;
    }
    box = { x: cx - w / 2, y: cy - h / 2, w: w, h: h };
    apply();
  })();

  function centreOn(id) {
    const el = nodeEls.get(id);
    if (!el) return;
    const r = el.querySelector("rect");
    const cx = r.x.baseVal.value + r.width.baseVal.value / 2, cy = r.y.baseVal.value + r.height.baseVal.value / 2;
    box = Object.assign({}, box, { x: cx - box.w / 2, y: cy - box.h / 2 });
    apply();
  }

  // ---- the details panel ----
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function siteItem(site, other) {
    const li = el("li", undefined, "site");
    li.append(el("span", `${site.path}:${site.line}:${site.column}`));
    li.append(document.createTextNode(` ${other}`));
    if (site.dynamic) li.append(document.createTextNode(" (dynamic import)"));
    if (site.violations.length) li.append(document.createTextNode(" "), el("span", site.violations.join(" "), "code"));
    return li;
  }
  function siteText(edge, s) {
    if (!isCoupling(edge)) return `${s.importer} → ${s.statement}`;
    const guard = kindsById.get(s.guard).label;
    return `${s.importer} ${verbs[edge.kind] || "uses"} "${s.statement}" via ${s.via} (${guard})`;
  }
  function edgeList(title, edges, otherEnd) {
    panel.append(el("h3", `${title} (${edges.reduce((s, e) => s + e.count, 0)} sites)`));
    if (!edges.length) { panel.append(el("p", "none", "muted")); return; }
    const ul = el("ul");
    for (const e of edges) {
      const kind = kindsById.get(e.kind);
      const li = el("li");
      li.append(el("b", otherEnd(e)), document.createTextNode(` — ${kind.label}, ${e.count} site(s)`));
      const sites = el("ul");
      for (const s of e.sites) sites.append(siteItem(s, siteText(e, s)));
      li.append(sites);
      ul.append(li);
    }
    panel.append(ul);
  }
  function select(id) {
    const node = nodesById.get(id);
    if (!node) return;
    nodeEls.forEach((e) => e.classList.remove("selected", "lit"));
    edgeEls.forEach((e) => e.classList.remove("lit"));
    const me = nodeEls.get(id);
    me.classList.add("selected", "lit");
    edgeEls.forEach((e) => {
      const edge = data.edges[+e.dataset.index];
      if (edge.source === id || edge.target === id) {
        e.classList.add("lit");
        nodeEls.get(edge.source).classList.add("lit");
        nodeEls.get(edge.target).classList.add("lit");
      }
    });
    svg.classList.add("focused");
    panel.replaceChildren();
    panel.append(el("h2", node.id));
    panel.append(el("p", `${node.kind}, ${node.files} file(s)` + (node.scope ? `, scope ${node.scope}` : ", outside every scope"), "muted"));
    const imports = data.edges.filter((e) => !isCoupling(e));
    edgeList("Imports", imports.filter((e) => e.source === id), (e) => `→ ${e.target}`);
    edgeList("Imported by", imports.filter((e) => e.target === id), (e) => `← ${e.source}`);
    if (anyCoupling) {  // lookups, registrations and patches: couplings no import statement shows
      const couplings = data.edges.filter(isCoupling);
      edgeList("Couples to", couplings.filter((e) => e.source === id), (e) => `→ ${e.target}`);
      edgeList("Coupled from", couplings.filter((e) => e.target === id), (e) => `← ${e.source}`);
    }
    panel.append(el("h3", `Violations (${node.violations.length})`));
    if (!node.violations.length) panel.append(el("p", "none", "muted"));
    else {
      const ul = el("ul");
      for (const v of node.violations) {
        const li = el("li", undefined, "site");
        li.append(el("span", v.code, "code"), document.createTextNode(` ${v.path}:${v.line}:${v.column} ${v.message}`));
        ul.append(li);
      }
      panel.append(ul);
    }
  }
  function clear() {
    nodeEls.forEach((e) => e.classList.remove("selected", "lit"));
    edgeEls.forEach((e) => e.classList.remove("lit"));
    svg.classList.remove("focused");
    panel.replaceChildren(el("p", "Click a node to see its import sites, couplings and violations.", "muted"));
  }

  // ---- search ----
  const search = document.getElementById("search");
  function matches() {
    const q = search.value.trim().toLowerCase();
    const found = [];
    nodeEls.forEach((e, id) => {
      const hit = q !== "" && id.toLowerCase().includes(q);
      e.classList.toggle("match", hit);
      if (hit) found.push(id);
    });
    svg.classList.toggle("searching", q !== "");
    return found;
  }
  search.addEventListener("input", matches);
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const found = matches();
    if (found.length) { select(found[0]); centreOn(found[0]); }
  });

  // ---- filters ----
  function filter() {
    const shown = new Set(Array.from(document.querySelectorAll("#kinds input[data-kind]")).filter((c) => c.checked).map((c) => c.dataset.kind));
    const onlyViolations = document.getElementById("only-violations").checked;
    edgeEls.forEach((e) => {
      const edge = data.edges[+e.dataset.index];
      e.classList.toggle("hidden", !shown.has(edge.kind) || (onlyViolations && !edge.violations.length));
    });
  }
  document.querySelectorAll("#kinds input").forEach((c) => c.addEventListener("change", filter));
  clear();
})();
