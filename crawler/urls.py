"""URL identity: one canonical key per article, and no secrets in what we keep.

Pure functions, no Scrapy and no database.  Two entry points:

* :func:`canonical_url` gives the key ``articles.canonical_url`` is unique on.  Its
  rule of thumb is *fold what is provably the same resource, keep everything else*:
  a missed fold costs a duplicate row (which the near-duplicate layer,
  ``storage.similarity``, then links), a wrong fold makes one article a "new
  version" of another, which is data loss.  So only parameters known to be
  tracking or session noise are dropped, and a page's declared canonical URL is
  believed only when it cannot collapse distinct articles.
* :func:`strip_secrets` removes credentials and session tokens from any URL
  before it is stored, logged or exported, and otherwise leaves the URL as it was.

Decisions (see the tests in ``tests/test_urls.py`` for every case):

* ``http`` is folded to ``https`` (on default ports): news sites serve the same
  article on both, and almost all now redirect one to the other.
* ``www.`` is **not** folded: ``www.example.com`` and ``example.com`` are different
  hosts and sometimes different sites (``www.sina.com.cn`` vs ``sina.com.cn``
  mirrors, ``news.cn`` vs ``www.news.cn`` CMS generations).  When they are the same
  page, its ``<link rel=canonical>`` usually says so, and similarity catches the rest.
* The path keeps its case, is percent-encoded as RFC 3986 §6.2.2 normalises it
  (upper-case hex, unreserved characters decoded, non-ASCII as UTF-8 escapes),
  has dot segments resolved and trailing slashes removed (``/`` stays ``/``).
* Query parameters are sorted by name (values of a repeated name keep their
  order); tracking parameters (:data:`TRACKING_PARAMS`) and secrets
  (:data:`SECRET_PARAMS`) are dropped; an empty query disappears.  ``source`` and
  ``lang`` are *not* tracking in general (``?lang=en`` picks another article on
  bilingual sites); ``lang`` is dropped only on WeChat.
* Fragments are dropped, except ``#!`` routes, which address content.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

__all__ = [
    "HOST_TRACKING_PARAMS",
    "SECRET_PARAMS",
    "TRACKING_PARAMS",
    "WECHAT_HOST",
    "WECHAT_VOLATILE_PARAMS",
    "canonical_url",
    "web_address_problem",
    "registrable_domain",
    "same_site",
    "strip_secrets",
]

FIXTURE_SCHEME = "fixture:"
WECHAT_HOST = "mp.weixin.qq.com"

#: Query parameters that only say how a reader arrived, never which article.
#: Lower-case; a trailing ``*`` makes a prefix.  Only names documented or
#: observed as campaign/referral tracking: a generic name that *can* select
#: content (``source``, ``id``, ``p``, ``page``, ``lang``, ``s``) is not here.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "utm_*",  # Google Analytics campaign parameters
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid",  # Meta/Google click ids
        "msclkid", "yclid", "twclid", "ttclid", "igshid", "igsh", "li_fat_id",
        "mc_cid", "mc_eid",  # Mailchimp
        "_hsenc", "_hsmi", "mkt_tok",  # HubSpot, Marketo
        "xtor",  # AT Internet (RFI, France Médias Monde feeds)
        "smid", "cmpid", "ocid",  # NYT, many CMSs, MSN share/campaign ids
        "ref", "ref_src", "ref_url",  # referrer tags (NYT, Medium, Twitter embeds)
        "spm", "spm_id_from", "scm",  # Alibaba/UC/Bilibili/Sohu analytics position codes
        "from", "share_token", "tt_from", "isappinstalled",  # app-share tags (Toutiao, WeChat)
    }
)

#: Extra tracking parameters on particular sites (host or any subdomain of it).
HOST_TRACKING_PARAMS: dict[str, frozenset[str]] = {
    # BBC RSS/social links: at_medium, at_campaign, at_custom1..4, at_link_origin ...
    "bbc.com": frozenset({"at_*"}),
    "bbc.co.uk": frozenset({"at_*"}),
    # Baidu feed links: ...?id=1646796218135408573&wfr=spider&for=pc
    "baijiahao.baidu.com": frozenset({"wfr", "for"}),
}

#: Credentials and session tokens: never stored, logged, exported or part of a key.
#: Removed on every host (``key``/``token`` are API keys or login sessions far more
#: often than article ids).  ``jsessionid``/``phpsessid`` also go as ``;name=`` path
#: parameters.
SECRET_PARAMS: frozenset[str] = frozenset(
    {
        # WeChat reader/session credentials
        "pass_ticket", "key", "uin", "wx_header", "exportkey", "appmsg_token",
        "poc_token", "payreadticket", "devicetoken",
        # generic session ids and tokens
        "sessionid", "session_id", "phpsessid", "jsessionid", "aspsessionid",
        "token", "access_token", "auth", "auth_token", "api_key", "apikey",
        "password", "passwd", "pwd",
    }
)

#: WeChat parameters that change per reader, client or visit (not secrets, but
#: not identity either).  Dropped on ``mp.weixin.qq.com`` only; article URLs there
#: keep nothing but ``__biz``/``mid``/``idx``/``sn`` anyway.
WECHAT_VOLATILE_PARAMS: frozenset[str] = frozenset(
    {
        "chksm", "scene", "ascene", "subscene", "devicetype", "version", "nettype",
        "abtest_cookie", "lang", "clicktime", "enterid", "srcid", "exptype",
        "realreporttime", "mpshare", "rd2werd", "sharer_*", "sessionid", "wxfrom",
        "fasttmpl_type", "fasttmpl_fullversion", "fasttmpl_flag", "count", "ct",
        "send_time", "from", "isappinstalled", "winzoom", "wx_lazy", "tp",
        "ptoken", "pass_ticket", "key", "uin", "wx_header", "exportkey", "poc_token",
    }
)

# WeChat article identity and the aliases older URL forms use.
_WECHAT_ALIASES = {
    "__biz": "__biz",
    "mid": "mid",
    "appmsgid": "mid",
    "idx": "idx",
    "itemidx": "idx",
    "sn": "sn",
    "sign": "sn",
}
_WECHAT_SHORT = re.compile(r"^/s/([A-Za-z0-9_-]+)/*$")

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
# Inside one ``name=value`` pair: ``&`` separates pairs, ``=`` splits the first
# pair; both stay escaped when they were escaped.  ``+`` and ``%2B`` differ in
# form encoding, so both are kept as they come.
_QUERY_SAFE = (_UNRESERVED | _SUB_DELIMS | frozenset(":@/?")) - frozenset("&=")
_QUERY_VALUE_SAFE = _QUERY_SAFE | frozenset("=")
_FRAGMENT_SAFE = _PATH_SAFE | frozenset("?")
_HEX = frozenset(string.hexdigits)
_SESSION_PATH_PARAM = re.compile(r";(?:jsessionid|phpsessid|aspsessionid)=[^/;?#]*", re.I)
# WHATWG URL parsing drops ASCII tab and newline anywhere in the input.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


# --------------------------------------------------------------------------- helpers


def _normalise_escapes(component: str, safe: frozenset[str]) -> str:
    """RFC 3986 §6.2.2 normalisation of one component.

    ``%xx`` of an unreserved character is decoded, other escapes get upper-case
    hex, a ``%`` that starts no escape becomes ``%25``, and every byte outside
    ``safe`` (including the UTF-8 bytes of non-ASCII text) is escaped.  Idempotent.
    """
    data = component.encode("utf-8", "surrogatepass")
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte == 0x25 and i + 2 < n and chr(data[i + 1]) in _HEX and chr(data[i + 2]) in _HEX:
            value = int(data[i + 1 : i + 3], 16)
            char = chr(value)
            out.append(char if char in _UNRESERVED else f"%{value:02X}")
            i += 3
            continue
        char = chr(byte)
        out.append(char if byte < 0x80 and char in safe else f"%{byte:02X}")
        i += 1
    return "".join(out)


def _param_name(raw_name: str) -> str:
    """The name a parameter is matched on: decoded, lower-case, without ``amp;``.

    ``amp;`` comes from URLs copied out of HTML without unescaping ``&amp;``
    (WeChat's ``var msg_link`` is one).
    """
    name = unquote(raw_name).strip().lower()
    while name.startswith("amp;"):
        name = name[4:]
    return name


def _matches(name: str, patterns: frozenset[str]) -> bool:
    if name in patterns:
        return True
    return any(p.endswith("*") and name.startswith(p[:-1]) for p in patterns)


def _host_tracking(host: str) -> frozenset[str]:
    extra: frozenset[str] = frozenset()
    for domain, names in HOST_TRACKING_PARAMS.items():
        if host == domain or host.endswith("." + domain):
            extra = extra | names
    return extra


def _split_netloc(netloc: str) -> tuple[str, str, str | None]:
    """``(userinfo, host, port)`` without validation; host keeps IPv6 brackets."""
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end != -1:
            host, rest = hostport[: end + 1], hostport[end + 1 :]
            return userinfo, host, rest[1:] if rest.startswith(":") else None
    host, sep, port = hostport.partition(":")
    return userinfo, host, port if sep else None


def _normalise_host(host: str) -> str:
    host = unquote(host).strip().rstrip(".").lower()
    if host.startswith("["):
        return host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = _normalise_escapes(host, _UNRESERVED)
    return host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 on an absolute path."""
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments[1:], start=1):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def _split_pairs(query: str) -> list[str]:
    return [piece for piece in query.split("&") if piece]


# ------------------------------------------------------------------- same-site rule


@functools.lru_cache(maxsize=1)
def _suffix_extractor():  # type: ignore[no-untyped-def]
    import tldextract  # a Scrapy dependency; imported lazily, used offline

    # No suffix_list_urls and no cache_dir: the Public Suffix List snapshot bundled
    # with the installed tldextract is used and nothing is fetched or written.
    # Private suffixes (github.io, blogspot.com ...) count: two blogs there are
    # two sites.
    return tldextract.TLDExtract(
        suffix_list_urls=(),
        cache_dir=None,
        fallback_to_snapshot=True,
        include_psl_private_domains=True,
    )


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """The registrable domain ("eTLD+1") of ``host``: ``news.sina.com.cn`` → ``sina.com.cn``.

    IP addresses, single labels and bare public suffixes are their own site.
    """
    host = _normalise_host(host)
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
        return host
    except ValueError:
        pass
    result = _suffix_extractor()(host)
    domain = getattr(result, "top_domain_under_public_suffix", None)
    if domain is None:  # tldextract < 5.3
        domain = result.registered_domain
    return domain or host


def same_site(url_a: str, url_b: str) -> bool:
    """True when both are http(s) URLs on the same registrable domain."""
    a, b = urlsplit(url_a), urlsplit(url_b)
    if a.scheme.lower() not in ("http", "https") or b.scheme.lower() not in ("http", "https"):
        return False
    host_a, host_b = _split_netloc(a.netloc)[1], _split_netloc(b.netloc)[1]
    if not host_a or not host_b:
        return False
    return registrable_domain(host_a) == registrable_domain(host_b)


# ------------------------------------------------------------------------ secrets


def _strip_pairs(pairs: str) -> str:
    kept: list[str] = []
    for piece in pairs.split("&"):  # empty pieces kept: only secrets change
        raw_name, sep, raw_value = piece.partition("=")
        if piece and _matches(_param_name(raw_name), SECRET_PARAMS):
            continue
        if sep and raw_value:
            inner = unquote(raw_value)
            if inner.lower().startswith(("http://", "https://")):
                cleaned = strip_secrets(inner)
                if cleaned != inner:
                    raw_value = quote(cleaned, safe="")
        kept.append(f"{raw_name}{sep}{raw_value}")
    return "&".join(kept)


def strip_secrets(url: str) -> str:
    """``url`` without credentials or session tokens, otherwise unchanged.

    Removes the ``user:password@`` part, every :data:`SECRET_PARAMS` parameter
    from the query (and from a ``#a=b&c=d`` fragment), ``;jsessionid=``-style path
    parameters, and the same from URLs carried percent-encoded inside a parameter
    value (``?redirect=https%3A...%26key%3D...``).  Parameter order, escapes and
    everything else are kept, so the URL still fetches the same page.
    """
    if url.startswith(FIXTURE_SCHEME) or not any(c in url for c in "?#@;"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
    path = _SESSION_PATH_PARAM.sub("", parts.path)
    query = _strip_pairs(parts.query) if parts.query else parts.query
    fragment = parts.fragment
    if "=" in fragment:
        fragment = _strip_pairs(fragment)
    rebuilt = urlunsplit((parts.scheme, netloc, path, query, fragment))
    # urlunsplit drops an empty "?"/"#"; only rebuild when something changed.
    if (netloc, path, query, fragment) == (parts.netloc, parts.path, parts.query, parts.fragment):
        return url
    return rebuilt


# ---------------------------------------------------------------------- canonical


def _wechat_identity(path: str, query: str, fragment: str) -> str | None:
    short = _WECHAT_SHORT.match(path)
    if short:
        return f"https://{WECHAT_HOST}/s/{short.group(1)}"
    found: dict[str, str] = {}
    for source in (query, fragment if "=" in fragment else ""):
        for piece in _split_pairs(source):
            raw_name, _, raw_value = piece.partition("=")
            name = _WECHAT_ALIASES.get(_param_name(raw_name))
            value = unquote(raw_value).strip()
            # The canonical spelling wins over an alias; the first value wins.
            if name and value and name not in found:
                found[name] = value
    if not all(found.get(name) for name in ("__biz", "mid", "idx")):
        return None
    parts = [f"{name}={quote(found[name], safe='=+/')}" for name in ("__biz", "mid", "idx", "sn")
             if name in found]
    return f"https://{WECHAT_HOST}/s?" + "&".join(parts)


def _canonical(url: str) -> str:
    url = _TAB_NEWLINE.sub("", url).strip()
    if url.startswith(FIXTURE_SCHEME):
        return url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) or fixture: URL: {url[:200]!r}")
    _userinfo, raw_host, port = _split_netloc(parts.netloc)
    host = _normalise_host(raw_host)
    if not host:
        raise ValueError(f"URL has no host: {url[:200]!r}")
    if port:  # "" (as in "http://host:/") means the default port
        if not port.isdigit():
            raise ValueError(f"URL has an invalid port: {url[:200]!r}")
        port = str(int(port))
    # Fold http to https only on default ports: on another port the scheme may
    # really select a different server.
    if not port or (scheme, port) in (("http", "80"), ("https", "443")):
        port, scheme = None, "https"
    netloc = host if port is None else f"{host}:{port}"

    path = _SESSION_PATH_PARAM.sub("", parts.path)
    path = _remove_dot_segments(_normalise_escapes(path or "/", _PATH_SAFE))
    path = path.rstrip("/") or "/"

    if host == WECHAT_HOST:
        identity = _wechat_identity(path, parts.query, parts.fragment)
        if identity:
            return identity

    drop = TRACKING_PARAMS | SECRET_PARAMS | _host_tracking(host)
    if host == WECHAT_HOST:
        drop = drop | WECHAT_VOLATILE_PARAMS
    pairs: list[tuple[str, str]] = []
    for piece in _split_pairs(parts.query):
        raw_name, sep, raw_value = piece.partition("=")
        name = _param_name(raw_name)
        if not name or _matches(name, drop):
            continue
        while raw_name.lower().startswith("amp;"):
            raw_name = raw_name[4:]
        key = _normalise_escapes(raw_name, _QUERY_SAFE)
        value = _normalise_escapes(raw_value, _QUERY_VALUE_SAFE) if sep else ""
        pairs.append((key, f"{key}{sep}{value}"))
    pairs.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    query = "&".join(pair for _key, pair in pairs)

    fragment = parts.fragment
    fragment = _normalise_escapes(fragment, _FRAGMENT_SAFE) if fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _declared_is_trustworthy(page: str, declared: str) -> bool:
    """Would honouring ``declared`` risk merging different articles?"""
    if not same_site(page, declared):
        return False
    page_parts, declared_parts = urlsplit(page), urlsplit(declared)
    # A canonical pointing at the home page is a known CMS misconfiguration that
    # would fold every article of the site into one.
    declared_is_root = declared_parts.path in ("", "/") and not declared_parts.query
    if declared_is_root and page_parts.path not in ("", "/"):
        return False
    # Same address minus its whole query (``news.php?id=5`` → ``news.php``): the
    # query may be the article id, so the declaration cannot be trusted.
    return not (
        page_parts.query
        and not declared_parts.query
        and (page_parts.netloc, page_parts.path) == (declared_parts.netloc, declared_parts.path)
    )


_SCHEMELESS = re.compile(r"^([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?=[/?#]|$)")


def _resolve_declared(page: str, declared: str) -> str:
    """``declared`` made absolute against the page URL.

    Some portals write ``og:url`` without a scheme (``www.sohu.com/a/1``), which
    ``urljoin`` would take for a relative path; it is read as a host only when
    that host is on the page's own site.
    """
    match = _SCHEMELESS.match(declared)
    if match and "://" not in declared:
        page_host = _split_netloc(urlsplit(page).netloc)[1]
        if page_host and registrable_domain(match.group(1)) == registrable_domain(page_host):
            return f"https://{declared}"
    return urljoin(page, declared)


def canonical_url(url: str, declared: str | None = None) -> str:
    """The key one article is stored under.

    ``url`` is the address the page was read from; ``declared`` is what the page
    states (``<link rel=canonical>``, ``og:url``), possibly relative.  The
    declaration is followed when it is http(s), on the same registrable domain,
    not the site's home page, and not the page's own address minus its whole
    query; otherwise the page URL is canonicalised.  WeChat articles become
    ``https://mp.weixin.qq.com/s?__biz=…&mid=…&idx=…&sn=…`` (or ``/s/<id>`` for short
    links).  ``fixture:`` identifiers come back unchanged.  Secrets never survive.

    Raises ``ValueError`` for a URL that is neither http(s) nor ``fixture:``.
    """
    url = _TAB_NEWLINE.sub("", url).strip()
    if url.startswith(FIXTURE_SCHEME):
        return url
    page = _canonical(strip_secrets(url))
    if declared:
        declared = _TAB_NEWLINE.sub("", declared).strip()
        if declared and not declared.startswith(FIXTURE_SCHEME):
            try:
                candidate = _canonical(strip_secrets(_resolve_declared(url, declared)))
            except ValueError:
                return page
            if _declared_is_trustworthy(page, candidate):
                return candidate
    return page


#: Longest URL accepted from a sidecar, the config or the command line (browsers and
#: servers cut near this too).
MAX_URL_CHARS = 2048
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f]")


def web_address_problem(url: object) -> str | None:
    """Why ``url`` is not an absolute http(s) address a page could have come from, or ``None``."""
    if not isinstance(url, str):
        return f"must be a string, got {type(url).__name__}"
    shown = url[:80] + ("…" if len(url) > 80 else "")
    if len(url) > MAX_URL_CHARS:
        return f"is {len(url):,} characters long (limit {MAX_URL_CHARS:,}): {shown!r}"
    if _URL_FORBIDDEN.search(url):
        return f"contains spaces or control characters: {shown!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"is not a valid URL: {shown!r}"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"must be an http(s) web address, got {shown!r}"
    return None
