"""Golden tests of the takedown judgement on real WeChat and portal pages (crawler.parsing.takedown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsing.takedown import (
    WECHAT_NOTICES,
    Inconclusive,
    Takedown,
    WeChatNotice,
    detect,
    page_state,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "pages"
WECHAT = CORPUS / "wechat"
ARTICLE_URL = "https://mp.weixin.qq.com/s/P9cMowFQ-QahLRnfHponKw"

GOLDEN = {
    "wae_deleted_01.html": Takedown("wechat_deleted_by_author", "该内容已被发布者删除"),
    "wae_violation_01.html": Takedown("wechat_violation", "此内容因违规无法查看"),
    "wae_unavailable_01.html": Takedown("wechat_unavailable", "该内容暂时无法查看"),
    "wechatsogou_expired_link.html": Inconclusive("link_expired", "链接已过期", retry=False),
    "j-lab-10404_wechat_article_verify.html": Inconclusive("anti_bot", "环境异常"),
}
ARTICLES = sorted(p.name for p in WECHAT.glob("*.html") if p.name not in GOLDEN and "param_error" not in p.name)


def _page(name: str) -> bytes:
    path = WECHAT / name
    if not path.exists():
        pytest.skip(f"corpus page {name} not present")
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_wechat_state_pages(name: str) -> None:
    assert page_state(ARTICLE_URL, 200, _page(name), {}) == GOLDEN[name]


@pytest.mark.parametrize("name", ARTICLES)
def test_real_articles_are_not_takedowns(name: str) -> None:
    assert page_state(ARTICLE_URL, 200, _page(name), {}) is None


def test_an_article_quoting_every_marker_is_not_a_takedown() -> None:
    page = _page("wae_normal_01.html").decode("utf-8")
    quoted = "".join(f"<p>网友截图显示“{m}”。</p>" for m in ("该内容已被发布者删除", "此内容因违规无法查看", "环境异常"))
    page = page.replace('id="js_content"', 'id="js_content"', 1)
    start = page.index('id="js_content"')
    close = page.index(">", start) + 1
    page = page[:close] + quoted + page[close:]
    assert page_state(ARTICLE_URL, 200, page.encode("utf-8"), {}) is None


def test_a_marker_only_in_the_title_is_not_a_takedown() -> None:
    page = "<html><head><title>此内容因违规无法查看</title></head><body><div id='js_content'></div></body></html>"
    assert page_state(ARTICLE_URL, 200, page.encode(), {}) is None


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("此内容被投诉且经审核涉嫌侵权，无法查看。", "wechat_complaint"),
        ("此帐号已被屏蔽, 内容无法查看", "wechat_account_blocked"),
        ("此账号已被屏蔽, 内容无法查看", "wechat_account_blocked"),
        ("此帐号已自主注销，内容无法查看", "wechat_account_closed"),
        ("根据作者隐私设置，无法查看该内容", "wechat_privacy"),
    ],
)
def test_other_wechat_notices(marker: str, reason: str) -> None:
    page = _page("wae_violation_01.html").decode("utf-8").replace("此内容因违规无法查看", marker)
    found = detect(ARTICLE_URL, 200, page.encode("utf-8"), {})
    assert found is not None and found.reason == reason


def test_migrated_account_records_the_new_address() -> None:
    page = (
        _page("wae_violation_01.html").decode("utf-8").replace("此内容因违规无法查看", "该公众号已迁移")
        + "<script>var transferTargetLink = 'https://mp.weixin.qq.com/s?__biz=NEW&amp;mid=2';</script>"
    )
    found = detect(ARTICLE_URL, 200, page.encode("utf-8"), {})
    assert found == Takedown("wechat_account_migrated", "该公众号已迁移", "https://mp.weixin.qq.com/s?__biz=NEW&mid=2")


@pytest.mark.parametrize("status", [404, 410])
def test_gone_statuses(status: int) -> None:
    assert detect("https://news.example.cn/a/1.html", status, b"", {}) == Takedown(
        f"http_{status}", f"HTTP {status} from https://news.example.cn/a/1.html"
    )


@pytest.mark.parametrize("status", [429, 500, 503, 403])
def test_errors_and_rate_limits_are_retried_not_takedowns(status: int) -> None:
    state = page_state("https://news.example.cn/a/1.html", status, b"", {})
    assert isinstance(state, Inconclusive) and state.retry


@pytest.mark.parametrize(
    ("final", "gone"),
    [
        ("https://news.example.cn/", True),
        ("https://news.example.cn/index.html", True),
        ("https://news.example.cn/world/", True),
        ("https://news.example.cn/list/3.html", True),
        ("https://news.example.cn/2024/11/29/a-moved.html", False),
        ("https://other.example.org/", False),
    ],
)
def test_redirects(final: str, gone: bool) -> None:
    state = page_state(final, 200, b"<html><body>x</body></html>", {}, requested_url="https://news.example.cn/2024/11/29/a.html")
    assert isinstance(state, Takedown) is gone


def test_captcha_address_is_retried() -> None:
    state = page_state("https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?poc_token=x", 200, b"", {})
    assert state == Inconclusive("anti_bot", "captcha address https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?poc_token=x")


def test_portal_soft_404_but_not_an_article_mentioning_it() -> None:
    error = "<html><body><div class='nav'>首页 国际</div><h1>对不起，您访问的页面不存在</h1></body></html>"
    assert detect("https://news.example.cn/a.html", 200, error.encode(), {}) == Takedown("soft_404", "页面不存在")
    article = "<html><body><article><h1>报道</h1><p>" + "网站称页面不存在。" * 40 + "</p></article></body></html>"
    assert detect("https://news.example.cn/a.html", 200, article.encode(), {}) is None


def test_real_portal_pages_are_not_takedowns() -> None:
    pages = sorted((CORPUS / "portal").glob("*.html"))
    if not pages:
        pytest.skip("no portal corpus pages")
    wrong = [p.name for p in pages if detect("https://news.example.cn/a/1.html", 200, p.read_bytes(), {})]
    assert wrong == []


@pytest.mark.parametrize("notice", WECHAT_NOTICES, ids=lambda n: n.reason + ":" + n.marker)
def test_the_wechat_parser_and_the_revisit_read_one_table_alike(notice: WeChatNotice) -> None:
    from datetime import UTC, datetime

    from crawler.parsing import NotAnArticle, parse
    from crawler.parsing.page import TAKEDOWN, RawPage

    body = _page("wae_violation_01.html").decode("utf-8").replace("此内容因违规无法查看", notice.marker).encode("utf-8")
    with pytest.raises(NotAnArticle) as refusal:
        parse(RawPage(url=ARTICLE_URL, body=body, outlet="wechat", fetched_at=datetime(2026, 11, 29, tzinfo=UTC)), "wechat")
    assert (refusal.value.kind, refusal.value.reason) == (notice.kind, notice.description)
    state = page_state(ARTICLE_URL, 200, body, {})
    if notice.kind == TAKEDOWN:
        assert state == Takedown(notice.reason, notice.marker)
    elif notice.reason in ("anti_bot", "link_expired"):
        assert isinstance(state, Inconclusive) and state.reason == notice.reason
    else:  # an error about the request: no judgement on the article
        assert state is None
