/**
 * An experiment's `README.md`: its exercises, the command that reproduces
 * it, one table of the grid points (mean ± sd over seeds), the generated
 * texts, exercise 1's check, the environment and the figures, generated
 * from the results.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import { computedOn } from "../env.ts";
import { divergedText, type Stat } from "./aggregate.ts";
import { pointLabel, pointValue } from "./plot.ts";
import { decodingRows } from "./decoding.ts";
import type { Results, SearchReport } from "./results.ts";

/**
 * Exercise 3's table, when cells sampled: per decoding, the model's mean
 * log-probability of the generated text, its distinct 4-grams and repeated
 * 8-grams, and an example. Empty otherwise.
 */
export function decodingTable(cells: CellRecord[]): string[] {
  // One block of rows per grid point: decodings of different models differ.
  const points = new Map<string, CellRecord[]>();
  for (const c of cells) {
    const label = pointLabel(c.point);
    points.set(label, [...(points.get(label) ?? []), c]);
  }
  const lines = [...points].flatMap(([label, group]) =>
    decodingRows(group).map((r) =>
      `| ${cellText(label)} | ${
        r.decoding === "greedy" ? "greedy" : `sample, α = ${r.alpha}`
      } | ${fmt(r.mean_log_prob, 3)} | ${fmt(r.distinct_4, 3)} | ${
        fmt(r.repeated_8, 3)
      } | \`${cellText(r.example)}\` |`
    )
  );
  if (lines.length === 0) return [];
  return [
    "| grid point | decoding | mean log-prob (nats/char) | distinct 4-grams | repeated 8-grams | example (first seed) |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...lines,
  ];
}

/**
 * Exercise 1's check, from the one-hot cells that recorded it: how far each
 * trained one-hot model's logits are from its own as an identity embedding.
 */
function onehotCheck(cells: CellRecord[]): string[] {
  const diffs = cells.map((c) => c.onehot_as_embedding).filter((d) =>
    typeof d === "number"
  ) as number[];
  if (diffs.length === 0) return [];
  const V = cells.find((c) => c.onehot_as_embedding !== undefined)!.corpus
    .vocab.length;
  return [
    `**Exercise 1, checked.** One-hot inputs times W_xh pick rows of W_xh: each trained one-hot ` +
    `model (${diffs.length} cell${
      diffs.length > 1 ? "s" : ""
    }), run again as an embedding model with W_embed = I (${V} × ${V}) ` +
    `and its own weights, gives the same logits over 200 validation characters: largest ` +
    `|Δ logit| ${Math.max(...diffs).toExponential(1)}.`,
    "",
  ];
}

/** A number for the table; blown-up values (a run that exploded) in exponent form. */
const num = (x: number, digits: number) =>
  Math.abs(x) >= 1e6 ? x.toExponential(2) : x.toFixed(digits);

/** A statistic for a table: mean ± sd, or "–" when there is none. */
export const fmt = (s: Stat | null, digits = 2): string =>
  s === null
    ? "–"
    : s.n > 1
    ? `${num(s.mean, digits)} ± ${num(s.sd, digits)}`
    : num(s.mean, digits);

/** A value as a Markdown table cell: its `|` escaped. */
export const cellText = (v: unknown): string =>
  String(v).replaceAll("|", "\\|");

function environment(cells: CellRecord[]): string[] {
  const envs = cells.map((c) => c.env).filter((e) => e !== null);
  const distinct = (f: (e: NonNullable<CellRecord["env"]>) => string) =>
    [...new Set(envs.map(f))].join("; ");
  if (envs.length === 0) return ["- no finished cell"];
  return [
    `- Deno ${distinct((e) => e.deno)}${
      envs.some((e) => e.tfjs) ? `, tfjs ${distinct((e) => e.tfjs ?? "–")}` : ""
    }`,
    `- backend: ${distinct(computedOn)}`,
    `- OS: ${distinct((e) => `${e.os} ${e.arch}`)}; CPU: ${
      distinct((e) => `${e.cpu} × ${e.cpu_count}`)
    }`,
    `- git commit: ${
      distinct((e) =>
        `${e.git_commit ?? "unknown"}${e.git_dirty ? " (dirty)" : ""}`
      )
    }`,
    `- engine: ${
      [...new Set(cells.map((c) => c.engine))].join(", ")
    }; corpus SHA-1: ${
      [...new Set(cells.map((c) => c.corpus.sha1).filter(Boolean))].join(", ")
    }`,
    ...reusedLines(cells),
  ];
}

/** Which cells are copies of another experiment's identical runs. */
function reusedLines(cells: CellRecord[]): string[] {
  const from = new Map<string, number>();
  for (const c of cells) {
    if (c.reused_from) {
      from.set(c.reused_from, (from.get(c.reused_from) ?? 0) + 1);
    }
  }
  return [...from].map(([name, n]) =>
    `- ${n} cell${
      n === 1 ? "" : "s"
    } reused from [${name}](../${name}/README.md): ` +
    "the same id (config, corpus and engine) on the same adapter, hence the same run"
  );
}

/**
 * The Markdown report: what was asked, how to reproduce it, where it ran,
 * the summary table (best row marked), generated text and figures.
 */
export function renderMarkdown(results: Results): string {
  const { experiment: spec, rows, cells } = results;
  const keys = results.varying_keys;
  const byId = new Map(cells.map((c) => [c.id, c]));
  const epochs = [...new Set(cells.map((c) => c.config.num_epochs))].join(", ");
  const onOf = (ids: string[]) => [
    ...new Set(
      ids.map((id) => byId.get(id)?.env).filter((e) => e != null).map((e) =>
        computedOn(e!)
      ),
    ),
  ];
  const mixed = onOf([...byId.keys()]).length > 1;
  const header = [
    ...keys,
    "seeds",
    "train ppl",
    "val ppl",
    "best val ppl",
    "tokens/s",
    "clipped %",
    "max ‖g‖",
    "diverged",
    // Only when the cells ran on more than one adapter, which round differently.
    ...(mixed ? ["computed on"] : []),
  ];
  const table = [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => i < keys.length ? "---" : "---:").join(" | ")} |`,
    ...rows.map((r) => {
      const mark = (s: string) => r.best ? `**${s}**` : s;
      return `| ${
        [
          ...keys.map((k, i) =>
            i === 0 && r.best
              ? `★ ${cellText(pointValue(r.point, k))}`
              : cellText(pointValue(r.point, k))
          ),
          String(r.seeds.length),
          fmt(r.final_train_ppl),
          fmt(r.final_val_ppl),
          mark(fmt(r.best_val_ppl)),
          fmt(r.tokens_per_sec, 0),
          fmt(r.clipped_pct, 1),
          fmt(r.max_grad_norm, 2),
          `${divergedText(r)}${r.failed ? ` (${r.failed} failed)` : ""}`,
          ...(mixed ? [cellText(onOf(r.cells).join("; "))] : []),
        ].join(" | ")
      } |`;
    }),
  ];
  const samples = rows.flatMap((r) => {
    const first = r.cells.map((id) => byId.get(id)!).find((c) =>
      c.samples.length > 0
    );
    const greedy = first?.samples.find((s) => s.decoding === "greedy");
    const label = pointLabel(r.point);
    if (!first || !greedy) {
      return [
        `- **${cellText(label)}**: no text (${
          r.diverged ? "diverged" : "not finished"
        })`,
      ];
    }
    return [
      `- **${
        cellText(label)
      }** (seed ${first.config.seed}): \`${greedy.text}\``,
    ];
  });
  const decoding = decodingTable(cells);
  const equivalence = keys.includes("input") ? onehotCheck(cells) : [];
  const base = Object.entries(spec.base ?? {}).map(([k, v]) => `${k}=${v}`)
    .join(", ");
  const overrides = Object.entries(results.overrides).map(([k, v]) =>
    `${k}=${v}`
  ).join(", ");
  return [
    `# ${spec.name}`,
    "",
    spec.description,
    "",
    `**Exercise${spec.exercises.length > 1 ? "s" : ""}:** ${
      spec.exercises.join("; ")
    }`,
    "",
    "## Reproduce",
    "",
    "```sh",
    results.command,
    "```",
    "",
    (results.search
      ? searchLine(results.search, spec, cells.length)
      : `Grid: ${keys.length ? keys.join(" × ") : "one point"}; seeds ${
        [...new Set(cells.map((c) => c.config.seed))].join(", ")
      }; ${cells.length} cells; ${epochs} epochs.`) +
    (base ? ` Base config: ${base}.` : " Base config: the chapter's.") +
    (overrides
      ? ` **Overrides (--set): ${overrides}** — not the committed configuration.`
      : ""),
    "",
    "## Environment",
    "",
    ...environment(cells),
    "",
    "## Results",
    "",
    ...(results.search ? [winnersLine(results.search), ""] : []),
    ...table,
    "",
    "Perplexities are the last epoch's (training) and the last evaluation's (validation, on the " +
    "held-out text after the training slice), as mean ± sd over seeds of the cells that finished; " +
    "tokens/s is training throughput; clipped % is the share of minibatches whose gradient norm " +
    "exceeded θ; max ‖g‖ the largest gradient norm before clipping; diverged counts the cells whose " +
    "loss became non-finite (left out of the means) or whose training perplexity rose above the " +
    "vocabulary size, worse than a uniform guess, after having been below it (kept in), with the " +
    "epoch each blew up at, or that ended above it. ★ marks the lowest best validation perplexity.",
    "",
    ...equivalence,
    ...(results.search ? searchTable(results.search) : []),
    // The authors' reading, beside the numbers it rests on, as in the index.
    ...(spec.reading ? ["## Reading", "", spec.reading, ""] : []),
    "## Generated text (greedy, after `time traveller`)",
    "",
    ...samples,
    "",
    ...(decoding.length
      ? [
        "## Decoding (exercise 3)",
        "",
        ...decoding,
        "",
        "Over the generated characters of both prefixes, mean ± sd over seeds: the model's mean " +
        "log-probability of what was generated (higher: more likely under the model), the share of " +
        "distinct character 4-grams (higher: more varied) and of character 8-grams already seen " +
        "earlier in the same text (higher: more looping).",
        "",
      ]
      : []),
    "## Perplexity curves",
    "",
    "![Training perplexity per epoch](train_ppl.svg)",
    "",
    "![Validation perplexity](val_ppl.svg)",
    "",
    `<sub>Generated by rnnlab from results.json (${results.schema}); do not edit by hand.</sub>`,
    "",
  ].join("\n");
}

/** What a search did, in one sentence: its draws, rungs and the winners' budget. */
function searchLine(
  search: SearchReport,
  spec: Results["experiment"],
  cells: number,
): string {
  const s = spec.search!;
  return `Search: ${search.configurations.length} configurations drawn from the space ` +
    `(seed ${spec.seeds[0]}), successive halving at ${
      search.rungs.join(", ")
    } epochs keeping the best 1/${
      s.eta ?? 3
    } on ${search.metric}, then the best ${s.winners ?? 1} with seeds ${
      spec.seeds.join(", ")
    }; ${cells} cells.`;
}

/** Which configuration won, above the table of its seeds. */
function winnersLine(search: SearchReport): string {
  return search.winners
    ? `The table shows the winner${
      search.winners.length > 1 ? "s" : ""
    } of the search (configuration ${
      search.winners.map((n) => `#${n}`).join(", ")
    }) over every seed; the search itself is below.`
    : "The search has not reached its winners yet; what it reached so far is below.";
}

/** A value of a dimension as the search table shows it. */
const shown = (v: unknown) =>
  typeof v === "object" && v !== null
    ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join(", ")
    : String(v);

/**
 * The search by rung: each configuration's values and its metric at every
 * rung it reached (→ where it went on, ★ the winners), best first.
 */
function searchTable(search: SearchReport): string[] {
  const keys = [
    ...new Set(search.configurations.flatMap((c) => Object.keys(c.values))),
  ];
  const reached = (c: SearchReport["configurations"][number]) =>
    c.metric.filter((m) => m !== null).length;
  const rows = [...search.configurations].sort((a, b) =>
    reached(b) - reached(a) ||
    (a.metric[reached(a) - 1] ?? Infinity) -
      (b.metric[reached(b) - 1] ?? Infinity) ||
    a.configuration - b.configuration
  );
  const header = [
    "#",
    ...keys,
    ...search.rungs.map((e, r) => `rung ${r + 1}: ${e} epochs`),
  ];
  return [
    "## Search",
    "",
    `Each configuration drawn, with its ${search.metric} at every rung it was trained to; → marks ` +
    "those that went on to the next rung (from where they stopped), ★ the winners, trained again " +
    "with every seed above. Ties go to the configuration drawn first.",
    "",
    `| ${header.join(" | ")} |`,
    `| ${
      header.map((_, i) => i <= keys.length ? "---" : "---:").join(" | ")
    } |`,
    ...rows.map((c) => {
      const cols = search.rungs.map((_, r) => {
        const m = c.metric[r];
        if (m === null) return "";
        const on = c.went_on[r];
        const last = r === search.rungs.length - 1;
        return `${Number.isFinite(m) ? m.toFixed(2) : "diverged"}${
          on ? (last ? " ★" : " →") : ""
        }`;
      });
      return `| ${
        [
          `#${c.configuration}`,
          ...keys.map((k) => cellText(shown(c.values[k] ?? ""))),
          ...cols,
        ].join(" | ")
      } |`;
    }),
    "",
  ];
}
