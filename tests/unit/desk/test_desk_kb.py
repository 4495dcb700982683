"""Knowledge base: the shipped articles load, BM25 over jieba tokens ranks the right one first."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.kb import Bm25, load_kb, tokenize
from desk.ports import LINES
from hotline.yamlconf import ConfigError
from tests.unit.desk.conftest import PROJECT

KB = load_kb(PROJECT / "config" / "kb")


def test_shipped_articles_cover_every_line() -> None:
    assert len(KB.articles) >= 15
    assert {a.line for a in KB.articles} == set(LINES) - {"police_110"}
    assert all(a.answer and a.keywords for a in KB.articles)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("俺们小区物业费今年又涨了 物业公司乱收费", "prop-001"),
        ("电梯 坏了 把人困在里面了", "prop-002"),
        ("老板拖欠我们三个月工资不发", "hr-001"),
        ("网上买的衣服 商家不给退货", "mkt-001"),
        ("老公 打我 我想申请人身安全保护令", "wom-001"),
        ("我想开个公司 办营业执照需要什么", "ent-001"),
        ("楼下饭店 吃了以后拉肚子 食物中毒", "mkt-002"),
        ("晚上工地一直施工 噪音 吵得睡不着", "gen-002"),
        ("怀孕以后被公司辞退了", "wom-002"),
        ("身份证丢了 怎么补办", "gen-001"),
    ],
)
def test_search_ranks_the_right_article_first(text: str, expected: str) -> None:
    hits = KB.search(text, 3)
    assert hits and hits[0].article.id == expected, [(h.article.id, h.score) for h in hits]


def test_line_boost_and_no_match() -> None:
    plain = KB.search("拖欠 款项", 5)
    boosted = KB.search("拖欠 款项", 5, line="enterprise")
    assert boosted[0].article.line == "enterprise"
    assert {h.article.id for h in plain} >= {"ent-003"}
    assert KB.search("zzzz qqqq") == []


def test_tokenize_drops_fillers_and_particles() -> None:
    words = tokenize("嗯 那个 我想问一下 物业费 怎么办")
    assert "物业费" in words and "物业" in words
    assert not {"嗯", "那个", "的", "怎么办"} & set(words)


def test_bm25_prefers_rare_terms_and_short_documents() -> None:
    bm = Bm25([["a", "b"], ["a", "c"], ["a", "b", "x", "y", "z", "w"]])
    s = bm.scores(["b"])
    assert s[1] == 0
    assert s[0] > s[2] > 0  # same term count, the shorter document wins
    assert bm.scores(["c"])[1] > bm.scores(["a"])[1]  # the rarer term weighs more


def test_bad_kb_file_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "articles:\n  - id: x-1\n    title: 标题\n    line: moon\n    answer: 答复\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text(
        "articles:\n  - id: x-2\n    title: 标题\n    line: general\n    answer: 答复\n"
        "  - id: x-2\n    title: 又一个\n    line: general\n    answer: 答复\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_kb(tmp_path)
    text = str(caught.value)
    assert "a.yaml:4: 未知线路: moon" in text
    assert "b.yaml:6: 文章编号重复: x-2" in text
