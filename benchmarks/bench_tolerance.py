"""Benchmark: tolerant matching (default ruleset) against exact matching, on seeded ASR calls.

Standalone::

    python benchmarks/bench_tolerance.py [--calls 1000] [--repeat 5] [--seed 7] [--limit 1.3]

Generates ``--calls`` calls (about 30 utterances each) with realistic ASR damage — fillers,
dropped characters, homophones, traditional characters, full-width punctuation — and audits them
with the built-in default ruleset twice: as shipped (greeting/closing/required phrases with
``tolerance: pinyin``) and with every rule forced to ``tolerance: exact``. Both runs do the same
normalisation; the difference is the tolerant matching alone. Prints the best-of-``--repeat``
CPU times (the two variants interleaved), the ratio, and how many greeting/closing findings
each variant gave (what tolerance buys), and exits 1 when the ratio exceeds ``--limit`` (1.3).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time

from csqa.engine import Engine
from csqa.model import Transcript, Utterance
from csqa.ruleset import Ruleset, load_ruleset

GREETINGS = ["您好,很高兴为您服务,我是客服代表小王。", "您好,这里是售后服务中心,工号3021。",
             "您好,很高兴为您服务。", "你好,请问有什么可以帮您?"]
CLOSINGS = ["感谢您的来电,祝您生活愉快,再见!", "好的,感谢来电,再见。", "祝您生活愉快,再见。"]
SATISFACTION = ["请问您对本次服务是否满意?", "您对我的服务还满意吗?"]
ANYTHING_ELSE = ["请问您还有其他需要帮助的地方吗?", "还有什么问题需要咨询吗?"]
AGENT = ["好的,请您稍等,我帮您查询一下。", "您的订单已经为您登记了,师傅会在两天内上门。",
         "这边看到您的账户已经开通了,您可以直接使用。", "我理解您的心情,我们一定尽快处理。",
         "麻烦您提供一下您的注册手机号。", "这个问题需要技术部门核实,我帮您提交工单。",
         "您的退款已经在处理中,预计三到五个工作日到账。", "我不太清楚具体原因,我帮您问一下同事。",
         "请问您的洗衣机是什么型号的?", "这个没办法,系统不支持。"]
CUSTOMER = ["我的洗衣机一直漏水。", "我上周就打过电话了,到现在还没人来。", "好的。", "嗯,对。",
            "那大概要等多久?", "我的手机号是一三八零零一三八零零零。", "行,那就这样吧。",
            "你们这个服务太慢了。", "没有了,谢谢。", "我找一下发票。"]
HOMOPHONES = {"再": "在", "已": "以", "账": "帐", "为": "位", "电": "店", "们": "门", "您": "您"}
FILLERS = ["呃,", "嗯,", "啊,", "那个"]
TRADITIONAL = str.maketrans("为务谢来电话这个们没办法帐账经时间问题请单现还满意见",
                            "為務謝來電話這個們沒辦法帳賬經時間問題請單現還滿意見")
FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in ",?!:0123456789"}


def damage(text: str, rng: random.Random, traditional: bool) -> str:
    """One utterance as an ASR engine might give it."""
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in HOMOPHONES and rng.random() < 0.15:
            chars[i] = HOMOPHONES[ch]
    if len(chars) > 6 and rng.random() < 0.15:
        del chars[rng.randrange(len(chars))]
    text = "".join(chars)
    if rng.random() < 0.3:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(FILLERS) + text[at:]
    if traditional:
        text = text.translate(TRADITIONAL)
    if rng.random() < 0.3:
        text = text.translate(FULLWIDTH)
    if rng.random() < 0.1:
        text = " ".join(text)
    return text


def make_calls(n: int, seed: int) -> list[Transcript]:
    rng = random.Random(seed)
    calls = []
    for c in range(n):
        traditional = rng.random() < 0.1
        lines = [("agent", rng.choice(GREETINGS))]
        for _ in range(rng.randint(20, 36)):
            lines.append(("customer", rng.choice(CUSTOMER)))
            lines.append(("agent", rng.choice(AGENT)))
        lines += [("agent", rng.choice(ANYTHING_ELSE)), ("customer", "没有了。"),
                  ("agent", rng.choice(SATISFACTION)), ("customer", "满意。"),
                  ("agent", rng.choice(CLOSINGS))]
        t = rng.uniform(0.3, 2.0)
        utts = []
        for i, (speaker, text) in enumerate(lines):
            text = damage(text, rng, traditional)
            dur = max(0.6, len(text) / 4.0)
            utts.append(Utterance(i, speaker, round(t, 2), round(t + dur, 2), text))
            t += dur + rng.uniform(0.2, 2.5)
        calls.append(Transcript(call_id=f"B{c:05d}", agent_id=f"A{c % 40:02d}", utterances=utts,
                                hangup_by=rng.choice(["customer", "customer", "agent", None]),
                                duration=round(t + 1.0, 2)))
    return calls


def exact_variant(rs: Ruleset) -> Ruleset:
    rules = [dataclasses.replace(r, params=r.params.model_copy(update={"tolerance": "exact"}))
             if "tolerance" in type(r.params).model_fields else r for r in rs.rules]
    return dataclasses.replace(rs, rules=rules)


def run(engine: Engine, calls: list[Transcript]) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = {}
    started = time.process_time()  # CPU time: steadier than wall time on a shared machine
    for t in calls:
        for f in engine.audit(t).findings:
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
    return time.process_time() - started, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=float, default=1.3)
    args = ap.parse_args()
    calls = make_calls(args.calls, args.seed)
    default = load_ruleset()
    engines = {"tolerant (default)": Engine(default), "exact": Engine(exact_variant(default))}
    for engine in engines.values():  # warm up: pinyin tables, OpenCC table, caches
        run(engine, calls[:50])
    best = {name: float("inf") for name in engines}
    counts: dict[str, dict[str, int]] = {}
    for _ in range(args.repeat):  # interleaved, so that machine noise hits both alike
        for name, engine in engines.items():
            seconds, counts[name] = run(engine, calls)
            best[name] = min(best[name], seconds)
    utts = sum(len(t.utterances) for t in calls)
    print(f"{args.calls} calls, {utts} utterances, seed {args.seed}, "
          f"best of {args.repeat} (CPU seconds)")
    for name, seconds in best.items():
        c = counts[name]
        print(f"  {name:20s} {seconds:7.3f} s  {args.calls / seconds:8.0f} calls/s  "
              f"greeting {c.get('greeting', 0):5d}  closing {c.get('closing', 0):5d}  "
              f"satisfaction {c.get('closing.satisfaction', 0):5d}  "
              f"anything_else {c.get('closing.anything_else', 0):5d}  "
              f"forbidden.shirk {c.get('forbidden.shirk', 0):5d}")
    ratio = best["tolerant (default)"] / best["exact"]
    verdict = "ok" if ratio <= args.limit else "TOO SLOW"
    print(f"ratio tolerant/exact: {ratio:.3f} (limit {args.limit}) {verdict}")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
