"""Interleaved speed comparison: ontosweep's `throughput` (and variants of it) against the
Python peer on the same images and model, run by `cargo xtask peers`.

This machine class drifts by tens of percent within minutes, so a figure from one run is
compared only with figures from the same round: every round runs each contender once, in
an order that rotates from round to round, and the claims are medians of per-round ratios
to the first contender (ontosweep with the plain flags).

Usage: interleave.py --ontosweep BIN --model DIR --images DIR [--batch N] [--limit N]
                     [--rounds N] [--arm 'THROUGHPUT FLAGS']... [--no-peer]
                     [--torch-python PYTHON]
"""
import argparse, json, os, shlex, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def processor():
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        flags = open("/proc/cpuinfo").read()
        extras = [f for f in ("amx_bf16", "avx512_bf16", "avx512_vnni", "avx512f", "avx2") if f" {f}" in flags]
        return f"{names[0]} ({len(names)} logical CPUs; {', '.join(extras) or 'no AVX2'})"
    except (OSError, IndexError):
        return "unknown processor"


def replace_flags(base, extra):
    """`base` with every flag that `extra` also sets taken out, then `extra`."""
    tokens = shlex.split(extra)
    given = {t for t in tokens if t.startswith("--")}
    out, skip = [], False
    for i, token in enumerate(base):
        if skip:
            skip = False
            continue
        if token in given:
            skip = i + 1 < len(base) and not base[i + 1].startswith("--")
            continue
        out.append(token)
    return out + tokens


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(f"error: {shlex.join(command)} failed with exit code {result.returncode}")
    lines = [l for l in result.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"error: {shlex.join(command)} printed no JSON line")
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ontosweep", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--batch", default="32")
    parser.add_argument("--limit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--arm", action="append", default=[])
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--torch-python", help="a Python with torch and transformers: adds PyTorch fp32 and bf16-autocast contenders")
    args = parser.parse_args()
    if args.rounds < 1:
        sys.exit("error: --rounds must be at least 1")

    base = ["--model", args.model, "--images", args.images, "--batch", args.batch, "--rounds", "1"]
    if args.limit:
        base += ["--limit", args.limit]
    contenders = [("ontosweep", [args.ontosweep, "throughput", *base])]
    for arm in args.arm:
        contenders.append((f"ontosweep {arm}", [args.ontosweep, "throughput", *replace_flags(base, arm)]))
    if not args.no_peer:
        peer = [sys.executable, os.path.join(HERE, "pillow_onnxruntime.py"), args.model, args.images, args.batch]
        if args.limit:
            peer.append(args.limit)
        contenders.append(("Pillow + onnxruntime (Python)", peer))
    if args.torch_python:
        for mode in ("fp32", "bf16"):
            torch = [args.torch_python, os.path.join(HERE, "torch_clip.py"), mode, args.model, args.images, args.batch]
            if args.limit:
                torch.append(args.limit)
            contenders.append((f"Pillow + PyTorch {mode}{' autocast' if mode == 'bf16' else ''} (Python)", torch))

    figures = {name: [] for name, _ in contenders}
    for round in range(args.rounds):
        shift = round % len(contenders)
        for name, command in contenders[shift:] + contenders[:shift]:
            result = run_json(command)
            figures[name].append((result["raw_session_images_per_s"], result["pipeline_images_per_s"]))
            print(f"round {round + 1}: {name}: raw {figures[name][-1][0]:.2f}, pipeline {figures[name][-1][1]:.2f} images/s", file=sys.stderr)

    baseline = figures["ontosweep"]
    print(f"\n{processor()}; {args.rounds} interleaved rounds, batch {args.batch}; medians (images/s) and medians of per-round ratios\n")
    print("| contender | raw session | pipeline | pipeline / own raw | raw / ontosweep raw | pipeline / ontosweep pipeline |")
    print("| --- | --- | --- | --- | --- | --- |")
    summary = {}
    for name, rounds in figures.items():
        raw = statistics.median(r for r, _ in rounds)
        pipeline = statistics.median(p for _, p in rounds)
        own = statistics.median(p / r for r, p in rounds)
        vs_raw = statistics.median(r / b for (r, _), (b, _) in zip(rounds, baseline))
        vs_pipeline = statistics.median(p / b for (_, p), (_, b) in zip(rounds, baseline))
        summary[name] = {"raw": raw, "pipeline": pipeline, "pipeline_over_own_raw": own,
                         "raw_over_ontosweep_raw": vs_raw, "pipeline_over_ontosweep_pipeline": vs_pipeline,
                         "rounds": rounds}
        print(f"| {name} | {raw:.2f} | {pipeline:.2f} | {own:.3f} | {vs_raw:.3f} | {vs_pipeline:.3f} |")
    print(json.dumps({"processor": processor(), "rounds": args.rounds, "contenders": summary}))


if __name__ == "__main__":
    main()
