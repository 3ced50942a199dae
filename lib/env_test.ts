import assert from "node:assert/strict";
import { collectEnv, denoProgram } from "./env.ts";

Deno.test("git_dirty: a changed source file counts, the runner's own results/ does not", async () => {
  const repo = await Deno.makeTempDir({ prefix: "rnnlab-env-test-" });
  const cwd = Deno.cwd();
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: repo, stdout: "null", stderr: "null" })
      .output();
  try {
    await git("init", "-q");
    await Deno.mkdir(`${repo}/results`);
    await Deno.writeTextFile(`${repo}/mod.ts`, "export {};\n");
    await Deno.writeTextFile(`${repo}/results/README.md`, "# Results\n");
    await git("add", "-A");
    await git(
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@t",
      "commit",
      "-qm",
      "x",
    );
    Deno.chdir(repo);
    assert.equal((await collectEnv()).git_dirty, false);
    await Deno.writeTextFile(`${repo}/results/README.md`, "# Results, again\n");
    assert.equal((await collectEnv()).git_dirty, false, "results/ only");
    await Deno.writeTextFile(`${repo}/mod.ts`, "export const x = 1;\n");
    const env = await collectEnv();
    assert.equal(env.git_dirty, true);
    assert.match(env.git_commit ?? "", /^[0-9a-f]{40}$/);
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("git_commit is recorded under --allow-run=git with LD_LIBRARY_PATH set (as on GPU machines)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnnlab-env-test-" });
  try {
    const script = `${dir}/commit.ts`;
    await Deno.writeTextFile(
      script,
      `import { collectEnv } from ${
        JSON.stringify(new URL("./env.ts", import.meta.url).href)
      };\nconsole.log((await collectEnv()).git_commit);\n`,
    );
    // Set by a shell: a scoped --allow-run spawns nothing with LD_* set.
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'LD_LIBRARY_PATH=/nonexistent exec "$0" run --no-config --allow-run=git --allow-env "$1"',
        denoProgram(),
        script,
      ],
      stderr: "inherit",
    }).output();
    assert.ok(out.success);
    assert.match(new TextDecoder().decode(out.stdout).trim(), /^[0-9a-f]{40}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bundle's commit (RNNLAB_GIT_COMMIT, RNNLAB_GIT_DIRTY) is recorded instead of the checkout's", async () => {
  const commit = "53255e8f64bcdb04b1b3ed2995635d18a817f91c";
  try {
    Deno.env.set("RNNLAB_GIT_COMMIT", commit);
    Deno.env.set("RNNLAB_GIT_DIRTY", "false");
    let env = await collectEnv();
    assert.equal(env.git_commit, commit);
    assert.equal(env.git_dirty, false);
    Deno.env.set("RNNLAB_GIT_DIRTY", "true");
    assert.equal((await collectEnv()).git_dirty, true);
    // Not a commit id: ignored, the checkout's git answers.
    Deno.env.set("RNNLAB_GIT_COMMIT", "main");
    env = await collectEnv();
    const head = await new Deno.Command("git", {
      args: ["rev-parse", "HEAD"],
      stdout: "piped",
    }).output();
    assert.equal(env.git_commit, new TextDecoder().decode(head.stdout).trim());
    assert.match(env.git_commit ?? "", /^[0-9a-f]{40}$/);
  } finally {
    Deno.env.delete("RNNLAB_GIT_COMMIT");
    Deno.env.delete("RNNLAB_GIT_DIRTY");
  }
});
