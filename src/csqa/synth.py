"""A seeded generator of realistic synthetic Mandarin service calls with known violations.

``csqa synth N --out DIR`` writes ``DIR/transcripts/calls.jsonl`` (or one ``.json`` file per
call with ``--format json``) and ``DIR/truth.jsonl``: for every call, the findings the default
ruleset must give (rule id and utterance index; ``null`` for a call-level finding). The same
seed always gives the same bytes. The benchmark (``make bench``) audits this corpus.

Each call follows the playbook (开场白, the customer's problem, a check announced with 请您稍等,
the answer, 还有其他需要吗, 满意度询问, 结束语) with realistic timing (agents speak at 110–150
字/分钟, answer within 0.3–2 s). About one call in three gets one or more injected violations:
服务禁语 of each category, a missing or late opening, a missing closing, satisfaction question or
needs check, an interruption, the agent hanging up first, unannounced or over-long silence, a
slow answer, and speaking too fast. Decoys that must *not* fire are mixed in too: the customer
using forbidden words, agent backchannels (嗯,好的) over the customer, holds that were announced,
没办法 cancelled by 想办法, and calls with an unknown hang-up side.

Every call carries its ``direction``. About one in twenty is an agent's call-back (``outbound``,
opening with 打扰了 and the purpose of the call); a third of those leave out the purpose or the
apology, and those placed in the lunch break (the call's ``started_at``) break the call-hours
rule. These draws come from a second random stream, so the other calls are the same whatever
the share of call-backs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
            "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
GIVEN = ["丽", "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
         "明", "超",
         "秀英", "晓燕", "建华", "海燕", "志强", "雪梅", "文博", "子涵", "欣怡", "浩然"]
TEAMS = ["售后一组", "售后二组", "售后三组", "投诉专席", "会员服务组", "夜班组"]
COMPANIES = ["安居家电", "顺达物流", "云帆宽带", "乐购商城", "恒信银行信用卡"]

PROBLEMS = [
    ("我上周买的洗衣机一直漏水,想问一下怎么处理", "洗衣机", "请问您的订单号是多少"),
    ("我的快递显示已签收,可是我根本没收到", "快递", "麻烦您提供一下运单号"),
    ("我家的宽带从昨天晚上开始就上不了网了", "宽带", "请问您的宽带账号是多少"),
    ("我申请的退款已经一个星期了还没到账", "退款", "请您提供一下订单号,我来核实"),
    ("这个月的账单多扣了我五十块钱,我想问问是怎么回事", "账单", "请问您登记的手机号是多少"),
    ("我买的冰箱送来的时候外壳有一块凹进去了", "冰箱", "请问您方便提供一下订单号吗"),
    ("我想把信用卡的额度调高一点", "额度", "请问您的卡号后四位是多少"),
    ("空调装好以后一开就有很大的噪音", "空调", "请问您的安装单号是多少"),
]
INFO = ["订单号是二零二六一一二一零三五六", "是一三八零零一三八零零零", "我的账号是八八六七五三",
        "单号是SF一二三四五六七八", "后四位是六六八八", "是七七三一四二"]
ANSWERS = [
    "查到了,您的{item}问题已经登记,师傅会在明天上午九点到十二点之间上门处理",
    "已经帮您核实清楚了,{item}这边的情况是系统延迟,预计两个工作日内处理完成",
    "我这边已经为您加急处理了{item}的问题,处理结果会以短信的形式通知您",
    "关于{item}的问题,我已经帮您提交了工单,工单号已经发到您的手机上了",
]
FOLLOW_UPS = ["那大概要等多久呢", "那我需要在家等着吗", "会不会再收我别的费用",
              "工单号我在哪里能看到"]
FOLLOW_ANSWERS = ["一般一到两个工作日就可以,请您留意电话", "不需要额外费用,您放心",
                  "工单号在短信里,您也可以在我们的公众号里查看", "师傅上门前会提前给您打电话"]
CUSTOMER_ACKS = ["好的,明白了", "行,那我等着", "好的好的,谢谢你", "嗯,知道了"]
CUSTOMER_DECOYS = ["你们这服务真是没办法说", "我怎么知道你们是这么弄的",
                   "你有病吧这个系统,老是这样",
                   "不行就是不行吗,你们总这么说"]
BACKCHANNELS = ["嗯,好的", "嗯嗯", "好的", "我理解"]

#: rule id -> (agent utterance text that breaks it, matched words); one occurrence each
FORBIDDEN = {
    "forbidden.blame": ["我不是跟你说得很清楚了吗,{item}要等", "你听明白了吗,{item}不是这样处理的",
                        "你问我,我问谁,{item}的事我不负责"],
    "forbidden.arrogant": ["{item}这事不行就是不行", "你要投诉就投诉吧,{item}就这样",
                           "说明书上写得很清楚,{item}自己看"],
    "forbidden.command": ["你大声点,{item}的事我听不清", "你小声一点行不行,{item}我在查"],
    "forbidden.shirk": ["{item}这事不归我管", "这个没办法,{item}只能等",
                        "{item}不关我的事,您打别的电话问问"],
    "forbidden.abuse": ["你是不是傻,{item}都不会用"],
}
FORBIDDEN_WEIGHTS = {"forbidden.blame": 4, "forbidden.arrogant": 3, "forbidden.command": 2,
                     "forbidden.shirk": 4, "forbidden.abuse": 1}
#: ``forbidden.shirk`` says 没办法, but 想办法 in the same utterance cancels it (decoy)
SHIRK_DECOY = "没办法的话我们再一起想办法,{item}您别着急"

#: share of calls that are the agent's call-backs (direction outbound)
OUTBOUND_RATE = 0.05
#: an outbound call's lunch break (the default ruleset's outbound.call_hours: 12:00-14:00)
LUNCH_HOURS = (12, 13)

#: ``distinct_text``: what makes each of an agent's own utterances a text of its own, as in real
#: traffic (scripted openings, closings and backchannels stay as they are)
LEADS = ["", "", "好的,", "嗯,", "明白了,", "是这样的,", "我看一下,", "您别着急,", "稍等我看下,", "对的,"]
DETAILS = [
    "您登记的地址是{district}{road}{num}号", "系统里显示是{month}月{day}号下的单",
    "您这台是{brand}的{model}型号", "上门的师傅姓{surname},电话会提前联系您",
    "预计{month}月{day}号之前处理好", "这边给您备注了{when}联系", "单号尾号是{digits}",
    "我们{place}的网点会跟进", "费用方面{fee}", "您留的电话尾号是{digits}",
    "这个{part}需要先检测一下", "{when}之前会有短信通知", "处理进度您可以在{channel}查看",
]
DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "天河区", "武侯区", "西湖区", "江北区", "雨花台区", "历下区"]
ROADS = ["建设路", "人民路", "中山大道", "解放街", "文化路", "长江路", "滨河路", "光明街"]
BRANDS = ["安居", "海润", "美宜", "格力达", "小天鹅", "长青"]
PARTS = ["电机", "主板", "压缩机", "门封条", "排水泵", "遥控器", "滤网", "电源适配器"]
PLACES = ["城东", "城西", "开发区", "高新区", "县城", "市中心"]
CHANNELS = ["公众号", "官方应用", "短信链接", "官网的服务页面"]
WHENS = ["今天下午", "明天上午", "后天", "本周五", "下周一", "两个小时内", "晚上八点前"]
FEES = ["保修期内是免费的", "上门检测不收费", "配件按官方价格收取", "具体以师傅检测为准"]


def _detail(rng: random.Random) -> str:
    return rng.choice(DETAILS).format(
        district=rng.choice(DISTRICTS), road=rng.choice(ROADS), num=rng.randint(1, 999),
        month=rng.randint(1, 12), day=rng.randint(1, 28), brand=rng.choice(BRANDS),
        model=f"{rng.choice('ABCDKMX')}{rng.randint(10, 990)}", surname=rng.choice(SURNAMES),
        digits=f"{rng.randint(0, 9999):04d}", when=rng.choice(WHENS), place=rng.choice(PLACES),
        fee=rng.choice(FEES), part=rng.choice(PARTS), channel=rng.choice(CHANNELS))


VIOLATIONS = ("forbidden", "greeting", "greeting_late", "closing", "satisfaction",
              "anything_else", "interruption", "hangup", "silence", "long_hold", "response_delay",
              "first_response", "speech_rate")


@dataclass
class _Turn:
    speaker: str
    text: str
    gap: float = 0.8          # seconds of pause before this turn (negative: overlap)
    tag: str = ""             # which expected finding points here
    rate: float = 0.0         # characters per minute (0: the call's rate)


@dataclass
class SynthCall:
    """One generated call: the csqa JSON object and the findings the default ruleset must give."""

    record: dict[str, Any]
    expected: list[tuple[str, int | None]] = field(default_factory=list)


def _chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


class Generator:
    """Seeded call factory; ``violation_rate`` is the chance a call gets injected violations."""

    def __init__(self, seed: int = 0, agents: int = 200, violation_rate: float = 0.35,
                 distinct_text: bool = False) -> None:
        self.rng = random.Random(seed)
        self.outbound_rng = random.Random(f"outbound-{seed}")  # its own stream (see above)
        self.violation_rate = violation_rate
        #: every agent utterance of the call's own business is a text of its own (see LEADS)
        self.distinct_text = distinct_text
        rng = self.rng
        self.agents = [
            (f"A{1000 + i}", rng.choice(SURNAMES) + rng.choice(GIVEN), TEAMS[i % len(TEAMS)])
            for i in range(agents)
        ]

    def call(self, n: int) -> SynthCall:
        rng = self.rng
        agent_id, agent_name, team = rng.choice(self.agents)
        company = rng.choice(COMPANIES)
        problem, item, ask = rng.choice(PROBLEMS)
        wanted: set[str] = set()
        if rng.random() < self.violation_rate:
            k = 1 if rng.random() < 0.75 else 2
            wanted.update(rng.sample(VIOLATIONS, k))
        if "greeting" in wanted:
            wanted.discard("greeting_late")
            wanted.discard("first_response")
        if "long_hold" in wanted:
            wanted.discard("silence")
        turns: list[_Turn] = []
        a, c = "agent", "customer"
        hour = 8 + n % 12
        outbound, left_out = self._outbound(wanted)

        # 开场白
        if "greeting" in wanted:
            rude = rng.choice(["喂,什么事?", "说吧,什么问题?"])
            turns.append(_Turn(a, rude, gap=1.0, tag="greeting"))
        else:
            slow = "first_response" in wanted
            first_gap = rng.uniform(6.0, 9.0) if slow else rng.uniform(0.5, 2.5)
            nick = agent_name[0] + rng.choice("小晓") + agent_name[-1]
            greet = f"您好,这里是{company}客户服务中心,我是客服代表{nick},很高兴为您服务"
            if "greeting_late" in wanted:
                turns.append(_Turn(a, "喂,请讲。", gap=first_gap,
                                   tag="response_delay" if slow else ""))
                turns.append(_Turn(c, "喂?能听到吗?我想问个事情。", gap=0.6))
                turns.append(_Turn(a, "能听到,请稍等,系统有点卡。", gap=0.8))
                turns.append(_Turn(c, "好的。", gap=0.8))
                turns.append(_Turn(a, greet + "。", gap=rng.uniform(1.0, 3.0), tag="greeting"))
            elif outbound:
                sorry = "" if left_out == "apology" else "打扰了,"
                why = "" if left_out == "purpose" else f",给您来电是想回访一下您的{item}问题"
                turns.append(_Turn(a, f"您好,{sorry}我是{company}售后的客服代表{nick}{why},请问现在方便吗?",
                                   gap=first_gap, tag="response_delay" if slow else ""))
            else:
                turns.append(_Turn(a, greet + ",请问有什么可以帮您?", gap=first_gap,
                                   tag="response_delay" if slow else ""))
        # the customer's problem; the agent asks for details
        turns.append(_Turn(c, problem + "。", gap=rng.uniform(0.4, 1.5)))
        if "interruption" in wanted:
            turns.append(_Turn(a, f"您先别说了,跟您确认一下,是{item}的问题,对吗?{ask}?", gap=-rng.uniform(1.0, 2.0),
                               tag="interruption"))
        else:
            late = "response_delay" in wanted
            if not late and rng.random() < 0.3:  # decoy: a backchannel over the customer
                turns.append(_Turn(a, rng.choice(BACKCHANNELS) + "。", gap=-rng.uniform(0.6, 1.2)))
            turns.append(_Turn(a, f"好的,非常抱歉给您带来不便。跟您确认一下,是{item}的问题,对吗?"
                                  f"{self._own(ask)}?",
                               gap=rng.uniform(6.0, 9.0) if late else rng.uniform(0.3, 2.0),
                               tag="response_delay" if late else ""))
        turns.append(_Turn(c, rng.choice(INFO) + "。", gap=rng.uniform(0.4, 1.5)))
        # the check: announced hold (decoy) or unannounced silence / over-long hold
        if "silence" in wanted:
            turns.append(_Turn(a, "好的。", gap=rng.uniform(0.3, 1.5), tag="silence"))
            hold = rng.uniform(15.0, 40.0)
        else:
            turns.append(_Turn(a, "好的,请您稍等,我帮您查询一下。", gap=rng.uniform(0.3, 1.5),
                               tag="silence" if "long_hold" in wanted else ""))
            hold = rng.uniform(70.0, 90.0) if "long_hold" in wanted else rng.uniform(4.0, 40.0)
        answer = rng.choice(ANSWERS).format(item=item)
        if "forbidden" in wanted:
            rule = rng.choices(list(FORBIDDEN_WEIGHTS), weights=list(FORBIDDEN_WEIGHTS.values()))[0]
            answer = rng.choice(FORBIDDEN[rule]).format(item=item)
            turns.append(_Turn(a, "感谢您的耐心等待。" + answer + "。", gap=hold, tag=rule))
        else:
            turns.append(_Turn(a, "感谢您的耐心等待," + self._own(answer) + "。", gap=hold))
        if rng.random() < 0.7:
            question = rng.choice(FOLLOW_UPS + CUSTOMER_DECOYS) + "?"
            turns.append(_Turn(c, question, gap=rng.uniform(0.5, 2.0)))
            text = self._own(rng.choice(FOLLOW_ANSWERS)) + "。"
            if rng.random() < 0.1:
                text = SHIRK_DECOY.format(item=item) + "。"
            turns.append(_Turn(a, text, gap=rng.uniform(0.3, 2.0)))
        turns.append(_Turn(c, rng.choice(CUSTOMER_ACKS) + "。", gap=rng.uniform(0.5, 2.0)))
        # the close: needs check, satisfaction question, farewell
        if "anything_else" not in wanted:
            turns.append(_Turn(a, "请问您还有其他需要帮助的地方吗?", gap=rng.uniform(0.3, 1.5)))
            turns.append(_Turn(c, "没有了,谢谢。", gap=rng.uniform(0.4, 1.2)))
        if "satisfaction" not in wanted:
            turns.append(_Turn(a, "请问您对本次服务是否满意?", gap=rng.uniform(0.3, 1.5)))
            verdict = rng.choice(["满意。", "挺满意的。", "还行吧。"])
            turns.append(_Turn(c, verdict, gap=rng.uniform(0.4, 1.2)))
        if "closing" in wanted:
            curt = rng.choice(["行,就这样吧。", "嗯,那先这样。"])
            turns.append(_Turn(a, curt, gap=rng.uniform(0.3, 1.5)))
        else:
            turns.append(_Turn(a, "感谢您的来电,祝您生活愉快,再见!", gap=rng.uniform(0.3, 1.5)))

        rate = rng.uniform(230.0, 260.0) if "speech_rate" in wanted else rng.uniform(110.0, 150.0)
        utterances, t = [], 0.0
        for turn in turns:
            start = max(0.0, t + turn.gap) if turn.gap >= 0 else t + turn.gap
            cpm = rate if turn.speaker == a else rng.uniform(150.0, 220.0)
            end = start + max(0.6, _chars(turn.text) / cpm * 60.0)
            utterances.append({"speaker": "坐席" if turn.speaker == a else "客户",
                               "start": round(start, 2), "end": round(end, 2), "text": turn.text})
            t = max(t, round(end, 2))
        hangup = "agent" if "hangup" in wanted else rng.choices(["customer", "system", None],
                                                                  weights=[85, 5, 10])[0]
        record = {
            "call_id": f"SYN-{n:07d}", "agent_id": agent_id, "agent_name": agent_name, "team": team,
            "direction": "outbound" if outbound else "inbound",
            "started_at": f"2026-11-21T{hour:02d}:{n % 60:02d}:{(n * 7) % 60:02d}+08:00",
            "hangup_by": hangup, "duration": round(t + rng.uniform(0.5, 2.0), 2),
            "utterances": utterances,
        }
        expected = self._expected(turns, wanted)
        if outbound:
            if left_out:
                expected.append((f"outbound.{left_out}", 0))
            if hour in LUNCH_HOURS:
                expected.append(("outbound.call_hours", None))
            expected.sort(key=_truth_order)
        return SynthCall(record, expected)

    def _outbound(self, wanted: set[str]) -> tuple[bool, str]:
        """Whether the call is a call-back, and what its opening leaves out (``purpose``,
        ``apology`` or nothing). Only calls whose opening is said as scripted (no rude or late
        greeting) are call-backs."""
        rng = self.outbound_rng
        outbound = rng.random() < OUTBOUND_RATE and not wanted & {"greeting", "greeting_late"}
        left_out = rng.choice(["purpose", "apology", "", "", "", ""]) if outbound else ""
        return outbound, left_out

    def _own(self, text: str) -> str:
        """``text`` as it is, or (``distinct_text``) made a text of its own with a lead-in and a
        detail of this call (an address, a date, a model, a time)."""
        if not self.distinct_text:
            return text
        rng = self.rng
        return f"{rng.choice(LEADS)}{text},{_detail(rng)}"

    @staticmethod
    def _expected(turns: list[_Turn], wanted: set[str]) -> list[tuple[str, int | None]]:
        """The findings of the default ruleset, from where the generator put each violation."""
        out: list[tuple[str, int | None]] = []
        for i, turn in enumerate(turns):
            if turn.tag:
                out.append((turn.tag, i))
        agent_idx = [i for i, turn in enumerate(turns) if turn.speaker == "agent"]
        if "closing" in wanted:
            out.append(("closing", agent_idx[-2]))
        if "satisfaction" in wanted:
            out.append(("closing.satisfaction", agent_idx[-3]))
        if "anything_else" in wanted:
            out.append(("closing.anything_else", agent_idx[-4]))
        if "hangup" in wanted:
            out.append(("hangup", agent_idx[-1]))
        if "speech_rate" in wanted:
            out.append(("speech_rate", None))
        return sorted(out, key=_truth_order)


def _truth_order(finding: tuple[str, int | None]) -> tuple[str, int]:
    return finding[0], -1 if finding[1] is None else finding[1]


def generate(n: int, seed: int = 0, distinct_text: bool = False) -> Iterator[SynthCall]:
    """``n`` calls, the same for the same seed (see :class:`Generator` for ``distinct_text``)."""
    gen = Generator(seed, distinct_text=distinct_text)
    for i in range(n):
        yield gen.call(i)


def write_corpus(n: int, out: str | Path, seed: int = 0, fmt: str = "jsonl",
                 distinct_text: bool = False) -> Path:
    """Write ``n`` calls under ``out/transcripts`` and their expected findings to ``truth.jsonl``.

    ``fmt`` is ``jsonl`` (one ``calls.jsonl``) or ``json`` (one file per call, 1000 per folder);
    ``distinct_text`` makes every agent utterance of a call's own business a distinct text.
    Returns the transcripts folder (what to pass to ``csqa audit``).
    """
    if fmt not in ("jsonl", "json"):
        raise ValueError(f"format must be jsonl or json, not {fmt!r}")
    root = Path(out)
    folder = root / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    with (root / "truth.jsonl").open("wb") as truth:
        if fmt == "jsonl":
            with (folder / "calls.jsonl").open("wb") as fh:
                for call in generate(n, seed, distinct_text):
                    fh.write(orjson.dumps(call.record) + b"\n")
                    truth.write(_truth_line(call))
        else:
            for i, call in enumerate(generate(n, seed, distinct_text)):
                sub = folder / f"{i // 1000:04d}"
                if i % 1000 == 0:
                    sub.mkdir(exist_ok=True)
                (sub / f"{call.record['call_id']}.json").write_bytes(orjson.dumps(call.record))
                truth.write(_truth_line(call))
    return folder


def _truth_line(call: SynthCall) -> bytes:
    return orjson.dumps({"call_id": call.record["call_id"],
                         "findings": [[rid, u] for rid, u in call.expected]}) + b"\n"
