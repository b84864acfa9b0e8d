"""The side menu: apps register their entries in AppConfig.ready(); the shell shows only
the sections that have at least one entry the user may open."""

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (key, label, icon) in menu order; icons are names in templates/components/icon.html.
SECTIONS: list[tuple[str, str, str]] = [
    ("dashboard", "Dashboard", "home"),
    ("preparing", "Preparing Badges", "badge"),
    ("issuing", "Issuing", "send"),
    ("reporting", "Reporting", "chart"),
    ("users", "Users", "users"),
    ("organisations", "Organisations", "tree"),
    ("settings", "System settings", "cog"),
]


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    perm: str | tuple[str, ...] | None  # a tuple: shown to holders of any one of them
    order: int


_ITEMS: list[NavItem] = []


def register(
    section: str, label: str, url_name: str, *, perm: str | tuple[str, ...] | None, order: int
) -> None:
    if section not in {key for key, _, _ in SECTIONS}:
        raise ValueError(f"Unknown menu section {section!r}")
    item = NavItem(section, label, url_name, perm, order)
    if item not in _ITEMS:
        _ITEMS.append(item)


@dataclass
class MenuSection:
    key: str
    label: str
    icon: str
    items: list[dict] = field(default_factory=list)
    active: bool = False


def build_menu(request: HttpRequest) -> list[MenuSection]:
    access = getattr(request, "access", None)
    space = getattr(request, "space", None)
    if access is None or space is None:
        return []
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    current_ns = match.namespace if match else ""
    sections = {key: MenuSection(key, label, icon) for key, label, icon in SECTIONS}
    for item in sorted(_ITEMS, key=lambda i: i.order):
        perms = item.perm if isinstance(item.perm, tuple) else (item.perm,)
        if item.perm is not None and not any(access.can_anywhere(p) for p in perms):
            continue
        try:
            url = reverse(item.url_name, args=[space.slug])
        except NoReverseMatch:
            continue
        active = item.url_name == current or (
            item.url_name.split(":")[0] == current_ns and item.url_name.endswith(":index")
        )
        sections[item.section].items.append({"label": item.label, "url": url, "active": active})
        if active:
            sections[item.section].active = True
    dashboard = sections["dashboard"]
    dashboard.items.insert(
        0,
        {
            "label": "Dashboard",
            "url": reverse("dashboard", args=[space.slug]),
            "active": current == "dashboard",
        },
    )
    dashboard.active = current == "dashboard"
    return [s for s in sections.values() if s.items]
