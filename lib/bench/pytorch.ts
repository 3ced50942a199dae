/**
 * The chapter's PyTorch code (`pytorch/rnn_scratch.py`) measured like an
 * engine, in the same run, so that every engine's tokens/s has a ratio to
 * the book's code on the same machine at the same moment.
 *
 * @module
 */
import { median, type Throughput } from "./measure.ts";

/** How PyTorch's threads are set for one measurement. */
export interface TorchThreads {
  /** `torch.set_num_threads`. */
  torch: number;
  /** Its BLAS's threads (OPENBLAS_NUM_THREADS, MKL_NUM_THREADS); null: the library's default (all cores). */
  blas: number | null;
}

/** The PyTorch threads `deno task bench --pytorch` measures. */
export const TORCH_THREADS: TorchThreads[] = [
  { torch: 1, blas: 1 },
  { torch: 2, blas: 2 },
  // PyTorch's fastest here: one thread of its own, its BLAS on every core.
  { torch: 1, blas: null },
];

/** What `pytorch/rnn_scratch.py` prints. */
interface TorchRun {
  torch: string;
  threads: number;
  blas: string;
  epochs: {
    ppl: number;
    tokens_per_sec: number;
    tokens: number;
    seconds: number;
  }[];
}

/**
 * Runs the chapter's PyTorch code (`script`) with `python` on the text at
 * `data` for 1 + `epochs` epochs and measures it like an engine. Throws
 * with the reason when Python or PyTorch is missing or the script fails.
 */
export async function measurePytorch(
  python: string,
  script: string,
  data: string,
  epochs: number,
  threads: TorchThreads,
  num_hiddens = 512,
): Promise<Throughput & { torch: string }> {
  // OpenBLAS falls back to OMP_NUM_THREADS: name its threads too.
  const blas = String(threads.blas ?? navigator.hardwareConcurrency);
  const env: Record<string, string> = {
    OMP_NUM_THREADS: String(threads.torch),
    OPENBLAS_NUM_THREADS: blas,
    MKL_NUM_THREADS: blas,
  };
  let out;
  try {
    out = await new Deno.Command(python, {
      args: [
        script,
        "--data",
        data,
        "--threads",
        String(threads.torch),
        "--epochs",
        String(epochs),
        "--num_hiddens",
        String(num_hiddens),
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new Error(`cannot run ${python}: ${(e as Error).message}`);
  }
  const text = new TextDecoder();
  if (!out.success) {
    const err = text.decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(
      /No module named 'torch'/.test(err)
        ? `${python} has no PyTorch (Debian: apt-get install python3-torch)`
        : `${script} failed: ${err}`,
    );
  }
  const run = JSON.parse(text.decode(out.stdout)) as TorchRun;
  const [warmup, ...measured] = run.epochs;
  const rates = measured.map((e) => e.tokens_per_sec);
  const tps = median(rates);
  return {
    torch: run.torch,
    tokens_per_sec: tps,
    epochs_tokens_per_sec: rates,
    cold_compile_s: Math.max(0, warmup.seconds - warmup.tokens / tps),
    adapter: `${run.blas}; torch ${threads.torch}, BLAS ${blas} thread${
      blas === "1" ? "" : "s"
    }`,
  };
}
