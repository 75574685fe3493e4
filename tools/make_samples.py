"""Regenerate sample_transcripts/ from the call scripts below (python tools/make_samples.py).

Each call is a script of turns; times are computed from a speaking rate (the agent at about
150 字/分钟, the customer faster) so that timings are realistic and reproducible. A turn may
start inside the other party's turn to create overlap (``at``: seconds after the start of the
other party's latest turn), or after a pause (``gap``). The samples cover every rule kind, violated and cleanly
passed, and the traps: a customer saying a forbidden phrase, agent backchannels over the
customer, an announced hold, unknown hang-up side.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "sample_transcripts"
AGENTS = {
    "A1024": ("张丽", "售后一组"),
    "A1031": ("王强", "售后一组"),
    "A2007": ("李娜", "售后二组"),
    "A2015": ("陈晨", "售后二组"),
}
RATE = {"A": 150.0, "C": 210.0}  # characters per minute
PUNCT = set(",。?!、:;“”‘’()…,.?!:; ")

GREET = "您好,很高兴为您服务,我是客服代表{name},请问有什么可以帮您?"
ANYTHING = "请问您还有其他需要帮助的地方吗?"
SATISFY = "请问您对本次服务是否满意?"
BYE = "感谢您的来电,祝您生活愉快,再见!"

# (speaker, text, options)  speaker: A agent, C customer
Turn = tuple[str, str, dict[str, Any]]


def T(speaker: str, text: str, **opts: Any) -> Turn:
    return (speaker, text, opts)


def polite_end(extra: list[Turn] | None = None) -> list[Turn]:
    return [*(extra or []), T("A", ANYTHING), T("C", "没有了,谢谢。"), T("A", SATISFY),
            T("C", "满意。"), T("A", BYE)]


CALLS: list[dict[str, Any]] = [
    # ---- A1024 张丽: the model agent -------------------------------------------------------
    dict(call_id="20261121-0001", agent="A1024", fmt="json", hangup="customer",
         started="2026-11-21T09:15:02+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我上周买的洗衣机一直漏水,想问问怎么处理。"),
             T("A", "非常抱歉给您添麻烦了,您的意思是洗衣机买了一周就漏水,对吗?"),
             T("C", "对,就是底下一直漏水。"),
             T("A", "好的,请问您的订单号是多少?"),
             T("C", "订单号是二零二六一一一四零零八八。"),
             T("A", "好的,请您稍等,我帮您查询一下。"),
             T("C", "好的。"),
             T("A", "感谢您的耐心等待,您的洗衣机在保修期内,我已经为您创建维修工单,工单编号是幺五三零八,师傅明天上午上门。", gap=38.0),
             T("C", "明天上午可以,麻烦你们了。"),
             *polite_end()]),
    dict(call_id="20261121-0002", agent="A1024", fmt="json", hangup="customer",
         started="2026-11-21T10:02:40+08:00", turns=[
             T("A", GREET, gap=0.9),
             T("C", "我跟你说,我那个冰箱从前天开始就不制冷了,里面的东西全都坏了,我打了两次电话都没人回我,现在家里还有老人小孩。"),
             T("A", "嗯嗯。", at=6.0, dur=0.7),
             T("A", "我理解。", at=14.0, dur=0.8),
             T("A", "实在不好意思,换作是我也会着急。您是说冰箱从前天开始不制冷,对吗?", gap=0.6),
             T("C", "对。"),
             T("A", "我马上联系师傅今天上门,您看下午两点还是三点方便?"),
             T("C", "两点吧。"),
             T("A", "好的,已经为您约好下午两点,师傅出发前会给您打电话。"),
             *polite_end()]),
    dict(call_id="20261121-0003", agent="A1024", fmt="txt", hangup=None,
         started="2026-11-21T11:30:15+08:00", turns=[
             T("A", GREET, gap=1.0),
             T("C", "你们上次那个师傅说没办法修,你问我我问谁啊?我也不懂这个。"),
             T("A", "非常抱歉给您带来不好的体验,我先帮您核实一下上次的维修记录,请问您的注册手机号后四位是多少?"),
             T("C", "后四位是六六八八。"),
             T("A", "好的,记录显示上次是缺少配件,配件已经到了,我帮您重新安排师傅上门更换。"),
             T("C", "那行吧。"),
             *polite_end()]),
    dict(call_id="20261121-0004", agent="A1024", fmt="jsonl", hangup="customer",
         started="2026-11-21T14:05:00+08:00", turns=[
             T("A", GREET, gap=0.7),
             T("C", "你好,我想开个发票,之前买的电视。"),
             T("A", "好的,请问您购买时的订单号方便提供一下吗?"),
             T("C", "你等一下,我找一下发票上的单号。"),
             T("C", "找到了,是二零二六一零三零零五五二。", gap=28.0),
             T("A", "好的,已经为您提交开票申请,电子发票三个工作日内发到您的邮箱。"),
             *polite_end()]),
    dict(call_id="20261121-0005", agent="A1024", fmt="csv", hangup="customer",
         started="2026-11-21T15:40:22+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我买的空调遥控器没电了,是不是要换电池?"),
             T("A", "是的,遥控器使用两节七号电池,在遥控器背面打开电池盖就可以更换。"),
             T("C", "哦,那我自己换就行。"),
             T("A", ANYTHING),
             T("C", "没有了。"),
             T("A", BYE)]),
    # ---- A1031 王强: rude ------------------------------------------------------------------
    dict(call_id="20261121-0006", agent="A1031", fmt="json", hangup="agent",
         started="2026-11-21T09:48:10+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "我上次就问过了,你们说三天内有人联系我,到现在也没人联系。"),
             T("A", "我不是跟你说得很清楚了吗?要等工单流转。"),
             T("C", "那我要投诉你们。"),
             T("A", "你要投诉就投诉吧,我这边也处理不了更快的。"),
             T("C", "你这是什么态度?")]),
    dict(call_id="20261121-0007", agent="A1031", fmt="json", hangup="customer",
         started="2026-11-21T13:12:45+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我家的热水器打不着火了,昨天晚上开始的,我看了一下燃气是有的,电池也刚换过。"),
             T("A", "您先告诉我型号是什么。", at=3.0),
             T("C", "型号我看看啊,上面写的是,好像是一个什么系列的,我拍照给你们行不行。"),
             T("A", "这个没办法,电话里只能说型号。", at=2.5),
             T("C", "好吧,型号是JSQ二十三。"),
             T("A", "好的,已经给您登记上门检修,师傅会提前联系您。"),
             *polite_end()]),
    dict(call_id="20261121-0008", agent="A1031", fmt="json", hangup="customer",
         started="2026-11-21T16:20:03+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你们的师傅把我家地板划坏了,你们必须赔。"),
             T("A", "师傅说不是他划的,你有病吧,自己家的地板自己不清楚?"),
             T("C", "你怎么骂人呢?我要投诉你!"),
             T("A", "好的,您的意见我会记录,后续会有专人联系您。"),
             *polite_end()]),
    dict(call_id="20261121-0009", agent="A1031", fmt="txt", hangup="customer",
         started="2026-11-21T17:05:30+08:00", turns=[
             T("A", "喂,什么事?", gap=0.8),
             T("C", "我想问一下我的维修进度,订单号二零二六一一一八零零三一。"),
             T("A", "您的订单号是多少来着?"),
             T("C", "二零二六一一一八零零三一。"),
             T("A", "好,师傅已经接单,明天下午上门。", gap=25.0),
             *polite_end()]),
    dict(call_id="20261121-0010", agent="A1031", fmt="jsonl", hangup="customer",
         started="2026-11-21T18:30:00+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "我的扫地机器人充不进电,是不是坏了?"),
             T("A", "您先检查一下充电座的指示灯是否亮起,再把机器人放回充电座试一下。", gap=7.0),
             T("C", "指示灯亮着,放上去也没反应。"),
             T("A", "好的,那可能是电池故障,我为您登记保修,快递上门取件。"),
             *polite_end()]),
    # ---- A2007 李娜 --------------------------------------------------------------------------
    dict(call_id="20261121-0011", agent="A2007", fmt="json", hangup="customer",
         started="2026-11-21T09:05:12+08:00", turns=[
             T("A", GREET.replace("{name}", "李娜"), gap=0.8),
             T("C", "你好,我想问一下你们的油烟机能不能延长保修?"),
             T("A", "可以的,购买后一年内可以办理延保服务,延保两年的费用是一百九十九元,您需要我为您详细说明吗?"),
             T("C", "不用了,我直接在APP上买就行,对吧?", at=5.0),
             T("A", "对的,在APP的我的订单里选择对应商品就可以购买延保。"),
             *polite_end()]),
    dict(call_id="20261121-0012", agent="A2007", fmt="json", hangup="customer",
         started="2026-11-21T10:45:30+08:00", turns=[
             T("A", GREET, gap=0.8, rate=280),
             T("C", "你好,我要退货,买的吸尘器不想要了。"),
             T("A", "好的,请问您购买几天了?原包装还在吗?七天内原厂密封包装未打开是可以无理由退货的。", rate=280),
             T("C", "买了五天,包装还没拆。"),
             T("A", "好的,符合无理由退货,我已经为您提交退货申请,物流明天上门取件,收到退货后三个工作日内退款。", rate=280),
             T("C", "好的。"),
             T("A", ANYTHING, rate=280), T("C", "没有了。"), T("A", SATISFY, rate=280),
             T("C", "满意。"), T("A", BYE, rate=280)]),
    dict(call_id="20261121-0013", agent="A2007", fmt="txt", hangup="customer",
         started="2026-11-21T13:30:00+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我的快递显示签收了,可是我没收到。"),
             T("A", "非常抱歉,请您稍等,我帮您查询一下物流信息。"),
             T("A", "让您久等了,快递放在了小区的快递柜,取件码已经重新发到您的手机上。", gap=80.0),
             T("C", "这么久,好吧,我去看看。"),
             *polite_end()]),
    dict(call_id="20261121-0014", agent="A2007", fmt="csv", hangup="customer",
         started="2026-11-21T15:10:44+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "喂?喂?你好,我这边信号不好。"),
             T("A", "喂!喂!"),
             T("C", "听得到吗?我说我的电饭煲……"),
             T("A", "大声点,我听不清!"),
             T("C", "我说我的电饭煲盖子关不上了!"),
             T("A", "好的,盖子关不上可能是密封圈移位,我为您安排上门检修。"),
             *polite_end()]),
    dict(call_id="20261121-0015", agent="A2007", fmt="jsonl", hangup="system",
         started="2026-11-21T19:20:00+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我想改一下收货地址。"),
             T("A", "好的,修改收货地址有两种方式,一是登录APP在我的订单里修改,二是我这边为您修改,您需要我帮您改吗?"),
             T("C", "你帮我改吧,改成幸福路十八号。"),
             T("A", "好的,已经为您改成幸福路十八号。"),
             *polite_end()]),
    # ---- A2015 陈晨: trainee ----------------------------------------------------------------
    dict(call_id="20261121-0016", agent="A2015", fmt="json", hangup="customer",
         started="2026-11-21T09:35:20+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我的微波炉转盘不转了。"),
             T("A", "您好,转盘不转一般是转盘电机的问题,需要师傅上门检测,我现在为您登记。"),
             T("C", "好,要多久?"),
             T("A", "师傅会在四十八小时内联系您预约上门时间。"),
             T("C", "行,那就这样吧。"),
             T("A", "嗯,好的。")]),
    dict(call_id="20261121-0017", agent="A2015", fmt="txt", hangup="customer",
         started="2026-11-21T11:02:10+08:00", turns=[
             T("A", "喂?", gap=0.8),
             T("C", "喂,是售后吗?我的洗碗机洗不干净。"),
             T("A", "稍等,我看一下系统。"),
             T("A", "您好,我是客服代表陈晨,很高兴为您服务,洗碗机洗不干净可能是喷淋臂堵塞了,我教您清理一下。", gap=8.0),
             T("C", "好的,你说。"),
             T("A", "先把下层碗篮取出,然后逆时针拧下喷淋臂,用清水冲洗喷孔。"),
             *polite_end()]),
    dict(call_id="20261121-0018", agent="A2015", fmt="csv", hangup="customer",
         started="2026-11-21T14:50:00+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "我买的手机屏幕摔裂了,能保修吗?"),
             T("A", "这不是我们公司的责任,是你自己造成的,人为损坏不在保修范围内。"),
             T("C", "那我去哪里修?"),
             T("A", "我不清楚,你找当地维修网点问去。"),
             T("C", "你们就是这么服务的?"),
             T("A", "非常抱歉,我为您查一下附近的授权维修网点地址,稍后短信发给您。"),
             *polite_end()]),
    dict(call_id="20261121-0019", agent="A2015", fmt="jsonl", hangup="customer",
         started="2026-11-21T16:00:00+08:00", turns=[
             T("A", GREET, gap=8.2),
             T("C", "你好,我想问一下净水器滤芯多久换一次?"),
             T("A", "您好,PP棉滤芯建议六个月更换一次,RO膜滤芯建议两年更换一次,具体以APP上的滤芯寿命提示为准。"),
             T("C", "好的,明白了。"),
             *polite_end()]),
    dict(call_id="20261121-0020", agent="A2015", fmt="jsonl", hangup="customer",
         started="2026-11-21T17:45:00+08:00", turns=[
             T("A", GREET, gap=0.8),
             T("C", "你好,我想预约安装新买的热水器。"),
             T("A", "好的,请问您方便提供一下订单号和安装地址吗?"),
             T("C", "订单号是二零二六一一二零零一零一,地址是光明街二十号三单元。"),
             T("A", "好的,已经为您预约明天上午九点到十二点安装,师傅出发前会电话联系您。"),
             *polite_end()]),
]


def chars(text: str) -> int:
    return sum(1 for ch in text if ch not in PUNCT)


def timeline(call: dict[str, Any]) -> list[dict[str, Any]]:
    name = AGENTS[call["agent"]][0]
    out: list[dict[str, Any]] = []
    latest_end = 0.0
    for speaker, text, opts in call["turns"]:
        text = text.replace("{name}", name)
        rate = opts.get("rate", RATE[speaker])
        dur = opts.get("dur", round(max(0.6, chars(text) / rate * 60.0), 1))
        if "at" in opts:  # seconds after the start of the other party's latest turn
            other = next(u for u in reversed(out) if u["speaker"] != ("agent" if speaker == "A" else "customer"))
            start = round(other["start"] + opts["at"], 1)
        else:
            start = round(latest_end + opts.get("gap", 0.6), 1)
        end = round(start + dur, 1)
        out.append({"speaker": "agent" if speaker == "A" else "customer",
                    "start": start, "end": end, "text": text})
        latest_end = max(latest_end, end)
    return out


def meta(call: dict[str, Any]) -> dict[str, Any]:
    name, team = AGENTS[call["agent"]]
    return {"call_id": call["call_id"], "agent_id": call["agent"], "agent_name": name,
            "team": team, "started_at": call["started"], "hangup_by": call["hangup"],
            "direction": "inbound"}  # customers calling the service line


def stamp(t: float) -> str:
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:04.1f}"


def main() -> None:
    for old in OUT.rglob("*"):
        if old.is_file():
            old.unlink()
    jsonl: list[str] = []
    csv_rows: list[dict[str, Any]] = []
    for call in CALLS:
        utts = timeline(call)
        m = meta(call)
        fmt = call["fmt"]
        if fmt in ("json", "jsonl"):
            obj = {**m, "utterances": utts}
            if fmt == "json":
                path = OUT / "json" / f"{call['call_id']}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            else:
                jsonl.append(json.dumps(obj, ensure_ascii=False))
        elif fmt == "txt":
            lines = [f"# {k}: {v}" for k, v in m.items() if k != "hangup_by" and v]
            label = {"agent": "坐席", "customer": "客户"}
            lines += [f"[{stamp(u['start'])}-{stamp(u['end'])}] {label[u['speaker']]}: {u['text']}" for u in utts]
            end = stamp(max(u["end"] for u in utts) + 1.0)
            side = {"agent": "坐席", "customer": "客户", "system": "系统", None: None}[call["hangup"]]
            if side:
                lines.append(f"[{end}] <挂机: {side}>")
            path = OUT / "handwritten" / f"{call['call_id']}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            for u in utts:
                csv_rows.append({**{k: ("" if v is None else v) for k, v in m.items()}, **u})
    export = OUT / "export" / "2026-11-21"
    export.mkdir(parents=True, exist_ok=True)
    (export / "calls.jsonl").write_text("\n".join(jsonl) + "\n", encoding="utf-8")
    with (export / "team2-utterances.csv").open("w", encoding="utf-8", newline="") as fh:
        cols = ["call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by",
                "direction", "speaker", "start", "end", "text"]
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(csv_rows)


if __name__ == "__main__":
    main()
