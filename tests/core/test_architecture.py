"""The layers of the code, enforced on its import graph.

Every ``.py`` file of the project's apps (migrations excluded) is parsed with ``ast``; every
import statement counts, at module level or inside a function or method (a lazy import is still
a dependency: it runs the moment the function does). A module may import its own layer and the
layers below it, never one above; two apps on the same level do not import each other. The
ground (core) imports no app: it names models as ``"orgs.Space"`` strings and reaches the apps
above through registries and hooks they fill from ``AppConfig.ready()``.

Imports under ``if TYPE_CHECKING:`` never run, so they create neither a runtime dependency nor
an import cycle; they are left out of the cycle check. In the layer check an upward one is
allowed only when it names an app's ``models`` module: a lower layer is *handed* a ``Space`` or a
``User`` and may say so in its signatures without calling any code of the layer that owns the
type. Any other upward ``TYPE_CHECKING`` import (a service, a form, a view) is a violation.

The layer of each module is declared once, in ``APP_LAYERS`` and ``BADGEPLATFORM_LAYERS``
below; a new module of ``badgeplatform`` fails the suite until it is placed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CORE, ROOT = 0, 8

# The layers, from the ground up. Apps on the same level (issuers, branding) are independent
# of each other.
APP_LAYERS: dict[str, int] = {
    "orgs": 1,  # the space, the organisation tree, groups
    "users": 2,  # people, memberships, roles, the policy layer
    "issuers": 3,  # issuer profiles
    "branding": 3,  # plans, the space's look, authored emails, the landing page
    "sso": 3,  # single sign-on: the spaces' identity providers (allauth), sign-in policy
    "badges": 4,  # badges, issuing, awards, Open Badges, rules
    "reporting": 5,  # reports
    "api": 6,  # the public API
    "webhooks": 7,  # signed webhooks: endpoints, delivery, their API operations
}

# badgeplatform holds both the ground and the composition root: each module is declared (a
# declared package below badgeplatform, like its management commands, covers its modules).
BADGEPLATFORM_LAYERS: dict[str, int] = {
    "badgeplatform": CORE,  # the package: binds the Celery app
    "badgeplatform.celery": CORE,  # the Celery app; discovers tasks by name
    "badgeplatform.apps": CORE,  # registers the audit log's menu entry
    "badgeplatform.permissions": CORE,  # the permission catalogue, the default roles
    "badgeplatform.access": CORE,  # Access/Grant and the view decorators; loaders registered
    "badgeplatform.models": CORE,  # OutboundEmail, AuditEntry
    "badgeplatform.mail": CORE,  # render, store, queue emails; branding's hooks
    "badgeplatform.outbox": CORE,  # the sending side: claim, render, send, drain
    "badgeplatform.pg": CORE,  # the PostgreSQL backend: health checks only after idling
    "badgeplatform.tasks": CORE,  # the outbox's tasks
    "badgeplatform.audit": CORE,  # audit_log and its middleware
    "badgeplatform.images": CORE,  # upload checks and re-encoding
    "badgeplatform.ratelimit": CORE,  # fixed-window counters
    "badgeplatform.nav": CORE,  # the side menu registry
    "badgeplatform.bulk": CORE,  # insert_many
    "badgeplatform.dbdown": CORE,  # the "database unavailable" middleware
    "badgeplatform.htmx": CORE,  # the htmx contract: 422 for invalid forms, Vary, history restore
    "badgeplatform.pagination": CORE,  # paginate(): the one way a view pages a list
    "badgeplatform.bodylimit": CORE,  # the global request body cap (413)
    "badgeplatform.startup": CORE,  # refuse to start without the static files' manifest
    "badgeplatform.health": CORE,  # /healthz, answered before the HTTPS redirect + host check
    "badgeplatform.webhook_events": CORE,  # webhooks_emit: the hook badges call, webhooks fills
    "badgeplatform.runner": CORE,  # the embedded default's background runner (beat jobs)
    # The composition root: wired by settings, imported by no app.
    "badgeplatform.settings": ROOT,
    "badgeplatform.urls": ROOT,
    "badgeplatform.wsgi": ROOT,
    "badgeplatform.asgi": ROOT,
    "badgeplatform.views": ROOT,  # the site's own pages: home, dashboard, media
    "badgeplatform.audit_views": ROOT,
    "badgeplatform.admin": ROOT,
    "badgeplatform.context_processors": ROOT,  # the shell's data (the user's spaces, the menu)
    "badgeplatform.management": ROOT,  # commands are entry points (seed_demo, drain_outbox)
}

PROJECT_APPS = ("badgeplatform", *APP_LAYERS)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the project module imported
    type_checking: bool = False  # under `if TYPE_CHECKING:`


@dataclass(frozen=True)
class Layer:
    unit: str  # "core", "root" or the app: a module imports freely within its own unit
    level: int

    def __str__(self) -> str:
        return f"{self.unit} (layer {self.level})"


def layer_of(module: str) -> Layer:
    app = module.split(".")[0]
    if app in APP_LAYERS:
        return Layer(app, APP_LAYERS[app])
    parts = module.split(".")
    # The module itself, or a declared package holding it (never the bare "badgeplatform": a
    # new module of it must be placed).
    candidates = [module] + [".".join(parts[:end]) for end in range(len(parts) - 1, 1, -1)]
    for prefix in candidates:
        if prefix in BADGEPLATFORM_LAYERS:
            level = BADGEPLATFORM_LAYERS[prefix]
            return Layer("root" if level == ROOT else "core", level)
    raise KeyError(module)


# --- reading the graph ----------------------------------------------------------------------


def project_modules(root: Path = REPO) -> dict[str, Path]:
    """Dotted name → file, for every module of the project's apps except migrations."""
    modules = {}
    for app in PROJECT_APPS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest prefix of a dotted name that is a project module (None: not ours)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports_of(module: str, source: str, *, is_package: bool, known: set[str]) -> list[Import]:
    """Every import of a project module in ``source``, wherever it stands in the file."""
    found: list[Import] = []

    def add(line: int, name: str, type_checking: bool) -> None:
        target = _resolve(name, known)
        imp = Import(module, line, target or "", type_checking)
        if target is not None and target != module and imp not in found:
            found.append(imp)

    def visit(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node.lineno, alias.name, type_checking)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, node.module] if node.module else package)
            else:
                base = node.module or ""
            for alias in node.names:
                # `from badges import tasks` imports the module badges.tasks;
                # `from badges.models import Award` imports badges.models.
                add(node.lineno, f"{base}.{alias.name}", type_checking)
        for child in ast.iter_child_nodes(node):
            visit(child, type_checking)

    visit(ast.parse(source), False)
    return found


def project_imports(root: Path = REPO) -> list[Import]:
    modules = project_modules(root)
    known = set(modules)
    imports = []
    for module, path in modules.items():
        imports += imports_of(
            module, path.read_text(), is_package=path.name == "__init__.py", known=known
        )
    return imports


# --- the checks -----------------------------------------------------------------------------


def layer_violations(
    imports: Iterable[Import], layer_of: Callable[[str], Layer] = layer_of
) -> list[str]:
    """Each import of a layer above (or beside) the importer's, as ``module:line → target``."""
    violations = []
    for imp in imports:
        source, target = layer_of(imp.module), layer_of(imp.target)
        if source.unit == target.unit or target.level < source.level:
            continue
        if imp.type_checking and imp.target.endswith(".models"):
            continue  # a type named in a signature; see the module docstring
        where = "beside" if target.level == source.level else "above"
        violations.append(
            f"{imp.module}:{imp.line} imports {imp.target} — "
            f"{target} is {where} {source}{' (TYPE_CHECKING)' if imp.type_checking else ''}"
        )
    return sorted(violations)


@dataclass(frozen=True)
class Cycle:
    modules: tuple[str, ...]  # every module of the strongly connected group
    path: tuple[Import, ...]  # one way round it, starting from the first module

    def __str__(self) -> str:
        way = " → ".join(f"{imp.module}:{imp.line}" for imp in self.path)
        return f"{way} → {self.path[0].module} (the group: {', '.join(self.modules)})"


def import_cycles(imports: Iterable[Import]) -> list[Cycle]:
    """One cycle through each strongly connected group of modules (runtime imports only)."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        if not imp.type_checking:
            edges.setdefault(imp.module, {}).setdefault(imp.target, imp)

    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))

    cycles = []
    for component in sorted(components):
        members = set(component)
        # The shortest way from the first module back to itself, inside the component.
        start = component[0]
        paths: dict[str, list[Import]] = {start: []}
        frontier = [start]
        cycle: list[Import] | None = None
        while frontier and cycle is None:
            following = []
            for node in frontier:
                for target, imp in sorted(edges.get(node, {}).items()):
                    if target == start:
                        cycle = paths[node] + [imp]
                        break
                    if target in members and target not in paths:
                        paths[target] = paths[node] + [imp]
                        following.append(target)
                if cycle is not None:
                    break
            frontier = following
        cycles.append(Cycle(tuple(component), tuple(cycle)))
    return cycles


# --- the tests ------------------------------------------------------------------------------


def test_every_module_has_a_declared_layer():
    unplaced = []
    for module in project_modules():
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, "Declare the layer of these modules in BADGEPLATFORM_LAYERS: " + ", ".join(
        unplaced
    )


def test_no_module_imports_a_layer_above_it():
    violations = layer_violations(project_imports())
    assert not violations, "Imports against the layers:\n" + "\n".join(violations)


def test_no_import_cycles_between_modules():
    cycles = import_cycles(project_imports())
    assert not cycles, "Import cycles:\n" + "\n".join(map(str, cycles))


def test_the_graph_is_read_from_the_code():
    """Guards the two tests above against passing on an empty graph: known edges are there,
    a module-level one, one inside a method and one under TYPE_CHECKING."""
    edges = {(imp.module, imp.target, imp.type_checking) for imp in project_imports()}
    assert ("badges.batches", "badges.tasks", False) in edges
    assert ("branding.apps", "badgeplatform.mail", False) in edges  # inside ready()
    assert ("badgeplatform.access", "orgs.models", True) in edges
    assert len(edges) > 300


def test_the_graph_holds_imports_at_every_depth():
    """The reader sees a function's lazy import and a TYPE_CHECKING one, and resolves names."""
    known = {"orgs", "orgs.models", "users", "users.models", "users.services", "badges.tasks"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "import django\n"
        "from orgs.models import Space\n"
        "if TYPE_CHECKING:\n"
        "    from users.models import User\n"
        "def later():\n"
        "    from users import services\n"
        "    import badges.tasks\n"
        "class K:\n"
        "    def m(self):\n"
        "        from .models import Space\n"
    )
    found = imports_of("orgs.views", source, is_package=False, known=known)
    assert found == [
        Import("orgs.views", 3, "orgs.models"),
        Import("orgs.views", 5, "users.models", type_checking=True),
        Import("orgs.views", 7, "users.services"),
        Import("orgs.views", 8, "badges.tasks"),
        Import("orgs.views", 11, "orgs.models"),
    ]


def test_the_checks_report_an_upward_import_and_a_cycle():
    fake = [
        Import("orgs.models", 1, "badgeplatform.permissions"),  # down: fine
        Import("orgs.services", 12, "users.services"),  # up
        Import("issuers.views", 3, "branding.images"),  # beside
        Import("badgeplatform.mail", 40, "branding.emails"),  # the ground importing an app
        Import("badgeplatform.audit", 9, "orgs.models", type_checking=True),  # a type: fine
        Import("badgeplatform.audit", 10, "orgs.services", type_checking=True),  # code: not
        Import("badgeplatform.urls", 5, "api.urls"),  # the root: fine
        Import("badges.batches", 7, "badges.tasks"),
        Import("badges.tasks", 3, "badges.issuing"),
        Import("badges.issuing", 30, "badges.batches"),
        Import("badges.views", 2, "badges.tasks"),  # not part of the cycle
    ]
    assert layer_violations(fake) == [
        "badgeplatform.audit:10 imports orgs.services — orgs (layer 1) is above core (layer 0) "
        "(TYPE_CHECKING)",
        "badgeplatform.mail:40 imports branding.emails — branding (layer 3) is above core "
        "(layer 0)",
        "issuers.views:3 imports branding.images — branding (layer 3) is beside issuers (layer 3)",
        "orgs.services:12 imports users.services — users (layer 2) is above orgs (layer 1)",
    ]
    cycles = import_cycles(fake)
    assert [str(c) for c in cycles] == [
        "badges.batches:7 → badges.tasks:3 → badges.issuing:30 → badges.batches "
        "(the group: badges.batches, badges.issuing, badges.tasks)"
    ]
    # A TYPE_CHECKING import closes no cycle; a lazy one does.
    assert import_cycles([Import("a.x", 1, "a.y"), Import("a.y", 9, "a.x", True)]) == []
    assert len(import_cycles([Import("a.x", 1, "a.y"), Import("a.y", 9, "a.x")])) == 1
