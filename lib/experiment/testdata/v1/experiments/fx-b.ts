export default {
  name: "fx-b",
  description: "Fixture: a grid whose one cell is fx-a's, copied.",
  exercises: ["4. No clipping?"],
  base: { num_hiddens: 8, num_steps: 5, batch_size: 4, num_epochs: 4, max_tokens: 300, val_tokens: 60, eval_every: 2, num_preds: 10, engine: "reference", backend: "cpu" },
  grid: { lr: [1, 2] },
  seeds: [0],
  report: { alphas: [] },
};
