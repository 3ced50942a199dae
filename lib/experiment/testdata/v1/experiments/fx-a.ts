export default {
  name: "fx-a",
  description: "Fixture: clipping against none, as rnnlab.cell/1 stored it.",
  exercises: ["4. No clipping?"],
  base: { num_hiddens: 8, num_steps: 5, batch_size: 4, num_epochs: 4, max_tokens: 300, val_tokens: 60, eval_every: 2, num_preds: 10, engine: "reference", backend: "cpu" },
  grid: { clip: [1, "off"], lr: [1, 300] },
  seeds: [0],
};
