"""Stored calls for the mining tests: realistic transcripts in English and Chinese, reviewed by the
real engines and stored in a real database, exactly as `coach review` stores them.

Each call opens with an identity check and the disclosure (so every call holds greetings, identity
answers and acknowledgements: ordinary answers that must form no cluster), then the debtor raises an
objection the playbook knows, or one it does not: questions about the credit report ("will this come
off my credit report", "会不会影响征信"), which no intent of the shipped playbooks covers. The agent
answers on script (a playbook response, reworded a little) or off script, and the call ends in a
promise to pay or not. Calls are spread over four weeks; the Chinese credit questions all come in
the last week (a new topic), the English ones in the last two.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from coach.review.pipeline import review_transcript, store_review
from coach.transcript import Call

#: Monday of the first week mined (ISO week 2026-W41).
FIRST_MONDAY = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)
WEEKS = 4

EN_PLANTED = [
    "if i pay this off will it come off my credit report",
    "is this going to hurt my credit score even more",
    "are you guys reporting this to the credit bureaus",
    "will paying it fix my credit or does it stay on there for seven years",
    "how long is this gonna show up on my credit report",
    "i need to know if this will affect my credit score because im trying to buy a house",
    "if i settle does it get marked as paid on my credit report",
    "will you delete the negative mark from my credit report if i pay",
    "my credit score dropped like a hundred points because of this collection",
    "can you take this off experian and equifax if i pay it today",
    "does paying this raise my credit score at all",
    "im applying for a mortgage and this collection is on my credit report what happens if i pay it",
    "so if i pay you today do you update the credit bureaus or do i have to dispute it myself",
    "this thing is killing my credit i cant even get a car loan",
    "um will it show as a charge off on my credit even after i pay",
    "whats this gonna do to my credit if i only pay half",
    "i got denied for an apartment because this is on my credit report",
    "can you send something to transunion saying its been paid once i pay",
]
ZH_PLANTED = [
    "我还了以后征信能不能恢复",
    "这个会不会影响我征信 我要买房的",
    "还完之后多久征信能更新",
    "征信上的逾期记录什么时候能消掉",
    "我现在征信已经花了 还能贷款买房吗",
    "你们会不会把我的逾期报到人民银行征信中心",
    "逾期记录会在征信上保留几年啊",
    "我下个月要办房贷 征信有逾期会不会批不下来",
    "能不能帮我把征信上的逾期记录删掉",
    "还了钱以后能给我开个证明去修复征信吗",
    "我这个逾期已经上征信了吗",
    "征信报告上显示的是你们银行报的吗",
    "我现在去银行贷款 说我征信有问题 是不是你们这个",
    "要是只还一部分 征信还是会显示逾期吗",
    "车贷批不下来 说是征信有逾期记录",
    "你们能不能给征信中心发个更正",
    "征信有污点以后孩子考公务员会不会受影响",
]

EN_KNOWN = {
    "cannot_afford": [
        "i lost my job last month i just dont have the money",
        "i cant afford that right now my hours got cut",
        "im on disability i cant pay that kind of money",
        "honestly i dont have it theres nothing left after rent",
        "i got laid off in september theres no way i can pay that",
        "i cant swing that right now money is really tight",
    ],
    "already_paid": [
        "i already paid that last month online",
        "i sent a check for the whole thing two weeks ago",
        "i paid that off already i have the receipt",
        "that was paid in full back in august",
    ],
}
EN_ON_SCRIPT = {  # the playbook's responses as agents say them: reworded, not read out
    "cannot_afford": [
        ("i get that money is tight right now and thanks for being honest with me can you tell me a little about "
         "what changed so i can see which options fit you"),
        ("okay lets work from what you can actually manage after rent and food and utilities what would be a "
         "realistic amount each month even a small amount is a start"),
    ],
    "already_paid": [
        ("thanks for letting me know i want to make sure that payment gets credited can you give me the date the "
         "amount and how you paid so i can look it up"),
    ],
    "credit": ["i understand your concern lets go over your options"],
}
EN_OFF_SCRIPT = [
    "well the balance is still due so what are we doing about it today",
    "okay but i need something from you today",
    "thats not really my problem the account is past due",
]
EN_IDENTITY = ["yeah this is {first}", "speaking", "yes it is", "yep thats me", "this is {first}", "uh yeah thats me"]
EN_ACKS = ["okay", "alright", "uh huh", "ok go ahead", "yeah i know", "mm hmm"]
EN_PROMISE = ["okay i can do fifty dollars on friday with my debit card",
              "alright i can pay a hundred dollars on the fifteenth by debit card",
              "fine ill pay seventy five dollars next friday with my card"]
EN_NO = ["no im still not paying anything today", "i really cant do anything right now sorry", "no not today"]

ZH_KNOWN = {
    "cannot_afford": [
        "我最近失业了 真的没钱还",
        "公司欠薪两个月了 手里一分钱都没有",
        "我现在一个月就三千块工资 房租都交不起",
        "生意亏了 现在实在拿不出钱来",
        "我手头真的很紧 一下子拿不出这么多",
    ],
    "already_paid": [
        "我上周已经还过了啊",
        "我前几天在手机银行还了五千",
        "我已经全部还了 你们查一下",
    ],
}
ZH_ON_SCRIPT = {
    "cannot_afford": [
        "我理解您现在的难处 您方便说一下现在每个月大概有多少收入 必要的开支有多少 我按您能承受的来想办法",
        "哪怕这个月只能先还一小部分也是有帮助的 您看每个月拿出多少不影响基本生活 我们就按这个数来谈",
    ],
    "already_paid": ["好的 谢谢您 麻烦您告诉我是哪天 通过什么渠道 大概还了多少 我这边马上帮您查一下入账"],
    "credit": ["您的情况我了解了 我们先看看还款的安排"],
}
ZH_OFF_SCRIPT = ["反正这个钱您今天必须得处理", "您这样拖着也不是办法 今天到底还不还"]
ZH_IDENTITY = ["是我", "对 我是", "嗯 是我 什么事", "是的 你说", "对对 我是{surname}"]
ZH_ACKS = ["哦 知道了", "嗯", "好的 你说吧", "嗯嗯", "行 你说"]
ZH_PROMISE = ["那我这周五先还五百块", "行吧 我十五号还一千", "好 那我下周一先还八百"]
ZH_NO = ["我真的还不了 你们看着办吧", "现在真的没办法", "这个月肯定还不上"]

AGENTS = {"en": [("a1", "north"), ("a2", "north"), ("a3", "south")], "zh": [("z1", "north"), ("z2", "south")]}
EN_NAMES = [("dana", "dana reyes"), ("marcus", "marcus hill"), ("lena", "lena ortiz"), ("tom", "tom becker")]
ZH_NAMES = [("张", "张伟"), ("李", "李娜"), ("王", "王强"), ("陈", "陈静")]


def _utterances(lines: list[tuple[str, str]]) -> list[dict]:
    out, clock = [], 0.0
    for speaker, text in lines:
        duration = max(1.0, len(text) / (12 if " " in text else 5))
        out.append({"speaker": speaker, "text": text, "start": round(clock, 2), "end": round(clock + duration, 2)})
        clock += duration + 0.6
    return out


def en_call(rng: random.Random, number: int, topic: str, objection: str, answer: str, promise: bool,
            when: datetime, agent: tuple[str, str]) -> dict:
    first, full = rng.choice(EN_NAMES)
    lines = [
        ("agent", f"hi this is sam with crestline recovery am i speaking with {full}"),
        ("debtor", rng.choice(EN_IDENTITY).format(first=first)),
        ("agent", ("thanks this is a communication from a debt collector and this call is recorded im calling about "
                   "your bluewater bank account with a balance of twelve hundred dollars")),
        ("debtor", rng.choice(EN_ACKS)),
        ("agent", "are you able to take care of that today"),
        ("debtor", objection),
        ("agent", answer),
        ("debtor", rng.choice(EN_PROMISE) if promise else rng.choice(EN_NO)),
    ]
    if promise:
        lines.append(("agent", "just to confirm the payment by debit card on the date you gave thank you"))
    lines.append(("agent", "thank you for your time have a good day"))
    return {"call_id": f"en-{topic}-{number:03d}", "language": "en", "started_at": when.isoformat(),
            "metadata": {"agent_id": agent[0], "team": agent[1], "local_time": "11:00", "balance": 1200.0},
            "utterances": _utterances(lines)}


def zh_call(rng: random.Random, number: int, topic: str, objection: str, answer: str, promise: bool,
            when: datetime, agent: tuple[str, str]) -> dict:
    surname, full = rng.choice(ZH_NAMES)
    lines = [
        ("agent", f"您好 我是锦程银行信用卡中心的王敏 请问是{full}吗"),
        ("debtor", rng.choice(ZH_IDENTITY).format(surname=surname)),
        ("agent", "您好 您尾号三七二一的信用卡已经逾期 欠款一万二千元 本次通话会录音"),
        ("debtor", rng.choice(ZH_ACKS)),
        ("agent", "请问您今天能处理一下吗"),
        ("debtor", objection),
        ("agent", answer),
        ("debtor", rng.choice(ZH_PROMISE) if promise else rng.choice(ZH_NO)),
    ]
    if promise:
        lines.append(("agent", "好的 跟您确认一下 按您说的日期和金额还款 谢谢"))
    lines.append(("agent", "感谢您的接听 再见"))
    return {"call_id": f"zh-{topic}-{number:03d}", "language": "zh", "started_at": when.isoformat(),
            "metadata": {"agent_id": agent[0], "team": agent[1], "local_time": "11:00", "balance": 12000.0},
            "utterances": _utterances(lines)}


def transcripts(seed: int = 7) -> list[dict]:
    """The calls as transcript documents (the JSON `coach review` reads)."""
    rng = random.Random(seed)
    out: list[dict] = []
    number = 0

    def day(week: int) -> datetime:
        return FIRST_MONDAY + timedelta(days=7 * week + rng.randrange(5), hours=rng.randrange(6))

    for language, build, known, on_script, off_script, planted, planted_weeks in (
        ("en", en_call, EN_KNOWN, EN_ON_SCRIPT, EN_OFF_SCRIPT, EN_PLANTED, (2, 3)),
        ("zh", zh_call, ZH_KNOWN, ZH_ON_SCRIPT, ZH_OFF_SCRIPT, ZH_PLANTED, (3,)),
    ):
        agents = AGENTS[language]
        for intent, lines in known.items():
            for index, objection in enumerate(lines * 2):
                number += 1
                scripted = index % 3 != 2  # two in three on script
                answer = rng.choice(on_script[intent]) if scripted else rng.choice(off_script)
                promise = rng.random() < (0.7 if scripted else 0.2)
                out.append(build(rng, number, intent, objection, answer, promise, day(rng.randrange(WEEKS)),
                                 agents[index % len(agents)]))
        for index, objection in enumerate(planted):
            number += 1
            answer = rng.choice(on_script["credit"] + off_script)
            out.append(build(rng, number, "credit", objection, answer, rng.random() < 0.4,
                             day(rng.choice(planted_weeks)), agents[index % len(agents)]))
    return out


def store_calls(store, engines: dict) -> list[str]:
    """Review every transcript with the real engine of its language and store it; the call ids."""
    ids = []
    for document in transcripts():
        call = Call.model_validate(document)
        reviewed = review_transcript(call, engines[call.language])
        ids.append(store_review(store, reviewed, source="cli"))
    return ids


_BUILT: dict[str, object] = {}


def stored_database(engines: dict, folder) -> str:
    """An SQLite URL of a database holding every call, in ``folder``: copied from one built once per
    test process (reviewing the calls is the slow part, and mining only reads)."""
    import shutil
    import tempfile
    from pathlib import Path

    from coach.config import Settings
    from coach.storage import CallStore

    if "path" not in _BUILT:
        import atexit

        built = Path(tempfile.mkdtemp(prefix="coach-mining-calls-")) / "calls.db"
        atexit.register(shutil.rmtree, built.parent, ignore_errors=True)  # no folder left behind in /tmp
        store = CallStore(f"sqlite:///{built}", Settings(data_dir=built.parent))
        store_calls(store, engines)
        store.close()
        _BUILT["path"] = built
    target = Path(folder) / "coach.db"
    shutil.copyfile(_BUILT["path"], target)
    return f"sqlite:///{target}"
