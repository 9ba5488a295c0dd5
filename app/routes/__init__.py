"""The API's routers, one per resource."""

from . import datasets, health, inspect, models, runs

ROUTERS = [runs.router, models.router, datasets.router, inspect.router, health.router]
