// The page of `deno task serve`: an index of the results directories, and
// per directory a sortable, filterable table of its cells, their perplexity
// curves (vega-lite, log or linear, picked cells overlaid), each cell's
// generated text and environment, and the cells a runner trains into it
// now, redrawn as the server says something changed (server-sent events).
"use strict";

const main = document.getElementById("main");
const state = {
  events: null,
  listening: null,
  shown: 0,
  view: null,
  dir: null,
  sort: { key: null, desc: false },
  filter: "",
  picked: null,
  log: true,
  clamp: true,
  detail: null,
  here: null,
};

/** An element with attributes and children (strings become text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) {
      el.append(c instanceof Node ? c : String(c));
    }
  }
  return el;
}

async function getJSON(url) {
  return (await getView(url)).body;
}

/** A view and the server's state it was read at (for {@link listen}). */
async function getView(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return { body: await res.json(), since: res.headers.get("rnnlab-state") };
}

/**
 * Listens for changes of `dir` (or of every directory) since the state
 * `since` of the view shown: `onChange` runs on each. One stream per
 * page: a redraw of the same page keeps it.
 */
function listen(dir, since, onChange) {
  const key = dir === undefined ? "" : `dir=${encodeURIComponent(dir)}`;
  if (state.events && state.listening === key) return;
  state.events?.close();
  const params = [key, since ? `since=${since}` : ""].filter(Boolean);
  const es = new EventSource(`/api/events?${params.join("&")}`);
  es.addEventListener("change", () => onChange());
  state.events = es;
  state.listening = key;
}

const num = (x, digits = 2) =>
  x === null || x === undefined
    ? "–"
    : Math.abs(x) >= 1e6
    ? x.toExponential(2)
    : x.toFixed(digits);

const pointLabel = (point) =>
  Object.entries(point).map(([k, v]) => `${k}=${v}`).join(" ") || "all";

function showError(e) {
  main.replaceChildren(h("p", { class: "error" }, `Cannot load: ${e.message}`));
}

// ---------------------------------------------------------------- index

async function showIndex() {
  // A view loaded after a newer one was asked for is not drawn.
  const shown = ++state.shown;
  const { body: list, since } = await getView("/api/experiments");
  if (shown !== state.shown) return;
  state.dir = null;
  document.title = "rnnlab results";
  setLive(list.some((d) => d.running > 0));
  main.replaceChildren(
    h("h1", {}, "Experiments"),
    h(
      "p",
      { class: "meta" },
      `${list.length} results directories; each answers exercises of the chapter with a grid of cells (runs).`,
    ),
    h(
      "div",
      { class: "cards", id: "experiments" },
      list.map((d) =>
        h(
          "div",
          { class: "card experiment", "data-dir": d.dir },
          h(
            "h2",
            {},
            h("a", { href: `#/exp/${encodeURIComponent(d.dir)}` }, d.dir),
          ),
          d.exercises.map((e) => h("blockquote", {}, e)),
          h("p", {}, d.description),
          h(
            "p",
            { class: "meta" },
            `${d.stored}${
              d.planned === null ? "" : ` of ${d.planned}`
            } cells stored `,
            d.running
              ? h("span", { class: "badge" }, `${d.running} running`)
              : null,
            d.rejected
              ? h("span", { class: "badge bad" }, `${d.rejected} not valid`)
              : null,
          ),
          d.reading ? h("p", {}, h("b", {}, "Reading. "), d.reading) : null,
        )
      ),
    ),
  );
  listen(undefined, since, () => showIndex().catch(showError));
}

// ----------------------------------------------------------- experiment

/** The table's rows: stored cells, then running ones. */
function rowsOf(view) {
  const stored = view.cells.map((c) => ({
    ...c.point,
    seed: c.seed,
    status: c.status,
    train_ppl: c.train_ppl,
    val_ppl: c.val_ppl,
    best_val_ppl: c.best_val_ppl,
    tokens_per_sec: c.tokens_per_sec,
    computed_on: c.computed_on,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed}`,
    _train: c.train,
    _val: c.val,
    _running: false,
  }));
  const running = view.running.map((c) => ({
    ...c.point,
    seed: c.seed,
    status: `running ${c.train_ppl.length}/${c.num_epochs}`,
    train_ppl: c.train_ppl.at(-1) ?? null,
    val_ppl: c.val_ppl.at(-1)?.ppl ?? null,
    best_val_ppl: c.val_ppl.length
      ? Math.min(...c.val_ppl.map((v) => v.ppl))
      : null,
    tokens_per_sec: c.tokens_per_sec,
    computed_on: null,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed} (running)`,
    _train: c.train_ppl,
    _val: c.val_ppl.map((v) => [v.epoch, v.ppl]),
    _running: true,
  }));
  return [...stored, ...running];
}

/** A checkbox for the charts' setting `state[key]`, redrawing them when it changes. */
function chartToggle(key, text, title) {
  return h(
    "label",
    title ? { title } : {},
    h("input", {
      type: "checkbox",
      id: key,
      checked: state[key],
      onchange: (e) => {
        state[key] = e.target.checked;
        renderCharts(state.view);
      },
    }),
    text,
  );
}

function columnsOf(view) {
  return [
    ...view.varying_keys,
    "seed",
    "status",
    "train_ppl",
    "val_ppl",
    "best_val_ppl",
    "tokens_per_sec",
    "computed_on",
  ];
}

/** The rows the filter keeps: `key=value` terms match a column exactly, other words any text. */
function filtered(rows, filter) {
  const terms = filter.trim().split(/\s+/).filter(Boolean);
  return rows.filter((r) =>
    terms.every((t) => {
      const eq = t.indexOf("=");
      if (eq > 0) return String(r[t.slice(0, eq)]) === t.slice(eq + 1);
      return Object.entries(r).some(([k, v]) =>
        !k.startsWith("_") && String(v).toLowerCase().includes(t.toLowerCase())
      );
    })
  );
}

function sorted(rows, { key, desc }) {
  if (!key) return rows;
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return sign *
      (typeof x === "number" && typeof y === "number"
        ? x - y
        : String(x).localeCompare(String(y)));
  });
}

function renderTable(view, rows) {
  const columns = columnsOf(view);
  const numeric = new Set([
    "seed",
    "train_ppl",
    "val_ppl",
    "best_val_ppl",
    "tokens_per_sec",
  ]);
  const cell = (r, k) => {
    const v = r[k];
    if (k === "tokens_per_sec") {
      return v === null ? "–" : Math.round(v).toLocaleString("en-US");
    }
    if (k.endsWith("_ppl")) return num(v);
    return v === null || v === undefined ? "–" : String(v);
  };
  const head = h(
    "tr",
    {},
    h("th", { title: "draw its curves" }, "plot"),
    columns.map((k) =>
      h(
        "th",
        {
          class: state.sort.key === k
            ? `sorted${state.sort.desc ? " desc" : ""}`
            : "",
          onclick: () => {
            state.sort = state.sort.key === k
              ? { key: k, desc: !state.sort.desc }
              : { key: k, desc: false };
            renderExperiment();
          },
        },
        k,
      )
    ),
  );
  const body = rows.map((r) =>
    h(
      "tr",
      {
        class: [
          "cell",
          r._running ? "running" : "",
          r.status === "diverged" ? "diverged" : "",
          state.detail === r._id ? "selected" : "",
        ].join(" ").trim(),
        "data-id": r._id,
      },
      h(
        "td",
        {},
        h("input", {
          type: "checkbox",
          checked: state.picked.has(r._id),
          onchange: (e) => {
            if (e.target.checked) state.picked.add(r._id);
            else state.picked.delete(r._id);
            renderCharts(view);
          },
        }),
      ),
      columns.map((k) =>
        h(
          "td",
          { class: [numeric.has(k) ? "num" : "", k].join(" ").trim() },
          k === "status" && !r._running
            ? h(
              "a",
              {
                href: "#",
                onclick: (e) => {
                  e.preventDefault();
                  showDetail(r._id);
                },
              },
              cell(r, k),
            )
            : cell(r, k),
        )
      ),
    )
  );
  return h(
    "table",
    { id: "cells" },
    h("thead", {}, head),
    h("tbody", {}, body),
  );
}

function chartSpec(values, metric, log, ceiling) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: metric === "train" ? "Training perplexity" : "Validation perplexity",
    width: 520,
    height: 260,
    data: { values },
    mark: {
      type: "line",
      point: metric === "val",
      strokeWidth: 1.5,
      clip: true,
    },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        title: "epoch",
        axis: { format: "d" },
      },
      y: {
        field: "ppl",
        type: "quantitative",
        title: `perplexity${log ? " (log scale)" : ""}`,
        scale: {
          type: log ? "log" : "linear",
          ...(log ? {} : { zero: false }),
          ...(ceiling
            ? { domain: [Math.min(...values.map((v) => v.ppl)) * 0.9, ceiling] }
            : {}),
        },
      },
      color: {
        field: "cell",
        type: "nominal",
        title: "cell",
        legend: { labelLimit: 320 },
      },
      strokeDash: {
        field: "running",
        type: "nominal",
        legend: null,
        scale: { domain: [false, true], range: [[1, 0], [4, 3]] },
      },
      tooltip: [
        { field: "cell", type: "nominal" },
        { field: "epoch", type: "quantitative" },
        {
          field: "ppl",
          type: "quantitative",
          format: ".4f",
          title: "perplexity",
        },
      ],
    },
  };
}

async function renderCharts(view) {
  const rows = rowsOf(view).filter((r) => state.picked.has(r._id));
  const positive = (p) => Number.isFinite(p) && p > 0;
  const train = rows.flatMap((r) =>
    r._train.map((ppl, i) => ({
      cell: r._label,
      epoch: i + 1,
      ppl,
      running: r._running,
    }))
      .filter((p) => positive(p.ppl))
  );
  const val = rows.flatMap((r) =>
    r._val.map(([epoch, ppl]) => ({
      cell: r._label,
      epoch,
      ppl,
      running: r._running,
    }))
      .filter((p) => positive(p.ppl))
  );
  const opts = { actions: false, renderer: "svg" };
  for (
    const [id, values, metric] of [["train", train, "train"], [
      "val",
      val,
      "val",
    ]]
  ) {
    const el = document.getElementById(`chart-${id}`);
    if (!el) continue;
    if (values.length === 0) {
      el.replaceChildren(
        h("p", { class: "meta" }, "No cell picked: tick “plot” in the table."),
      );
      continue;
    }
    const top = Math.max(...values.map((v) => v.ppl));
    const ceiling = state.clamp && view.vocab_size && top > 2 * view.vocab_size
      ? 2 * view.vocab_size
      : null;
    await vegaEmbed(el, chartSpec(values, metric, state.log, ceiling), opts);
  }
}

async function showDetail(id) {
  state.detail = id;
  const panel = document.getElementById("detail");
  try {
    const c = await getJSON(
      `/api/cell?dir=${encodeURIComponent(state.dir)}&id=${
        encodeURIComponent(id)
      }`,
    );
    const env = c.env ?? {};
    panel.replaceChildren(
      h("h2", {}, `Cell ${c.id}`),
      h(
        "p",
        { class: "meta" },
        `${
          pointLabel(c.point)
        } seed=${c.config.seed}, ${c.status}, ${c.engine}`,
      ),
      h("h3", {}, "Generated text"),
      c.samples.length
        ? h(
          "table",
          { id: "samples" },
          h(
            "tr",
            {},
            ["prefix", "decoding", "α", "mean log-prob", "text"].map((k) =>
              h("th", {}, k)
            ),
          ),
          c.samples.map((s) =>
            h(
              "tr",
              {},
              h("td", {}, s.prefix),
              h("td", {}, s.decoding),
              h("td", {}, s.alpha ?? "–"),
              h(
                "td",
                { class: "num" },
                s.mean_log_prob === undefined
                  ? "–"
                  : s.mean_log_prob.toFixed(3),
              ),
              h("td", {}, h("code", {}, s.text)),
            )
          ),
        )
        : h("p", { class: "meta" }, "none (it did not finish)"),
      h("h3", {}, "Environment"),
      h(
        "table",
        { id: "environment" },
        Object.entries({
          ...Object.fromEntries(
            Object.entries(env).filter(([k]) => k !== "adapter"),
          ),
          adapter: env.adapter
            ? (env.adapter.description || env.adapter.vendor)
            : null,
          corpus: `${c.corpus.name} (SHA-1 ${c.corpus.sha1})`,
          reused_from: c.reused_from ?? null,
        }).map(([k, v]) =>
          h("tr", {}, h("th", {}, k), h("td", {}, v === null ? "–" : String(v)))
        ),
      ),
      h("h3", {}, "Train it again here"),
      h(
        "p",
        { class: "meta" },
        "The fused engine's kernels on this browser's WebGPU, from the cell's seed: its first epochs beside the stored ones (another adapter rounds differently, so expect small differences).",
      ),
      h(
        "div",
        { class: "controls" },
        h(
          "label",
          {},
          "epochs ",
          h("input", {
            type: "number",
            id: "here-epochs",
            min: 1,
            max: c.config.num_epochs,
            value: Math.min(5, c.config.num_epochs),
          }),
        ),
        h(
          "button",
          { id: "train-here", onclick: () => trainInBrowser(c) },
          "train here",
        ),
        h(
          "button",
          { id: "stop-here", onclick: () => state.here?.abort() },
          "stop",
        ),
        h("span", { class: "meta", id: "here-status" }),
      ),
      h("div", { class: "chart", id: "here-chart" }),
      h("table", { id: "here-table" }),
      h("h3", {}, "Config"),
      h("pre", {}, JSON.stringify(c.config, null, 2)),
    );
    document.querySelectorAll("tr.cell").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.id === id)
    );
  } catch (e) {
    panel.replaceChildren(
      h("p", { class: "error" }, `Cannot load cell ${id}: ${e.message}`),
    );
  }
}

function renderExperiment() {
  const view = state.view;
  const rows = sorted(filtered(rowsOf(view), state.filter), state.sort);
  const table = document.getElementById("cells");
  const next = renderTable(view, rows);
  if (table) table.replaceWith(next);
  document.getElementById("count").textContent = `${rows.length} of ${
    view.cells.length + view.running.length
  } cells shown`;
}

async function showExperiment(dir) {
  const shown = ++state.shown;
  const { body: view, since } = await getView(
    `/api/experiment?dir=${encodeURIComponent(dir)}`,
  );
  if (shown !== state.shown) return;
  const fresh = state.dir !== dir;
  state.dir = dir;
  state.view = view;
  if (fresh) {
    state.sort = { key: null, desc: false };
    state.filter = "";
    state.detail = null;
    // Every cell drawn, up to 24; pick others in the table.
    state.picked = new Set(rowsOf(view).slice(0, 24).map((r) => r._id));
  } else {
    // A change: cells that started since are drawn too, and only the
    // table and the curves are drawn again (the filter keeps its focus).
    for (const c of view.running) state.picked.add(c.id);
    setLive(view.running.length > 0);
    renderExperiment();
    await renderCharts(view);
    return;
  }
  setLive(view.running.length > 0);
  document.title = `${dir} — rnnlab`;
  const spec = view.spec;
  main.replaceChildren(
    ...[
      h("p", {}, h("a", { href: "#/" }, "← all experiments")),
      h("h1", {}, dir),
      spec.exercises.map((e) => h("blockquote", {}, e)),
      h("p", {}, spec.description),
      h("pre", {}, view.command),
      spec.reading ? h("p", {}, h("b", {}, "Reading. "), spec.reading) : null,
      view.rejected.length
        ? h(
          "p",
          { class: "error" },
          view.rejected.map((r) => `${r.file} is not a valid cell: ${r.reason}`)
            .join("; "),
        )
        : null,
      h("h2", {}, "Perplexity"),
      h(
        "div",
        { class: "controls" },
        chartToggle("log", " log scale"),
        view.vocab_size
          ? chartToggle(
            "clamp",
            ` stop the axis at ${2 * view.vocab_size} (twice the vocabulary)`,
            "runs that blow up leave the plot there, so they hide no other",
          )
          : null,
        h(
          "span",
          { class: "meta" },
          "hover a line for its values; tick “plot” to overlay cells",
        ),
      ),
      h(
        "div",
        { class: "charts" },
        h("div", { class: "chart", id: "chart-train" }),
        h("div", { class: "chart", id: "chart-val" }),
      ),
      h("h2", {}, "Cells"),
      h(
        "div",
        { class: "controls" },
        h("input", {
          type: "search",
          id: "filter",
          placeholder: "filter: clip=off relu …",
          value: state.filter,
          oninput: (e) => {
            state.filter = e.target.value;
            renderExperiment();
          },
        }),
        h("span", { class: "meta", id: "count" }),
      ),
      h("table", { id: "cells" }),
      h(
        "div",
        { class: "detail", id: "detail" },
        h(
          "p",
          { class: "meta" },
          "Click a cell's status for its generated text and environment.",
        ),
      ),
    ].flat().filter(Boolean),
  );
  renderExperiment();
  await renderCharts(view);
  if (state.detail) await showDetail(state.detail);
  if (shown === state.shown) {
    listen(dir, since, () => showExperiment(dir).catch(showError));
  }
}

/** Trains cell `c` again in this browser and draws its curve beside the stored one. */
async function trainInBrowser(c) {
  const status = document.getElementById("here-status");
  const say = (text) => (status.textContent = text);
  state.here?.abort();
  const ac = new AbortController();
  state.here = ac;
  try {
    const trainer = await import("/assets/trainer.js");
    const adapter = await trainer.adapterHere();
    if (!adapter) {
      say("This browser exposes no WebGPU adapter.");
      return;
    }
    const corpus = await getJSON(
      `/api/corpus?dir=${encodeURIComponent(state.dir)}&id=${c.id}`,
    ).catch(() => null);
    if (!corpus) {
      say(
        "Its book is not here to train on (a book rnnlab knows by name, in the data directory).",
      );
      return;
    }
    const epochs = Math.max(
      1,
      Math.min(
        c.config.num_epochs,
        Number(document.getElementById("here-epochs").value) || 1,
      ),
    );
    const rows = [];
    const draw = async () => {
      const values = rows.flatMap((r) => [
        { run: "stored", epoch: r.epoch, ppl: c.train_ppl[r.epoch - 1] },
        { run: `here (${adapter})`, epoch: r.epoch, ppl: r.train_ppl },
      ]).filter((v) => Number.isFinite(v.ppl) && v.ppl > 0);
      await vegaEmbed("#here-chart", {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: "Training perplexity: stored and trained here",
        width: 420,
        height: 200,
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: {
            field: "epoch",
            type: "quantitative",
            axis: { format: "d", values: rows.map((r) => r.epoch) },
          },
          y: {
            field: "ppl",
            type: "quantitative",
            scale: { type: "log" },
            title: "perplexity",
          },
          color: { field: "run", type: "nominal", title: null },
          tooltip: [{ field: "run" }, { field: "epoch" }, {
            field: "ppl",
            format: ".6f",
          }],
        },
      }, { actions: false, renderer: "svg" });
      document.getElementById("here-table").replaceChildren(
        h(
          "tr",
          {},
          ["epoch", "stored", "here", "relative difference", "tokens/s here"]
            .map((k) => h("th", {}, k)),
        ),
        ...rows.map((r) => {
          const stored = c.train_ppl[r.epoch - 1];
          return h(
            "tr",
            { class: "here-epoch" },
            h("td", { class: "num" }, r.epoch),
            h("td", { class: "num" }, num(stored, 6)),
            h("td", { class: "num here-ppl" }, num(r.train_ppl, 6)),
            h(
              "td",
              { class: "num here-rel" },
              stored
                ? (Math.abs(r.train_ppl - stored) / stored).toExponential(1)
                : "–",
            ),
            h(
              "td",
              { class: "num" },
              Math.round(r.tokens_per_sec).toLocaleString("en-US"),
            ),
          );
        }),
      );
    };
    say(`training on ${adapter}…`);
    await trainer.trainHere(
      c.config,
      Int32Array.from(corpus.train),
      corpus.vocab_size,
      epochs,
      (e) => {
        rows.push(e);
        say(`epoch ${e.epoch} of ${epochs} on ${adapter}`);
        draw();
      },
      ac.signal,
    );
    await draw();
    say(
      `${rows.length} epochs trained on ${adapter}${
        ac.signal.aborted ? " (stopped)" : ""
      }`,
    );
  } catch (e) {
    say(`Training here failed: ${e.message}`);
  }
}

function setLive(on) {
  document.getElementById("live").hidden = !on;
}

async function route() {
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/exp/")) {
      await showExperiment(decodeURIComponent(hash.slice("#/exp/".length)));
    } else {
      await showIndex();
    }
  } catch (e) {
    showError(e);
  }
}

globalThis.addEventListener("hashchange", () => {
  state.dir = null;
  route();
});
route();
