"""Package layout that pyproject.toml alone cannot express.

The core lives in t2izoo/, each first-party plugin is a top-level package in plugins/, and the
model cards in model_cards/ ship inside the wheel as the package data of `t2izoo.model_cards`.
"""

from setuptools import find_packages, setup

core = find_packages(include=["t2izoo", "t2izoo.*"])
plugins = find_packages("plugins")
setup(
    packages=[*core, *plugins, "t2izoo.model_cards"],
    package_dir={
        **{p: "plugins/" + p.replace(".", "/") for p in plugins},
        "t2izoo.model_cards": "model_cards",
    },
)
