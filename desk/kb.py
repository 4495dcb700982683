"""The knowledge base (亳事通): Chinese articles from `config/kb/*.yaml`, ranked with BM25.

Documents and queries are cut into words with jieba (search mode, so 物业费 also
yields 物业). Title and keywords are repeated into the indexed text because a match
there says more than a match somewhere in a long answer. The index is built once
at start-up, off the event loop (jieba's dictionary takes about a second to load).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba

from desk.ports import LINES
from hotline.yamlconf import ConfigError, ConfigIssue, Located, load_yaml

# Words that carry no meaning for retrieval: particles, pronouns, fillers callers use.
_STOPWORDS_TEXT = """
的 了 是 我 你 他 她 它 们 在 有 和 与 及 或 也 都 就 要 想
把 被 给 对 从 向 这 那 个 吗 呢 吧 啊 嗯 呃 那个 这个 就是
然后 一下 一个 什么 怎么 怎么办 如何 可以 能 会 不 没 没有 还 又
请问 请 您 咱 俺 哪 问 说 一 上 下 里 去 来 到 过 着 为 以
及其 等 如果 需要
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    line: str
    keywords: tuple[str, ...]
    answer: str
    source: str = ""  # file:line, shown to administrators


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float


def tokenize(text: str) -> list[str]:
    words = []
    for word in jieba.cut_for_search(text):
        word = word.strip().lower()
        if not word or word in STOPWORDS:
            continue
        if len(word) == 1 and not word.isalnum():
            continue
        words.append(word)
    return words


class Bm25:
    """Okapi BM25 over pre-tokenised documents (k1 and b as in the literature)."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self._k1 = k1
        self._b = b
        self._tf = [Counter(d) for d in docs]
        self._len = [len(d) for d in docs]
        self._avg = (sum(self._len) / len(docs)) if docs else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(docs)
        self._idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def scores(self, query: Iterable[str]) -> list[float]:
        terms = [t for t in set(query) if t in self._idf]
        out = []
        for tf, length in zip(self._tf, self._len, strict=True):
            s = 0.0
            norm = (
                self._k1 * (1 - self._b + self._b * length / self._avg) if self._avg else self._k1
            )
            for t in terms:
                f = tf.get(t, 0)
                if f:
                    s += self._idf[t] * f * (self._k1 + 1) / (f + norm)
            out.append(s)
        return out


class KnowledgeBase:
    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = list(articles)
        self._by_id = {a.id: a for a in self.articles}
        docs = [
            tokenize(" ".join([a.title] * 2 + list(a.keywords) * 3 + [a.answer]))
            for a in self.articles
        ]
        self._bm25 = Bm25(docs)

    def get(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def search(self, text: str, limit: int = 5, line: str | None = None) -> list[Hit]:
        """Best articles for `text`; an article of the ticket's `line` gets a small boost."""
        scores = self._bm25.scores(tokenize(text))
        hits = []
        for article, score in zip(self.articles, scores, strict=True):
            if score <= 0:
                continue
            if line and article.line == line:
                score *= 1.2
            hits.append(Hit(article, round(score, 3)))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]


def _article(doc: Located, i: int, raw: object, issues: list[ConfigIssue]) -> Article | None:
    where: tuple[str | int, ...] = ("articles", i)
    if not isinstance(raw, Mapping):
        issues.append(doc.issue(where, "每篇文章应为映射", "each article must be a mapping"))
        return None
    missing = [k for k in ("id", "title", "line", "answer") if not isinstance(raw.get(k), str)]
    if missing:
        issues.append(
            doc.issue(
                where,
                f"缺少字段或不是文本: {', '.join(missing)}",
                f"missing or not text: {', '.join(missing)}",
            )
        )
        return None
    if raw["line"] not in LINES:
        issues.append(
            doc.issue((*where, "line"), f"未知线路: {raw['line']}", f"unknown line: {raw['line']}")
        )
        return None
    keywords = raw.get("keywords", [])
    # A bare number such as 12333 is a keyword too (YAML reads it as an integer).
    if not isinstance(keywords, list) or not all(isinstance(k, str | int) for k in keywords):
        issues.append(
            doc.issue(
                (*where, "keywords"), "keywords 应为文本列表", "keywords must be a list of text"
            )
        )
        return None
    return Article(
        raw["id"],
        raw["title"],
        raw["line"],
        tuple(str(k) for k in keywords),
        raw["answer"].strip(),
        f"{doc.file}:{doc.line_of(*where)}",
    )


def load_kb(folder: Path) -> KnowledgeBase:
    """Every `*.yaml` in `folder`; all problems in all files reported together."""
    issues: list[ConfigIssue] = []
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = load_yaml(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        items = doc.value.get("articles") if isinstance(doc.value, Mapping) else None
        if not isinstance(items, list):
            issues.append(doc.issue((), "应包含 articles: 列表", "expected an 'articles:' list"))
            continue
        for i, raw in enumerate(items):
            article = _article(doc, i, raw, issues)
            if article is None:
                continue
            if article.id in seen:
                issues.append(
                    doc.issue(
                        ("articles", i, "id"),
                        f"文章编号重复: {article.id} (另见 {seen[article.id]})",
                        f"duplicate article id: {article.id} (also {seen[article.id]})",
                    )
                )
                continue
            seen[article.id] = article.source
            articles.append(article)
    if issues:
        raise ConfigError(issues)
    return KnowledgeBase(articles)
