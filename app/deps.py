"""Typed dependencies: what a route needs, from the app's state."""

from typing import Annotated

from fastapi import Depends, Request

from .config import Settings
from .models import ModelLibrary
from .runs import RunManager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_manager(request: Request) -> RunManager:
    return request.app.state.manager


def get_models(request: Request) -> ModelLibrary:
    return request.app.state.models


SettingsDep = Annotated[Settings, Depends(get_settings)]
ManagerDep = Annotated[RunManager, Depends(get_manager)]
ModelsDep = Annotated[ModelLibrary, Depends(get_models)]
