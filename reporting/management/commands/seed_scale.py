"""``manage.py seed_scale``: the benchmark data generator lives in bench/ (bench/scale.py); this
is only its name among the management commands."""

from bench.seed_scale_command import Command

__all__ = ["Command"]
