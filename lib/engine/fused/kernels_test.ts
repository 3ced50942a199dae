import assert from "node:assert/strict";
import {
  kernelsFor,
  type KernelShape,
  texturedStates,
  texturedWeights,
} from "./kernels.ts";
import { TILES } from "./tiles.ts";

/** The chapter's shape at `Hp` hidden units (padded), over `L` steps. */
const shape = (Hp: number, L = 35): KernelShape => ({
  B: 32,
  T: 35,
  L,
  Hp,
  Vp: 32,
  Ep: 0,
  V: 28,
  n4: 0,
  W_hh: 0,
  W_hq: 0,
  oneHot: true,
  uniformA: false,
  uniformD: false,
});

Deno.test("textures: on CPU tiles the weights and the states are read from textures where each fits 8,192 rows of 64 texels; on GPU tiles never", () => {
  assert.equal(texturedWeights(512, TILES.cpu), true);
  assert.equal(texturedWeights(1440, TILES.cpu), true); // 8,100 rows
  assert.equal(texturedWeights(1472, TILES.cpu), false); // 8,464
  assert.equal(texturedWeights(128, TILES.gpu), false);
  // The states of every step: (L + 1) · B · Hp floats a cell.
  assert.equal(texturedStates(shape(512), TILES.cpu), true); // 2,304 rows
  assert.equal(texturedStates(shape(512, 127), TILES.cpu), true); // 8,192
  assert.equal(texturedStates(shape(512, 128), TILES.cpu), false); // 8,256
  assert.equal(texturedStates(shape(128), TILES.gpu), false);
  // A vocabulary wider than the states: the dlogits decide.
  assert.equal(
    texturedStates({ ...shape(32), Vp: 8192 }, TILES.cpu),
    false,
  );
  // The kernels are compiled to match.
  const W_TEXTURE = /^const W_TEXTURE = (true|false);$/m;
  const A_TEXTURE = /^const A_TEXTURE = (true|false);$/m;
  const cpu = kernelsFor(shape(128), TILES.cpu);
  assert.equal(W_TEXTURE.exec(cpu.forwardLoop.code)?.[1], "true");
  assert.equal(W_TEXTURE.exec(cpu.backward.code)?.[1], "true");
  assert.equal(A_TEXTURE.exec(cpu.dW_hh.code)?.[1], "true");
  assert.equal(A_TEXTURE.exec(cpu.logits.code)?.[1], "true");
  assert.equal(W_TEXTURE.exec(cpu.logits.code)?.[1], "true");
  assert.match(cpu.scatter.code, /^const D_TEXTURE = true;$/m);
  const embedded = kernelsFor({ ...shape(128), oneHot: false }, TILES.cpu);
  assert.match(embedded.scatter.code, /^const D_TEXTURE = false;$/m);
  assert.equal(A_TEXTURE.exec(cpu.P.code)?.[1], "false");
  const long = kernelsFor(shape(512, 128), TILES.cpu);
  assert.equal(W_TEXTURE.exec(long.forward.code)?.[1], "true");
  assert.equal(A_TEXTURE.exec(long.dW_hh.code)?.[1], "false");
  const gpu = kernelsFor(shape(128), TILES.gpu);
  assert.equal(W_TEXTURE.exec(gpu.forwardLoop.code)?.[1], "false");
  assert.equal(A_TEXTURE.exec(gpu.dW_hh.code)?.[1], "false");
});
