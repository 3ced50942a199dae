/**
 * Training throughput by model size: the chapter's configuration at each
 * num_hiddens on the fused engine (with its dispatches per minibatch and
 * kernels), the blas engine and, where a Python with PyTorch and the
 * chapter's script are given, that code with one thread, one after another
 * in one run.
 *
 * @module
 */
import type { Corpus } from "../data/vocab.ts";
import { resolveConfig } from "../config/config.ts";
import { fusedShape, measureEngine } from "./measure.ts";
import { measurePytorch, TORCH_THREADS } from "./pytorch.ts";
import type { SizeRow } from "./report.ts";

/**
 * Measures each engine at each of `sizes` (num_hiddens), in that order; a
 * row that fails says why (`error`) and the others go on. `onRow` sees
 * each row as it is measured.
 *
 * @example
 * ```ts
 * const rows = await measureSizes([32, 512], corpus, 3, null, console.log);
 * ```
 */
export async function measureSizes(
  sizes: number[],
  corpus: Corpus,
  epochs: number,
  torch: { python: string; script: string; data: string } | null,
  onRow: (row: SizeRow) => void = () => {},
): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const num_hiddens of sizes) {
    for (const engine of ["fused", "blas", ...(torch ? ["pytorch"] : [])]) {
      const row: SizeRow = {
        num_hiddens,
        engine,
        tokens_per_sec: 0,
        epochs_tokens_per_sec: [],
        cold_compile_s: null,
        dispatches_per_minibatch: null,
        kernels: null,
        adapter: null,
      };
      try {
        if (engine === "pytorch") {
          const r = await measurePytorch(
            torch!.python,
            torch!.script,
            torch!.data,
            epochs,
            TORCH_THREADS[0],
            num_hiddens,
          );
          Object.assign(row, {
            tokens_per_sec: r.tokens_per_sec,
            epochs_tokens_per_sec: r.epochs_tokens_per_sec,
            cold_compile_s: r.cold_compile_s,
            adapter: `PyTorch ${r.torch}, ${r.adapter}`,
          });
        } else {
          const choice = engine === "fused"
            ? { engine: "fused", backend: "webgpu" } as const
            : { engine: "blas", backend: "cpu" } as const;
          Object.assign(
            row,
            await measureEngine(choice, corpus, epochs, num_hiddens),
          );
          if (engine === "fused") {
            Object.assign(
              row,
              await fusedShape(
                resolveConfig({ ...choice, num_hiddens }),
                corpus,
              ),
            );
          }
        }
      } catch (e) {
        row.error = e instanceof Error ? e.message : String(e);
      }
      rows.push(row);
      onRow(row);
    }
  }
  return rows;
}
