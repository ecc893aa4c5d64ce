"""float32 vs bfloat16 side by side on this machine: matmul peak, LoRA (and full) training steps, generation.

Run: nice .venv/bin/python benchmarks/compute_dtype.py [--model smollm2] [--seq 256] [--steps 3] [--full]

Every measurement runs both dtypes in this process, one after the other, and prints the bf16/fp32 ratio.
bfloat16 training is what raft-trl and raft-accelerate do with it: LoRA over a bf16 frozen base with a float32
adapter and optimizer state under autocast; full fine-tuning under autocast with float32 master weights.
Model FLOPs: full fine-tuning 6 x params x tokens; LoRA 4 x params x tokens (forward 2, backward through the
frozen weights 2, no weight gradients for them; the adapter's own FLOPs are under 1% and not counted).
MFU is against the same run's measured matmul peak of that dtype. Where bf16 is emulated (no AMX-BF16 /
AVX512-BF16, no CUDA) only the matmuls run unless --emulated. A measurement that runs past --budget
seconds stops early and reports the rate of the steps it finished. The load average is printed: time on an
idle machine (other processes make OpenMP threads spin-wait and slow everything several times).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch
from raft_transformers import choose_dtype, configure_threads, cpu_bf16_flag, load_model, resolve_model

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(step: Callable[[], object], repeats: int, budget: float) -> tuple[float, int]:
    """Median seconds of ``step`` over ``repeats`` runs after one warm-up (fewer when over ``budget``)."""
    started = time.perf_counter()
    step()
    times: list[float] = []
    while len(times) < repeats and (not times or time.perf_counter() - started < budget):
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return sorted(times)[len(times) // 2], len(times)


def matmul_peak(size: int, budget: float) -> dict[str, float]:
    """GFLOP/s of a ``size`` x ``size`` matmul per dtype."""
    peaks = {}
    for name, dtype in DTYPES.items():
        a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
        seconds, n = timed(lambda a=a, b=b: a @ b, 10, budget)
        peaks[name] = 2 * size**3 / seconds / 1e9
        print(f"matmul {size}x{size} {name:9} {peaks[name]:8.1f} GFLOP/s  ({n} runs)", flush=True)
    return peaks


def train_rate(path: str, dtype: str, method: str, seq: int, steps: int, budget: float) -> tuple[float, int, int]:
    """``(tokens/s, params, steps timed)`` of training steps on one random ``seq``-token sequence."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    weights = "float32" if dtype == "float32" or method == "full" else dtype
    model, _ = load_model(path, dtype=weights)
    params = sum(p.numel() for p in model.parameters())
    if method == "lora":
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    ids = torch.randint(0, model.config.vocab_size, (1, seq))

    def step() -> None:
        with torch.autocast("cpu", dtype=DTYPES[dtype], enabled=dtype != "float32"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    seconds, n = timed(step, steps, budget)
    return seq / seconds, params, n


def generation_rate(path: str, dtype: str, batch: int, prompt: int, new: int, budget: float) -> tuple[float, int]:
    """New tokens/s of greedy generation, ``batch`` prompts of ``prompt`` tokens, ``new`` tokens each."""
    model, _ = load_model(path, dtype=dtype)
    ids = torch.randint(100, 1000, (batch, prompt))

    def step() -> None:
        with torch.inference_mode():
            model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=new,
                min_new_tokens=new,
                do_sample=False,
                pad_token_id=0,
            )

    seconds, n = timed(step, 2, budget)
    return batch * new / seconds, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--seq", type=int, default=256, help="Training sequence length (tokens).")
    parser.add_argument("--steps", type=int, default=3, help="Timed training steps per mode (after one warm-up).")
    parser.add_argument("--full", action="store_true", help="Also time full fine-tuning.")
    parser.add_argument("--prompt", type=int, default=400, help="Generation prompt length (tokens).")
    parser.add_argument("--new", type=int, default=32, help="New tokens per generated sequence.")
    parser.add_argument("--matmul", type=int, default=1024)
    parser.add_argument("--budget", type=float, default=120.0, help="Seconds one measurement may take.")
    parser.add_argument(
        "--emulated", action="store_true", help="Time bf16 model runs even where bf16 is emulated (very slow)."
    )
    args = parser.parse_args()

    threads = configure_threads()
    print(
        f"torch {torch.__version__}, {threads} threads, capability {torch.backends.cpu.get_cpu_capability()}, "
        f"bf16 flag {cpu_bf16_flag()}; auto -> {choose_dtype('auto')}"
    )
    policy = os.environ.get("OMP_WAIT_POLICY", "default")
    print(f"load average at start: {load_average()}, OMP_WAIT_POLICY {policy}", flush=True)
    peaks = matmul_peak(args.matmul, args.budget)
    print(f"matmul bf16/fp32 {peaks['bfloat16'] / peaks['float32']:.2f}x", flush=True)
    if choose_dtype("auto")[0] != "bfloat16" and not args.emulated:
        print("bfloat16 is emulated on this machine (see the matmul ratio): model runs skipped, --emulated runs them")
        return
    path = resolve_model(args.model)
    for method in ("lora", "full") if args.full else ("lora",):
        rates = {}
        for dtype in DTYPES:
            rate, params, n = train_rate(path, dtype, method, args.seq, args.steps, args.budget)
            flops = (6 if method == "full" else 4) * params * rate
            rates[dtype] = rate
            print(
                f"train {method} {dtype:9} seq {args.seq}: {rate:7.1f} tokens/s  MFU {flops / 1e9 / peaks[dtype]:.1%}"
                f"  ({n} steps)",
                flush=True,
            )
        print(f"train {method} bf16/fp32 {rates['bfloat16'] / rates['float32']:.2f}x", flush=True)
    for batch in (8, 1):
        rates = {}
        for dtype in DTYPES:
            rates[dtype], n = generation_rate(path, dtype, batch, args.prompt, args.new, args.budget)
            print(f"generate batch {batch} {dtype:9}: {rates[dtype]:7.1f} new tokens/s  ({n} runs)", flush=True)
        print(f"generate batch {batch} bf16/fp32 {rates['bfloat16'] / rates['float32']:.2f}x", flush=True)
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
