import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setBackend } from "../model/backend.ts";
import { grad_clipping } from "./clip.ts";

const globalNorm = async (ts: tf.Tensor[]) =>
  Math.sqrt(
    (await Promise.all(ts.map((t) => t.data()))).flatMap((d) => [...d]).reduce(
      (a, x) => a + x * x,
      0,
    ),
  );

Deno.test("grad_clipping: over θ the global norm becomes θ, direction kept; under θ untouched; off untouched", async () => {
  await setBackend("webgpu");
  const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])]; // global norm 5
  const over = grad_clipping(grads, 1);
  assert.ok(
    Math.abs((await over.norm.data())[0] - 5) < 1e-6,
    "pre-clip norm reported",
  );
  assert.ok(Math.abs(await globalNorm(over.grads) - 1) < 1e-6);
  assert.deepEqual([...await over.grads[0].data()].map((x) => +x.toFixed(6)), [
    0.6,
    0,
  ]);
  const under = grad_clipping(grads, 10);
  assert.deepEqual(await under.grads[1].data(), await grads[1].data());
  const off = grad_clipping(grads, "off");
  assert.equal(off.grads, grads);
  assert.ok(Math.abs((await off.norm.data())[0] - 5) < 1e-6);
});
