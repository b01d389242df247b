"""The corpus's own text source: English, Mandarin and code-switched Mandarin (English words
inside Mandarin sentences, as Chinese speakers talk about work and daily life) from small grammars.

Thousands of distinct sentences over a closed vocabulary: broad phonetic coverage for training.
Every 10th sentence of each language is held out; evaluation itself uses sentences written
outside these grammars (eval/heldout/), heard by a free-vocabulary recogniser, and the words the
grammars add in version 2 avoid the held-out sentences' words.

Versions (a corpus records its own): 1 is what the shipped model and the README's measured corpora
were made from; 2 adds sentence shapes and words for the phoneme transitions version 1 never says
(Mandarin 1 has no 的 or 了), and the code-switched grammar.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from functools import lru_cache

from avatar_omnitalker.data.splits import HELD_OUT, SPLITS

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

# version 2 (no content word here is in eval/heldout/en.txt)
NAMES_2 = [
    "Oliver", "Sophie", "Jasmine", "Victor", "Zachary", "Yvonne", "Hugo", "Chloe", "Quentin", "Beatrice",
    "Theodore", "Ursula", "Kevin", "Judith", "Xavier", "Roger", "Isabel", "George",
]  # fmt: skip
VERBS_2 = [
    "collected", "stitched", "squeezed", "polished", "scratched", "juggled", "rescued", "borrowed", "ordered",
    "measured", "wrapped", "chased", "splashed", "judged", "shouted", "whispered", "noticed", "pushed",
]  # fmt: skip
VERBS_BASE_2 = [
    "fetch", "polish", "measure", "borrow", "squeeze", "wrap", "sketch", "stretch", "scrub", "shift",
    "lift", "hide", "throw", "choose", "share", "rinse", "tighten", "loosen", "mend", "judge",
]  # fmt: skip
NUMBERS_2 = ["five", "six", "seven", "eight", "eleven", "twelve", "twenty", "seventy", "forty", "fifty", "sixty"]
PLURALS_2 = [
    "oranges", "spoons", "whistles", "envelopes", "pencils", "ribbons", "sandwiches", "crayons", "cushions",
    "marbles", "saucers", "feathers", "thimbles", "oysters", "zippers", "vouchers", "toothbrushes", "jigsaws",
]  # fmt: skip
NOUNS_2 = [
    "spoon", "whistle", "envelope", "pencil", "ribbon", "sandwich", "cushion", "saucer", "feather",
    "thermometer", "sculpture", "zipper", "suitcase", "toothbrush", "trophy", "mattress", "necklace", "vase",
    "jigsaw", "thimble",
]  # fmt: skip
ADJECTIVES_2 = [
    "smooth", "sticky", "thick", "thin", "shiny", "fuzzy", "crooked", "gorgeous", "awkward", "dusty",
    "squeaky", "purple", "orange", "golden", "frozen", "tangled", "gentle", "vivid", "clumsy", "glossy",
]  # fmt: skip
PLACES_2 = [
    "theater", "gymnasium", "pharmacy", "warehouse", "courtyard", "garage", "stadium", "cathedral",
    "barbershop", "greenhouse", "dormitory", "attic", "cellar", "pavilion", "zoo",
]  # fmt: skip
PREPOSITIONS_2 = ["behind", "beside", "under", "inside", "beyond", "through", "toward", "among"]
ADVERBS_2 = ["quickly", "loudly", "gently", "angrily", "eagerly", "slowly", "proudly", "shyly", "bravely", "boldly"]
ZH_NUMBERS_2 = ["一", "两", "三", "四", "五", "六", "七", "八", "九"]
ZH_MEASURED_2 = {  # measure word -> things counted with it
    "本": ["杂志", "词典", "画册"],
    "个": ["苹果", "面包", "西瓜"],
    "条": ["鱼", "裤子", "围巾"],
    "张": ["桌子", "地图", "照片"],
    "杯": ["咖啡", "牛奶", "果汁"],
    "件": ["衣服", "外套", "衬衫"],
    "双": ["鞋", "筷子", "袜子"],
    "辆": ["汽车", "卡车", "摩托车"],
}
ZH_THINGS_2 = ["房间", "公园", "菜", "帽子", "花园", "城市", "节目", "游戏", "杯子", "椅子", "手表", "故事"]
ZH_DEGREES_2 = ["很", "非常", "特别", "有点", "真"]
ZH_QUALITIES_2 = ["好看", "便宜", "干净", "安静", "舒服", "新鲜", "重要", "简单", "奇怪", "可爱", "漂亮"]
ZH_ROLES_2 = ["厨师", "警察", "经理", "学生", "护士", "记者", "律师", "服务员", "工程师", "老板"]
ZH_REASONS_2 = ["天气太冷了", "路上人太多", "他还没吃饭", "作业还没写完", "外面在刮大风", "身体不舒服"]
ZH_OBJECTS_2 = [
    "钥匙", "眼镜", "钱包", "帽子", "书包", "杯子", "照相机", "信封", "报纸", "药", "蛋糕", "花", "盒子", "钢笔", "碗",
]  # fmt: skip
ZH_SURFACES_2 = ["桌子", "椅子", "床", "窗台", "柜子", "地板"]


def _pick(k: int, seed: str, slots: tuple[list, ...]) -> list[tuple]:
    """k distinct combinations of one word per slot, drawn evenly from their whole product without
    listing it (an index in the product, read digit by digit)."""
    sizes = [len(slot) for slot in slots]
    total = math.prod(sizes)
    out = []
    for index in random.Random(seed).sample(range(total), min(k, total)):
        words = []
        for slot, size in zip(reversed(slots), reversed(sizes)):
            index, digit = divmod(index, size)
            words.append(slot[digit])
        out.append(tuple(reversed(words)))
    return out


def _english(version: int) -> list[str]:
    out: set[str] = set()
    for name, verb, adj, noun, time in itertools.product(NAMES, VERBS, ADJECTIVES[:10], NOUNS[:15], TIMES[:4]):
        out.add(f"{name} {verb} the {adj} {noun} {time}.")
    for start, adj, noun, place in itertools.product(QUESTION_STARTS, ADJECTIVES, NOUNS, PLACES[:4]):
        out.add(f"{start} the {adj} {noun} near the {place}?")
    for name, verb, noun, place, time in itertools.product(NAMES[:8], VERBS[:10], NOUNS[15:], PLACES, TIMES[4:]):
        out.add(f"{name} {verb} a {noun} at the {place} {time}, and then went home.")
    if version >= 2:
        shapes = [
            ("{} {} {} {} {} the {}.", (NAMES_2, VERBS_2, NUMBERS_2, PLURALS_2, PREPOSITIONS_2, PLACES_2)),
            ("Would you {} the {} {} for {}?", (VERBS_BASE_2, ADJECTIVES_2, NOUNS_2, NAMES_2)),
            ("{} says the {} in the {} looks {}.", (NAMES_2, NOUNS_2, PLACES_2, ADJECTIVES_2)),
            ("Why did {} {} {} {} so {}?", (NAMES_2, VERBS_BASE_2, ["his", "her", "their"], NOUNS_2, ADVERBS_2)),
        ]
        for k, (shape, slots) in enumerate(shapes):  # together about as many as version 1 has
            out.update(shape.format(*words) for words in _pick(75_000, f"en-2-{k}", slots))
    return sorted(out)


def _chinese(version: int) -> list[str]:
    out: set[str] = set()
    for n, t, p, a in itertools.product(ZH_NAMES, ZH_TIMES, ZH_PLACES, ZH_ACTIONS):
        out.add(f"{n}{t}在{p}{a}。")
    for q, n, t, p in itertools.product(ZH_QUESTIONS, ZH_NAMES, ZH_TIMES, ZH_PLACES):
        out.add(q.format(n=n, t=t, p=p))
    if version >= 2:
        counted = [(m, thing) for m, things in ZH_MEASURED_2.items() for thing in things]
        for n, t, k, (m, thing) in _pick(12_000, "zh-2-0", (ZH_NAMES, ZH_TIMES, ZH_NUMBERS_2, counted)):
            out.add(f"{n}{t}买了{k}{m}{thing}。")
        for n, thing, d, q in itertools.product(ZH_NAMES, ZH_THINGS_2, ZH_DEGREES_2, ZH_QUALITIES_2):
            out.add(f"{n}觉得这个{thing}{d}{q}。")
        for n, p, role in itertools.product(ZH_NAMES, ZH_PLACES, ZH_ROLES_2):
            out.add(f"{n}是{p}的{role}。")
        for n, t, p, why in itertools.product(ZH_NAMES, ZH_TIMES, ZH_PLACES, ZH_REASONS_2):
            out.add(f"{n}不想{t}去{p}，因为{why}。")
        for n, thing, where in itertools.product(ZH_NAMES, ZH_OBJECTS_2, ZH_SURFACES_2):
            out.add(f"{n}把{thing}放在{where}上了。")
        for n, t in itertools.product(ZH_NAMES, ZH_TIMES):
            out.add(f"你知道{n}{t}为什么没有来吗？")
    return sorted(out)


def _mixed(version: int) -> list[str]:
    if version < 2:
        return []
    out: set[str] = set()
    for template, n, t, p, e in itertools.product(MIXED_TEMPLATES, ZH_NAMES, ZH_TIMES, ZH_PLACES[:6], MIXED_NOUNS):
        out.add(template.format(n=n, t=t, p=p, e=e))
    for template, n, t, e, a in itertools.product(MIXED_OPINIONS, ZH_NAMES, ZH_TIMES, MIXED_NOUNS, MIXED_ADJECTIVES):
        out.add(template.format(n=n, t=t, e=e, a=a))
    return sorted(out)


GRAMMARS = {"en": _english, "zh": _chinese, "mixed": _mixed}


TEXT_VERSION = 2  # what new corpora are made from; a released version's sentences never change (tested)
TEXT_VERSIONS = (1, 2)


@lru_cache(maxsize=16)
def sentences(lang: str, split: str = "all", version: int = TEXT_VERSION) -> tuple[str, ...]:
    """Distinct sentences of `lang` ('en' | 'zh' | 'mixed': Mandarin with English words, version 2
    on) in a fixed shuffled order; split TRAIN | HELD_OUT | 'all'."""
    if lang not in GRAMMARS:
        raise ValueError(f"unknown language {lang!r}: one of {sorted(GRAMMARS)}")
    check_split(split)
    if version not in TEXT_VERSIONS:
        raise ValueError(f"unknown text version {version!r}: one of {TEXT_VERSIONS}")
    pool = GRAMMARS[lang](version)
    random.Random(f"sentences-{lang}" if version == 1 else f"sentences-{lang}-{version}").shuffle(pool)
    return split_of(pool, split)


def check_split(split: str) -> None:
    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}")


def split_of(pool: Sequence[str], split: str) -> tuple[str, ...]:
    """Every 10th sentence of a pool is the test split: the one rule for grammars and open text."""
    check_split(split)
    if split == "all":
        return tuple(pool)
    return tuple(s for i, s in enumerate(pool) if (i % 10 == 9) == (split == HELD_OUT))


def english_vocabulary(version: int = TEXT_VERSION) -> list[str]:
    """Every English word the grammar can produce (upper case)."""
    words: set[str] = set()
    for s in sentences("en", "all", version):
        words.update(w.strip(".,?!").upper() for w in s.split())
    return sorted(words)
