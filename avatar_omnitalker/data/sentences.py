"""The corpus's own text source: English, Mandarin and code-switched Mandarin (English words
inside Mandarin sentences, as Chinese speakers talk about work and daily life) from small grammars.

Thousands of distinct sentences over a closed vocabulary: broad phonetic coverage for training.
Every 10th sentence of each language is held out; evaluation itself uses sentences written
outside these grammars (eval/heldout/), heard by a free-vocabulary recogniser. The code-switched
grammar uses none of the English words of the held-out mixed sentences, so the evaluation hears
every one of them for the first time.
"""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

NAMES = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Lucy",
    "Mark",
    "Nora",
    "Oscar",
    "Paul",
    "Rita",
    "Sam",
    "Tom",
    "Vera",
    "Will",
]
VERBS = [
    "found",
    "painted",
    "cleaned",
    "carried",
    "opened",
    "bought",
    "sold",
    "moved",
    "fixed",
    "watched",
    "washed",
    "checked",
    "brought",
    "dropped",
    "kept",
    "liked",
    "showed",
    "wanted",
    "lost",
    "made",
]
ADJECTIVES = [
    "big",
    "small",
    "red",
    "green",
    "blue",
    "old",
    "new",
    "heavy",
    "bright",
    "quiet",
    "yellow",
    "warm",
    "cold",
    "round",
    "clean",
    "broken",
    "simple",
    "strange",
    "lovely",
    "huge",
]
NOUNS = [
    "box",
    "chair",
    "table",
    "window",
    "garden",
    "boat",
    "letter",
    "picture",
    "lamp",
    "door",
    "basket",
    "bottle",
    "jacket",
    "ladder",
    "kettle",
    "piano",
    "wagon",
    "mirror",
    "bucket",
    "camera",
    "pillow",
    "blanket",
    "engine",
    "rocket",
    "shovel",
    "violin",
    "wallet",
    "rabbit",
    "puppy",
    "kitten",
]
TIMES = [
    "today",
    "yesterday",
    "this morning",
    "last night",
    "on Monday",
    "in the evening",
    "at noon",
    "before lunch",
    "after dinner",
    "last week",
]
PLACES = ["kitchen", "station", "library", "market", "office", "village", "harbor", "museum", "school", "park"]
QUESTION_STARTS = ["Did you see", "Where is", "Can you find", "Who took", "Why is", "Have you seen"]

ZH_NAMES = ["小明", "小红", "老王", "张老师", "李医生", "王阿姨", "我哥哥", "她妹妹", "我们", "他们", "我朋友", "小李"]
ZH_TIMES = ["今天", "明天", "昨天", "早上", "晚上", "周末", "下午", "中午", "每天", "去年"]
ZH_PLACES = ["公园", "学校", "图书馆", "超市", "医院", "饭店", "车站", "家里", "办公室", "博物馆", "海边", "山上"]
ZH_ACTIONS = [
    "看书",
    "吃饭",
    "喝茶",
    "买水果",
    "写信",
    "唱歌",
    "跑步",
    "画画",
    "打电话",
    "学中文",
    "休息",
    "开会",
    "听音乐",
    "散步",
    "做饭",
    "拍照",
]
ZH_QUESTIONS = ["你{t}想去{p}吗？", "{n}{t}在{p}做什么？", "{n}为什么{t}去{p}？"]
# English words Chinese speakers commonly drop into Mandarin
MIXED_NOUNS = [
    "app", "party", "video", "report", "game", "photo", "menu", "schedule", "password", "update",
    "feedback", "demo", "budget", "concert", "pizza", "coffee", "taxi", "hotel", "ticket", "website",
    "message", "team", "interview", "course",
]  # fmt: skip
MIXED_ADJECTIVES = ["cool", "nice", "busy", "easy", "crazy", "perfect", "fancy", "random", "boring", "funny"]
MIXED_TEMPLATES = [
    "{n}{t}在{p}看了一个{e}。",
    "{n}{t}要在{p}准备一个新的{e}。",
    "{n}{t}在{p}把{e}发给你了。",
    "你{t}在{p}有没有看到{n}的{e}？",
]
MIXED_OPINIONS = ["我觉得{n}的{e}有点{a}。", "{n}{t}的{e}真的很{a}。"]


def _english() -> list[str]:
    out: set[str] = set()
    for name, verb, adj, noun, time in itertools.product(NAMES, VERBS, ADJECTIVES[:10], NOUNS[:15], TIMES[:4]):
        out.add(f"{name} {verb} the {adj} {noun} {time}.")
    for start, adj, noun, place in itertools.product(QUESTION_STARTS, ADJECTIVES, NOUNS, PLACES[:4]):
        out.add(f"{start} the {adj} {noun} near the {place}?")
    for name, verb, noun, place, time in itertools.product(NAMES[:8], VERBS[:10], NOUNS[15:], PLACES, TIMES[4:]):
        out.add(f"{name} {verb} a {noun} at the {place} {time}, and then went home.")
    return sorted(out)


def _chinese() -> list[str]:
    out: set[str] = set()
    for n, t, p, a in itertools.product(ZH_NAMES, ZH_TIMES, ZH_PLACES, ZH_ACTIONS):
        out.add(f"{n}{t}在{p}{a}。")
    for q, n, t, p in itertools.product(ZH_QUESTIONS, ZH_NAMES, ZH_TIMES, ZH_PLACES):
        out.add(q.format(n=n, t=t, p=p))
    return sorted(out)


def _mixed() -> list[str]:
    out: set[str] = set()
    for template, n, t, p, e in itertools.product(MIXED_TEMPLATES, ZH_NAMES, ZH_TIMES, ZH_PLACES[:6], MIXED_NOUNS):
        out.add(template.format(n=n, t=t, p=p, e=e))
    for template, n, t, e, a in itertools.product(MIXED_OPINIONS, ZH_NAMES, ZH_TIMES, MIXED_NOUNS, MIXED_ADJECTIVES):
        out.add(template.format(n=n, t=t, e=e, a=a))
    return sorted(out)


GRAMMARS = {"en": _english, "zh": _chinese, "mixed": _mixed}


@lru_cache(maxsize=8)
def sentences(lang: str, split: str = "all") -> tuple[str, ...]:
    """Distinct sentences of `lang` ('en' | 'zh' | 'mixed': Mandarin with English words) in a fixed
    shuffled order; split 'train' | 'test' | 'all'."""
    if lang not in GRAMMARS:
        raise ValueError(f"unknown language {lang!r}: one of {sorted(GRAMMARS)}")
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown split {split!r}")
    pool = GRAMMARS[lang]()
    random.Random(f"sentences-{lang}").shuffle(pool)
    if split == "all":
        return tuple(pool)
    return tuple(s for i, s in enumerate(pool) if (i % 10 == 9) == (split == "test"))


def english_vocabulary() -> list[str]:
    """Every English word the grammar can produce (upper case)."""
    words: set[str] = set()
    for s in sentences("en"):
        words.update(w.strip(".,?!").upper() for w in s.split())
    return sorted(words)
