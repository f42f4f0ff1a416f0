"""`t2izoo evaluate --update-card` writes measured metrics and their protocol into the card."""

from t2izoo._cards import ModelCard, load_card
from t2izoo.cli.cmd_evaluate import update_card


def test_update_card_writes_metrics_with_protocol(tmp_path, monkeypatch):
    source = load_card("shapes-tiny")
    copy = tmp_path / "shapes-tiny.md"
    copy.write_text(source.render())
    fake_index = lambda: {"shapes-tiny": copy}  # noqa: E731
    fake_index.cache_clear = lambda: None
    monkeypatch.setattr("t2izoo._cards._index", fake_index)
    report = {"data": "shapes", "split": "test", "n": 8, "seed": 0,
              "results": {"ssim": {"value": 0.34, "std": 0.2, "protocol": {"data_range": 1.0}}}}
    assert update_card("shapes-tiny", report) == str(copy)
    card = ModelCard.parse(copy.read_text(), copy)
    assert card.metrics["ssim"]["value"] == 0.34
    assert card.metrics["ssim"]["protocol"] == {"data_range": 1.0}
    assert card.metrics["ssim"]["run"]["n"] == 8
    assert card.config == source.config and card.body == source.body
