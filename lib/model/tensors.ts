/**
 * The tfjs tensor types the model's functions take and return, named here
 * so that the API documents them: the same types as tfjs's.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** A tfjs tensor of any rank. */
export type Tensor = tf.Tensor;
/** A rank-0 tfjs tensor: a loss, a norm. */
export type Scalar = tf.Scalar;
/** A rank-1 tfjs tensor: targets, a bias. */
export type Tensor1D = tf.Tensor1D;
/** A rank-2 tfjs tensor, rows × columns: tokens, a state, logits. */
export type Tensor2D = tf.Tensor2D;
/** A rank-3 tfjs tensor: one-hot inputs, steps × batch × vocabulary. */
export type Tensor3D = tf.Tensor3D;
/** A trainable tfjs variable: a parameter. */
export type Variable = tf.Variable;
