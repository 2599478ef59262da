"""Sizes of a transformer: parameters, weight bytes, KV-cache bytes and FLOPs per token.

Parameter counts follow the Hugging Face configs (SwiGLU/GeGLU FFNs have 3 matrices; biases
and norms are ignored, under 0.1% of the weights). References: kipply, "Transformer Inference
Arithmetic" (2022); DeepSeek-V3 tech report (arXiv 2412.19437) for MLA; Epoch AI
inference-economics notebook for the MoE expert coverage 1 - (1 - k/E)^T.
"""

from __future__ import annotations

from functools import cache

from unitecon.models.perf.catalog import Architecture

FFN_MATRICES = 3  # gated FFN: gate, up, down


@cache
def attention_params(a: Architecture) -> int:
    """Attention weights per layer [parameters].

    GQA: d·(n_q·d_h) [Q] + 2·d·(n_kv·d_h) [K,V] + (n_q·d_h)·d [O].
    MLA: d·r_q + r_q·n_q·(d_nope + d_rope) [Q] + d·(r_kv + d_rope) [KV down]
         + r_kv·n_q·(d_nope + d_v) [KV up] + n_q·d_v·d [O].
    """
    d, n_q = a.hidden, a.q_heads
    if a.attention == "mla":
        qk = a.head_dim + a.qk_rope_head_dim
        q = d * a.q_lora_rank + a.q_lora_rank * n_q * qk if a.q_lora_rank else d * n_q * qk
        kv = d * (a.kv_lora_rank + a.qk_rope_head_dim)
        kv += a.kv_lora_rank * n_q * (a.head_dim + a.v_head_dim)
        return q + kv + n_q * a.v_head_dim * d
    return 2 * d * n_q * a.head_dim + 2 * d * a.kv_heads * a.head_dim


@cache
def expert_params(a: Architecture) -> int:
    """One expert's FFN [parameters] = 3·d·d_moe."""
    return FFN_MATRICES * a.hidden * a.moe_intermediate


def _moe_layers(a: Architecture) -> int:
    return a.layers - a.dense_layers if a.is_moe else 0


def _dense_ffn_params(a: Architecture) -> int:
    return (a.layers - _moe_layers(a)) * FFN_MATRICES * a.hidden * a.intermediate


@cache
def routed_expert_params(a: Architecture) -> int:
    """All routed experts of all MoE layers [parameters]."""
    return _moe_layers(a) * a.experts * expert_params(a)


@cache
def always_on_params(a: Architecture) -> int:
    """Weights every token touches, excluding the embedding table [parameters].

    = L·attention + dense FFNs + shared experts + routers + LM head (V·d).
    """
    moe = _moe_layers(a)
    shared = moe * a.shared_experts * expert_params(a) + moe * a.hidden * a.experts
    return a.layers * attention_params(a) + _dense_ffn_params(a) + shared + a.vocab * a.hidden


@cache
def total_params(a: Architecture) -> int:
    """All parameters [count]: always-on + routed experts + input embedding (if untied)."""
    embed = 0 if a.tied_embeddings else a.vocab * a.hidden
    return always_on_params(a) + routed_expert_params(a) + embed


@cache
def active_params(a: Architecture) -> int:
    """Parameters one decode token multiplies by (the LM head included) [count].

    = always-on + L_moe·k·expert; the 2·P_active of the FLOP count uses this.
    """
    return always_on_params(a) + _moe_layers(a) * a.experts_per_token * expert_params(a)


def expert_coverage(a: Architecture, tokens: float) -> float:
    """Expected fraction of routed experts a step with `tokens` tokens reads.

    1 - (1 - k/E)^T, uniform independent routing (Epoch AI notebook, `memory_reads_writes`).
    """
    if not a.is_moe or tokens <= 0:
        return 0.0
    return 1.0 - float((1.0 - a.experts_per_token / a.experts) ** tokens)


def weight_bytes(
    a: Architecture, bytes_per_weight: float, expert_bytes: float | None = None
) -> float:
    """Resident weights [B] = non-expert params × bytes + routed experts × expert bytes.

    `expert_bytes` defaults to `bytes_per_weight`; gpt-oss ships MXFP4 experts and BF16
    attention, embeddings and router (`expert_bytes` 0.53, `bytes_per_weight` 2).
    """
    experts = routed_expert_params(a)
    per_expert = bytes_per_weight if expert_bytes is None else expert_bytes
    return (total_params(a) - experts) * bytes_per_weight + experts * per_expert


def weights_touched_bytes(
    a: Architecture, bytes_per_weight: float, tokens: float, expert_bytes: float | None = None
) -> float:
    """Weights one forward step over `tokens` tokens reads from memory [B].

    = always-on·bytes + routed·(1 - (1 - k/E)^T)·expert bytes; the embedding table is a
    gather.
    """
    return always_on_params(a) * bytes_per_weight + touched_expert_bytes(
        a, bytes_per_weight if expert_bytes is None else expert_bytes, tokens
    )


def touched_expert_bytes(a: Architecture, expert_bytes: float, tokens: float) -> float:
    """Routed-expert weights a step over `tokens` tokens reads [B] = routed·coverage·bytes."""
    return routed_expert_params(a) * expert_coverage(a, tokens) * expert_bytes


def kv_bytes_per_token_layer(a: Architecture, bytes_per_value: float) -> float:
    """KV cache per token per layer [B].

    GQA: 2·n_kv·d_h·b (K and V).  MLA: (r_kv + d_rope)·b (one shared latent plus RoPE key).
    """
    if a.attention == "mla":
        return (a.kv_lora_rank + a.qk_rope_head_dim) * bytes_per_value
    return 2 * a.kv_heads * a.head_dim * bytes_per_value


def kv_bytes_per_token(a: Architecture, bytes_per_value: float) -> float:
    """KV cache per token with every layer global [B] = L × per-layer bytes."""
    return a.layers * kv_bytes_per_token_layer(a, bytes_per_value)


def attended_tokens(a: Architecture, context: float) -> float:
    """Cached tokens summed over layers for one sequence at `context` [token·layers].

    (L - L_w)·c + L_w·min(c, W): windowed layers keep only the last W tokens.
    """
    windowed = a.window_layers if a.sliding_window else 0
    capped = min(context, a.sliding_window) if windowed else context
    return (a.layers - windowed) * context + windowed * capped


def kv_bytes_per_sequence(a: Architecture, bytes_per_value: float, context: float) -> float:
    """KV cache of one sequence at `context` tokens, window caps applied [B]."""
    return attended_tokens(a, context) * kv_bytes_per_token_layer(a, bytes_per_value)


def attention_flops_per_ctx(a: Architecture) -> float:
    """Attention FLOPs per query token per attended token per layer [FLOP].

    2·n_q·(d_qk + d_v): QKᵀ and softmax·V. GQA: 4·n_q·d_h. MLA (absorbed, as DeepSeek runs
    decode): d_qk = r_kv + d_rope, d_v = r_kv.
    """
    if a.attention == "mla":
        return 2 * a.q_heads * (2 * a.kv_lora_rank + a.qk_rope_head_dim)
    return 4 * a.q_heads * a.head_dim


def decode_flops(a: Architecture, context: float) -> float:
    """FLOPs to decode one token at `context` [FLOP] = 2·P_active + attention over the cache."""
    return 2 * active_params(a) + attention_flops_per_ctx(a) * attended_tokens(a, context)


def prefill_flops_per_token(a: Architecture, length: float) -> float:
    """Mean FLOPs per prompt token for a prompt of `length` tokens [FLOP].

    2·(P_active - V·d) + attention at the mean causal context length/2 (the LM head only
    runs on the last prompt token).
    """
    matmul = 2 * (active_params(a) - a.vocab * a.hidden)
    return matmul + attention_flops_per_ctx(a) * attended_tokens(a, length / 2)
