"""Writes a tiny random-weight llama-architecture GGUF model (no weights are downloaded).

Usage: python tiny_gguf.py OUT.gguf

The model is a 2-layer llama with a 64-wide embedding and a SentencePiece-style vocabulary of the
special tokens, the 256 byte tokens and a few words, with a ChatML chat template. Its weights are
random, except that the output layer only has rows for the words, so its answers are random
sequences of those words (readable in a report) rather than random bytes. It exists so a real
llama.cpp server has something valid to load and serve quickly.
The seed is fixed, so the file is the same on every machine.
"""

import sys

import gguf
import numpy as np

N_EMBD, N_FF, N_HEAD, N_LAYER, N_CTX = 64, 128, 4, 2, 2048
WORDS = ["▁hello", "▁world", "▁the", "▁a", "▁is", "▁and", "▁aima", "▁engine", "▁ok", "."]


def vocabulary():
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        scores.append(0.0)
        types.append(6)  # byte
    for i, word in enumerate(["▁"] + WORDS):
        tokens.append(word)
        scores.append(-float(i))
        types.append(1)  # normal
    return tokens, scores, types


def main(out):
    rng = np.random.default_rng(15)
    tokens, scores, types = vocabulary()
    n_vocab = len(tokens)
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("aima tiny random llama")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)  # all F32
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_chat_template(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.05).astype(np.float32))

    # numpy shapes are the reverse of GGUF's dimension order.
    t("token_embd.weight", n_vocab, N_EMBD)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # Logits come from the output rows: large rows for the words (and end-of-text), zero for
    # the other tokens, so sampling picks words.
    output = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    words = [i for i, tok in enumerate(tokens) if tok in WORDS]
    output[words] = rng.standard_normal((len(words), N_EMBD)).astype(np.float32) * 2.0
    w.add_tensor("output.weight", output)
    for i in range(N_LAYER):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", N_EMBD, N_EMBD)
        t(f"blk.{i}.ffn_gate.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_up.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_down.weight", N_EMBD, N_FF)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_gguf.py OUT.gguf")
    main(sys.argv[1])
