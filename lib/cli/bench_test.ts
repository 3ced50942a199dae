import assert from "node:assert/strict";
import { runTask } from "./cli_testing.ts";

Deno.test("deno task bench: bad flags are one error with exit status 2, before any measuring", async () => {
  for (
    const [args, message] of [
      [
        ["--backends", "webgpu,tpu"],
        /^error: --backends: unknown backend "tpu"/,
      ],
      [
        ["--epochs", "0"],
        /^error: --epochs: expected a whole number ≥ 1, got "0"/,
      ],
    ] as const
  ) {
    const r = await runTask("bench", [...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});
