"""Ports: what a component consumes and produces, declared from its config alone.

Ports are plain values (ints, strings, tuples) so that `build()` can check a composition
before any module is constructed or any weight is fetched, and without importing torch.

Standard port names (a component may declare others; only shared names are compared):

========================  =========================================================
``word_dim``              width of per-word text features ``TextFeatures.words[..., D]``
``sentence_dim``          width of the sentence vector ``TextFeatures.sentence[:, D]``
``image_size``            side in pixels of the (final) image a component emits, or,
                          as an input, the side it expects to receive
``image_channels``        channels of images (3 for RGB, 1 for Fashion-MNIST)
``tokenizer``             name of the tokenizer a component expects its text in
========================  =========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ports", "PortMismatchError", "check_connection"]


@dataclass(frozen=True)
class Ports:
    """Declared inputs and outputs of one component.

    Example:
        >>> Ports(inputs={"word_dim": 256}, outputs={"image_size": 64})
        Ports(inputs={'word_dim': 256}, outputs={'image_size': 64})
    """

    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)


class PortMismatchError(ValueError):
    """Two components disagree on a shared port (raised by `build()` before any weights load)."""

    def __init__(self, producer: str, consumer: str, port: str, produced: Any, expected: Any):
        self.producer, self.consumer, self.port = producer, consumer, port
        self.produced, self.expected = produced, expected
        super().__init__(
            f"port mismatch on '{port}': {producer} outputs {port}={produced!r} but "
            f"{consumer} expects {port}={expected!r}. Change one side (for example an override "
            f"of {consumer.split(' ')[0]}'s config) so that both agree."
        )


def check_connection(producer_label: str, producer: Ports, consumer_label: str, consumer: Ports) -> None:
    """Raise `PortMismatchError` when a port that both sides name has different values.

    An input declared as ``None`` accepts anything.
    """
    for port, expected in consumer.inputs.items():
        if expected is None or port not in producer.outputs:
            continue
        produced = producer.outputs[port]
        if produced is not None and produced != expected:
            raise PortMismatchError(producer_label, consumer_label, port, produced, expected)
