import assert from "node:assert/strict";
import { collectEnv } from "./env.ts";

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
