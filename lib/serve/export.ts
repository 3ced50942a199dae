/**
 * An experiment's page as one self-contained HTML file: the view's data,
 * the page's script, vega, vega-lite and vega-embed, and the styles, all
 * inline, so that the file opens from disk with the network off and draws
 * the grouped table, the curves over seeds, the parallel coordinates and
 * diffs (`deno task report NAME --html FILE`).
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExperimentView } from "./data.ts";

/** A script's text made safe inside `<script>`: no `</script` can end it early. */
const inline = (text: string) => text.replace(/<\/(script)/gi, "<\\/$1");

/**
 * The HTML of `view`'s page, everything inline; `bundle` is where the
 * page's built scripts are (`ensureBundle`).
 *
 * @example
 * ```ts
 * const html = await exportHtml(view, (await ensureBundle()).dir);
 * ```
 */
export async function exportHtml(
  view: ExperimentView,
  bundle: string,
): Promise<string> {
  const require = createRequire(import.meta.url);
  const build = (pkg: string, file: string) =>
    Deno.readTextFile(join(dirname(require.resolve(pkg)), file));
  const [css, vega, lite, embed, app] = await Promise.all([
    Deno.readTextFile(fileURLToPath(new URL("./app/app.css", import.meta.url))),
    build("vega", "vega.min.js"),
    build("vega-lite", "vega-lite.min.js"),
    build("vega-embed", "vega-embed.min.js"),
    Deno.readTextFile(join(bundle, "app.js")),
  ]);
  const title = `${view.dir} — rnnlab`.replace(
    /[<&]/g,
    (c) => c === "<" ? "&lt;" : "&amp;",
  );
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    '<link rel="icon" href="data:,">',
    `<style>\n${css}</style>`,
    `<script>${inline(vega)}</script>`,
    `<script>${inline(lite)}</script>`,
    `<script>${inline(embed)}</script>`,
    "</head>",
    "<body>",
    "<header>",
    '<a class="home" href="#/">rnnlab</a>',
    `<span class="sub">${title}: a report exported by rnnlab, read offline</span>`,
    '<span id="live" class="live" hidden></span>',
    "</header>",
    '<main id="main"><p>Loading…</p></main>',
    `<script>globalThis.RNNLAB_VIEW = ${
      inline(JSON.stringify(view))
    };</script>`,
    `<script>${inline(app)}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
