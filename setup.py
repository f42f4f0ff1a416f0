"""Package layout that pyproject.toml alone cannot express.

The core lives in t2izoo/, each first-party plugin is a top-level package in plugins/, and the
model cards in model_cards/ ship inside the wheel as the package data of `t2izoo.model_cards`, and
the bundled weights in hub/ (Hub repository layout) as that of `t2izoo.hub`, so an installed wheel
builds the shapes presets with pretrained=True offline, as a source checkout does.
"""

from setuptools import find_packages, setup

core = find_packages(include=["t2izoo", "t2izoo.*"])
plugins = find_packages("plugins")
setup(
    packages=[*core, *plugins, "t2izoo.model_cards", "t2izoo.hub"],
    package_dir={
        **{p: "plugins/" + p.replace(".", "/") for p in plugins},
        "t2izoo.model_cards": "model_cards",
        "t2izoo.hub": "hub",
    },
)
