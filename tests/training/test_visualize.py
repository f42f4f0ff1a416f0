"""Sample grids and attention pictures: sizes follow the inputs; attention is drawn where it is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from t2izoo.training import save_attention_maps, save_sample_grid


def test_sample_grid_layout(tmp_path):
    images = {"stage0_16": -torch.ones(3, 3, 16, 16), "final": torch.ones(3, 3, 32, 32)}
    path = save_sample_grid(images, ["a red circle", "a blue square", "two stars"], tmp_path / "g.png")
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[0] > 3 * 32 and img.shape[1] >= 2 * 32
    # first column black (stage scaled up to 32), second white
    assert img[20, 5].tolist() == [0, 0, 0] and img[20, 40].tolist() == [255, 255, 255]


def test_sample_grid_rejects_non_images(tmp_path):
    with pytest.raises(ValueError, match="no \\[B,C,H,W\\]"):
        save_sample_grid({"attention0": torch.zeros(2, 5, 8)}, ["a", "b"], tmp_path / "x.png")


def test_attention_panel_is_red_where_the_word_attends(tmp_path):
    images = torch.zeros(1, 3, 64, 64)  # mid grey
    att = torch.zeros(1, 2, 4, 4)
    att[0, 0, 0, 0] = 1.0  # word 0 looks at the top-left corner
    att[0, 1, 3, 3] = 1.0  # word 1 at the bottom-right
    path = save_attention_maps(images, att, ["red circle"], tmp_path / "a.png")
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    panel0 = img[:64, 66:130]
    assert panel0[2, 2, 0] > panel0[2, 2, 2] + 80   # red in the attended corner
    assert abs(panel0[60, 60, 0] - panel0[60, 60, 2]) < 10  # grey elsewhere
    panel1 = img[:64, 132:196]
    assert panel1[60, 60, 0] > panel1[60, 60, 2] + 80
