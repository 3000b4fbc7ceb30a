"""A local mirror news site on 127.0.0.1 for crawl tests (see README.md)."""

from .server import MirrorServer
from .site import (
    OUTLETS,
    SECRET_BODY,
    Article,
    MirrorConfig,
    MirrorSite,
    Paths,
    PathStats,
    RequestRecord,
)

__all__ = [
    "OUTLETS",
    "SECRET_BODY",
    "Article",
    "MirrorConfig",
    "MirrorServer",
    "MirrorSite",
    "PathStats",
    "Paths",
    "RequestRecord",
]
