"""Labels read from prompts: synonyms, whole words, first mention, clear errors."""

import pytest
from t2izoo_cvae.labels import UnknownLabelError, get_vocabulary

from t2izoo.data import FASHION_MNIST_LABELS, SHAPES_VOCAB


@pytest.mark.parametrize("prompt, label", [
    ("a sneaker", 7),
    ("An ankle boot", 9),          # "ankle boot" beats "boot" at the same position
    ("boots for the winter", 9),
    ("a red t-shirt", 0),          # "shirt" must not match inside "t-shirt"
    ("a shirt", 6),
    ("top", 0),
    ("a leather handbag", 8),
    ("a sweater next to a coat", 2),  # the first class mentioned wins
    ("Dress", 3),
    ("4", 4),
])
def test_fashion_mnist_prompts(prompt, label):
    assert get_vocabulary("fashion-mnist").label(prompt) == label


def test_every_fashion_mnist_caption_maps_to_its_own_label():
    vocab = get_vocabulary("fashion-mnist")
    assert vocab.names == tuple(name for name, _ in FASHION_MNIST_LABELS)
    for label, (name, noun) in enumerate(FASHION_MNIST_LABELS):
        article = "an" if noun[0] in "aeiou" else "a"
        assert vocab.label(f"a photo of {article} {noun}") == label
        assert vocab.label(name) == label


def test_unknown_prompt_names_the_classes():
    with pytest.raises(UnknownLabelError, match="names none of its 10 classes.*'t-shirt'.*0..9"):
        get_vocabulary("fashion-mnist").label("a red circle")
    with pytest.raises(UnknownLabelError):
        get_vocabulary("fashion-mnist").label("12")


def test_shapes_label_is_first_colour_and_first_shape():
    vocab = get_vocabulary("shapes")
    assert vocab.num_classes == SHAPES_VOCAB.num_classes == 80
    assert vocab.label("a big grey disc left of a red star") == SHAPES_VOCAB.class_id("circle", "gray")
    assert vocab.label("the star is brown and tiny, on white") == SHAPES_VOCAB.class_id("star", "brown")
    assert vocab.label("a violet five pointed star") == SHAPES_VOCAB.class_id("star", "purple")
    assert vocab.label("blue square") == SHAPES_VOCAB.class_id("square", "blue")
    with pytest.raises(UnknownLabelError, match="shapes"):
        vocab.label("a red thing")  # a colour but no shape


def test_shapes_captions_of_the_data_set_always_have_a_label():
    from t2izoo.data import load_dataset

    ds = load_dataset("shapes", split="train", size=40, resolutions=(8,))
    vocab = get_vocabulary("shapes")
    for i in range(len(ds)):
        sample = ds[i]
        objects = {(o["colour"], o["shape"]) for o in sample.attributes["objects"]}
        for caption in sample.captions:
            colour_shape = tuple(vocab.names[vocab.label(caption)].split(" "))
            assert colour_shape in objects, caption  # the label names an object of the scene


def test_custom_classes():
    vocab = get_vocabulary(classes=["cat|kitten", "dog|puppy|hound"])
    assert vocab.labels(["a kitten", "an old hound", "cat"]) == [0, 1, 0]
    with pytest.raises(ValueError, match="not built in"):
        get_vocabulary("birds")
