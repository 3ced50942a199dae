/**
 * Whether a committed notebook still shows what its code produces: each
 * notebook is executed headless (`execute.py`, Jupyter's own client, with
 * Deno's kernel) and its cells' outputs are compared with the committed
 * ones, beyond what differs from run to run (times, tokens/s, execution
 * counts, metadata).
 *
 * @module
 */
import { IoError, UserError } from "../errors.ts";

/** A notebook as nbformat 4 writes it (the parts compared). */
export interface Notebook {
  cells: {
    cell_type: string;
    source: string | string[];
    outputs?: Output[];
  }[];
}

/** One output of a code cell. */
export interface Output {
  output_type: string;
  data?: Record<string, string | string[]>;
  text?: string | string[];
  name?: string;
  ename?: string;
  evalue?: string;
}

const joined = (s: string | string[] | undefined): string =>
  Array.isArray(s) ? s.join("") : s ?? "";

/**
 * Text with what differs from run to run masked: the number before
 * "tokens/s" and a time in seconds ("12.3 s").
 *
 * @example
 * ```ts
 * masked("41949 tokens/s, 7.2 s"); // "… tokens/s, … s"
 * ```
 */
export const masked = (text: string): string =>
  text.replace(/\d[\d,.]*(?= tokens\/s)/g, "…")
    .replace(/\b\d+(\.\d+)? s\b/g, "… s");

/** What is compared of a notebook: per cell its kind, source and outputs, masked. */
export function normalize(nb: Notebook): string[][] {
  return nb.cells.map((c) => [
    c.cell_type,
    joined(c.source),
    ...(c.outputs ?? []).flatMap((o) => {
      if (o.output_type === "stream") {
        return [`${o.name}: ${masked(joined(o.text))}`];
      }
      if (o.output_type === "error") return [`error ${o.ename}: ${o.evalue}`];
      return Object.entries(o.data ?? {}).sort(([a], [b]) => a < b ? -1 : 1)
        .map(([mime, v]) =>
          `${mime}: ${mime.startsWith("text/") ? masked(joined(v)) : joined(v)}`
        );
    }),
  ]);
}

/** A short view of a long text, for a difference's line. */
const excerpt = (s: string | undefined): string =>
  s === undefined
    ? "(none)"
    : JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);

/**
 * The first line at which two outputs differ, from each side, named by the
 * output's MIME type and line number when it is not the first; a side with
 * no such line (or no output) is undefined.
 */
function firstDifference(
  a: string | undefined,
  b: string | undefined,
): [string | undefined, string | undefined] {
  if (a === undefined || b === undefined) return [a, b];
  const la = a.split("\n"), lb = b.split("\n");
  const k = la.findIndex((line, i) => line !== lb[i]);
  const at = k === -1 ? la.length : k;
  const where = at > 0 ? `${a.slice(0, a.indexOf(": "))} line ${at + 1}: ` : "";
  const side = (lines: string[]) =>
    lines[at] === undefined ? undefined : where + lines[at];
  return [side(la), side(lb)];
}

/**
 * How the outputs of `fresh` differ from `committed`, one line each (empty
 * when they agree). Cells are named by number and their source's first line.
 */
export function differences(committed: Notebook, fresh: Notebook): string[] {
  const a = normalize(committed), b = normalize(fresh);
  if (a.length !== b.length) {
    return [`${a.length} cells committed, ${b.length} executed`];
  }
  const out: string[] = [];
  a.forEach((cell, i) => {
    const other = b[i];
    const name = `cell ${i + 1} (${excerpt(cell[1].split("\n")[0])})`;
    if (cell[1] !== other[1]) out.push(`${name}: its source differs`);
    const n = Math.max(cell.length, other.length);
    for (let k = 2; k < n; k++) {
      if (cell[k] !== other[k]) {
        const [was, now] = firstDifference(cell[k], other[k]);
        out.push(`${name}: committed ${excerpt(was)}, now ${excerpt(now)}`);
        break;
      }
    }
  });
  return out;
}

/** Reads a notebook file; a file that is not one is a {@linkcode UserError} naming it. */
export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new IoError(`${path}: ${(e as Error).message}`);
  }
  try {
    const nb = JSON.parse(text);
    if (!Array.isArray(nb?.cells)) throw new Error("no cells");
    return nb as Notebook;
  } catch (e) {
    throw new UserError(`${path}: not a notebook: ${(e as Error).message}`);
  }
}

/**
 * Executes the notebook at `path` into `out` with Jupyter's client under
 * `python` (the Python that has Jupyter); returns what the executor said
 * (cells and seconds). A cell that raises fails it, with Jupyter's message.
 */
export async function executeNotebook(
  path: string,
  out: string,
  python: string,
  timeout_s = 1800,
): Promise<string> {
  const script = new URL("./execute.py", import.meta.url).pathname;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(python, {
      args: [script, path, out, String(timeout_s)],
      stdout: "piped",
      stderr: "piped",
      // The executor's Python has no need of its debugger's warning.
      env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
    }).output();
  } catch (e) {
    throw new UserError(
      `${path}: cannot run ${python} (${
        (e as Error).message
      }); Jupyter's Python is needed (Debian: jupyter-nbconvert)`,
    );
  }
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  if (!result.success) {
    const err = decode(result.stderr).split("\n")
      .filter((l) => !/Debugger|frozen|0\.00s/.test(l)).slice(-25).join("\n");
    throw new UserError(`${path}: execution failed\n${err}`);
  }
  return decode(result.stdout);
}
