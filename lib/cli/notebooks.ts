/**
 * `deno task notebooks [NAME…] [--write]`: executes the notebooks in
 * `notebooks/` headless with Deno's Jupyter kernel and checks that each
 * committed notebook shows what its code produces now (times and tokens/s
 * aside); `--write` stores the executed notebooks instead.
 *
 * Exit status: 0 when every notebook ran and matches, 1 when one differs,
 * 2 on bad input or a cell that raised.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { writeTextAtomic } from "../fsutil.ts";
import {
  differences,
  executeNotebook,
  readNotebook,
} from "../notebook/check.ts";
import { parseCommand, runMain } from "./common.ts";

const DIR = new URL("../../notebooks/", import.meta.url).pathname;

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task notebooks")
    .description(
      "Execute the notebooks and check their committed outputs.",
    )
    .argument("[names...]", "notebooks to run (default: all)")
    .option("--write", "store the executed notebooks")
    .option(
      "--python <path>",
      "the Python that has Jupyter (nbclient)",
      "/usr/bin/python3",
    );
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<{ write?: boolean; python: string }>();
  const all = [...Deno.readDirSync(DIR)].map((e) => e.name)
    .filter((n) => n.endsWith(".ipynb")).sort();
  const names = program.args.length
    ? program.args.map((n) => n.endsWith(".ipynb") ? n : `${n}.ipynb`)
    : all;
  for (const n of names) {
    if (!all.includes(n)) {
      throw new UserError(
        `notebooks: no notebook ${JSON.stringify(n)} (there are ${
          all.join(", ")
        })`,
      );
    }
  }
  const tmp = await Deno.makeTempDir({ prefix: "rnnlab-notebooks-" });
  let differ = 0;
  try {
    for (const name of names) {
      const path = `notebooks/${name}`, out = `${tmp}/${name}`;
      console.log(await executeNotebook(`${DIR}${name}`, out, opts.python));
      if (opts.write) {
        // With the final newline nbformat leaves out and `deno fmt` adds.
        const text = (await Deno.readTextFile(out)).trimEnd() + "\n";
        await writeTextAtomic(`${DIR}${name}`, text);
        console.log(`wrote ${path}`);
        continue;
      }
      const diffs = differences(
        await readNotebook(`${DIR}${name}`),
        await readNotebook(out),
      );
      for (const d of diffs) console.log(`✗ ${path}: ${d}`);
      if (diffs.length) differ++;
      else console.log(`${path}: the committed outputs are current`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return differ ? 1 : 0;
}

if (import.meta.main) await runMain(main);
