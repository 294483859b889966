"""The public portal (``cruce publish``): a static, bilingual site of aggregates computed from
cruce's own data — Home, one page per flow, laws by jurisdiction, sources and method, Contact —
chosen by a reviewed configuration (``publish.yaml``) and audited at each publication."""

from cruce.reports.portal.config import K_FLOOR, ConfigError, PortalConfig, load
from cruce.reports.portal.site import MANIFEST, Publication, PublishError, build_pages, last_published, publish

__all__ = [
    "K_FLOOR",
    "MANIFEST",
    "ConfigError",
    "PortalConfig",
    "Publication",
    "PublishError",
    "build_pages",
    "last_published",
    "load",
    "publish",
]
