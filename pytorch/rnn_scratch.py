"""The chapter's PyTorch code (d2l, "Implementation of RNNs from Scratch"),
standalone, timed as `deno task bench --pytorch` times rnnlab's engines.

Everything that trains is the book's code: one-hot inputs, `get_params`,
`init_rnn_state`, `rnn`, `RNNModelScratch`, `grad_clipping`, `sgd` and
`train_epoch_ch8` with sequential partitioning. Only d2l's helpers are
inlined (data loading, the timer), so that the script needs nothing but
PyTorch. It prints one JSON object: each epoch's perplexity, tokens and seconds.

    python3 pytorch/rnn_scratch.py --data ../shared/data/timemachine.txt \
        --threads 1 --epochs 4
"""
import argparse
import collections
import json
import math
import random
import re
import time

import torch
import torch.nn.functional as F


def read_time_machine(path):
    with open(path) as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


class Vocab:
    def __init__(self, tokens):
        counter = collections.Counter(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + [t for t, _ in self.token_freqs]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, token):
        return self.token_to_idx.get(token, 0)


def load_corpus_time_machine(path, max_tokens=10000):
    tokens = [c for line in read_time_machine(path) for c in line]
    vocab = Vocab(tokens)
    corpus = [vocab[t] for t in tokens]
    return corpus[:max_tokens], vocab


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset : offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1 : offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i : i + num_steps], Ys[:, i : i + num_steps]


def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


def grad_clipping(net, theta):
    params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad**2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch_ch8(net, train_iter, loss, updater, device):
    state, start = None, time.perf_counter()
    total_loss, total_tokens = 0.0, 0
    for X, Y in train_iter:
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            for s in state:
                s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        l.backward()
        grad_clipping(net, 1)
        updater(batch_size=1)
        total_loss += float(l) * y.numel()
        total_tokens += y.numel()
    seconds = time.perf_counter() - start
    return math.exp(total_loss / total_tokens), total_tokens, seconds


def loaded_blas():
    """The BLAS library this process loaded (Linux), else PyTorch's build setting."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line[line.index("/"):].strip() for line in f if "/" in line}
        for path in sorted(paths):
            if re.search(r"openblas|mkl_rt|libblis|libblas", path.split("/")[-1]):
                return "/".join(path.split("/")[-2:])
    except OSError:
        pass
    return torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=4, help="measured epochs, after one warm-up")
    parser.add_argument("--num_hiddens", type=int, default=512)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--num_steps", type=int, default=35)
    parser.add_argument("--lr", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    device = torch.device("cpu")
    corpus, vocab = load_corpus_time_machine(args.data)
    net = RNNModelScratch(len(vocab), args.num_hiddens, device, get_params, init_rnn_state, rnn)
    loss = torch.nn.CrossEntropyLoss()
    updater = lambda batch_size: sgd(net.params, args.lr, batch_size)
    epochs = []
    for _ in range(1 + args.epochs):
        train_iter = seq_data_iter_sequential(corpus, args.batch_size, args.num_steps)
        ppl, tokens, seconds = train_epoch_ch8(net, train_iter, loss, updater, device)
        epochs.append({"ppl": ppl, "tokens_per_sec": tokens / seconds, "tokens": tokens, "seconds": seconds})
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": loaded_blas(),
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
