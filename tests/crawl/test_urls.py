"""crawler.urls: one canonical key per article, and no secrets in any URL we keep."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from crawler.urls import (
    SECRET_PARAMS,
    TRACKING_PARAMS,
    canonical_url,
    registrable_domain,
    same_site,
    strip_secrets,
)

BIZ = "MzI2MzEwNTY3OQ=="
SN = "dd091611fcf1aa0c2aef9655f13e7731"
WX = f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=2648978231&idx=1&sn={SN}"
RFI = ("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/"
       "20231108-%E5%BC%A0%E5%8F%88%E4%BE%A0%E4%BB%8A%E8%A7%81%E6%99%AE%E4%BA%AC")
SINA = "https://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml"

# Each row: (what is folded, canonical form, variants that must all give it).
FOLDS = [
    ("scheme and host case, http→https, default port", "https://www.example.com/a/b", [
        "https://www.example.com/a/b",
        "HTTPS://WWW.EXAMPLE.COM/a/b",
        "http://www.example.com/a/b",
        "http://www.example.com:80/a/b",
        "https://www.example.com:443/a/b",
        "https://www.example.com./a/b",
        "  https://www.example.com/a/b\n",
    ]),
    ("fragments", "https://www.example.com/a", [
        "https://www.example.com/a#top",
        "https://www.example.com/a#",
        "https://www.example.com/a?#comments",
    ]),
    ("trailing slash and dot segments", "https://www.example.com/a/b", [
        "https://www.example.com/a/b/",
        "https://www.example.com/a/b//",
        "https://www.example.com/a/./b",
        "https://www.example.com/a/c/../b/",
    ]),
    ("root path stays /", "https://www.example.com/", [
        "https://www.example.com",
        "https://www.example.com/",
        "http://WWW.example.com:80",
        "https://www.example.com/?utm_source=x",
    ]),
    ("empty query, query order, tracking parameters", "https://www.example.com/news?a=1&b=2", [
        "https://www.example.com/news?b=2&a=1",
        "https://www.example.com/news?a=1&b=2&",
        "https://www.example.com/news?&a=1&&b=2",
        "https://www.example.com/news?utm_source=rss&a=1&utm_medium=feed&b=2&utm_campaign=x",
        "https://www.example.com/news?a=1&b=2&fbclid=IwAR0abc&gclid=Cj0K",
        "https://www.example.com/news?spm=a2c4g.11186623&a=1&b=2&from=timeline",
        "https://www.example.com/news?a=1&share_token=9f8e&b=2&ref=hp&xtor=RSS-1",
        "https://www.example.com/news?UTM_Source=x&a=1&b=2",
        "https://www.example.com/news?a=1&amp;b=2&amp;utm_source=x",
    ]),
    ("percent-encoding variants and non-ASCII paths", RFI, [
        RFI,
        RFI.lower().replace("https://www.rfi.fr/cn/", "https://www.rfi.fr/cn/"),
        "https://www.rfi.fr/cn/中国/20231108-张又侠今见普京",
        "http://www.rfi.fr/cn/中国/20231108-%E5%BC%A0%E5%8F%88%E4%BE%A0今见普京/",
        "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20231108-张又侠今见普京?xtor=RSS-3",
    ]),
    ("unreserved characters decoded", "https://www.example.com/~user/a-b_c.html?q=a~b", [
        "https://www.example.com/%7Euser/a%2Db%5Fc.html?q=a%7eb",
        "https://www.example.com/~user/a-b_c.html?q=a~b",
    ]),
    ("session ids in the path and credentials", "https://www.example.com/a", [
        "https://www.example.com/a;jsessionid=0A1B2C3D",
        "https://user:secret@www.example.com/a",
        "https://www.example.com/a?PHPSESSID=abc",
    ]),
    ("IDN host to punycode", "https://xn--fiqs8s.cn/a", [
        "https://中国.cn/a",
        "https://XN--FIQS8S.CN/a",
    ]),
    ("BBC feed tags (site-specific)", "https://www.bbc.com/zhongwen/simp/world-64125881", [
        "https://www.bbc.com/zhongwen/simp/world-64125881?at_medium=RSS&at_campaign=KARANGA",
        "http://www.bbc.com/zhongwen/simp/world-64125881/#main",
    ]),
    ("Baidu feed tags keep the article id",
     "https://baijiahao.baidu.com/s?id=1646796218135408573", [
        "http://baijiahao.baidu.com/s?id=1646796218135408573&wfr=spider&for=pc",
        "https://baijiahao.baidu.com/s?wfr=spider&id=1646796218135408573",
    ]),
    ("WeChat long forms", WX, [
        WX,
        WX.replace("https://", "http://"),
        WX + "#rd",
        WX + "#wechat_redirect",
        WX + "&chksm=eb79a1b5dc0e28a3&scene=21&ascene=1&devicetype=iOS17&version=18002d2b"
        "&nettype=WIFI&abtest_cookie=AAACAA&lang=zh_CN&pass_ticket=PT%2Bxx&key=0123abcd"
        "&uin=MTIzNDU2&wx_header=1&sessionid=1700000000&clicktime=1700000001&enterid=1"
        "&subscene=7&srcid=1108x&sharer_sharetime=1&sharer_shareid=ab&exportkey=EK%3D"
        "&exptype=x&realreporttime=1&poc_token=HBx#rd",
        f"https://mp.weixin.qq.com/s?sn={SN}&idx=1&mid=2648978231&__biz={BIZ}",
        "https://mp.weixin.qq.com/s?__biz=MzI2MzEwNTY3OQ%3D%3D&mid=2648978231&idx=1"
        "&sn=dd091611fcf1aa0c2aef9655f13e7731",
        f"https://mp.weixin.qq.com/s?__biz={BIZ}&amp;mid=2648978231&amp;idx=1"
        "&amp;sn=dd091611fcf1aa0c2aef9655f13e7731&amp;chksm=abc#rd",
        f"https://mp.weixin.qq.com/mp/appmsg/show?__biz={BIZ}&appmsgid=2648978231&itemidx=1"
        "&sign=dd091611fcf1aa0c2aef9655f13e7731#wechat_redirect",
        f"http://mp.weixin.qq.com/mp/rumor?action=info&__biz={BIZ}&mid=2648978231&idx=1"
        "&sn=dd091611fcf1aa0c2aef9655f13e7731#wechat_redirect",
        f"HTTPS://MP.WEIXIN.QQ.COM/s/?__biz={BIZ}&mid=2648978231&idx=1"
        "&sn=dd091611fcf1aa0c2aef9655f13e7731",
        # The identity in the fragment (links rewritten by some share tools).
        f"https://mp.weixin.qq.com/s#__biz={BIZ}&mid=2648978231&idx=1&sn={SN}",
        # A repeated parameter: the first non-empty value counts.
        WX + "&mid=999&idx=2",
        f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=&mid=2648978231&idx=1&sn={SN}",
    ]),
    ("WeChat short links", "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw", [
        "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw",
        "http://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw/",
        "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw?scene=1&key=abc&pass_ticket=x#rd",
        # The path is the whole identity: even parameters kept elsewhere are dropped.
        "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw?version=4.1.10&platform=win",
    ]),
]


@pytest.mark.parametrize(
    ("expected", "variant"),
    [(expected, v) for _what, expected, variants in FOLDS for v in variants],
)
def test_folds(expected: str, variant: str) -> None:
    assert canonical_url(variant) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # A stray "%" that starts no escape is itself escaped, at the end too.
        ("https://www.example.com/100%", "https://www.example.com/100%25"),
        ("https://www.example.com/a%4", "https://www.example.com/a%254"),
        ("https://www.example.com/a%G1", "https://www.example.com/a%25G1"),
        # Characters a URL cannot carry raw; a lone surrogate from a JS-escaped link.
        ("https://www.example.com/a b<c>\"d", "https://www.example.com/a%20b%3Cc%3E%22d"),
        ("https://www.example.com/a\ud800b", "https://www.example.com/a%ED%A0%80b"),
        # Dot segments, last segment included (RFC 3986 §5.2.4).
        ("https://www.example.com/a/b/..", "https://www.example.com/a"),
        ("https://www.example.com/a/b/.", "https://www.example.com/a/b"),
        ("https://www.example.com/a/./b/../c", "https://www.example.com/a/c"),
        # The host: after the last "@", IPv6 in brackets with its port, case, trailing
        # dot, escapes, IDN, tabs and newlines inside (dropped, as browsers do).
        ("https://user:pa@ss@www.example.com/a", "https://www.example.com/a"),
        ("http://[2001:DB8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("https://[2001:db8::1]/a", "https://[2001:db8::1]/a"),
        ("https://www.example.com:/a", "https://www.example.com/a"),
        ("https://WWW.Example.COM./a", "https://www.example.com/a"),
        ("https://%77ww.example.com/a", "https://www.example.com/a"),
        ("https://www.例え.jp/a", "https://www.xn--r8jz45g.jp/a"),
        ("https://www.exam\tple.com/a\n/b", "https://www.example.com/a/b"),
        # A wildcard drops utm_*, not every parameter that starts with "utm".
        ("https://www.example.com/a?utmost=1&utm_source=x", "https://www.example.com/a?utmost=1"),
    ],
)
def test_escapes_dot_segments_and_wildcards(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", [v for _w, _e, variants in FOLDS for v in variants])
def test_canonical_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


# Different articles (or possibly different resources) keep different keys.
NON_FOLDS = [
    ("different sn", WX, WX.replace("sn=dd09", "sn=ee09")),
    ("different idx", WX, WX.replace("idx=1", "idx=2")),
    ("different mid", WX, WX.replace("mid=2648978231", "mid=2648978232")),
    ("different short link", "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw",
     "https://mp.weixin.qq.com/s/3sr6nyje1rf05sitbld2mw"),
    ("different path", SINA, SINA.replace("2630922", "2630923")),
    ("path case", "https://www.example.com/A", "https://www.example.com/a"),
    ("portal id parameter", SINA + "?id=1", SINA + "?id=2"),
    ("item.btime-like id", "https://item.btime.com/?id=123", "https://item.btime.com/?id=124"),
    ("query that selects content", "https://www.example.com/view.php?aid=1",
     "https://www.example.com/view.php"),
    ("source is not tracking", "https://www.example.com/a?source=xinhua",
     "https://www.example.com/a?source=reuters"),
    ("lang selects the edition outside WeChat", "https://www.example.com/a?lang=en",
     "https://www.example.com/a?lang=zh"),
    ("www is a different host", "https://www.example.com/a", "https://example.com/a"),
    ("different subdomain", "https://news.sina.com.cn/a", "https://finance.sina.com.cn/a"),
    ("non-default port keeps its scheme", "http://www.example.com:8080/a",
     "https://www.example.com:8080/a"),
    ("escaped slash is not a slash", "https://www.example.com/a%2Fb",
     "https://www.example.com/a/b"),
    ("plus and %2B differ in a query", "https://www.example.com/s?q=a+b",
     "https://www.example.com/s?q=a%2Bb"),
    ("hash-bang routes address content", "https://www.example.com/#!/article/1",
     "https://www.example.com/#!/article/2"),
    ("repeated parameter order kept", "https://www.example.com/a?t=1&t=2",
     "https://www.example.com/a?t=2&t=1"),
]


@pytest.mark.parametrize(("what", "a", "b"), NON_FOLDS, ids=[row[0] for row in NON_FOLDS])
def test_non_folds(what: str, a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b), what


def test_meaningful_query_parameters_survive() -> None:
    assert canonical_url(SINA + "?id=123&utm_source=x") == SINA + "?id=123"
    btime = "http://item.btime.com/?id=123&from=feed"
    assert canonical_url(btime) == "https://item.btime.com/?id=123"


def test_fixture_identifiers_unchanged() -> None:
    fixture = "fixture:portal/001_004c24d0aad6edaa.txt"
    assert canonical_url(fixture) == fixture
    assert canonical_url(fixture, declared="https://www.example.com/a") == fixture
    assert strip_secrets(fixture) == fixture


@pytest.mark.parametrize("url", ["ftp://example.com/a", "javascript:alert(1)", "file:///etc/passwd",
                                 "https:///nohost", "http://example.com:abc/"])
def test_rejects_what_is_not_an_article_url(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)


def test_wechat_without_identity_keeps_its_own_key_but_no_volatile_params() -> None:
    # A Sogou temporary link: no __biz/mid/idx, so the URL is all there is.
    url = ("https://mp.weixin.qq.com/s?src=11&timestamp=1581604662&ver=2156&signature=0Djd"
           "&new=1&scene=1&pass_ticket=x")
    assert canonical_url(url) == (
        "https://mp.weixin.qq.com/s?new=1&signature=0Djd&src=11&timestamp=1581604662&ver=2156"
    )
    profile = f"https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz={BIZ}&scene=124&uin=1"
    expected = f"https://mp.weixin.qq.com/mp/profile_ext?__biz={BIZ}&action=home"
    assert canonical_url(profile) == expected


def test_wechat_without_sn_uses_biz_mid_idx() -> None:
    url = f"http://mp.weixin.qq.com/mp/appmsg/show?__biz={BIZ}&appmsgid=10000001&itemidx=2#rd"
    assert canonical_url(url) == f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=10000001&idx=2"


# ----------------------------------------------------------------- declared canonical

DECLARED = [
    ("home page without a slash: the CMS misconfiguration, ignored",
     "https://www.example.com/news/2024/05/123.html", "https://www.example.com",
     "https://www.example.com/news/2024/05/123.html"),
    ("a page without its id declares the address with it: honoured",
     "https://www.example.com/news.php", "https://www.example.com/news.php?id=5",
     "https://www.example.com/news.php?id=5"),
    ("the same script under another id: the page's own word, honoured",
     "https://www.example.com/news.php?id=5", "https://www.example.com/news.php?id=6",
     "https://www.example.com/news.php?id=6"),
    ("same site, other subdomain: honoured", "https://m.sohu.com/a/733320600_429139?spm=1",
     "https://www.sohu.com/a/733320600_429139", "https://www.sohu.com/a/733320600_429139"),
    ("relative: resolved against the page", "https://www.sohu.com/a/733320600_429139?x=1",
     "/a/733320600_429139?", "https://www.sohu.com/a/733320600_429139?x=1"),
    ("relative to another path", "https://news.example.com/m/123",
     "/news/2024/05/123.html", "https://news.example.com/news/2024/05/123.html"),
    ("scheme-less og:url on the same site", "https://m.sohu.com/a/733320600_429139",
     "www.sohu.com/a/733320600_429139", "https://www.sohu.com/a/733320600_429139"),
    ("protocol-relative", "http://m.sohu.com/a/1", "//www.sohu.com/a/1",
     "https://www.sohu.com/a/1"),
    ("file name is a relative path, not a host", "https://www.example.com/news/a/",
     "b.html", "https://www.example.com/news/a/b.html"),
    ("og:url of a WeChat short link gives the long form",
     "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw",
     WX.replace("https://", "http://") + "&amp;chksm=abc#rd", WX),
    ("another site (aggregator copy): ignored",
     "https://www.toutiao.com/article/7404384826024935990/",
     "https://www.sohu.com/a/733320600_429139",
     "https://www.toutiao.com/article/7404384826024935990"),
    ("look-alike domain: ignored", "https://www.sohu.com/a/1", "https://www.sohu.com.evil.cn/a/1",
     "https://www.sohu.com/a/1"),
    ("sibling on a private suffix: ignored", "https://alice.github.io/post",
     "https://bob.github.io/post", "https://alice.github.io/post"),
    ("home page: ignored", "https://www.example.com/news/2024/a.html", "https://www.example.com/",
     "https://www.example.com/news/2024/a.html"),
    ("drops the article id: ignored", "https://www.example.com/news.php?id=5",
     "https://www.example.com/news.php", "https://www.example.com/news.php?id=5"),
    ("not http(s): ignored", "https://www.example.com/a", "javascript:alert(1)",
     "https://www.example.com/a"),
    ("fixture: ignored", "https://www.example.com/a", "fixture:x/y", "https://www.example.com/a"),
    ("empty: ignored", "https://www.example.com/a/", "  ", "https://www.example.com/a"),
    ("secrets in the declaration dropped", "https://www.example.com/a",
     "https://www.example.com/b?token=abc&id=1", "https://www.example.com/b?id=1"),
]


@pytest.mark.parametrize(("what", "url", "declared", "expected"), DECLARED,
                         ids=[row[0] for row in DECLARED])
def test_declared(what: str, url: str, declared: str, expected: str) -> None:
    assert canonical_url(url, declared) == expected, what


def test_registrable_domain() -> None:
    assert registrable_domain("news.sina.com.cn") == "sina.com.cn"
    assert registrable_domain("WWW.BBC.CO.UK") == "bbc.co.uk"
    assert registrable_domain("mp.weixin.qq.com") == "qq.com"
    assert registrable_domain("alice.github.io") == "alice.github.io"
    assert registrable_domain("127.0.0.1") == "127.0.0.1"
    assert registrable_domain("localhost") == "localhost"
    assert same_site("https://news.sina.com.cn/a", "http://finance.sina.com.cn/b")
    assert same_site("http://news.sina.com.cn/a", "HTTPS://www.sina.com.cn/")
    assert not same_site("https://sina.com.cn/a", "https://sina.com/b")
    assert not same_site("https://sina.com.cn/a", "ftp://sina.com.cn/b")


def test_public_suffix_list_is_never_fetched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """tldextract must use its bundled snapshot: no lookup, no connection, no cache file."""
    code = textwrap.dedent(
        """
        import sys
        def guard(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
                raise RuntimeError(f"network access attempted: {event} {args!r}")
        sys.addaudithook(guard)
        from crawler.urls import canonical_url
        got = canonical_url("https://m.sohu.com/a/1", "https://www.sohu.com/a/1")
        assert got == "https://www.sohu.com/a/1", got
        print("ok")
        """
    )
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert not any(tmp_path.iterdir()), "tldextract wrote a cache"


# --------------------------------------------------------------------------- secrets

SECRET_URLS = [
    WX + "&pass_ticket=PT123&key=K456&uin=U789&wx_header=1&exportkey=EK&chksm=abc#rd",
    f"https://mp.weixin.qq.com/s?__biz={BIZ}&KEY=K456&Pass_Ticket=PT123&UIN=U789#rd",
    f"https://mp.weixin.qq.com/s?__biz={BIZ}&amp;key=K456&amp;pass_ticket=PT123&amp;uin=U789",
    "https://mp.weixin.qq.com/s/3Sr6nYjE1RF05siTblD2mw?key=K456&pass_ticket=PT123&uin=U789",
    "https://mp.weixin.qq.com/mp/getappmsgext?key=K456&pass_ticket=PT123&uin=U789&appmsg_token=AT",
    "https://www.example.com/a?id=1&key=K456&token=T0&access_token=AT0#pass_ticket=PT123&uin=U789",
    "https://www.example.com/go?to=https%3A%2F%2Fmp.weixin.qq.com%2Fs%3Fkey%3DK456%26uin%3DU789"
    "%26pass_ticket%3DPT123%26id%3D1",
    "https://U789:K456@www.example.com/a;jsessionid=PT123?x=1",
    # A plain-http URL carried inside a parameter is cleaned too.
    "https://www.example.com/go?to=http%3A%2F%2Fwww.example.com%2Fa%3Fkey%3DK456%26id%3D1",
]
SECRET_VALUES = ["PT123", "K456", "U789", "AT0", "T0&", "EK", "wx_header"]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_secrets_never_survive(url: str) -> None:
    outputs = (strip_secrets(url), canonical_url(url),
               canonical_url("https://www.example.com/x", url))
    for out in outputs:
        for secret in ("PT123", "K456", "U789"):
            assert secret not in out, (url, out)
        lowered = out.lower()
        for name in ("pass_ticket", "key=", "uin=", "wx_header", "exportkey", "token="):
            assert name not in lowered and name not in lowered.replace("%3d", "="), (url, out)


def test_a_cleaned_inner_url_is_percent_encoded_again() -> None:
    # The carried URL goes back fully encoded (":" and "/" included), so the outer URL
    # still parses the same way; an inner URL without secrets is left byte for byte.
    assert strip_secrets(
        "https://www.example.com/go?to=https%3A%2F%2Fa.example%2Fs%3Fkey%3DK456%26id%3D1&x=1"
    ) == "https://www.example.com/go?to=https%3A%2F%2Fa.example%2Fs%3Fid%3D1&x=1"
    kept = "https://www.example.com/go?to=https%3A//a.example/s%3Fid%3D1&x=1"
    assert strip_secrets(kept) == kept


def test_strip_secrets_keeps_everything_else_as_it_was() -> None:
    url = (f"http://mp.weixin.qq.com/s?__biz={BIZ}&mid=2648978231&idx=1&sn=dd09&chksm=abc"
           "&pass_ticket=PT%2B1&scene=21&key=K&uin=U#rd")
    assert strip_secrets(url) == (
        f"http://mp.weixin.qq.com/s?__biz={BIZ}&mid=2648978231&idx=1&sn=dd09&chksm=abc&scene=21#rd"
    )
    untouched = [
        "https://www.rfi.fr/cn/中国/x",
        "https://www.example.com/a?b=2&a=1&&c#frag",
        "https://www.example.com/a?monkey=1&keyword=2&turnkey=3",
        "not a url at all",
        "",
    ]
    for u in untouched:
        assert strip_secrets(u) == u
    assert strip_secrets("https://www.example.com/a?key=1") == "https://www.example.com/a"
    stripped = strip_secrets("https://www.example.com/a?x=1&key=1&y=2")
    assert stripped == "https://www.example.com/a?x=1&y=2"


def test_parameter_lists_are_lower_case_constants() -> None:
    for name in TRACKING_PARAMS | SECRET_PARAMS:
        assert name == name.lower()
    assert {"pass_ticket", "key", "uin", "wx_header", "exportkey"} <= SECRET_PARAMS
    assert "source" not in TRACKING_PARAMS and "id" not in TRACKING_PARAMS
