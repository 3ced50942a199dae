/**
 * The BLAS engine as a group: one {@linkcode BlasRnn} per cell, trained
 * one after another (the CPU's cores already share each product), and
 * held-out text shorter than a minibatch evaluated by a model of as many
 * rows with the same weights.
 *
 * @module
 */
import type { ParamValues } from "../../model/params.ts";
import {
  type CellEpoch,
  type CellEval,
  type EngineGroup,
  type EpochStats,
  evalRows,
  type Gradients,
  type GroupSpec,
} from "../group.ts";
import { BlasRnn } from "./blas.ts";
import type { Cblas } from "./cblas.ts";

/**
 * A group of models on the CPU.
 *
 * @example
 * ```ts
 * const group = new BlasCells(openCblas()!, spec, [{ params, activation: "tanh" }]);
 * const [stats] = await group.trainEpochs([{ batches, options }]);
 * ```
 */
export class BlasCells implements EngineGroup {
  /** What the models are built for. */
  readonly spec: GroupSpec;
  readonly #blas: Cblas;
  readonly #nets: BlasRnn[];

  /** Models of `spec` from each cell's initial values and activation. */
  constructor(
    blas: Cblas,
    spec: GroupSpec,
    cells: { params: ParamValues; activation: GroupSpec["activation"] }[],
  ) {
    this.spec = spec;
    this.#blas = blas;
    this.#nets = cells.map((c) =>
      new BlasRnn(blas, { ...spec, activation: c.activation }, c.params)
    );
  }

  /** Cells in the group. */
  get cells(): number {
    return this.#nets.length;
  }

  async trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]> {
    const out: (EpochStats | null)[] = [];
    for (const [i, e] of epochs.entries()) {
      out.push(e ? await this.#nets[i].trainEpoch(e.batches, e.options) : null);
    }
    return out;
  }

  async evaluate(cells: CellEval[]): Promise<number[]> {
    const out: number[] = [];
    for (const [i, e] of cells.entries()) {
      if (!e || e.batches.length === 0) {
        out.push(NaN);
        continue;
      }
      const net = this.#nets[i], rows = evalRows(e);
      if (rows === this.spec.batch_size) {
        out.push(await net.evaluate(e.batches, e.carry));
        continue;
      }
      // A text too short for batch_size rows: a model of as many rows.
      const short = new BlasRnn(
        this.#blas,
        { ...net.spec, batch_size: rows, max_steps: net.spec.num_steps },
        await net.values(),
      );
      out.push(await short.evaluate(e.batches, e.carry));
    }
    return out;
  }

  gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    return this.#nets[0].gradients(X, Y, H0);
  }

  values(cell: number): Promise<ParamValues> {
    return this.#nets[cell].values();
  }

  destroy(): void {}
}
