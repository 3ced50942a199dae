/**
 * d2l's `grad_clipping`: rescale all gradients together when their global L2
 * norm exceeds θ, g ← min(1, θ/‖g‖)·g, so the update keeps its direction.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Scalar, Tensor } from "../model/tensors.ts";

/**
 * Clips `grads` to global norm `theta` ("off" leaves them alone) and returns
 * them with the norm measured before clipping. The decision stays on the
 * device (no read-back), so it costs no synchronisation.
 *
 * @example
 * ```ts
 * const { grads, norm } = grad_clipping([tf.tensor([3, 4])], 1);
 * // norm = 5; grads[0] = [0.6, 0.8]
 * ```
 */
export function grad_clipping(
  grads: Tensor[],
  theta: number | "off",
): { grads: Tensor[]; norm: Scalar } {
  const norm: Scalar = tf.sqrt(
    tf.addN(grads.map((g) => tf.sum(tf.square(g)))),
  );
  if (theta === "off") return { grads, norm };
  const scale = tf.minimum(1, tf.div(theta, norm));
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}
