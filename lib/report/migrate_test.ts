import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { canonicalJson } from "../experiment/grid.ts";
import { checkCellFile } from "../experiment/validate.ts";
import { readCellFile, scanCells } from "../experiment/store.ts";
import { migrateResults } from "./migrate.ts";
import { readResults } from "./report.ts";

/** Results as rnnlab.cell/1 and rnnlab.results/1 stored them: two experiments, one cell of fx-b a copy of fx-a's. */
const V1 = fileURLToPath(
  new URL("../experiment/testdata/v1", import.meta.url),
);

async function copyTree(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Every cell file of a tree, by `dir/id`, as the v1 reader saw it. */
async function v1Records(root: string) {
  const out = new Map<string, string>();
  for (const dir of ["fx-a", "fx-b"]) {
    for await (const e of Deno.readDir(`${root}/${dir}/cells`)) {
      const id = e.name.slice(0, -".json".length);
      const value = JSON.parse(
        await Deno.readTextFile(`${root}/${dir}/cells/${e.name}`),
      );
      const checked = await checkCellFile(value, id);
      assert.ok("record" in checked, `${dir}/${id} is a v1 cell`);
      out.set(`${dir}/${id}`, canonicalJson(checked.record));
    }
  }
  return out;
}

/** The Markdown tables of a report (lines starting with "|"). */
const tables = (md: string) =>
  md.split("\n").filter((l) => l.startsWith("|")).join("\n");

Deno.test("migrateResults: v1 results become v2 with every number and table unchanged; a copy becomes a reference; it is idempotent", async () => {
  const root = await Deno.makeTempDir({ prefix: "rnnlab-migrate-" });
  try {
    await copyTree(V1, root);
    await Deno.remove(`${root}/experiments`, { recursive: true });
    const before = await v1Records(root);
    const readmes = await Promise.all(
      ["fx-a", "fx-b"].map((d) => Deno.readTextFile(`${root}/${d}/README.md`)),
    );
    const rows = await Promise.all(
      ["fx-a", "fx-b"].map(async (d) =>
        JSON.parse(await Deno.readTextFile(`${root}/${d}/results.json`)).rows
      ),
    );

    const m = await migrateResults(root);
    assert.deepEqual(
      [m.runs, m.refs, m.current, m.results, m.rejected.length],
      [5, 1, 0, 2, 0],
    );
    assert.ok(m.bytes.after < m.bytes.before / 2, JSON.stringify(m.bytes));

    // Each cell reads back as the same record.
    for (const [key, record] of before) {
      const [dir, id] = key.split("/");
      const read = await readCellFile(`${root}/${dir}`, id);
      assert.ok(read && "record" in read, key);
      assert.equal(canonicalJson(read.record), record, key);
      const file = JSON.parse(
        await Deno.readTextFile(`${root}/${dir}/cells/${id}.json`),
      );
      assert.equal(file.schema, "rnnlab.cell/2");
      if (dir === "fx-b" && read.record.reused_from) {
        assert.deepEqual(file.ref.dir, "fx-a", "the copy is a reference");
      } else {
        assert.ok("curves" in file && !("epochs" in file), key);
      }
    }
    // results.json names its cells; its rows and the report's tables stay.
    for (const [i, dir] of ["fx-a", "fx-b"].entries()) {
      const file = JSON.parse(
        await Deno.readTextFile(`${root}/${dir}/results.json`),
      );
      assert.equal(file.schema, "rnnlab.results/2");
      assert.ok(file.cells.every((c: unknown) => typeof c === "string"));
      assert.deepEqual(file.rows, rows[i]);
      const read = await readResults(`${root}/${dir}`);
      assert.ok(read && "results" in read && read.rejected.length === 0);
      const md = await Deno.readTextFile(`${root}/${dir}/README.md`);
      assert.equal(tables(md), tables(readmes[i]), `${dir} tables`);
      assert.match(md, /rnnlab\.results\/2/);
    }

    // Again: nothing left to do.
    const again = await migrateResults(root);
    assert.deepEqual(
      [again.runs, again.refs, again.current, again.results],
      [0, 0, 6, 0],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("migrateResults: a damaged cell is named and left alone, a copy whose numbers differ from its source stays a run", async () => {
  const root = await Deno.makeTempDir({ prefix: "rnnlab-migrate-" });
  try {
    await copyTree(V1, root);
    await Deno.remove(`${root}/experiments`, { recursive: true });
    const [damaged] = [...Deno.readDirSync(`${root}/fx-a/cells`)].map((e) =>
      e.name
    ).sort();
    await Deno.writeTextFile(`${root}/fx-a/cells/${damaged}`, "{ trunc");
    // The copy's source trained again on another machine: other numbers.
    const copyName = [...Deno.readDirSync(`${root}/fx-b/cells`)].map((e) =>
      e.name
    ).find((n) => {
      try {
        return Deno.statSync(`${root}/fx-a/cells/${n}`).isFile;
      } catch {
        return false;
      }
    });
    const source = JSON.parse(
      await Deno.readTextFile(`${root}/fx-a/cells/${copyName}`),
    );
    source.wall_seconds += 1;
    await Deno.writeTextFile(
      `${root}/fx-a/cells/${copyName}`,
      JSON.stringify(source),
    );

    const m = await migrateResults(root);
    assert.deepEqual(m.rejected.map((r) => r.path.split("/").at(-1)), [
      damaged,
      "results.json",
    ]);
    assert.equal(m.refs, 0);
    assert.equal(
      await Deno.readTextFile(`${root}/fx-a/cells/${damaged}`),
      "{ trunc",
      "evidence kept",
    );
    const { cells, rejected } = await scanCells(`${root}/fx-b`);
    assert.equal(cells.length, 2);
    assert.equal(rejected.length, 0);
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${root}/fx-a/results.json`)).schema,
      "rnnlab.results/1",
      "a results.json whose cells are not all valid is left as it is",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the committed results are current (rnnlab.cell/2, references that resolve) and under 10 MB", async () => {
  const results = fileURLToPath(new URL("../../results", import.meta.url));
  let bytes = 0, cells = 0, refs = 0;
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else bytes += (await Deno.stat(path)).size;
    }
  };
  await walk(results);
  for await (const e of Deno.readDir(results)) {
    if (!e.isDirectory || e.name === "bench") continue;
    const dir = join(results, e.name);
    const scan = await scanCells(dir);
    assert.deepEqual(scan.rejected, [], dir);
    for (const c of scan.cells) {
      const file = JSON.parse(
        await Deno.readTextFile(`${dir}/cells/${c.id}.json`),
      );
      assert.equal(file.schema, "rnnlab.cell/2", `${dir}/${c.id}`);
      if (file.ref) refs++;
      cells++;
    }
    const read = await readResults(dir);
    assert.ok(read && "results" in read, dir);
    assert.equal(read.results.schema, "rnnlab.results/2");
    assert.deepEqual(read.rejected, []);
  }
  assert.ok(cells >= 96 && refs > 0, `${cells} cells, ${refs} references`);
  assert.ok(bytes <= 10e6, `results/ is ${bytes} bytes`);
});
