#!/usr/bin/env python3
"""PyTorch peer for docs/performance.md: times the ref-vq and ref-gen configurations on the CPU.

Prints one JSON object on stdout (the six keys of docs/performance.md, plus torch_version and
threads); progress goes to stderr. Every figure is the median of --reps timed repetitions after
--warmup untimed ones, on seeded random data of the right shapes, float32.

    /usr/bin/python3 peer_torch.py --threads 2          # full run
    /usr/bin/python3 peer_torch.py --threads 2 --quick  # smoke run
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="intra-op threads (default 2)")
    p.add_argument("--reps", type=int, default=10, help="timed repetitions (default 10)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up repetitions (default 3)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 reps, 1 warm-up")
    a = p.parse_args()
    if a.quick:
        a.reps, a.warmup = 2, 1
    return a


ARGS = parse_args()
# Debian's torch runs convolutions in oneDNN on OpenMP threads but matmuls in OpenBLAS (pthreads
# build), whose pool is sized from the environment when the library loads and is not touched by
# torch.set_num_threads; so the environment is set before torch is imported. The two pools busy-wait
# by default, and on 2 cores each one's spinning starves the other (measured 2-4x slower, and
# erratic): let idle OpenMP threads sleep and cut OpenBLAS's spin to 2^4 cycles. Both knobs can be
# overridden from the environment.
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import torch  # noqa: E402  (after the environment is set)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

K, D = 512, 16  # codebook size and code dimension (ref-vq); K is also ref-gen's vocabulary
N_CLASS = 10  # class tokens 0..9, token 10 is "no class" (classifier-free guidance)
GRID = 49  # 7 x 7 image tokens


def log(*msg):
    print(*msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ref-vq: VQ-VAE, 28x28 -> 7x7x16
class ResBlock(nn.Module):
    """x + conv1x1(ReLU(conv3x3(ReLU(x))))."""

    def __init__(self, c=128, h=64):
        super().__init__()
        self.conv1 = nn.Conv2d(c, h, 3, padding=1)
        self.conv2 = nn.Conv2d(h, c, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class VQVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, 1, 1), ResBlock(), ResBlock(), nn.ReLU(),
            nn.Conv2d(128, D, 1))
        self.codebook = nn.Parameter(torch.empty(K, D).uniform_(-1 / K, 1 / K))
        self.decoder = nn.Sequential(
            nn.Conv2d(D, 128, 3, 1, 1), ResBlock(), ResBlock(), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1))

    def nearest(self, z):
        """B x D x 7 x 7 -> B x 7 x 7 nearest codes by squared L2 (||z||^2 cannot move argmin)."""
        b, _, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, D)
        e = self.codebook
        dist = torch.addmm((e * e).sum(1), flat, e.t(), alpha=-2.0)  # ||e||^2 - 2 z.e
        return dist.argmin(1).view(b, h, w)

    def lookup(self, codes):
        return F.embedding(codes, self.codebook).permute(0, 3, 1, 2)  # B x D x 7 x 7

    def encode(self, x):
        return self.nearest(self.encoder(x))

    def decode(self, codes):
        return self.decoder(self.lookup(codes))

    def loss(self, x):
        z = self.encoder(x)
        e = self.lookup(self.nearest(z))
        zq = z + (e - z).detach()  # straight-through gradient to the encoder
        recon = self.decoder(zq)
        return (F.mse_loss(recon, x) + F.mse_loss(e, z.detach())
                + 0.25 * F.mse_loss(z, e.detach()))  # commitment beta on the encoder term


# ---------------------------------------------------------------- ref-gen: class-conditional GPT
class KVCache:
    """Minimal KV cache: per-layer K and V buffers (B x H x T x hd); each call appends positions."""

    def __init__(self, n_layer, b, n_head, t_max, hd):
        self.k = [torch.empty(b, n_head, t_max, hd) for _ in range(n_layer)]
        self.v = [torch.empty(b, n_head, t_max, hd) for _ in range(n_layer)]

    def append(self, layer, pos, k, v):
        end = pos + k.shape[2]
        self.k[layer][:, :, pos:end] = k
        self.v[layer][:, :, pos:end] = v
        return self.k[layer][:, :, :end], self.v[layer][:, :, :end]


class Block(nn.Module):
    """Pre-LayerNorm transformer block: causal self-attention, then a GELU MLP."""

    def __init__(self, d, n_head, mlp, t_max):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Linear(mlp, d))
        self.register_buffer("causal", torch.ones(t_max, t_max).tril().bool(), persistent=False)

    def attn(self, x, layer, pos, cache):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_head, d // self.n_head).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = cache.append(layer, pos, k, v)  # attend to every cached position
        scale = 1.0 / math.sqrt(d // self.n_head)
        if t == 1:  # one new query sees every cached position, so no mask. torch 1.13's CPU bmm
            # makes one BLAS call per (batch, head) matrix; broadcast-and-sum is ~4x faster here.
            att = ((q * k).sum(-1) * scale).softmax(-1)  # B x H x T
            y = (att.unsqueeze(-1) * v).sum(2, keepdim=True)
        else:
            att = (q @ k.transpose(-2, -1)) * scale
            att = att.masked_fill(~self.causal[pos:pos + t, :pos + t], float("-inf"))
            y = att.softmax(-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x, layer, pos=0, cache=None):
        x = x + self.attn(self.ln1(x), layer, pos, cache)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Inputs: [class token, image tokens 1..48]; outputs: logits for image tokens 1..49."""

    def __init__(self, d=256, n_layer=6, n_head=8, mlp=1024):
        super().__init__()
        self.d, self.n_layer, self.n_head = d, n_layer, n_head
        self.cls_emb = nn.Embedding(N_CLASS + 1, d)
        self.tok_emb = nn.Embedding(K, d)
        self.pos_emb = nn.Parameter(torch.randn(GRID, d) * 0.02)  # learned, one per input position
        self.blocks = nn.ModuleList(Block(d, n_head, mlp, GRID) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, K)  # untied from tok_emb

    def forward(self, x, pos=0, cache=None):
        """x: B x T x d input embeddings for positions pos..pos+T-1 -> B x T x K logits."""
        x = x + self.pos_emb[pos:pos + x.shape[1]]
        for i, blk in enumerate(self.blocks):
            x = blk(x, i, pos, cache)
        return self.head(self.ln_f(x))

    def logits(self, labels, tokens):
        """Teacher-forced logits for all 49 image tokens (tokens: B x 49)."""
        x = torch.cat([self.cls_emb(labels)[:, None], self.tok_emb(tokens[:, :-1])], 1)
        return self(x)

    @torch.inference_mode()
    def sample(self, labels, temperature=1.0):
        """49 steps, one position each, with a KV cache; multinomial draw at each step."""
        b = labels.shape[0]
        cache = KVCache(self.n_layer, b, self.n_head, GRID, self.d // self.n_head)
        x, out = self.cls_emb(labels)[:, None], []
        for pos in range(GRID):
            probs = (self(x, pos, cache)[:, -1] / temperature).softmax(-1)
            nxt = torch.multinomial(probs, 1)  # B x 1
            out.append(nxt)
            x = self.tok_emb(nxt)
        return torch.cat(out, 1)


# ---------------------------------------------------------------- DIST2Loss (fused soft target)
def dist2_tables(alpha=0.1, target_perplexity=8.0, seed=1):
    """From a random l2-normalised codebook, P[x] = softmax(-||e_v - e_x||^2 / tau) with tau set
    by bisection on log tau so that the mean perplexity exp(H(P[x])) is target_perplexity.
    Returns (T, c, tau): T[x] = onehot(x) + alpha * P[x], c[x] = alpha * sum_v P log P."""
    g = torch.Generator().manual_seed(seed)
    e = F.normalize(torch.randn(K, D, generator=g), dim=1)
    d2 = torch.cdist(e, e).square()
    lo, hi = math.log(1e-4), math.log(1e2)
    for _ in range(40):  # perplexity increases with tau
        tau = math.exp((lo + hi) / 2)
        logp = (-d2 / tau).log_softmax(1)
        ppl = (-(logp.exp() * logp).sum(1)).exp().mean().item()
        lo, hi = (math.log(tau), hi) if ppl < target_perplexity else (lo, math.log(tau))
    P = logp.exp()
    T = torch.eye(K) + alpha * P
    c = alpha * (P * logp).sum(1)
    log(f"dist2: tau={tau:.5f} (squared L2, l2-normalised codebook), mean perplexity={ppl:.3f}")
    return T, c, tau


def dist2_loss(logits, y, T, c):
    """CE(logits, y) + alpha * KL(P[y] || softmax(logits)), fused: since
    KL(p||q) = sum p log p - sum p log q, the loss is -sum_v T[y]_v log q_v + c[y]:
    one log-softmax and one dot product per row, the cost of a CE."""
    logq = logits.log_softmax(-1)
    return (c[y] - (T[y] * logq).sum(-1)).mean()


# ---------------------------------------------------------------- timing
def median_seconds(fn, name):
    for _ in range(ARGS.warmup):
        fn()
    times = []
    for _ in range(ARGS.reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    log(f"{name}: median {med * 1e3:.2f} ms "
        f"(min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f}, n={len(times)})")
    return med


def train_step(opt, loss_fn):
    """One optimiser step: forward and loss, backward, update."""
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
    return step


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                   if k.startswith(("OMP_", "OPENBLAS_")))
    log(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"reps {ARGS.reps}, warmup {ARGS.warmup}; {env}")
    res = {}

    # ref-vq. foreach=True is the multi-tensor optimiser update: on CPU, torch 1.13's default
    # per-tensor loop costs ~5x more (80 ms vs 15 ms per AdamW step for ref-gen).
    vq = VQVAE()
    x64 = torch.rand(64, 1, 28, 28) * 2 - 1  # pixels in [-1, 1]
    opt = torch.optim.Adam(vq.parameters(), lr=2e-4, foreach=True)
    step = train_step(opt, lambda: vq.loss(x64))
    res["vq_train_step_ms"] = 1e3 * median_seconds(step, "vq_train_step")

    x256 = torch.rand(256, 1, 28, 28) * 2 - 1
    codes256 = torch.randint(0, K, (256, 7, 7))
    with torch.inference_mode():
        res["vq_encode_img_per_s"] = 256 / median_seconds(lambda: vq.encode(x256), "vq_encode")
        res["vq_decode_img_per_s"] = 256 / median_seconds(lambda: vq.decode(codes256), "vq_decode")

    # ref-gen
    tokens = torch.randint(0, K, (64, GRID))
    labels = torch.randint(0, N_CLASS + 1, (64,))  # includes the "no class" token
    y = tokens.reshape(-1)
    T, c, _ = dist2_tables()
    losses = {
        "ce": lambda logits: F.cross_entropy(logits, y),
        "dist2": lambda logits: dist2_loss(logits, y, T, c),
    }
    for name, loss_fn in losses.items():  # a fresh, identically seeded model for each loss
        torch.manual_seed(1)
        gpt = GPT()
        opt = torch.optim.AdamW(gpt.parameters(), lr=3e-4, weight_decay=0.05, foreach=True)
        step = train_step(opt, lambda: loss_fn(gpt.logits(labels, tokens).reshape(-1, K)))
        res[f"gen_train_step_ms_{name}"] = 1e3 * median_seconds(step, f"gen_train_step_{name}")

    gpt.eval()
    cls = torch.randint(0, N_CLASS, (64,))
    res["gen_sample_img_per_s"] = 64 / median_seconds(lambda: gpt.sample(cls), "gen_sample")

    out = {k: round(v, 3) for k, v in res.items()}
    out.update(torch_version=torch.__version__, threads=torch.get_num_threads())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
