#!/usr/bin/env python3
"""The e2e benchmark's LiteLLM side (benches/e2e.rs runs it, with the virtualenv's python).

For each request of bench/requests/ it calls litellm.completion(model="openai/gpt-4o") against the stand-in
provider at --base, and, for the provider's own time, POSTs the same body to the same stand-in with httpx
(the HTTP client LiteLLM's OpenAI path uses), keep-alive, the same way. It prints `ready` once LiteLLM is
imported, then one JSON line of timings (nanoseconds) on stdout.
"""
import argparse
import json
import os
import resource
import sys
import time

# No network beyond loopback: LiteLLM's price map is the one shipped in its package.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

import httpx  # noqa: E402
import litellm  # noqa: E402

print("ready", flush=True)


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the stand-in, http://127.0.0.1:PORT")
    ap.add_argument("--requests", required=True, help="bench/requests")
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--warm-up", type=int, default=50)
    args = ap.parse_args()
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    out = {"litellm_version": getattr(litellm, "version", None) or _version(), "sizes": {}}
    direct = httpx.Client(timeout=30)
    for size in args.sizes.split(","):
        # Wait for the driver to load this size's answer into the stand-in.
        sys.stdout.write(f"size {size}\n")
        sys.stdout.flush()
        sys.stdin.readline()
        with open(os.path.join(args.requests, f"{size}.json")) as f:
            req = json.load(f)
        kwargs = dict(model="openai/gpt-4o", api_base=args.base + "/v1", api_key="sk-bench",
                      messages=req["messages"], max_tokens=req.get("max_tokens"))
        if "tools" in req:
            kwargs["tools"] = req["tools"]
        if "temperature" in req:
            kwargs["temperature"] = req["temperature"]
        t0 = time.perf_counter_ns()
        first = litellm.completion(**kwargs)
        first_ns = time.perf_counter_ns() - t0
        assert first.choices[0].finish_reason in ("stop", "tool_calls"), first
        for _ in range(args.warm_up):
            litellm.completion(**kwargs)
        calls = []
        rss_at_100 = 0
        for i in range(args.n):
            t0 = time.perf_counter_ns()
            litellm.completion(**kwargs)
            calls.append(time.perf_counter_ns() - t0)
            if i + 1 == 100:
                rss_at_100 = rss_kb()
        rss_at_n = rss_kb()
        # The provider's own time: the body the OpenAI client sends, POSTed the same way, keep-alive.
        body = {"model": "gpt-4o", "messages": req["messages"]}
        for k in ("tools", "temperature", "max_tokens"):
            if k in req:
                body[k] = req[k]
        url = args.base + "/v1/chat/completions"
        headers = {"Authorization": "Bearer sk-bench"}
        for _ in range(args.warm_up):
            direct.post(url, json=body, headers=headers).json()
        provider = []
        for _ in range(args.n):
            t0 = time.perf_counter_ns()
            direct.post(url, json=body, headers=headers).json()
            provider.append(time.perf_counter_ns() - t0)
        out["sizes"][size] = {
            "first_ns": first_ns,
            "calls_ns": calls,
            "provider_ns": provider,
            "rss_kb_at_100": rss_at_100,
            "rss_kb_at_n": rss_at_n,
            "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    print(json.dumps(out), flush=True)


def _version():
    try:
        from importlib.metadata import version
        return version("litellm")
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    main()
